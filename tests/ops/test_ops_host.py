"""Every operator on random shapes and quantizations, compiled for the host
with AddressSanitizer and UndefinedBehaviorSanitizer (harness/firmware/host.py:
undefined behaviour or a bad memory access fails the case) and compared bit
for bit with the tflite-micro interpreter.

HILBENCH_OP_CASES sets the cases per operator (default 16: about 300 in all);
a benchmark-style run uses thousands.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from harness.firmware.host import build_host_model
from harness.model.loader import parse_model
from harness.model.synth import GENERATORS, random_case
from tests.conftest import interpret

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))


@pytest.mark.parametrize("opcode", sorted(GENERATORS))
def test_operator_is_bit_exact_on_random_cases(opcode: str) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)))
    failures = []
    for k in range(CASES):
        case = random_case(opcode, rng)
        graph = parse_model(case.model, name=f"{opcode.lower()}_{k}")
        host = build_host_model(graph)
        inputs = [rng.integers(-128, 128, size=graph.tensors[t].shape, dtype=np.int8) for t in graph.inputs]
        expected = interpret(case.model, *inputs)
        got = host.output(*(x.tobytes() for x in inputs))
        if got != expected:
            diff = sum(a != b for a, b in zip(got, expected))
            failures.append(f"case {k} ({case.description}): {diff} of {len(expected)} bytes differ")
    assert not failures, "\n".join(failures)
