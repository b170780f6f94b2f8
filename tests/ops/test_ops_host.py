"""Every operator on random shapes and quantizations, compiled for the host
with AddressSanitizer and UndefinedBehaviorSanitizer (harness/firmware/host.py:
undefined behaviour or a bad memory access fails the case) and compared bit
for bit with the tflite-micro interpreter.

The operators that have kernel variants for a core's ISA features (OpSpec.isa: the DSP extension's SIMD
kernels of firmware/kernels/dsp/, the MVE ones of firmware/kernels/mve/) run the same cases again with those
variants chosen, their SIMD instructions computed in plain C on the host (bench_simd.h, bench_mve.h); each
variant must be chosen for some case of the run with its own features.

HILBENCH_OP_CASES sets the cases per operator (default 16: about 300 in all);
a benchmark-style run uses thousands.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from harness.firmware.codegen import generate
from harness.firmware.host import build_host_model
from harness.model.loader import parse_model
from harness.model.synth import GENERATORS, random_case
from harness.ops.registry import operators
from tests.conftest import interpret

CASES = int(os.environ.get("HILBENCH_OP_CASES", "16"))


# (operator, ISA features) for every variant that needs some: the portable run of each operator, then these
VARIANT_RUNS = sorted({(d.variant_of, d.isa) for d in operators().values() if d.isa and d.variant_of in GENERATORS},
                      key=lambda run: (run[0], sorted(run[1])))


@pytest.mark.parametrize("opcode,features", [(op, frozenset[str]()) for op in sorted(GENERATORS)] + VARIANT_RUNS,
                         ids=lambda v: "+".join(sorted(v)) or "portable" if isinstance(v, frozenset) else v)
def test_operator_is_bit_exact_on_random_cases(opcode: str, features: frozenset[str]) -> None:
    rng = np.random.default_rng(sum(map(ord, opcode)))
    failures = []
    chosen: set[str] = set()
    for k in range(CASES):
        case = random_case(opcode, rng)
        graph = parse_model(case.model, name=f"{opcode.lower()}_{k}")
        chosen |= {layer.op for layer in generate(graph, features=features).layers}
        host = build_host_model(graph, features=features)
        inputs = [rng.integers(-128, 128, size=graph.tensors[t].shape, dtype=np.int8) for t in graph.inputs]
        expected = interpret(case.model, *inputs)
        got = host.output(*(x.tobytes() for x in inputs))
        if got != expected:
            diff = sum(a != b for a, b in zip(got, expected))
            failures.append(f"case {k} ({case.description}): {diff} of {len(expected)} bytes differ")
    assert not failures, "\n".join(failures)
    # each variant in the run of its own features: there a variant needing more (MVE) may take every layer
    wanted = {d.name for d in operators().values() if d.isa and d.isa == features and d.variant_of == opcode}
    assert wanted <= chosen, f"variants {sorted(wanted - chosen)} were never chosen in {CASES} cases"
