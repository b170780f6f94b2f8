"""The MVE (Helium) kernel variants on QEMU's Cortex-M55 (mps3-an547): random FULLY_CONNECTED, CONV_2D and
DEPTHWISE_CONV_2D layers that the M55 runs with the MVE kernels of firmware/kernels/mve/, each bit-exact
against the tflite-micro interpreter. The host run of tests/ops/test_ops_host.py computes the same kernels
with bench_mve.h's plain C; this one executes the vector instructions themselves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.boards import Core, core_features, load_board
from harness.firmware.codegen import generate
from harness.model.loader import parse_model
from harness.model.synth import random_case
from harness.runner import RunOptions, run_model
from tests.conftest import requires_qemu

CASES = 3  # per operator, each its own firmware build


@requires_qemu
@pytest.mark.parametrize("opcode", ["FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"])
def test_mve_variants_are_bit_exact_on_qemu_m55(opcode: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)) + 55)
    board = load_board("qemu-m55")
    features = core_features(Core.CORTEX_M55)
    ran = 0
    for k in range(100):
        case = random_case(opcode, rng)
        graph = parse_model(case.model, name=f"{opcode.lower()}_{k}")
        if f"{opcode}_MVE" not in {layer.op for layer in generate(graph, features=features).layers}:
            continue   # a layer the MVE variant does not take (int16, channels not a multiple of eight, ...)
        path = tmp_path / f"{opcode.lower()}_{k}.tflite"
        path.write_bytes(case.model)
        record = run_model(path, board, RunOptions(inferences=1, warmup=0, seed=k))
        assert record.status == "ok", f"case {k} ({case.description}): {record.error}"
        assert record.matches_reference, f"case {k} ({case.description}) differs from the interpreter"
        ran += 1
        if ran == CASES:
            return
    pytest.fail(f"only {ran} of 100 random {opcode} cases run the MVE variant")
