"""SVDF (``bench_kernel_svdf``; firmware/kernels/portable/svdf.c): TFLite Micro's integer SVDF, int8 in and out.

Inputs: the int8 input [batches, n_input], the constant int8 weights_feature [n_filter, n_input], the constant
int16 weights_time [n_filter, n_memory], the constant int32 bias [n_filter / rank] and the int16
activation_state [batches, n_filter * n_memory], a variable tensor (``Tensor.is_variable``) that holds the last
n_memory feature values of each filter, oldest first. Per inference, with r = s(q - Z):

- the state moves one step back in time (each filter's oldest value drops out);
- each filter's newest value is sum((x - x_zero_point) * weights_feature), rescaled by
  input_scale * weights_feature_scale / state_scale and clamped to int16;
- each output unit is bias + the sum, over its ``rank`` filters and the n_memory steps, of state * weights_time,
  rescaled by state_scale * weights_time_scale / output_scale, plus the output zero point, clamped to int8.

The two multipliers come from the float32 scales taken as double. Sums are int32 and wrap as TFLite's do. The
fused activation is read but not applied: TFLite Micro's integer SVDF clamps to the int8 range only (found by
running its interpreter with RELU, RELU6 and RELU_N1_TO_1 on outputs they would clip), so this kernel does the
same. The bias is required: TFLite Micro's Prepare reads its scale unconditionally (the interpreter crashes on
an SVDF without one) and checks it against state_scale * weights_time_scale within 1e-5.
"""

from __future__ import annotations

import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.model.quant import quantize_multiplier
from harness.ops.base import OpSpec
from harness.ops.checks import activation, activation_tensor, count, fail, symmetric, tensor_label, weights
from harness.ops.emit import Emitter, c_int, requant

BIAS_SCALE_TOLERANCE = 1e-5  # TFLite Micro's Prepare: |bias_scale - state_scale * weights_time_scale| < 1e-5


def _weights_time(g: Graph, op: Operator, n_filter: int) -> Tensor:
    t = g.tensors[op.inputs[2]] if op.inputs[2] >= 0 else None
    if t is None or not t.is_constant or t.dtype is not Dtype.INT16 or len(t.shape) != 2 or t.shape[0] != n_filter:
        got = "no tensor" if t is None else (f"{tensor_label(t)}, {'' if t.is_constant else 'not constant, '}"
                                             f"{t.dtype.name} {list(t.shape)}")
        raise fail(op, f"weights_time must be a constant INT16 tensor [{n_filter}, memory] (TFLite Micro's int8 "
                       f"SVDF takes int16 weights_time); got {got}")
    _per_tensor_symmetric(op, t, "weights_time")
    return t


def _per_tensor_symmetric(op: Operator, t: Tensor, role: str) -> None:
    what = f"{role} {tensor_label(t)}"
    if t.quant is None or t.quant.per_channel:
        raise fail(op, f"{what} has {count(0 if t.quant is None else len(t.quant.scale), 'scale')}; expected one "
                       "scale (per-tensor quantization)")
    if not t.quant.scale[0] > 0:
        raise fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
    if t.quant.zero_point[0] != 0:
        raise fail(op, f"{what} has zero point {t.quant.zero_point[0]}; expected 0 (symmetric)")


def _state(g: Graph, op: Operator, batches: int, n_filter: int, n_memory: int) -> Tensor:
    t = g.tensors[op.inputs[4]] if op.inputs[4] >= 0 else None
    if t is None:
        raise fail(op, "activation_state tensor is missing; expected a variable INT16 tensor")
    what = f"activation_state {tensor_label(t)}"
    if t.dtype is not Dtype.INT16:
        raise fail(op, f"{what} is {t.dtype.name}; TFLite Micro's int8 SVDF keeps INT16 state")
    if not t.is_variable or t.is_constant:
        raise fail(op, f"{what} is not a variable tensor (is_variable false{', constant' if t.is_constant else ''}); "
                       "SVDF's state must be a variable tensor, which it updates at every inference")
    if list(t.shape) != [batches, n_filter * n_memory]:
        raise fail(op, f"{what} has shape {list(t.shape)}; expected [{batches}, {n_filter * n_memory}] "
                       "(batches, filters x memory)")
    _per_tensor_symmetric(op, t, "activation_state")
    return t


def _geometry(g: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, int]:
    """(input, weights_feature, weights_time, state, output, rank) after the checks."""
    if len(op.inputs) != 5:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 5 (input, weights_feature, weights_time, "
                       "bias, activation_state)")
    x = activation_tensor(g, op, op.inputs[0], "input")
    if len(x.shape) != 2:
        raise fail(op, f"input {tensor_label(x)} has shape {list(x.shape)}; expected rank 2 [batches, input size]")
    batches, n_input = x.shape
    wf = weights(g, op, op.inputs[1], 2, 0)
    assert wf.quant is not None  # checked by weights()
    if wf.quant.per_channel:
        raise fail(op, f"weights_feature {tensor_label(wf)} has {len(wf.quant.scale)} scales; expected one "
                       "(per-tensor quantization)")
    symmetric(op, wf, "SVDF's weights_feature need zero point 0")
    n_filter = wf.shape[0]
    if wf.shape[1] != n_input:
        raise fail(op, f"weights_feature {list(wf.shape)} do not match the input size {n_input}; expected "
                       f"[filters, {n_input}]")
    rank = op.option("rank")
    if rank < 1 or n_filter % rank:
        raise fail(op, f"rank {rank} does not divide the {n_filter} filters; expected a divisor >= 1")
    wt = _weights_time(g, op, n_filter)
    state = _state(g, op, batches, n_filter, wt.shape[1])
    y = activation_tensor(g, op, op.outputs[0], "output")
    if list(y.shape) != [batches, n_filter // rank]:
        raise fail(op, f"output shape {list(y.shape)}; expected [{batches}, {n_filter // rank}] (batches, "
                       "filters / rank)")
    return x, wf, wt, state, y, rank


def _bias(g: Graph, op: Operator, units: int, state: Tensor, wt: Tensor) -> Tensor:
    b = g.tensors[op.inputs[3]] if op.inputs[3] >= 0 else None
    if b is None:
        raise fail(op, "bias is missing; int8 SVDF needs a constant INT32 bias (TFLite Micro's Prepare reads "
                       "its scale, and its interpreter crashes on an SVDF without one)")
    if not b.is_constant or b.dtype is not Dtype.INT32 or b.elements != units:
        raise fail(op, f"bias must be a constant INT32 tensor of {units} elements; got {tensor_label(b)}, "
                       f"{b.dtype.name} {list(b.shape)}{'' if b.is_constant else ' (not constant)'}")
    assert state.quant is not None and wt.quant is not None  # checked by _state() and _weights_time()
    product = float(state.quant.scale[0]) * float(wt.quant.scale[0])
    scale = b.quant.scale[0] if b.quant is not None else 0.0
    if not abs(scale - product) < BIAS_SCALE_TOLERANCE:
        raise fail(op, f"bias {tensor_label(b)} has scale {scale:g}; expected activation_state scale x "
                       f"weights_time scale = {product:g} within {BIAS_SCALE_TOLERANCE:g} (TFLite Micro checks it)")
    return b


def check(g: Graph, op: Operator) -> None:
    _, _, wt, state, y, _ = _geometry(g, op)
    _bias(g, op, y.shape[1], state, wt)
    activation(op)  # read, not applied: TFLite Micro's integer SVDF clamps to int8 only (module docstring)


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, wf, wt, state, y, rank = _geometry(e.g, op)
    b = _bias(e.g, op, y.shape[1], state, wt)
    assert x.quant and wf.quant and wt.quant and state.quant and y.quant  # validated
    feature = requant("feature", quantize_multiplier(
        float(x.quant.scale[0]) * float(wf.quant.scale[0]) / float(state.quant.scale[0])))
    output = requant("output", quantize_multiplier(
        float(state.quant.scale[0]) * float(wt.quant.scale[0]) / float(y.quant.scale[0])))
    batches, n_input = x.shape
    n_filter, n_memory = wt.shape
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index), "state_offset": e.off(state.index),
        "weights_feature": e.weights(f"{p}_weights_feature", "int8_t", wf.array()),
        "weights_time": e.weights(f"{p}_weights_time", "int16_t", wt.array()),
        "bias": e.weights(f"{p}_bias", "int32_t", b.array()),
        "batches": f"{batches}u", "n_input": f"{n_input}u", "n_filter": f"{n_filter}u",
        "n_memory": f"{n_memory}u", "rank": f"{rank}u",
        "input_offset": c_int(-x.quant.zero_point[0]), "output_offset": c_int(y.quant.zero_point[0]),
        "feature_multiplier": c_int(feature[0]), "feature_shift": c_int(feature[1]),
        "output_multiplier": c_int(output[0]), "output_shift": c_int(output[1]),
    }
    e.struct("bench_svdf_params_t", f"{p}_params", fields)
    return batches * n_filter * (n_input + n_memory)


OPS = (
    OpSpec("SVDF", tflite.BuiltinOperator.SVDF, 240, check, emit, kernel="bench_kernel_svdf", params="svdf",
           sources=("svdf.c",),
           options=("SVDFOptions", (("rank", "Rank", 0), ("activation", "FusedActivationFunction", 0)))),
)
