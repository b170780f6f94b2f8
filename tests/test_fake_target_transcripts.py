"""Transcript files (harness.targets.transcript): their format, the refusal of a malformed one, recording.

Recording is checked against the fake itself: a ``Recorder`` around the ``fake`` backend, replaying a
transcript through the runner, must record that transcript again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.boards import load_board
from harness.errors import ConfigError, TargetError
from harness.protocol import DutClient
from harness.runner import run_model
from harness.targets.backends import register_backend, unregister_backend
from harness.targets.base import CycleCounter, InstructionCounter
from harness.targets.transcript import FORMAT, Exchange, Recorder, RecordingLine, load_transcript
from harness.types import FirmwareImage
from tests.conftest import requires_cc
from tests.fakes.fake_target import (
    TRANSCRIPTS,
    FakeBackend,
    ReplayLine,
    TranscriptDivergence,
    VirtualClock,
    installed,
    replay_options,
    transcript,
)


def test_every_recorded_transcript_loads_and_saves_to_the_same_file(tmp_path: Path) -> None:
    names = sorted(p.stem for p in TRANSCRIPTS.glob("*.json"))
    assert names == ["fault", "garbage", "hang", "mismatch", "ok"]
    for name in names:
        t = transcript(name)
        assert (t.board, t.model) == ("qemu-m4", "tinycnn") and t.record["status"]
        t.save(tmp_path / f"{name}.json")
        assert load_transcript(tmp_path / f"{name}.json") == t
        assert (tmp_path / f"{name}.json").read_text() == (TRANSCRIPTS / f"{name}.json").read_text()


def test_bytes_that_are_not_text_survive_the_file(tmp_path: Path) -> None:
    garbage = transcript("garbage")
    assert b"m-\x01\x02\xff\xfe garbage \x80\x81\r\n" in garbage.exchanges[0].data
    assert load_transcript(TRANSCRIPTS / "garbage.json").exchanges == garbage.exchanges


def test_what_the_real_target_reported_is_kept() -> None:
    ok = transcript("ok")
    assert ok.instruction_count is not None and ok.instruction_count.source == "qemu-insn"
    assert list(ok.instruction_count.per_inference) == ok.record["instructions_timed"]
    assert list(ok.instruction_count.per_layer) == [layer["instructions"] for layer in ok.record["layers"]]
    assert ok.cycle_count is None      # QEMU counts instructions, not cycles
    assert ok.result is not None and ok.result.exit_code == 0 and ok.result.details == {"counter": "qemu-insn"}
    # a run that ended before the target was stopped has no result and no reading
    fault = transcript("fault")
    assert fault.result is None and fault.instruction_count is None


def _ok_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TRANSCRIPTS / "ok.json").read_text())
    return data


@pytest.mark.parametrize("edit, message", [
    (lambda d: "{not json", "not JSON: Expecting property name enclosed in double quotes"),
    (lambda d: [], "a JSON list; expected an object with \"format\": \"hilbench-transcript\""),
    (lambda d: {**d, "format": "pcap"}, "'format' is 'pcap'; expected 'hilbench-transcript'"),
    (lambda d: {**d, "version": 2}, "'version' is 2; this harness reads version 1"),
    (lambda d: {k: v for k, v in d.items() if k != "board"}, "no 'board'"),
    (lambda d: {**d, "exchanges": [["host", "name%"], ["board", "m-ready"]]},
     "'exchanges[1]' is ['board', 'm-ready']; expected [\"host\" or \"dut\", text]"),
    (lambda d: {**d, "exchanges": [["dut", "\u20ac"]]}, "'exchanges[0]' has a character above \\u00ff"),
    (lambda d: {**d, "readings": {"instruction_count": {**d["readings"]["instruction_count"], "per_layer": [1, -2]}}},
     "'readings.instruction_count': instruction count: a negative count"),
    (lambda d: {**d, "readings": {"instruction_count": {**d["readings"]["instruction_count"], "source": "guess"}}},
     "'readings.instruction_count.source' is 'guess'; expected one of ['qemu-insn'"),
    (lambda d: {**d, "readings": {"energy": {}}}, "unknown readings ['energy']"),
    (lambda d: {**d, "result": {**d["result"], "exit_code": "0"}}, "'result.exit_code' is '0'; expected int or null"),
])
def test_a_malformed_transcript_is_refused_naming_the_file_and_the_fault(tmp_path: Path, edit: Any,
                                                                         message: str) -> None:
    path = tmp_path / "bad.json"
    changed = edit(_ok_json())
    path.write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(ConfigError) as err:
        load_transcript(path)
    assert str(err.value).startswith(f"transcript {path}: ")
    assert message in str(err.value)


def test_a_missing_transcript_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"transcript {tmp_path / 'none.json'}: cannot read it: No such file"):
        load_transcript(tmp_path / "none.json")


class _Line:
    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.written: list[bytes] = []

    @property
    def in_waiting(self) -> int:
        return len(self.answers[0]) if self.answers else 0

    def read(self, size: int = 1) -> bytes:
        return self.answers.pop(0) if self.answers else b""

    def write(self, data: bytes) -> int:
        self.written.append(data)
        return len(data)


def test_a_recording_line_passes_everything_through_and_joins_chunks() -> None:
    inner = _Line([b"m-re", b"ady\r\n", b"", b"m-name-dut-[x]\r\nm-ready\r\n"])
    line = RecordingLine(inner)
    assert line.read(4) == b"m-re" and line.read(5) == b"ady\r\n" and line.read(1) == b""
    line.write(b"na")
    line.write(b"me%")
    assert line.read(64) == b"m-name-dut-[x]\r\nm-ready\r\n"
    assert inner.written == [b"na", b"me%"]
    assert line.exchanges == [Exchange("dut", b"m-ready\r\n"), Exchange("host", b"name%"),
                              Exchange("dut", b"m-name-dut-[x]\r\nm-ready\r\n")]


@requires_cc
@pytest.mark.parametrize("name", ["ok", "mismatch", "fault"])
def test_recording_a_replay_gives_the_transcript_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                        name: str) -> None:
    original = transcript(name)
    recorder = Recorder("fake")
    with installed(monkeypatch) as fake:
        register_backend(recorder.backend("recording"))
        try:
            fake.replay(name)
            record = run_model(original.model, load_board(original.board), replay_options(original),
                               target_name="recording")
        finally:
            unregister_backend("recording")
    assert record.status == original.record["status"]
    target = recorder.targets[0]
    # the recording target has the fake's capabilities, and no others
    assert isinstance(target, InstructionCounter) and not isinstance(target, CycleCounter)
    again = target.transcript(original.options, original.record, original.note)
    assert again.exchanges == original.exchanges
    assert (again.instruction_count, again.cycle_count) == (original.instruction_count, original.cycle_count)
    if original.result is not None:
        assert again.result is not None and again.result.runner == original.result.runner
    again.save(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["format"] == FORMAT


@requires_cc
def test_a_divergence_the_test_does_not_take_fails_it(monkeypatch: pytest.MonkeyPatch) -> None:
    ok = transcript("ok")
    failed = pytest.raises(pytest.fail.Exception, match="the harness diverged from the recording:\n"
                                                        "transcript ok.json, exchange 5: the harness wrote b'")
    with failed, installed(monkeypatch) as fake:
        fake.replay("ok")
        run_model(ok.model, load_board(ok.board), replay_options(ok, seed=1), target_name="fake")


def test_the_replay_line_answers_with_the_recorded_bytes_and_checks_each_write() -> None:
    ok = transcript("ok")
    divergences: list[str] = []
    line = ReplayLine(ok, "ok.json", VirtualClock(), divergences)
    client = DutClient(line)
    assert client.wait_boot() == ["m-timestamp-mode-performance", "m-lap-us-0", "m-init-done"]
    assert client.profile()["profile"]
    with pytest.raises(TranscriptDivergence, match=r"exchange 3: the harness wrote b'name%'; the recording has "
                                                   r"b'hil-load 512%' \(they differ from byte 0\)"):
        client.command("name")
    assert len(divergences) == 1


def test_a_fake_target_has_the_recorded_capabilities_and_needs_an_image() -> None:
    fake = FakeBackend()
    fake.replay("ok")
    target = fake.make(load_board("qemu-m4"))
    assert isinstance(target, InstructionCounter) and not isinstance(target, CycleCounter)
    with pytest.raises(TargetError, match=r"open\(\) before load\(\)"):
        target.open()


def _image(model_id: str, board: str = "qemu-m4") -> FirmwareImage:
    return FirmwareImage(elf_path=Path("firmware.elf"), sha256="0" * 64, board=board, model_id=model_id,
                         model_sha256="", flash_bytes=0, ram_bytes=0, code_bytes=0, weights_bytes=0, arena_bytes=0,
                         stack_reserved_bytes=0, section_bytes={}, macs=0, layers=(), markers={}, uncounted=(),
                         compiler="", cflags=())


def test_the_fake_checks_the_images_model_and_board_not_its_bytes() -> None:
    fake = FakeBackend()
    fake.replay("ok", "ok")
    fake.make(load_board("qemu-m4")).load(_image("tinycnn"))   # another sha256 than the recording's: taken
    with pytest.raises(ConfigError, match="transcript ok.json was recorded with model 'tinycnn' on board 'qemu-m4'; "
                                          "the image is 'kws01' on 'qemu-m4'"):
        fake.make(load_board("qemu-m4")).load(_image("kws01"))
