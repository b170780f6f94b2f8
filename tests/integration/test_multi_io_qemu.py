"""Several graph inputs and outputs, end to end: a two-input two-output model (ADD of the two inputs, then
SPLIT_V into two graph outputs, listed in the other order) bit-exact on the host build and on QEMU, every
output compared and kept in the record; the firmware's ``hil-input`` / ``hil-output`` extension driven
directly (each input loaded in turn, a load without ``hil-input`` writes input 0 as MLPerf Tiny tooling
expects, a bad index refused, ``results`` still the first output's); and the protocol client's parsing of
``m-hil-output`` lines on a replayed port.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import FirmwareOutputError
from harness.firmware.host import build_host_model
from harness.model import load_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.reference import default_inputs, reference_outputs
from harness.protocol import DutClient
from harness.runner import RunOptions, run_model
from tests.conftest import booted_firmware, requires_qemu


def two_in_two_out_model(folder: Path) -> Path:
    """x0, x1 int8 [2,6] -ADD-> s [2,6] -SPLIT_V axis 1 [2, 4]-> a [2,2], b [2,4]; graph outputs (b, a)."""
    tensors = [TensorDef("x0", (2, 6), Dtype.INT8, (0.05,), (3,)), TensorDef("x1", (2, 6), Dtype.INT8, (0.08,), (-10,)),
               TensorDef("s", (2, 6), Dtype.INT8, (0.1,), (2,)),
               TensorDef("sizes", (2,), Dtype.INT32, data=np.array([2, 4], "<i4").tobytes()),
               TensorDef("axis", (1,), Dtype.INT32, data=np.array([1], "<i4").tobytes()),
               TensorDef("a", (2, 2), Dtype.INT8, (0.1,), (2,)), TensorDef("b", (2, 4), Dtype.INT8, (0.1,), (2,))]
    ops = [OpDef("ADD", (0, 1), (2,), {"activation": 0}), OpDef("SPLIT_V", (2, 3, 4), (5, 6), {"num_splits": 2})]
    path = folder / "two_in_two_out.tflite"
    path.write_bytes(build_model(tensors, ops, [0, 1], [6, 5]))
    return path


def test_two_inputs_two_outputs_are_bit_exact_on_the_host(tmp_path: Path) -> None:
    path = two_in_two_out_model(tmp_path)
    graph = load_model(path)   # the firmware's rules: several inputs and outputs pass
    host = build_host_model(graph)
    for seed in range(4):
        inputs = default_inputs(graph, seed)
        want = reference_outputs(str(path), graph, inputs, cache=False)
        assert [len(w) for w in want] == [8, 4]
        assert host.outputs(*inputs) == want
        assert inputs[1] != inputs[0]


@requires_qemu
def test_two_inputs_two_outputs_are_bit_exact_on_qemu_and_the_record_keeps_both(tmp_path: Path) -> None:
    path = two_in_two_out_model(tmp_path)
    graph = load_model(path)
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=2, warmup=1, seed=3))
    assert record.status == "ok", record.error
    want = reference_outputs(str(path), graph, default_inputs(graph, 3))
    assert record.matches_reference
    assert record.outputs_hex == [w.hex() for w in want] == record.references_hex
    assert record.output_hex == want[0].hex()
    assert record.to_dict()["outputs_hex"] == record.outputs_hex


@requires_qemu
def test_the_firmware_loads_each_input_in_turn_and_reports_each_output(tmp_path: Path) -> None:
    path = two_in_two_out_model(tmp_path)
    graph = load_model(path)
    x0, x1 = default_inputs(graph, 5)
    with booted_firmware(graph, "two_in_two_out", load_board("qemu-m4")) as client:
        client.profile()
        # the extension, as the runner drives it: input 0 plain, input 1 after hil-input 1
        client.load_inputs([x0, x1])
        client.infer(1, 0, 10.0)
        assert client.outputs() == reference_outputs(str(path), graph, [x0, x1])
        # MLPerf Tiny tooling's plain db load writes input 0, whatever was selected before
        assert client.command("hil-input 1") == ["m-hil-input index=1 bytes=12"]
        client.db_load(x1)          # input 1 := x1 again
        client.db_load(x1)          # no hil-input before it: input 0 := x1
        reply = client.infer(1, 0, 10.0)
        want = reference_outputs(str(path), graph, [x1, x1])
        assert client.outputs() == want
        # results: the first output's scores (dequantized, 3 decimals)
        scores = 0.1 * (np.frombuffer(want[0], np.int8).astype(np.float64) - 2)
        assert reply.results == pytest.approx(tuple(scores), abs=1e-3)
        lines = client.command("hil-output")
        assert lines == [f"m-hil-output index={k} bytes={len(w)} hex={w.hex()}" for k, w in enumerate(want)]
        refused = client.command("hil-input 2", allow_error=True)
        assert refused == ["e-[hil-input: expected an input index 0..1, got: 2]"]
        with pytest.raises(FirmwareOutputError, match="hil-load"):
            client.command("hil-input 1")
            client.command(f"hil-load {len(x1) + 1}")   # input 1 has 12 bytes


class _Port:
    """Replays one reply per write."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies, self.buf = list(replies), b""

    @property
    def in_waiting(self) -> int:
        return len(self.buf)

    def read(self, size: int = 1) -> bytes:
        out, self.buf = self.buf[:size], self.buf[size:]
        return out

    def write(self, data: bytes) -> int:
        self.buf += self.replies.pop(0)
        return len(data)


@pytest.mark.parametrize(("reply", "outputs"), [
    (b"m-hil-output bytes=2 hex=0a0b\r\nm-ready\r\n", [b"\x0a\x0b"]),
    (b"m-hil-output index=0 bytes=1 hex=ff\r\nm-hil-output index=1 bytes=3 hex=000102\r\nm-ready\r\n",
     [b"\xff", b"\x00\x01\x02"]),
])
def test_the_client_reads_one_output_or_several(reply: bytes, outputs: list[bytes]) -> None:
    client = DutClient(_Port([reply]))
    assert client.outputs() == outputs
    assert DutClient(_Port([reply])).output_bytes() == outputs[0]


@pytest.mark.parametrize(("reply", "message"), [
    (b"m-hil-output index=1 bytes=1 hex=ff\r\nm-ready\r\n", "out of order: expected index 0"),
    (b"m-hil-output index=0 bytes=2 hex=ff\r\nm-ready\r\n", "1 bytes of hex; bytes=2"),
    (b"m-hil-output index=0 bytes=1 hex=fz\r\nm-ready\r\n", "missing or malformed hex"),
    (b"m-ready\r\n", "no m-hil-output line"),
])
def test_the_client_refuses_malformed_outputs(reply: bytes, message: str) -> None:
    with pytest.raises(FirmwareOutputError, match=message):
        DutClient(_Port([reply])).outputs()
