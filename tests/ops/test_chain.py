"""The eleven operators no MLPerf Tiny model uses, chained in one model: bit-exact
on the host for several inputs (built with the sanitizers), and on QEMU through the whole harness."""

from __future__ import annotations

import numpy as np
import pytest

from harness.boards import load_board
from harness.firmware.host import build_host_model
from harness.model.loader import parse_model
from harness.model.synth import chain_model
from harness.runner import RunOptions, run_model
from tests.conftest import interpret, requires_qemu


@pytest.mark.parametrize("seed", range(6))
def test_chain_is_bit_exact_on_the_host(seed: int) -> None:
    rng = np.random.default_rng(seed)
    model = chain_model(rng)
    graph = parse_model(model, name="chain")
    assert [op.opcode for op in graph.operators][-1] == "DEQUANTIZE"
    host = build_host_model(graph, "chain")
    for _ in range(4):
        x = rng.integers(-128, 128, size=graph.input.shape, dtype=np.int8)
        assert host.output(x.tobytes()) == interpret(model, x)


@requires_qemu
def test_chain_is_bit_exact_on_qemu(tmp_path) -> None:
    path = tmp_path / "chain.tflite"
    path.write_bytes(chain_model(np.random.default_rng(1)))
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert record.status == "ok", record.error
    assert record.matches_reference and len(bytes.fromhex(record.output_hex)) == 32  # 8 float32 scores
