"""Real firmware booted in QEMU: real numbers, real failures, each ending in a record."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import shutil
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from harness.boards import BoardSpec, core_features, load_board
from harness.errors import FirmwareOutputError
from harness.firmware.build import BuildOptions
from harness.model import load_model
from harness.model.graph import Graph
from harness.model.reference import default_input, reference_layer_outputs, reference_output
from harness.model.zoo import resolve_model
from harness.ops.registry import choose
from harness.protocol import DutClient
from harness.runner import RunOptions, run_model
from harness.session import HilSession
from harness.store.record import RunRecord
from tests.conftest import booted_firmware, fc_dequantize_model, model_path, requires_cc, requires_qemu

pytestmark = [requires_qemu, requires_cc, pytest.mark.qemu]

# sha256 of the host interpreter's ad01 output on default_rng(0) input (../shared/models/README.md)
AD01_RAND_OUTPUT_SHA256 = "a13b59f9b51521f45a97caba49150dd6b8ef5490b68b415015add1c126f95fea"


@pytest.fixture(scope="module")
def ad01() -> Path:
    return model_path("ad01_int8.tflite")


def test_ad01_on_qemu_m4_is_bit_exact_and_deterministic(ad01: Path) -> None:
    board = load_board("qemu-m4")
    first = run_model(ad01, board, RunOptions(inferences=3, warmup=1))
    second = run_model(ad01, board, RunOptions(inferences=2, warmup=0))
    assert first.status == "ok", first.error
    assert first.matches_reference and first.output_hex == first.reference_hex
    assert hashlib.sha256(bytes.fromhex(first.output_hex or "")).hexdigest() == AD01_RAND_OUTPUT_SHA256
    assert first.latency_source == "qemu-insn" and first.latency_estimated is True
    assert len(set(first.instructions_timed)) == 1            # every timed inference counts the same
    assert second.instructions_per_inference == first.instructions_per_inference  # and so does a rerun
    assert second.provenance["firmware_cached"] is True
    assert [l["op"] for l in first.layers] == ["FULLY_CONNECTED"] * 10
    assert sum(l["instructions"] for l in first.layers) <= first.instructions_per_inference
    assert first.macs == 264_192 and first.arena_bytes is not None and first.arena_bytes <= 2_064
    assert first.weights_bytes is not None and first.weights_bytes >= 264_192
    assert first.code_bytes is not None and 0 < first.code_bytes < 20_000
    assert first.stack_bytes is not None and 0 < first.stack_bytes < (first.stack_reserved_bytes or 0)
    assert first.fits_board is True and first.flash_bytes is not None and first.flash_bytes > first.weights_bytes


def test_tinycnn_with_conv_reshape_softmax_on_qemu_m7() -> None:
    run = run_model("tinycnn", load_board("qemu-m7"), RunOptions(inferences=2, warmup=0))
    assert run.status == "ok", run.error
    assert run.matches_reference and run.first_diverging_layer is None
    assert [l["op"] for l in run.layers] == ["CONV_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED",
                                             "FULLY_CONNECTED", "SOFTMAX"]
    assert all(l["instructions"] > 0 for l in run.layers)


def test_icount_fallback_agrees_with_the_plugin(ad01: Path) -> None:
    board = load_board("qemu-m4")
    exact = run_model(ad01, board, RunOptions(inferences=1, warmup=0))
    approx = run_model(ad01, board, RunOptions(inferences=1, warmup=0, counter="icount"))
    assert approx.status == "ok", approx.error
    assert approx.latency_source == "qemu-icount"
    assert exact.instructions_per_inference and approx.instructions_per_inference
    assert abs(approx.instructions_per_inference - exact.instructions_per_inference) < 0.01 * exact.instructions_per_inference


def test_hardfault_becomes_a_fault_record_with_registers(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0,
                                                            build=BuildOptions(test_hook=1)))
    assert run.status == "fault"
    assert "pc=0x" in (run.error or "") and "cfsr=0x" in (run.error or "")
    assert run.instructions_per_inference is None


def test_hung_firmware_times_out_with_the_last_lines(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0, timeout_s=2.0,
                                                            build=BuildOptions(test_hook=2)))
    assert run.status == "timeout"
    assert "m-infer-start" in (run.error or "") or "m-warmup" in (run.error or "")
    # QEMU's work folder is gone when the record is made: the error names no path, only how to keep it
    assert "full log:" not in (run.error or "")
    assert "rerun with HILBENCH_KEEP_LOGS=1 to keep it" in (run.error or "")


def test_a_timeout_names_the_work_folder_when_it_is_kept(ad01: Path, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv("HILBENCH_KEEP_LOGS", "1")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0, timeout_s=1.0,
                                                            build=BuildOptions(test_hook=2)))
    assert run.status == "timeout"
    logs = re.findall(r"full log: (.*)", run.error or "")
    assert len(logs) == 1 and Path(logs[0]).parent.parent == tmp_path
    assert (Path(logs[0]) / "qemu.stderr").is_file()  # it still exists after close()


def test_a_model_file_name_of_240_characters_runs_and_is_stored(tmp_path: Path) -> None:
    model = tmp_path / ("m" * (240 - len(".tflite")) + ".tflite")
    shutil.copyfile(resolve_model("tinycnn").path, model)
    session = HilSession(results_dir=tmp_path / "results", inferences=1, warmup=0)
    run = session.run(model, "qemu-m4")
    assert run.status == "ok", run.error
    assert run.model == model.stem and session.saved[0].is_file()
    assert len(session.saved[0].name) <= 255


def test_garbage_on_the_serial_line_is_a_clear_error(ad01: Path) -> None:
    run = run_model(ad01, load_board("qemu-m4"), RunOptions(build=BuildOptions(test_hook=3)))
    assert run.status == "measurement"
    assert "garbage on the serial line" in (run.error or "")


def test_model_too_large_is_refused_before_building(ad01: Path) -> None:
    small = dataclasses.replace(load_board("qemu-m4"), name="tiny-board", flash_bytes=128 * 1024)
    run = run_model(ad01, small, RunOptions())
    assert run.status == "build"
    assert "does not fit board tiny-board" in (run.error or "")
    assert "131072 bytes of flash" in (run.error or "") and "needs about" in (run.error or "")
    assert run.flash_bytes is None  # nothing was built


def test_missing_cross_compiler_says_how_to_install(ad01: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    run = run_model(ad01, load_board("qemu-m4"), RunOptions())
    assert run.status == "build"
    assert "arm-none-eabi-gcc" in (run.error or "") and "apt-get install gcc-arm-none-eabi" in (run.error or "")


def test_a_failing_run_does_not_lose_the_others(ad01: Path, tmp_path: Path) -> None:
    session = HilSession(results_dir=tmp_path, inferences=1, warmup=0)
    bad = session.run(ad01, "qemu-m4", options=RunOptions(build=BuildOptions(test_hook=1)))
    good = session.run(ad01, "qemu-m4")
    assert (bad.status, good.status) == ("fault", "ok")
    stored = sorted(json.loads(p.read_text())["status"] for p in (tmp_path / "runs").glob("*.json"))
    assert stored == ["fault", "ok"]


# -- the first diverging layer ---------------------------------------------------------------------------


def corrupt_layer(k: int, test_hook: int = 0) -> BuildOptions:
    return BuildOptions(test_hook=test_hook, defines=(("BENCH_TEST_CORRUPT_LAYER", str(k)),))


def booted(graph: Graph, model_id: str, board: BoardSpec, options: BuildOptions) -> contextlib.AbstractContextManager[DutClient]:
    """A DutClient to the model's firmware, booted in QEMU; asked to exit and stopped afterwards."""
    return booted_firmware(graph, model_id, board, options)


def test_corrupted_middle_layer_is_named_in_the_mismatch_record() -> None:
    # tinycnn: CONV_2D, CONV_2D, RESHAPE, FULLY_CONNECTED, FULLY_CONNECTED, SOFTMAX; one LSB wrong in
    # layer 3 reaches the output (in kws01 the pooling and softmax absorb such a bit: see the next test)
    graph = load_model(resolve_model("tinycnn").path)
    run = run_model("tinycnn", load_board("qemu-m4"),
                    RunOptions(inferences=2, warmup=1, build=corrupt_layer(3)))
    layer_bytes = graph.tensors[graph.operators[3].outputs[0]].nbytes
    assert run.status == "mismatch" and run.matches_reference is False
    assert run.first_diverging_layer == {"index": 3, "op": "FULLY_CONNECTED", "kernel": "FULLY_CONNECTED_DSP",
                                         "differing_bytes": 1, "bytes": layer_bytes, "first_difference_offset": 0}
    assert f"; first differing layer: 3 (FULLY_CONNECTED), 1 of {layer_bytes} bytes" in (run.error or "")
    assert (run.error or "").startswith("output differs from the tflite-micro host interpreter in 1 of")
    # the numbers of the timed run are kept
    assert run.instructions_per_inference is not None and len(run.layers) == 6
    assert RunRecord.from_dict(json.loads(json.dumps(run.to_dict()))) == run


def test_mismatch_stays_a_mismatch_when_the_layer_cannot_be_found() -> None:
    # test hook 4 faults the firmware as soon as it is asked for per-layer outputs
    run = run_model("tinycnn", load_board("qemu-m4"),
                    RunOptions(inferences=1, warmup=0, build=corrupt_layer(3, test_hook=4)))
    assert run.status == "mismatch"
    assert run.first_diverging_layer is None
    assert "the first differing layer could not be found: FirmwareFault" in (run.error or "")
    assert "pc=0x" in (run.error or "")


def test_layer_crcs_on_qemu_equal_the_interpreters_intermediate_tensors() -> None:
    """Every intermediate tensor of kws01, checked bit-exactly on qemu-m4, then one corrupted bit found."""
    path = model_path("kws_ref_model.tflite")
    graph, board = load_model(path), load_board("qemu-m4")
    data = default_input(graph)
    want = reference_layer_outputs(str(path), graph, data)
    with booted(graph, "kws01", board, BuildOptions()) as client:
        client.load_input(data)
        start = time.monotonic()
        crcs = client.layer_crcs()
        crc_pass_s = time.monotonic() - start
        # the firmware names each layer's kernel variant (the DSP ones on qemu-m4)
        assert [(i, op) for i, op, _, _ in crcs] == [(op.index, choose(graph, op, core_features(board.core)).name)
                                                     for op in graph.operators]
        assert {op for _, op, _, _ in crcs} == {"CONV_2D_DSP", "DEPTHWISE_CONV_2D_DSP", "AVERAGE_POOL_2D", "RESHAPE",
                                                "FULLY_CONNECTED_DSP", "SOFTMAX"}
        assert [(n, crc) for _, _, n, crc in crcs] == [(len(w), zlib.crc32(w)) for w in want]
        assert client.layer_output(1) == want[1]
        assert client.output_bytes() == want[-1]  # hil-layer-out ran the rest of the layers too
        with pytest.raises(FirmwareOutputError):
            client.layer_output(len(want))
    assert crc_pass_s < 5.0

    # a wrong bit in layer 5 (DEPTHWISE_CONV_2D) is seen in the CRCs, though not in the output
    with booted(graph, "kws01", board, corrupt_layer(5)) as client:
        client.load_input(data)
        crcs = client.layer_crcs()
        differs = [i for (i, _, _, crc), w in zip(crcs, want) if crc != zlib.crc32(w)]
        assert differs[0] == 5 and crcs[5][1] == "DEPTHWISE_CONV_2D_DSP"
        got = client.layer_output(5)
        assert got[0] == want[5][0] ^ 1 and got[1:] == want[5][1:]
        assert client.output_bytes() == reference_output(str(path), graph, data)


def test_float32_output_of_a_final_dequantize_is_compared_as_float_bytes(tmp_path: Path) -> None:
    model = fc_dequantize_model(tmp_path)
    run = run_model(model, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.status == "ok", run.error
    assert len(bytes.fromhex(run.reference_hex or "")) == 16          # four float32, not four int8
    y = np.frombuffer(bytes.fromhex(run.output_hex or ""), "<f4")
    assert np.all(np.isfinite(y)) and np.count_nonzero(y) > 0
