"""What the compiler supports, checked once on the parsed graph.

Code after this check (quantization math, code generation, kernels) trusts it:
every operator is in ``SUPPORTED_OPS``, activations are int8 with per-tensor
quantization, weights are constant int8, biases constant int32, and every scale
the compiler reads is > 0 with its zero point in -128..127 (the loader has
already refused scales that are not finite and zero points outside int32).
Graph inputs and outputs are checked first, so a float model input gets the
conversion hint rather than a complaint about the QUANTIZE behind it.
"""

from __future__ import annotations

import math

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator, Tensor

SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
                 "MUL", "SOFTMAX", "RESHAPE", "MEAN", "PAD", "CONCATENATION", "QUANTIZE", "DEQUANTIZE",
                 "LOGISTIC", "TANH", "RELU", "RELU6")
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}


def _fail(op: Operator, message: str) -> ModelError:
    return ModelError(f"operator {op.index} ({op.opcode}): {message}")


def _count(n: int, noun: str) -> str:
    """``1 input``, ``3 inputs``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def tensor_label(t: Tensor) -> str:
    """How messages name a tensor: its index and its name in the file."""
    return f"tensor {t.index} ({t.name!r})"


def _activation_tensor(g: Graph, op: Operator, index: int, role: str) -> Tensor:
    if index < 0:
        raise _fail(op, f"{role} tensor is missing")
    t = g.tensors[index]
    what = f"{role} {tensor_label(t)}"
    if t.dtype is not Dtype.INT8:
        raise _fail(op, f"{what} is {t.dtype.name}; only INT8 activations are supported")
    if t.quant is None or t.quant.per_channel:
        scales = 0 if t.quant is None else len(t.quant.scale)
        raise _fail(op, f"{what} has {_count(scales, 'scale')}; activations need per-tensor quantization "
                        "(one scale and one zero point)")
    if not t.quant.scale[0] > 0:
        raise _fail(op, f"{what} has scale {t.quant.scale[0]}; expected > 0")
    if not -128 <= t.quant.zero_point[0] <= 127:
        raise _fail(op, f"{what} has zero point {t.quant.zero_point[0]}; expected -128..127 (INT8)")
    if t.is_constant:
        raise _fail(op, f"{what} is constant; constant activations are not supported")
    return t


def _weights(g: Graph, op: Operator, index: int, rank: int, channels_axis: int) -> Tensor:
    t = g.tensors[index] if index >= 0 else None
    if t is None or not t.is_constant or t.dtype is not Dtype.INT8 or len(t.shape) != rank:
        got = "no tensor" if t is None else (f"{tensor_label(t)}, {'' if t.is_constant else 'not constant, '}"
                                             f"{t.dtype.name} {list(t.shape)}")
        raise _fail(op, f"weights must be a constant INT8 tensor of rank {rank}; got {got}")
    what = f"weights {tensor_label(t)}"
    if t.quant is None:
        raise _fail(op, f"{what} has no quantization; expected a scale per tensor or per output channel")
    channels = t.shape[channels_axis]
    if t.quant.per_channel and (len(t.quant.scale) != channels or t.quant.axis != channels_axis):
        raise _fail(op, f"{what} has {len(t.quant.scale)} scales on axis {t.quant.axis}; "
                        f"expected 1 or {channels} on axis {channels_axis}")
    for c, (scale, zero_point) in enumerate(zip(t.quant.scale, t.quant.zero_point)):
        if not scale > 0:
            raise _fail(op, f"{what} has scale {scale} (channel {c}); expected > 0")
        if not -128 <= zero_point <= 127:
            raise _fail(op, f"{what} has zero point {zero_point} (channel {c}); expected -128..127 (INT8)")
    return t


def _symmetric(op: Operator, w: Tensor, accepted: str) -> None:
    """Refuse weights with a zero point other than 0, naming the first such channel."""
    assert w.quant is not None  # checked by _weights
    for c, zero_point in enumerate(w.quant.zero_point):
        if zero_point != 0:
            raise _fail(op, f"weights {tensor_label(w)} has zero point {zero_point} (channel {c}); {accepted}")


def _bias(g: Graph, op: Operator, index: int, channels: int) -> None:
    if index < 0:
        return
    t = g.tensors[index]
    if not t.is_constant or t.dtype is not Dtype.INT32 or t.elements != channels:
        raise _fail(op, f"bias must be a constant INT32 tensor of {channels} elements; got {tensor_label(t)}, "
                        f"{t.dtype.name} {list(t.shape)}{'' if t.is_constant else ' (not constant)'}")


def _activation(op: Operator) -> None:
    act = op.option("activation")
    if act not in ACTIVATIONS:
        raise _fail(op, f"fused activation {act} is not supported; supported: {sorted(ACTIVATIONS.values())}")


def _check_fully_connected(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    w = _weights(g, op, op.inputs[1], 2, 0)
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if w.quant is not None and w.quant.per_channel:
        _symmetric(op, w, "per-channel weights need zero points of 0")
    if op.option("weights_format") != 0:
        raise _fail(op, f"weights format {op.option('weights_format')} is not supported; DEFAULT (0) only")
    out_depth, in_depth = w.shape
    if x.elements % in_depth:
        raise _fail(op, f"input of {x.elements} elements is not a multiple of the weights' depth {in_depth}")
    if y.elements != x.elements // in_depth * out_depth:
        raise _fail(op, f"output has {y.elements} elements; expected {x.elements // in_depth * out_depth}")
    _bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_depth)
    _activation(op)


def window_padding(stride: int, dilation: int, size: int, kernel: int, out: int) -> int:
    """Padding before the first row or column: half the total a window needs, rounded down, never < 0."""
    total = (out - 1) * stride + (kernel - 1) * dilation + 1 - size
    return max(0, int(total / 2))  # C division truncates toward zero


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - effective + stride) // stride


def _check_conv_2d(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    w = _weights(g, op, op.inputs[1], 4, 0)
    y = _activation_tensor(g, op, op.outputs[0], "output")
    _nhwc_batch1(op, x, y)
    _symmetric(op, w, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    out_c, k_h, k_w, in_c = w.shape
    if in_c != x.shape[3]:
        raise _fail(op, f"weights take {in_c} input channels, the input has {x.shape[3]} "
                        "(grouped convolution is not supported)")
    _check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    _bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
    _activation(op)


def _check_depthwise_conv_2d(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    w = _weights(g, op, op.inputs[1], 4, 3)
    y = _activation_tensor(g, op, op.outputs[0], "output")
    _nhwc_batch1(op, x, y)
    _symmetric(op, w, "weights zero points must all be 0 (symmetric int8, as TFLite emits)")
    _, k_h, k_w, out_c = w.shape
    dm = op.option("depth_multiplier")
    if w.shape[0] != 1 or out_c != x.shape[3] * dm:
        raise _fail(op, f"weights {list(w.shape)} do not match input channels {x.shape[3]} x depth multiplier {dm}; "
                        "expected [1, k_h, k_w, in_c * depth_multiplier]")
    _check_window(g, op, x, y, k_h, k_w, out_c, dilated=True)
    _bias(g, op, op.inputs[2] if len(op.inputs) > 2 else -1, out_c)
    _activation(op)


def _nhwc_batch1(op: Operator, x: Tensor, y: Tensor) -> None:
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        raise _fail(op, f"input {list(x.shape)} and output {list(y.shape)} must be NHWC with batch 1")


def _check_window(g: Graph, op: Operator, x: Tensor, y: Tensor, k_h: int, k_w: int, out_c: int,
                  dilated: bool) -> None:
    padding = PADDINGS.get(op.option("padding"))
    if padding is None:
        raise _fail(op, f"padding {op.option('padding')} unknown; expected one of {sorted(PADDINGS.values())}")
    keys = ("stride_h", "stride_w", "dilation_h", "dilation_w") if dilated else ("stride_h", "stride_w")
    for key in keys:
        if not 1 <= op.option(key) <= 65535:
            raise _fail(op, f"{key} is {op.option(key)}; expected 1..65535")
    dh, dw = (op.option("dilation_h"), op.option("dilation_w")) if dilated else (1, 1)
    expected = (1, conv_output_size(x.shape[1], k_h, op.option("stride_h"), dh, padding),
                conv_output_size(x.shape[2], k_w, op.option("stride_w"), dw, padding), out_c)
    if y.shape != expected:
        raise _fail(op, f"output shape {list(y.shape)} differs from the computed {list(expected)}")
    if not 1 <= min(k_h, k_w) or max(x.shape + y.shape + (k_h, k_w)) > 65535:
        raise _fail(op, f"filter {k_h}x{k_w} or a dimension is outside 1..65535, the range the kernels take")


def _same_quant(op: Operator, x: Tensor, y: Tensor) -> None:
    if x.quant != y.quant:
        raise _fail(op, f"input and output quantization differ ({_q(x)} vs {_q(y)}); {op.opcode} does not requantize")


def _q(t: Tensor) -> str:
    return f"scale={t.quant.scale[0]:.6g} zero_point={t.quant.zero_point[0]}" if t.quant else "none"


def _check_pool(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    _nhwc_batch1(op, x, y)
    _same_quant(op, x, y)
    _check_window(g, op, x, y, op.option("filter_h"), op.option("filter_w"), x.shape[3], dilated=False)
    _activation(op)


def _broadcast_shape(op: Operator, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) > 4 or len(b) > 4:
        raise _fail(op, f"inputs of rank {len(a)} and {len(b)}; at most rank 4 is supported")
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da != db and 1 not in (da, db):
            raise _fail(op, f"input shapes {list(a)} and {list(b)} do not broadcast")
        out.append(max(da, db))
    return tuple(reversed(out))


def _check_binary(g: Graph, op: Operator) -> None:
    if len(op.inputs) != 2:
        raise _fail(op, f"{len(op.inputs)} inputs; expected 2")
    a = _activation_tensor(g, op, op.inputs[0], "first input")
    b = _activation_tensor(g, op, op.inputs[1], "second input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    shape = _broadcast_shape(op, a.shape, b.shape)
    if y.elements != math.prod(shape) or y.shape[-len(shape):] != shape[-len(y.shape):]:
        raise _fail(op, f"output shape {list(y.shape)}; broadcasting the inputs gives {list(shape)}")
    _activation(op)


def _constant_ints(g: Graph, op: Operator, index: int, role: str) -> list[int]:
    t = g.tensors[index] if 0 <= index < len(g.tensors) else None
    if t is None or not t.is_constant or t.dtype not in (Dtype.INT32, Dtype.INT64):
        raise _fail(op, f"{role} must be a constant INT32 or INT64 tensor")
    return [int(v) for v in t.array().reshape(-1)]


def _check_mean(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    axes = sorted({a % 4 if len(x.shape) == 4 else a for a in _constant_ints(g, op, op.inputs[1], "axis")})
    if len(x.shape) != 4 or axes != [1, 2]:
        raise _fail(op, f"MEAN over axes {axes} of a rank-{len(x.shape)} input; only the two spatial axes "
                        "[1, 2] of an NHWC input are supported")
    b, _, _, c = x.shape
    if y.elements != b * c:
        raise _fail(op, f"output shape {list(y.shape)}; expected {b * c} elements")


def _check_pad(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    _same_quant(op, x, y)
    pads = _constant_ints(g, op, op.inputs[1], "paddings")
    if len(x.shape) > 4 or len(pads) != 2 * len(x.shape) or any(p < 0 for p in pads):
        raise _fail(op, f"paddings {pads} for an input of rank {len(x.shape)}; expected rank <= 4 and "
                        "2 non-negative values per axis")
    expected = tuple(d + pads[2 * i] + pads[2 * i + 1] for i, d in enumerate(x.shape))
    if y.shape != expected:
        raise _fail(op, f"output shape {list(y.shape)} differs from the padded {list(expected)}")


def _check_concatenation(g: Graph, op: Operator) -> None:
    y = _activation_tensor(g, op, op.outputs[0], "output")
    rank = len(y.shape)
    axis = op.option("axis")
    if not -rank <= axis < rank or rank > 4:
        raise _fail(op, f"axis {axis} for rank {rank}; expected -{rank}..{rank - 1} and rank <= 4")
    axis %= rank
    total = 0
    for k, index in enumerate(op.inputs):
        x = _activation_tensor(g, op, index, f"input {k}")
        _same_quant(op, x, y)
        if len(x.shape) != rank or any(x.shape[i] != y.shape[i] for i in range(rank) if i != axis):
            raise _fail(op, f"input {k} shape {list(x.shape)} does not match output {list(y.shape)} "
                            f"outside axis {axis}")
        total += x.shape[axis]
    if total != y.shape[axis]:
        raise _fail(op, f"inputs add up to {total} along axis {axis}; the output has {y.shape[axis]}")
    if op.option("activation") != 0:
        raise _fail(op, "a fused activation on CONCATENATION is not supported")


def _check_quantize(g: Graph, op: Operator) -> None:
    _activation_tensor(g, op, op.inputs[0], "input")
    _activation_tensor(g, op, op.outputs[0], "output")


def _check_dequantize(g: Graph, op: Operator) -> None:
    _activation_tensor(g, op, op.inputs[0], "input")
    y = g.tensors[op.outputs[0]]
    if y.dtype is not Dtype.FLOAT32:
        raise _fail(op, f"output is {y.dtype.name}; DEQUANTIZE to FLOAT32 only")
    if op.outputs[0] not in g.outputs:
        raise _fail(op, "DEQUANTIZE is supported only as the last step, producing the graph output")


def _check_fixed_output(g: Graph, op: Operator, scale: float, zero_point: int) -> Tensor:
    """The input, after checking it and an output whose quantization the int8 kernel fixes."""
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    assert y.quant is not None  # checked by _activation_tensor
    if y.quant.zero_point[0] != zero_point or abs(y.quant.scale[0] - scale) > 1e-9:
        raise _fail(op, f"output {_q(y)}; int8 {op.opcode} needs scale {scale:g}, zero point {zero_point}")
    return x


def _check_relu(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if op.opcode == "RELU6":
        _same_quant(op, x, y)


def _check_reshape(g: Graph, op: Operator) -> None:
    x = _activation_tensor(g, op, op.inputs[0], "input")
    y = _activation_tensor(g, op, op.outputs[0], "output")
    if x.elements != y.elements:
        raise _fail(op, f"input has {x.elements} elements, output {y.elements}")
    _same_quant(op, x, y)


def _check_softmax(g: Graph, op: Operator) -> None:
    x = _check_fixed_output(g, op, 1.0 / 256, -128)
    if not op.option("beta") > 0:
        raise _fail(op, f"beta is {op.option('beta')}; expected > 0")
    assert x.quant is not None  # checked by _activation_tensor
    if op.option("beta") * x.quant.scale[0] * (1 << 26) < 1.0:
        raise _fail(op, f"beta * input scale = {op.option('beta') * x.quant.scale[0]:.3g} is below 2^-26, "
                        "the smallest int8 softmax can represent")


_CHECKS = {
    "CONV_2D": _check_conv_2d,
    "DEPTHWISE_CONV_2D": _check_depthwise_conv_2d,
    "FULLY_CONNECTED": _check_fully_connected,
    "AVERAGE_POOL_2D": _check_pool,
    "MAX_POOL_2D": _check_pool,
    "ADD": _check_binary,
    "MUL": _check_binary,
    "SOFTMAX": _check_softmax,
    "RESHAPE": _check_reshape,
    "MEAN": _check_mean,
    "PAD": _check_pad,
    "CONCATENATION": _check_concatenation,
    "QUANTIZE": _check_quantize,
    "DEQUANTIZE": _check_dequantize,
    "LOGISTIC": lambda g, op: _check_fixed_output(g, op, 1.0 / 256, -128),
    "TANH": lambda g, op: _check_fixed_output(g, op, 1.0 / 128, 0),
    "RELU": _check_relu,
    "RELU6": _check_relu,
}


RUN_IO = ("exactly 1 input and exactly 1 output are supported (the firmware loads one input buffer, as the "
          "MLPerf Tiny protocol does, and returns one output)")
HOST_IO = ("at least 1 input and exactly 1 output are supported (several inputs only in the host build of the "
           "kernels; a run on the firmware takes exactly 1 input)")


def graph_io_problem(g: Graph, *, several_inputs: bool = False) -> str | None:
    """Why ``g`` has graph inputs or outputs the compiler cannot feed or read; None when it has not.

    A run feeds one input buffer and reads one output: exactly 1 input and exactly 1 output. With
    ``several_inputs`` more inputs pass, which only the host build of the kernels can feed (the operator
    tests). The loader and ``build_firmware`` both ask this, so the two say the same thing.
    """
    inputs_ok = len(g.inputs) >= 1 if several_inputs else len(g.inputs) == 1
    if inputs_ok and len(g.outputs) == 1:
        return None
    return (f"{_count(len(g.inputs), 'input')} and {_count(len(g.outputs), 'output')}; "
            f"{HOST_IO if several_inputs else RUN_IO}")


_INT8_CONVERSION = ("quantize it fully to int8 (Optimize.DEFAULT, a representative dataset, "
                    "TFLITE_BUILTINS_INT8, inference_input_type=tf.int8, inference_output_type=tf.int8)")


def _check_graph_dtypes(g: Graph, where: str) -> None:
    """Graph inputs must be INT8 and the output INT8 or FLOAT32 from a final DEQUANTIZE.

    Checked before the operators: a float model input feeds a QUANTIZE whose float input the per-operator
    check would name instead of the conversion setting that removes it (DESIGN §8b).
    """
    consumers = {t: [op for op in g.operators if t in op.inputs] for t in g.inputs}
    for index in g.inputs:
        t = g.tensors[index]
        if t.dtype is Dtype.INT8:
            continue
        quantize_first = bool(consumers[index]) and all(op.opcode == "QUANTIZE" for op in consumers[index])
        hint = ("convert with inference_input_type=tf.int8 (and inference_output_type=tf.int8), so that the "
                "model starts with int8 instead of a QUANTIZE from float" if quantize_first else
                _INT8_CONVERSION)
        raise ModelError(f"{where}: graph input {tensor_label(t)} is {t.dtype.name}; INT8 is required: {hint}")
    y = g.output
    producer = next((op for op in g.operators if g.outputs[0] in op.outputs), None)
    if y.dtype is Dtype.INT8 or (y.dtype is Dtype.FLOAT32 and producer is not None
                                 and producer.opcode == "DEQUANTIZE"):
        return
    # a float output not from DEQUANTIZE comes from a float operator: the model is not int8 inside
    hint = _INT8_CONVERSION if y.dtype is Dtype.FLOAT32 else "convert with inference_output_type=tf.int8"
    made_by = f" from operator {producer.index} ({producer.opcode})" if producer is not None else ""
    raise ModelError(f"{where}: graph output {tensor_label(y)} is {y.dtype.name}{made_by}; INT8, or FLOAT32 "
                     f"from a final DEQUANTIZE, is required: {hint}")


def validate(g: Graph, *, several_inputs: bool) -> None:
    """Raise ``ModelError`` for anything the compiler cannot take.

    ``several_inputs``: accept more than one graph input (the host build of the kernels); a run on the
    firmware takes exactly one (``graph_io_problem``).
    """
    where = f"model {g.path or g.name}"
    problem = graph_io_problem(g, several_inputs=several_inputs)
    if problem:
        raise ModelError(f"{where}: {problem}")
    if not g.operators:
        raise ModelError(f"{where}: the graph has no operators")
    _check_graph_dtypes(g, where)
    available = set(g.inputs) | {t.index for t in g.tensors if t.is_constant}
    for op in g.operators:
        missing = [t for t in op.inputs if t >= 0 and t not in available]
        if missing and op.opcode in _CHECKS:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) reads tensor {missing[0]} before any "
                             "operator writes it; operators must be in execution order")
        if any(t in available for t in op.outputs):
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) writes tensor {op.outputs} that is "
                             "already a graph input, a constant or another operator's output")
        available.update(op.outputs)
        if op.opcode not in _CHECKS:
            raise ModelError(f"{where}: operator {op.index} is {op.opcode}, which is not supported; "
                             f"supported operators: {list(SUPPORTED_OPS)}")
        if len(op.outputs) != 1 or not op.inputs:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) has {_count(len(op.inputs), 'input')} "
                             f"and {_count(len(op.outputs), 'output')}; expected at least 1 input and exactly "
                             "1 output")
        try:
            _CHECKS[op.opcode](g, op)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        except (KeyError, IndexError) as exc:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) is malformed: {exc}") from None
