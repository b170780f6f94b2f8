"""Everything above the target layer, against ``FakeTarget``: recorded QEMU sessions, replayed.

The transcripts in tests/data/transcripts are real runs of tinycnn on qemu-m4 (``record.py`` there).
Replayed through the ``fake`` backend, the runner, the session, the store and the report must give what
the real run gave; and the replay must notice when the harness no longer sends what it sent. No QEMU
runs here; the firmware is still built (the runner reads the image's sizes and layers), so the Arm
toolchain is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.boards import load_board
from harness.runner import run_model
from harness.session import HilSession
from harness.store import RunRecord
from tests.conftest import requires_cc
from tests.fakes.fake_target import FakeBackend, replay_options, transcript

pytestmark = requires_cc
BOARD = load_board("qemu-m4")
# the fields of a record the replay must reproduce exactly (the transcript's "record" has them)
SAME = ("status", "error", "output_hex", "matches_reference", "instructions_per_inference", "instructions_timed",
        "layers", "stack_bytes", "arena_bytes", "latency_source", "latency_us", "first_diverging_layer")


def replayed(fake: FakeBackend, name: str, **overrides: Any) -> RunRecord:
    fake.replay(name)
    t = transcript(name)
    return run_model(t.model, BOARD, replay_options(t, **overrides), target_name="fake")


def fields(record: RunRecord) -> dict[str, Any]:
    data = record.to_dict()
    return {k: data[k] for k in SAME}


def test_an_ok_replay_gives_the_recorded_record(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "ok")
    assert fields(record) == {k: transcript("ok").record[k] for k in SAME}
    assert record.status == "ok" and record.target == "fake" and len(record.layers) == 6
    assert all(layer["instructions"] > 0 for layer in record.layers)
    # the recorded target's own result and provenance come through, with the transcript named
    assert record.provenance["emulator"].startswith("QEMU emulator version")
    assert record.provenance["counter"] == "qemu-insn" and record.provenance["transcript"] == "ok.json"
    assert record.provenance["exit_code"] == 0


def test_a_corrupted_layer_is_a_mismatch_found_at_that_layer(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "mismatch")
    assert fields(record) == {k: transcript("mismatch").record[k] for k in SAME}
    assert record.status == "mismatch" and record.matches_reference is False
    assert record.first_diverging_layer is not None and record.first_diverging_layer["index"] == 3
    assert record.first_diverging_layer["op"] == "FULLY_CONNECTED"


def test_a_fault_is_a_fault_record_with_the_registers(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "fault")
    assert record.status == "fault" and record.error == transcript("fault").record["error"]
    assert record.error is not None and "bfar=0xfffffff0" in record.error and " pc=0x" in record.error
    assert record.instructions_per_inference is None


def test_garbage_on_the_line_is_a_measurement_failure_keeping_the_bytes(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "garbage")
    assert record.status == "measurement" == transcript("garbage").record["status"]
    assert record.error is not None and "garbage on the serial line while waiting for m-ready after boot" in record.error
    assert r"\x01\x02\xff\xfe garbage" in record.error


def test_a_hung_inference_times_out_with_the_last_lines(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "hang")
    assert record.status == "timeout"
    assert record.error is not None and record.error.startswith("no reply to 'infer' from the firmware in time")
    assert "m-warmup-start-1" in record.error


def test_after_a_board_that_stops_answering_the_next_run_in_the_session_works(fake_target: FakeBackend,
                                                                               tmp_path: Path) -> None:
    ok = transcript("ok")
    after_boot = ok.cut(1)            # the boot banner, then nothing: `profile` gets no reply
    assert [ex.direction for ex in after_boot.exchanges] == ["dut"]
    fake_target.replay(after_boot, ok)
    session = HilSession(tmp_path / "results", inferences=3, warmup=1, target="fake")
    cut = session.run(ok.model, BOARD, options=replay_options(ok, timeout_s=0.5))
    good = session.run(ok.model, BOARD, options=replay_options(ok))
    assert cut.status == "timeout" and cut.error is not None
    assert cut.error.startswith("no reply to 'profile' from the firmware in time") and "m-ready" in cut.error
    assert fields(good) == {k: ok.record[k] for k in SAME}
    assert [r.status for r in session.records] == ["timeout", "ok"] and len(session.saved) == 2


def test_a_harness_that_sends_something_else_is_told_which_exchange_differs(fake_target: FakeBackend) -> None:
    record = replayed(fake_target, "ok", inferences=2)      # recorded with 3
    diverged = fake_target.take_divergences()
    infer = transcript("ok").index_of("infer ")
    assert len(diverged) == 1 and f"transcript ok.json, exchange {infer}:" in diverged[0]
    assert "the harness wrote b'infer 2 1%'; the recording has b'infer 3 1%' (they differ from byte 6)" in diverged[0]
    assert "record.py" in diverged[0]
    # the runner turns it into an error record, as any bug; the fixture fails a test that does not take it
    assert record.status == "error" and "TranscriptDivergence" in (record.error or "")


def test_a_transcript_of_another_board_is_refused(fake_target: FakeBackend) -> None:
    fake_target.replay("ok")
    record = run_model("tinycnn", load_board("qemu-m3"), replay_options(transcript("ok")), target_name="fake")
    assert record.status == "config"
    assert record.error == "transcript ok.json was recorded on board 'qemu-m4'; this run is on 'qemu-m3'"


def test_a_run_without_a_transcript_is_a_config_error_that_says_what_to_do(fake_target: FakeBackend) -> None:
    record = run_model("tinycnn", BOARD, replay_options(transcript("ok")), target_name="fake")
    assert record.status == "config" and "fake_target.replay(NAME)" in (record.error or "")
