"""A layer whose operator has no kernel is an error, not a layer that silently does nothing: the host
build exits with the layer named, and the firmware prints an ``e-hil-fault`` line that the host turns
into a record with status ``fault``."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from harness.boards import load_board
from harness.errors import HostRunError
from harness.firmware.build import BuildOptions
from harness.firmware.codegen import generate
from harness.firmware.host import build_host_model
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype, Graph
from harness.model.loader import parse_model
from harness.ops.registry import operators
from harness.runner import RunOptions, run_model
from tests.conftest import model_path, requires_cc, requires_qemu
from tests.firmware.host_c import requires_host_cc


def _three_layers() -> Graph:
    q = (0.05,), (0,)
    tensors = [TensorDef("x", (1, 8), Dtype.INT8, *q), TensorDef("a", (1, 8), Dtype.INT8, *q),
               TensorDef("b", (1, 8), Dtype.INT8, (0.1,), (3,)), TensorDef("y", (1, 8), Dtype.INT8, (0.1,), (3,))]
    ops = [OpDef("RELU", (0,), (1,)), OpDef("QUANTIZE", (1,), (2,)), OpDef("RELU", (2,), (3,))]
    return parse_model(build_model(tensors, ops, [0], [3]), name="three_layers")


@requires_host_cc
@pytest.mark.parametrize("sanitize", [True, False])
def test_a_corrupted_layer_op_is_a_host_error_naming_the_layer(sanitize: bool) -> None:
    graph = _three_layers()
    gen = generate(graph)
    entries = re.findall(r"\{\.op = BENCH_OP_\w+", gen.model_c)
    assert entries == ["{.op = BENCH_OP_RELU", "{.op = BENCH_OP_QUANTIZE", "{.op = BENCH_OP_RELU"]
    # layer 1's op becomes a value no kernel has, as a corrupted layer table would hold
    bad = dataclasses.replace(gen, model_c=gen.model_c.replace("{.op = BENCH_OP_QUANTIZE", "{.op = (bench_op_t)99"))
    host = build_host_model(graph, "three_layers_bad_op", sanitize=sanitize, generated=bad)
    x = np.arange(-4, 4, dtype=np.int8).tobytes()
    with pytest.raises(HostRunError, match=r"layer 1 op 99: unknown operator"):
        host.output(x)
    with pytest.raises(HostRunError, match=r"layer 1 op 99: unknown operator"):
        host.layer_outputs(x)
    assert len(host.run_arena([x], layers=1)) == gen.arena_bytes  # layer 0 alone is fine


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_a_bad_layer_op_on_the_firmware_becomes_a_fault_record() -> None:
    hook = BuildOptions(defines=(("BENCH_TEST_BAD_OP_LAYER", "3"),))
    run = run_model(model_path("ad01_int8.tflite"), load_board("qemu-m4"),
                    RunOptions(inferences=1, warmup=0, build=hook))
    assert run.status == "fault", run.error
    none = max(d.code for d in operators().values()) + 1  # BENCH_OP_NONE, the value the hook writes
    assert f"the firmware refused layer 3 (operator number {none}): unknown operator" in (run.error or ""), run.error
    assert "layer=0x00000003" in (run.error or "") and "status=0x00000001" in (run.error or "")
    assert run.instructions_per_inference is None
