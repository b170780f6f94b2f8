"""The host build of a model runs under AddressSanitizer and UndefinedBehaviorSanitizer: undefined
behaviour or a bad memory access in the generated model or a kernel stops the run with a
``HostRunError`` that carries the sanitizer's report. Demonstrated on generated sources corrupted on
purpose, each one a bug a plain build would run through silently."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from harness.errors import HostRunError
from harness.firmware.codegen import GeneratedModel, generate
from harness.firmware.host import build_host_model
from harness.model.graph import Graph
from harness.model.loader import parse_model
from harness.model.synth import random_case
from tests.firmware.host_c import requires_host_cc

pytestmark = requires_host_cc


@pytest.fixture(scope="module")
def conv() -> Graph:
    case = random_case("CONV_2D", np.random.default_rng(5))
    return parse_model(case.model, name="conv")


def _input(g: Graph) -> bytes:
    return np.random.default_rng(0).integers(-128, 128, size=g.input.shape, dtype=np.int8).tobytes()


def _patched(gen: GeneratedModel, pattern: str, replacement: str) -> GeneratedModel:
    model_c, n = re.subn(pattern, replacement, gen.model_c, count=1, flags=re.DOTALL)
    assert n == 1, f"{pattern!r} not in the generated model.c"
    return dataclasses.replace(gen, model_c=model_c)


def test_the_uncorrupted_model_runs_clean(conv: Graph) -> None:
    host = build_host_model(conv, "conv")
    assert host.sanitized
    assert len(host.output(_input(conv))) == conv.output.nbytes


def test_a_shift_of_40_is_reported_as_undefined_behaviour(conv: Graph) -> None:
    bad = _patched(generate(conv, "conv"), r"(hil_layer0_shift\[\d+\][^{]*\{\s*)-?\d+", r"\g<1>40")
    with pytest.raises(HostRunError) as info:
        build_host_model(conv, "conv_bad_shift", generated=bad).output(_input(conv))
    message = str(info.value)
    assert "undefined behaviour" in message and "shift exponent 40" in message
    assert info.value.status == "fault"


def test_an_output_past_the_arena_is_reported_as_a_bad_memory_access(conv: Graph) -> None:
    gen = generate(conv, "conv")
    past_end = gen.arena_bytes - 1  # the first output byte fits; the rest of the tensor does not
    bad = _patched(gen, r"(hil_layer0_params = \{.*?\.out_offset = )\d+u", rf"\g<1>{past_end}u")
    with pytest.raises(HostRunError) as info:
        build_host_model(conv, "conv_past_arena", generated=bad).output(_input(conv))
    assert "AddressSanitizer" in str(info.value) and "heap-buffer-overflow" in str(info.value)
