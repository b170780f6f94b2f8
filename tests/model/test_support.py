"""What the compiler refuses, and how it says so: each bad model is built with
harness.model.builder and must give a ModelError that names the operator, its
index and what is supported; fuzzed real models give a ModelError or compile
into C that holds nothing from the file but numbers."""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import pytest

from harness.errors import ModelError
from harness.firmware.codegen import generate
from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from harness.model.loader import parse_model
from tests.conftest import model_path

FUZZ_CASES = int(os.environ.get("HILBENCH_FUZZ_CASES", "300"))


def act(name: str, shape: tuple[int, ...], dtype: Dtype = Dtype.INT8, scale: float = 0.1, zp: int = 0,
        **kw: Any) -> TensorDef:
    return TensorDef(name, shape, dtype, (scale,), (zp,), **kw)


def fc_model(x_dtype: Dtype = Dtype.INT8, y_dtype: Dtype = Dtype.INT8, w_bytes: int | None = None,
             subgraphs: int = 1, signature: tuple[int, ...] | None = None) -> bytes:
    w = np.ones((4, 8), dtype=np.int8).tobytes()
    tensors = [act("x", (1, 8), x_dtype, shape_signature=signature),
               TensorDef("w", (4, 8), Dtype.INT8, (0.01,), (0,), data=w[:w_bytes] if w_bytes else w),
               act("y", (1, 4), y_dtype)]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,))], [0], [2], subgraphs=subgraphs)


def refused(buf: bytes) -> str:
    with pytest.raises(ModelError) as info:
        parse_model(buf, name="bad")
    return str(info.value)


def test_unsupported_operator_names_it_its_index_and_the_supported_set() -> None:
    tensors = [act("x", (1, 8)), act("h", (1, 8)), act("y", (1, 8))]
    msg = refused(build_model(tensors, [OpDef("RELU", (0,), (1,)), OpDef("EXP", (1,), (2,))], [0], [2]))
    assert "operator 1 is EXP" in msg and "not supported" in msg
    assert "DEPTHWISE_CONV_2D" in msg and "FULLY_CONNECTED" in msg


def test_int16_activations_are_refused_with_the_dtype_named() -> None:
    msg = refused(fc_model(x_dtype=Dtype.INT16))  # the graph input is checked before its operator
    assert "graph input tensor 0 ('x') is INT16; INT8 is required" in msg and "TFLITE_BUILTINS_INT8" in msg


def test_several_subgraphs_are_refused() -> None:
    assert "2 subgraphs; exactly 1 is supported" in refused(fc_model(subgraphs=2))


def test_dynamic_shapes_are_refused() -> None:
    assert "dynamic shape" in refused(fc_model(signature=(1, -1)))


def test_empty_graph_is_refused() -> None:
    assert "no operators" in refused(build_model([act("x", (1, 8))], [], [0], [0]))


def test_a_buffer_shorter_than_its_shape_is_refused() -> None:
    msg = refused(fc_model(w_bytes=20))
    assert "buffer holds 20 bytes" in msg and "needs 32" in msg


def test_float_graph_input_into_quantize_is_accepted_and_into_another_operator_refused_with_a_hint() -> None:
    tensors = [TensorDef("x", (1, 8), Dtype.FLOAT32), act("q", (1, 8))]
    g = parse_model(build_model(tensors, [OpDef("QUANTIZE", (0,), (1,))], [0], [1]), name="ok")
    assert g.input.dtype is Dtype.FLOAT32
    tensors = [TensorDef("x", (1, 8), Dtype.FLOAT32), TensorDef("y", (1, 8), Dtype.FLOAT32)]
    msg = refused(build_model(tensors, [OpDef("RELU", (0,), (1,))], [0], [1]))
    assert "operators 0 (RELU) compute in FLOAT32" in msg and "converter.inference_input_type = tf.int8" in msg


def test_operators_out_of_execution_order_are_refused() -> None:
    tensors = [act("x", (1, 8)), act("h", (1, 8)), act("y", (1, 8))]
    ops = [OpDef("RELU", (1,), (2,)), OpDef("RELU", (0,), (1,))]
    assert "reads tensor 1 before any operator writes it" in refused(build_model(tensors, ops, [0], [2]))


def test_softmax_with_a_wrong_output_quantization_is_refused() -> None:
    tensors = [act("x", (1, 8)), act("y", (1, 8), scale=0.1, zp=0)]
    msg = refused(build_model(tensors, [OpDef("SOFTMAX", (0,), (1,), {"beta": 1.0})], [0], [1]))
    assert "operator 0 (SOFTMAX)" in msg and "scale 0.00390625" in msg


def test_mean_over_an_axis_outside_the_input_is_refused() -> None:
    axis = TensorDef("axis", (1,), Dtype.INT32, data=np.array([4], dtype="<i4").tobytes())
    tensors = [act("x", (1, 4, 4, 8)), axis, act("y", (1, 4, 4))]
    msg = refused(build_model(tensors, [OpDef("MEAN", (0, 1), (2,))], [0], [2]))
    assert "operator 0 (MEAN): axis 4 for an input of rank 4; expected -4..3" in msg


def test_pool_that_would_requantize_is_refused() -> None:
    opts = {"filter_h": 2, "filter_w": 2, "stride_h": 2, "stride_w": 2, "padding": 1}
    tensors = [act("x", (1, 4, 4, 2), scale=0.1), act("y", (1, 2, 2, 2), scale=0.2)]
    msg = refused(build_model(tensors, [OpDef("MAX_POOL_2D", (0,), (1,), opts)], [0], [1]))
    assert "does not requantize" in msg


def test_hostile_tensor_names_reach_the_c_source_only_as_safe_text() -> None:
    evil = '*/ #include "/etc/passwd" /* \\n"; system("rm -rf /"); //'
    tensors = [act(evil, (1, 8)), act("y" + evil, (1, 8))]
    g = parse_model(build_model(tensors, [OpDef("RELU", (0,), (1,))], [0], [1]), name=evil)
    gen = generate(g, model_id=evil)
    assert "passwd" not in gen.model_c.replace("_etc_passwd", "") and "system(" not in gen.model_c
    assert "*/ #include" not in gen.model_c


def _mutations(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(0, 3)
    if kind == 0:  # flip bytes
        for _ in range(int(rng.integers(1, 8))):
            buf[int(rng.integers(0, len(buf)))] = int(rng.integers(0, 256))
    elif kind == 1:  # overwrite a 32-bit word with an extreme value
        i = int(rng.integers(0, len(buf) - 4))
        buf[i:i + 4] = int(rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000])).to_bytes(4, "little")
    else:  # truncate
        del buf[int(rng.integers(8, len(buf))):]
    return bytes(buf)


_SAFE_C = re.compile(r'"[A-Za-z0-9_.:-]*"')


@pytest.mark.parametrize("name", ["kws_ref_model", "ad01_int8"])
def test_fuzzed_real_models_give_model_error_or_safe_c(name: str) -> None:
    """HILBENCH_FUZZ_CASES mutations per model (300 here; thousands in a benchmark-style run)."""
    original = model_path(f"{name}.tflite").read_bytes()
    rng = np.random.default_rng(7)
    outcomes = {"refused": 0, "compiled": 0}
    for _ in range(FUZZ_CASES):
        buf = _mutations(original, rng)
        try:  # the loader refuses what it can check; the generator what only its C types limit (shifts)
            gen = generate(parse_model(buf, name="fuzz"), "fuzz")
        except ModelError:
            outcomes["refused"] += 1
            continue
        strings = re.findall(r'"[^"\n]*"', gen.model_c)
        assert all(_SAFE_C.fullmatch(s) for s in strings), [s for s in strings if not _SAFE_C.fullmatch(s)][:3]
        assert "#include" not in gen.model_c.split('#include "model.h"', 1)[1]
        outcomes["compiled"] += 1
    assert outcomes["refused"] > 0 and outcomes["compiled"] > 0, outcomes
