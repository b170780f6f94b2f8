"""Checks that several operators share, for their ``OpSpec.check`` (``harness.model.support.validate``
runs them on the parsed graph). Code after these checks (quantization math, code generation, kernels)
trusts them: activations are int8 with per-tensor quantization (or, where an operator takes TFLite's 16x8
quantization, int16 per tensor with zero point 0), weights constant int8, biases constant int32 (int64 for
16x8), and every scale the compiler reads is > 0 with its zero point in -128..127.
"""

from __future__ import annotations

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator, Tensor

ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}


def fail(op: Operator, message: str) -> ModelError:
    return ModelError(f"operator {op.index} ({op.opcode}): {message}")


def count(n: int, noun: str) -> str:
    """``1 input``, ``3 inputs``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def tensor_label(t: Tensor) -> str:
    """How messages name a tensor: its index and its name in the file."""
    return f"tensor {t.index} ({t.name!r})"


def activation_tensor(g: Graph, op: Operator, index: int, role: str, *, int16: bool = False) -> Tensor:
    """An activation: INT8 per tensor, or with ``int16`` also INT16 per tensor with zero point 0 (TFLite's
    16x8 quantization: int16 activations are symmetric)."""
    if index < 0:
        raise fail(op, f"{role} tensor is missing")
    t = g.tensors[index]
    what = f"{role} {tensor_label(t)}"
    if int16 and t.dtype is Dtype.INT16:
        return _int16_activation(op, t, what)
    if t.dtype is not Dtype.INT8:
        accepted = "INT8 and INT16 (16x8)" if int16 else "INT8"
        raise fail(op, f"{what} is {t.dtype.name}; only {accepted} activations are supported")
    if t.quant is None or t.quant.per_channel:
        scales = 0 if t.quant is None else len(t.quant.scale)
        raise fail(op, f"{what} has {count(scales, 'scale')}; activations need per-tensor quantization "
                        "(one scale and one zero point)")
    if not t.quant.scale[0] > 0:
        raise fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
    if not -128 <= t.quant.zero_point[0] <= 127:
        raise fail(op, f"{what} has zero point {t.quant.zero_point[0]}; expected -128..127 (INT8)")
    if t.is_constant:
        raise fail(op, f"{what} is constant; constant activations are not supported")
    return t


def _int16_activation(op: Operator, t: Tensor, what: str) -> Tensor:
    if t.quant is None or t.quant.per_channel:
        scales = 0 if t.quant is None else len(t.quant.scale)
        raise fail(op, f"{what} has {count(scales, 'scale')}; activations need per-tensor quantization "
                        "(one scale and one zero point)")
    if not t.quant.scale[0] > 0:
        raise fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
    if t.quant.zero_point[0] != 0:
        raise fail(op, f"{what} is INT16 with zero point {t.quant.zero_point[0]}; INT16 activations need zero "
                        "point 0 (symmetric, as TFLite's 16x8 quantization makes them)")
    if t.is_constant:
        raise fail(op, f"{what} is constant; constant activations are not supported")
    return t


def is_int16(g: Graph, op: Operator, index: int = 0) -> bool:
    """Whether input ``index`` of ``op`` is an INT16 tensor (selects a 16x8 kernel variant)."""
    return 0 <= index < len(op.inputs) and 0 <= op.inputs[index] < len(g.tensors) and \
        g.tensors[op.inputs[index]].dtype is Dtype.INT16


def weights(g: Graph, op: Operator, index: int, rank: int, channels_axis: int) -> Tensor:
    t = g.tensors[index] if index >= 0 else None
    if t is None or not t.is_constant or t.dtype is not Dtype.INT8 or len(t.shape) != rank:
        got = "no tensor" if t is None else (f"{tensor_label(t)}, {'' if t.is_constant else 'not constant, '}"
                                             f"{t.dtype.name} {list(t.shape)}")
        raise fail(op, f"weights must be a constant INT8 tensor of rank {rank}; got {got}")
    what = f"weights {tensor_label(t)}"
    if t.quant is None:
        raise fail(op, f"{what} has no quantization; expected a scale per tensor or per output channel")
    channels = t.shape[channels_axis]
    if t.quant.per_channel and (len(t.quant.scale) != channels or t.quant.axis != channels_axis):
        raise fail(op, f"{what} has {len(t.quant.scale)} scales on axis {t.quant.axis}; "
                        f"expected 1 or {channels} on axis {channels_axis}")
    for c, (scale, zero_point) in enumerate(zip(t.quant.scale, t.quant.zero_point)):
        if not scale > 0:
            raise fail(op, f"{what} has scale {scale} (channel {c}); expected > 0")
        if not -128 <= zero_point <= 127:
            raise fail(op, f"{what} has zero point {zero_point} (channel {c}); expected -128..127 (INT8)")
    return t


def symmetric(op: Operator, w: Tensor, accepted: str) -> None:
    """Refuse weights with a zero point other than 0, naming the first such channel."""
    assert w.quant is not None  # checked by weights()
    for c, zero_point in enumerate(w.quant.zero_point):
        if zero_point != 0:
            raise fail(op, f"weights {tensor_label(w)} has zero point {zero_point} (channel {c}); {accepted}")


def bias(g: Graph, op: Operator, index: int, channels: int, dtype: Dtype = Dtype.INT32) -> None:
    """A constant bias of ``channels`` elements: INT32, or INT64 as TFLite gives 16x8 CONV_2D and FULLY_CONNECTED."""
    if index < 0:
        return
    t = g.tensors[index]
    if not t.is_constant or t.dtype is not dtype or t.elements != channels:
        raise fail(op, f"bias must be a constant {dtype.name} tensor of {channels} elements; got {tensor_label(t)}, "
                        f"{t.dtype.name} {list(t.shape)}{'' if t.is_constant else ' (not constant)'}")


def activation(op: Operator) -> None:
    act = op.option("activation")
    if act not in ACTIVATIONS:
        raise fail(op, f"fused activation {act} is not supported; supported: {sorted(ACTIVATIONS.values())}")


def window_padding(stride: int, dilation: int, size: int, kernel: int, out: int) -> int:
    """Padding before the first row or column: half the total a window needs, rounded down, never < 0."""
    total = (out - 1) * stride + (kernel - 1) * dilation + 1 - size
    return max(0, int(total / 2))  # C division truncates toward zero


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def nhwc_batch1(op: Operator, x: Tensor, y: Tensor) -> None:
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        raise fail(op, f"input {list(x.shape)} and output {list(y.shape)} must be NHWC with batch 1")


def check_window(g: Graph, op: Operator, x: Tensor, y: Tensor, k_h: int, k_w: int, out_c: int,
                  dilated: bool) -> None:
    padding = PADDINGS.get(op.option("padding"))
    if padding is None:
        raise fail(op, f"padding {op.option('padding')} unknown; expected one of {sorted(PADDINGS.values())}")
    keys = ("stride_h", "stride_w", "dilation_h", "dilation_w") if dilated else ("stride_h", "stride_w")
    for key in keys:
        if not 1 <= op.option(key) <= 65535:
            raise fail(op, f"{key} is {op.option(key)}; expected 1..65535")
    dh, dw = (op.option("dilation_h"), op.option("dilation_w")) if dilated else (1, 1)
    expected = (1, conv_output_size(x.shape[1], k_h, op.option("stride_h"), dh, padding),
                conv_output_size(x.shape[2], k_w, op.option("stride_w"), dw, padding), out_c)
    if y.shape != expected:
        raise fail(op, f"output shape {list(y.shape)} differs from the computed {list(expected)}")
    if not 1 <= min(k_h, k_w) or max(x.shape + y.shape + (k_h, k_w)) > 65535:
        raise fail(op, f"filter {k_h}x{k_w} or a dimension is outside 1..65535, the range the kernels take")


def same_quant(op: Operator, x: Tensor, y: Tensor) -> None:
    if x.quant != y.quant:
        raise fail(op, f"input and output quantization differ ({q_text(x)} vs {q_text(y)}); {op.opcode} does not requantize")


def q_text(t: Tensor) -> str:
    return f"scale={t.quant.scale[0]:.6g} zero_point={t.quant.zero_point[0]}" if t.quant else "none"


def constant_ints(g: Graph, op: Operator, index: int, role: str) -> list[int]:
    t = g.tensors[index] if 0 <= index < len(g.tensors) else None
    if t is None or not t.is_constant or t.dtype not in (Dtype.INT32, Dtype.INT64):
        raise fail(op, f"{role} must be a constant INT32 or INT64 tensor")
    return [int(v) for v in t.array().reshape(-1)]


def check_fixed_output(g: Graph, op: Operator, scale: float, zero_point: int) -> Tensor:
    """The input, after checking it and an output whose quantization the int8 kernel fixes."""
    x = activation_tensor(g, op, op.inputs[0], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    assert y.quant is not None  # checked by activation_tensor()
    if y.quant.zero_point[0] != zero_point or abs(y.quant.scale[0] - scale) > 1e-9:
        raise fail(op, f"output {q_text(y)}; int8 {op.opcode} needs scale {scale:g}, zero point {zero_point}")
    return x
