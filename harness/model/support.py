"""What the compiler supports, checked once on the parsed graph.

Code after this check (quantization math, code generation, kernels) trusts it:
every operator is in ``SUPPORTED_OPS``, activations are int8 with per-tensor
quantization, weights are constant int8, biases constant int32.
"""

from __future__ import annotations

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator, Tensor

SUPPORTED_OPS = ("CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX")
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}


def _fail(op: Operator, message: str) -> ModelError:
    return ModelError(f"operator {op.index} ({op.opcode}): {message}")


def _activation_tensor(g: Graph, op: Operator, index: int, role: str) -> Tensor:
    if index < 0:
        raise _fail(op, f"{role} tensor is missing")
    t = g.tensors[index]
    if t.dtype is not Dtype.INT8:
        raise _fail(op, f"{role} tensor {index} is {t.dtype.name}; only INT8 activations are supported")
    if t.quant is None or t.quant.per_channel:
        raise _fail(op, f"{role} tensor {index} needs per-tensor quantization (one scale and zero point)")
    if not t.quant.scale[0] > 0:
        raise _fail(op, f"{role} tensor {index} has scale {t.quant.scale[0]}; expected > 0")
    if not -128 <= t.quant.zero_point[0] <= 127:
        raise _fail(op, f"{role} tensor {index} has zero point {t.quant.zero_point[0]}; expected -128..127")
    if t.is_constant:
        raise _fail(op, f"{role} tensor {index} is constant; constant activations are not supported")
    return t


def _weights(g: Graph, op: Operator, index: int, rank: int, channels_axis: int) -> Tensor:
    t = g.tensors[index] if index >= 0 else None
    if t is None or not t.is_constant or t.dtype is not Dtype.INT8 or len(t.shape) != rank:
        raise _fail(op, f"weights must be a constant INT8 tensor of rank {rank}")
    if t.quant is None:
        raise _fail(op, f"weights tensor {index} has no quantization")
    channels = t.shape[channels_axis]
    if t.quant.per_channel and (len(t.quant.scale) != channels or t.quant.axis != channels_axis):
        raise _fail(op, f"weights tensor {index} has {len(t.quant.scale)} scales on axis {t.quant.axis}; "
                        f"expected 1 or {channels} on axis {channels_axis}")
    if any(not s > 0 for s in t.quant.scale):
        raise _fail(op, f"weights tensor {index} has a scale <= 0")
    return t


def _bias(g: Graph, op: Operator, index: int, channels: int) -> None:
    if index < 0:
        return
    t = g.tensors[index]
    if not t.is_constant or t.dtype is not Dtype.INT32 or t.elements != channels:
        raise _fail(op, f"bias must be a constant INT32 tensor of {channels} elements; got "
                        f"{t.dtype.name} {list(t.shape)}{'' if t.is_constant else ' (not constant)'}")


def _activation(op: Operator) -> None:
    act = op.option("activation")
    if act not in ACTIVATIONS:
        raise _fail(op, f"fused activation {act} is not supported; supported: {sorted(ACTIVATIONS.values())}")


def _check_fully_connected(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    w = _weights(g, op, op.inputs[1], 2, 0)
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if w.quant is not None and w.quant.per_channel and any(z != 0 for z in w.quant.zero_point):
        raise _fail(op, "per-channel weights need zero points of 0")
    if op.option("weights_format") != 0:
        raise _fail(op, f"weights format {op.option('weights_format')} is not supported; DEFAULT (0) only")
    out_depth, in_depth = w.shape
    if x.elements % in_depth:
        raise _fail(op, f"input of {x.elements} elements is not a multiple of the weights' depth {in_depth}")
    if y.elements != x.elements // in_depth * out_depth:
        raise _fail(op, f"output has {y.elements} elements; expected {x.elements // in_depth * out_depth}")
    _bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_depth)
    _activation(op)


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def _check_conv_2d(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    w = _weights(g, op, op.inputs[1], 4, 0)
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        raise _fail(op, f"input {list(x.shape)} and output {list(y.shape)} must be NHWC with batch 1")
    if w.quant is not None and any(z != 0 for z in w.quant.zero_point):
        raise _fail(op, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    out_c, k_h, k_w, in_c = w.shape
    if in_c != x.shape[3]:
        raise _fail(op, f"weights take {in_c} input channels, the input has {x.shape[3]} "
                        "(grouped convolution is not supported)")
    padding = PADDINGS.get(op.option("padding"))
    if padding is None:
        raise _fail(op, f"padding {op.option('padding')} unknown; expected one of {sorted(PADDINGS.values())}")
    for key in ("stride_h", "stride_w", "dilation_h", "dilation_w"):
        if not 1 <= op.option(key) <= 65535:
            raise _fail(op, f"{key} is {op.option(key)}; expected 1..65535")
    expected = (1, conv_output_size(x.shape[1], k_h, op.option("stride_h"), op.option("dilation_h"), padding),
                conv_output_size(x.shape[2], k_w, op.option("stride_w"), op.option("dilation_w"), padding), out_c)
    if y.shape != expected:
        raise _fail(op, f"output shape {list(y.shape)} differs from the computed {list(expected)}")
    if max(x.shape + y.shape + w.shape) > 65535:
        raise _fail(op, "a dimension exceeds 65535, the most the kernels take")
    _bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
    _activation(op)


def _check_reshape(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if x.elements != y.elements:
        raise _fail(op, f"input has {x.elements} elements, output {y.elements}")
    if x.quant != y.quant:
        raise _fail(op, "input and output quantization differ; RESHAPE must not requantize")


def _check_softmax(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    assert y.quant is not None  # checked by _activation_tensor
    if y.quant.zero_point[0] != -128 or abs(y.quant.scale[0] - 1.0 / 256) > 1e-9:
        raise _fail(op, f"output quantization scale={y.quant.scale[0]} zero_point={y.quant.zero_point[0]}; "
                        "int8 softmax needs scale 1/256, zero point -128")
    if not op.option("beta") > 0:
        raise _fail(op, f"beta is {op.option('beta')}; expected > 0")
    assert x.quant is not None  # checked by _activation_tensor
    if op.option("beta") * x.quant.scale[0] * (1 << 26) < 1.0:
        raise _fail(op, f"beta * input scale = {op.option('beta') * x.quant.scale[0]:.3g} is below 2^-26, "
                        "the smallest int8 softmax can represent")


_CHECKS = {
    "CONV_2D": _check_conv_2d,
    "FULLY_CONNECTED": _check_fully_connected,
    "RESHAPE": _check_reshape,
    "SOFTMAX": _check_softmax,
}


def validate(g: Graph) -> None:
    """Raise ``ModelError`` for anything the compiler cannot take."""
    where = f"model {g.path or g.name}"
    if not g.operators:
        raise ModelError(f"{where}: the graph has no operators")
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise ModelError(f"{where}: {len(g.inputs)} inputs and {len(g.outputs)} outputs; exactly 1 of each is supported")
    for op in g.operators:
        if op.opcode not in _CHECKS:
            raise ModelError(f"{where}: operator {op.index} is {op.opcode}, which is not supported; "
                             f"supported operators: {list(SUPPORTED_OPS)}")
        if len(op.outputs) != 1 or not op.inputs:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) has {len(op.inputs)} inputs and "
                             f"{len(op.outputs)} outputs; expected at least 1 and exactly 1")
        try:
            _CHECKS[op.opcode](g, op)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        except (KeyError, IndexError) as exc:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) is malformed: {exc}") from None
    for index in (g.inputs[0], g.outputs[0]):
        t = g.tensors[index]
        if t.dtype is not Dtype.INT8:
            raise ModelError(f"{where}: graph input/output tensor {index} is {t.dtype.name}; INT8 is required")
