"""Variable tensors (``Tensor.is_variable``: state an operator reads and updates, such as SVDF's): the loader reads
the flag, ``support`` accepts a variable tensor only as an operator's input with no data, the planner gives it
bytes of its own for the whole program, and the generated model lists it (offset, bytes, reset byte) for the
runtime to fill before each inference. A model without variable tensors generates none of that. An INT8 variable
resets to its zero point, as TFLite Micro's ResetVariableTensors does: on QEMU, an ADD of the input and an INT8
variable with zero point 5 gives the input itself, as the interpreter does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.boards import load_board
from harness.errors import ModelError
from harness.firmware.codegen import generate
from harness.firmware.planner import plan_memory
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from harness.runner import RunOptions, run_model
from tests.conftest import requires_qemu
from tests.ops.test_svdf import fc_svdf_fc_model


def add_variable_model(zero_point: int = 5) -> bytes:
    """y = x + v, with v an INT8 variable tensor of zero point ``zero_point`` (real value 0 after a reset)."""
    t = [TensorDef("x", (1, 8), Dtype.INT8, (0.1,), (0,)),
         TensorDef("v", (1, 8), Dtype.INT8, (0.1,), (zero_point,), is_variable=True),
         TensorDef("y", (1, 8), Dtype.INT8, (0.1,), (0,))]
    return build_model(t, [OpDef("ADD", (0, 1), (2,), {})], [0], [2])


def test_the_loader_reads_the_variable_flag() -> None:
    g = parse_model(fc_svdf_fc_model(), name="fc_svdf_fc")
    assert [t.name for t in g.tensors if t.is_variable] == ["state"]


def test_a_variable_tensor_lives_for_the_whole_program_in_bytes_of_its_own() -> None:
    g = parse_model(fc_svdf_fc_model(), name="fc_svdf_fc")
    plan = plan_memory(g)
    state = next(t for t in g.tensors if t.is_variable)
    start, end = plan.offsets[state.index], plan.offsets[state.index] + state.nbytes
    for t, offset in plan.offsets.items():
        if t != state.index:
            assert offset + g.tensors[t].nbytes <= start or offset >= end, f"tensor {t} overlaps the state"


def test_the_generated_model_lists_its_variables_and_a_model_without_lists_none() -> None:
    g = parse_model(fc_svdf_fc_model(), name="fc_svdf_fc")
    gen = generate(g)
    state = next(t for t in g.tensors if t.is_variable)
    assert gen.variables == ((gen.offsets[state.index], state.nbytes, 0),)
    assert "#define BENCH_N_VARIABLES 1u" in gen.model_h and "hil_variable_offsets[1]" in gen.model_c
    int8 = generate(parse_model(add_variable_model(-3), name="add_variable"))
    assert int8.variables[0][1:] == (8, 0xFD)  # the byte of zero point -3
    plain = build_model([TensorDef("x", (1, 8), Dtype.INT8, (0.1,), (0,)), TensorDef("y", (1, 8), Dtype.INT8, (0.1,), (0,))],
                        [OpDef("ADD", (0, 0), (1,), {})], [0], [1])
    gen = generate(parse_model(plain, name="plain"))
    assert gen.variables == () and "VARIABLE" not in gen.model_h and "variable" not in gen.model_c


_X, _Y = TensorDef("x", (1, 8), Dtype.INT8, (0.1,), (0,)), TensorDef("y", (1, 8), Dtype.INT8, (0.1,), (0,))
_V = TensorDef("v", (1, 8), Dtype.INT8, (0.1,), (0,), is_variable=True)
_REFUSALS = [
    ("written", build_model([_X, _V], [OpDef("ADD", (0, 0), (1,), {})], [0], [1]),
     r"variable tensor 1 \('v'\): it is a graph output; a variable tensor is accepted only as state"),
    ("written inside", build_model([_X, _V, _Y], [OpDef("ADD", (0, 0), (1,), {}), OpDef("ADD", (1, 0), (2,), {})],
                                   [0], [2]),
     r"variable tensor 1 \('v'\): operators \[0\] write it as an output"),
    ("unread", build_model([_X, _V, _Y], [OpDef("ADD", (0, 0), (2,), {})], [0], [2]),
     r"variable tensor 1 \('v'\): no operator reads it"),
    ("data", build_model([_X, TensorDef("v", (1, 8), Dtype.INT8, (0.1,), (0,), is_variable=True, data=bytes(8)), _Y],
                         [OpDef("ADD", (0, 1), (2,), {})], [0], [2]),
     r"variable tensor 1 \('v'\): it holds constant data"),
]


@pytest.mark.parametrize(("model", "message"), [pytest.param(m, msg, id=name) for name, m, msg in _REFUSALS])
def test_a_variable_tensor_other_than_an_operators_state_is_refused(model: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_model(model, name="refused")


@requires_qemu
def test_an_int8_variable_starts_each_inference_at_its_zero_point_on_qemu(tmp_path: Path) -> None:
    path = tmp_path / "add_variable.tflite"
    path.write_bytes(add_variable_model())
    record = run_model(path, load_board("qemu-m4"), RunOptions(inferences=2, warmup=1))
    assert record.status == "ok", record.error
    assert record.matches_reference
