"""UNIDIRECTIONAL_SEQUENCE_LSTM as TensorFlow's converter emits it for full-integer quantization, run as TFLite
Micro's integer LSTM (``bench_kernel_lstm``; firmware/kernels/portable/lstm.c).

int8 input, output and hidden state, int16 cell state with a power-of-two scale, int8 weights per tensor with
zero point 0, int32 biases. Per time step each gate (input, forget, cell, output) is an int8 product of the
input plus one of the hidden state, each rescaled to Q3.12 (scale 2^-12) and added with int16 saturation; a
sigmoid (or, for the cell gate, tanh) gives Q0.15 (scale 2^-15) through the int16 table of
``harness.ops.lut16``. Then cell = forget * cell + input * cell gate (each product rescaled to the cell scale,
the sum saturated, clipped when ``cell_clip`` > 0) and hidden = output gate * tanh(cell), rescaled to the
hidden state's int8 scale and zero point, which is also the step's output. The states are variable tensors
(inputs 18 and 19) that the firmware resets before each inference as TFLite Micro does (an int8 tensor to its
zero point, the cell state to 0).

Refused: CIFG (no input gate), peephole, projection and layer-norm weights, float and hybrid LSTMs, int16
activations, fused activations other than TANH and per-channel weights, each naming the operator and value.
"""

from __future__ import annotations

import math

import numpy as np
import tflite

from harness.model.graph import Dtype, Graph, Operator, Tensor
from harness.model.quant import quantize_multiplier
from harness.ops import lut16
from harness.ops.base import OpSpec
from harness.ops.checks import activation_tensor, count, fail, q_text, tensor_label, weights
from harness.ops.emit import Emitter, c_int, c_list, requant

GATES = ("input", "forget", "cell", "output")
INPUT, HIDDEN, CELL = 0, 18, 19
INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
# optional inputs this compiler does not implement: they must be omitted (-1)
ABSENT = {9: "cell_to_input (peephole)", 10: "cell_to_forget (peephole)", 11: "cell_to_output (peephole)",
          16: "projection weights", 17: "projection bias", 20: "input layer norm", 21: "forget layer norm",
          22: "cell layer norm", 23: "output layer norm"}
ACT_TANH = 4
GATE_SCALE = 2.0 ** -12     # gate pre-activations: Q3.12
SQUASHED_SCALE = 2.0 ** -15  # gate activations and tanh(cell): Q0.15
# the cell state's power of two for which lut16's kernels can take the tanh rescale (see _tanh_params)
CELL_POWER_RANGE = (-43, 2)


def _geometry(g: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor, Tensor, int, int, int, int]:
    """(input, output, hidden, cell, batches, steps, in_depth, units), after the checks."""
    if len(op.inputs) != 24:
        raise fail(op, f"{count(len(op.inputs), 'input')}; expected 24 (TFLite's LSTM layout)")
    x = activation_tensor(g, op, op.inputs[INPUT], "input")
    y = activation_tensor(g, op, op.outputs[0], "output")
    if len(x.shape) != 3:
        raise fail(op, f"input {tensor_label(x)} has shape {list(x.shape)}; expected rank 3")
    time_major = bool(op.option("time_major"))
    steps, batches, in_depth = x.shape if time_major else (x.shape[1], x.shape[0], x.shape[2])
    if op.inputs[INPUT_WEIGHTS[0]] < 0:
        raise fail(op, f"input gate weights (input {INPUT_WEIGHTS[0]}) are omitted: a CIFG LSTM (coupled input "
                       "and forget gates) is not supported; all four gates need weights")
    units = weights(g, op, op.inputs[INPUT_WEIGHTS[0]], 2, 0).shape[0]
    if min(steps, batches, in_depth, units) < 1:
        raise fail(op, f"input {list(x.shape)} with {units} units has an empty dimension; expected each >= 1")
    for index, what in ABSENT.items():
        if op.inputs[index] >= 0:
            raise fail(op, f"input {index} ({what}) is {tensor_label(g.tensors[op.inputs[index]])}; LSTMs with "
                           "peephole, projection or layer-norm weights are not supported (only omitted, -1)")
    for gate, w_in, w_rec, b in zip(GATES, INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES):
        for index, cols, role in ((w_in, in_depth, "input"), (w_rec, units, "recurrent")):
            if op.inputs[index] < 0:
                raise fail(op, f"{gate} gate {role} weights (input {index}) are omitted: a CIFG LSTM is not "
                               "supported")
            w = weights(g, op, op.inputs[index], 2, 0)
            assert w.quant is not None  # checked by weights()
            if w.shape != (units, cols):
                raise fail(op, f"{gate} gate {role} weights {tensor_label(w)} have shape {list(w.shape)}; "
                               f"expected {[units, cols]}")
            if w.quant.per_channel or w.quant.zero_point[0] != 0:
                raise fail(op, f"{gate} gate {role} weights {tensor_label(w)} have {count(len(w.quant.scale), 'scale')}"
                               f" and zero point {w.quant.zero_point[0]}; TFLite Micro's LSTM takes one scale and "
                               "zero point 0")
        t = g.tensors[op.inputs[b]] if op.inputs[b] >= 0 else None
        if t is None or not t.is_constant or t.dtype is not Dtype.INT32 or t.elements != units:
            got = "omitted" if t is None else f"{tensor_label(t)}, {t.dtype.name} {list(t.shape)}"
            raise fail(op, f"{gate} gate bias (input {b}) must be a constant INT32 tensor of {units} elements; "
                           f"got {got}")
    h = _state(g, op, HIDDEN, "hidden state", Dtype.INT8, (batches, units))
    c = _state(g, op, CELL, "cell state", Dtype.INT16, (batches, units))
    expected = (steps, batches, units) if time_major else (batches, steps, units)
    if y.shape != expected:
        raise fail(op, f"output shape {list(y.shape)}; expected {list(expected)}")
    assert h.quant is not None and y.quant is not None  # checked by _state() and activation_tensor()
    if (h.quant.scale[0], h.quant.zero_point[0]) != (y.quant.scale[0], y.quant.zero_point[0]):
        raise fail(op, f"output ({q_text(y)}) and hidden state ({q_text(h)}) are quantized differently; TFLite "
                       "Micro copies the hidden state to the output, so they must match")
    return x, y, h, c, batches, steps, in_depth, units


def _state(g: Graph, op: Operator, index: int, role: str, dtype: Dtype, shape: tuple[int, int]) -> Tensor:
    t = g.tensors[op.inputs[index]] if op.inputs[index] >= 0 else None
    if t is None or not t.is_variable or t.dtype is not dtype or t.shape != shape:
        got = "omitted" if t is None else (f"{tensor_label(t)}, {t.dtype.name} {list(t.shape)}"
                                           f"{'' if t.is_variable else ', not a variable tensor'}")
        raise fail(op, f"{role} (input {index}) must be a variable {dtype.name} tensor of shape {list(shape)}; "
                       f"got {got}")
    if t.quant is None or t.quant.per_channel or not t.quant.scale[0] > 0:
        raise fail(op, f"{role} {tensor_label(t)} has quantization {q_text(t)}; expected one scale > 0")
    if dtype is Dtype.INT8 and not -128 <= t.quant.zero_point[0] <= 127:
        raise fail(op, f"{role} {tensor_label(t)} has zero point {t.quant.zero_point[0]}; expected -128..127")
    if dtype is Dtype.INT16:
        power = cell_power(t.quant.scale[0])
        if t.quant.zero_point[0] != 0 or power is None or not CELL_POWER_RANGE[0] <= power <= CELL_POWER_RANGE[1]:
            raise fail(op, f"{role} {tensor_label(t)} has {q_text(t)}; TFLite Micro's integer LSTM needs zero point "
                           f"0 and a power-of-two scale 2^k, k in {list(CELL_POWER_RANGE)}")
    return t


def cell_power(scale: float) -> int | None:
    """k with ``scale`` = 2^k (to 1e-3 in the exponent, as TFLite's CheckedLog2), None for another scale."""
    log2 = math.log2(float(np.float32(scale)))
    k = round(log2)
    return k if abs(log2 - k) < 1e-3 else None


def _tanh_params(power: int) -> tuple[int, int]:
    """(multiplier, left shift) of bench_tanh16 for a cell state of scale 2^power: its Q3.12 rescale.
    A power above -15 (a left shift) is multiplier 0; below, multiplier 3 and a rounding right shift."""
    shift = 15 + power - 3
    return (3, -shift) if shift < 0 else (0, shift)


def check(g: Graph, op: Operator) -> None:
    _geometry(g, op)
    act = op.option("activation")
    if act != ACT_TANH:
        raise fail(op, f"fused activation {act} is not supported; TANH ({ACT_TANH}), as Keras LSTMs have it, only")
    if op.option("diagonal_recurrent_tensors"):
        raise fail(op, "diagonal_recurrent_tensors is true; only full recurrent weight matrices are supported")
    if not op.option("cell_clip") >= 0:
        raise fail(op, f"cell_clip is {op.option('cell_clip')}; expected >= 0 (0: no clipping)")
    lut16.sigmoid_table()  # a ModelError here if the interpreter's table cannot be measured


def _gate_multipliers(input_scale: float, w: list[Tensor], field: str) -> tuple[list[int], list[int]]:
    """Per gate, (input scale x weight scale) / 2^-12: the product in float32, the ratio in double (TFLM)."""
    pairs = []
    for gate, t in zip(GATES, w):
        assert t.quant is not None  # validated
        product = float(np.float32(input_scale) * np.float32(t.quant.scale[0]))
        pairs.append(requant(f"{field}_multiplier[{gate}],{field}_shift[{gate}]",
                             quantize_multiplier(product / GATE_SCALE)))
    return [m for m, _ in pairs], [s for _, s in pairs]


def emit(e: Emitter, op: Operator, p: str) -> int:
    x, y, h, c, batches, steps, in_depth, units = _geometry(e.g, op)
    assert x.quant and h.quant and c.quant  # validated
    w_in = [e.g.tensors[op.inputs[i]] for i in INPUT_WEIGHTS]
    w_rec = [e.g.tensors[op.inputs[i]] for i in RECURRENT_WEIGHTS]
    in_m, in_s = _gate_multipliers(x.quant.scale[0], w_in, "in")
    rec_m, rec_s = _gate_multipliers(h.quant.scale[0], w_rec, "rec")
    cell_scale = float(c.quant.scale[0])
    power = cell_power(cell_scale)
    assert power is not None  # validated
    # the inter-gate products: scales multiplied and divided in double (TFLM's CreateInterGateMulParams)
    forget = requant("forget", quantize_multiplier(SQUASHED_SCALE * cell_scale / cell_scale))
    inp = requant("input", quantize_multiplier(SQUASHED_SCALE * SQUASHED_SCALE / cell_scale))
    hidden = requant("hidden", quantize_multiplier(SQUASHED_SCALE * SQUASHED_SCALE / float(h.quant.scale[0])))
    clip = float(np.float32(op.option("cell_clip")))
    # TFLM: the clip over the cell scale in double, clamped to int16 and truncated toward zero
    cell_clip = int(min(max(clip / cell_scale, -32768.0), 32767.0)) if clip > 0 else 0
    tanh_m, tanh_s = _tanh_params(power)
    values = np.concatenate([t.array().reshape(-1) for t in w_in + w_rec]).astype(np.int64)
    biases = np.concatenate([e.g.tensors[op.inputs[i]].array().reshape(-1) for i in BIASES]).astype(np.int64)
    fields = {
        "in_offset": e.off(x.index), "out_offset": e.off(y.index),
        "hidden_offset": e.off(h.index), "cell_offset": e.off(c.index),
        "weights": e.weights(f"{p}_weights", "int8_t", values),
        "bias": e.weights(f"{p}_bias", "int32_t", biases),
        "lut": e.table("bench_sigmoid16_lut", "uint16_t", list(lut16.sigmoid_table())),
        "batches": f"{batches}u", "steps": f"{steps}u", "in_depth": f"{in_depth}u", "units": f"{units}u",
        "time_major": "1u" if op.option("time_major") else "0u",
        "input_offset": c_int(-x.quant.zero_point[0]), "recurrent_offset": c_int(-h.quant.zero_point[0]),
        "hidden_zero_point": c_int(h.quant.zero_point[0]),
        "in_multiplier": c_list(in_m), "in_shift": c_list(in_s),
        "rec_multiplier": c_list(rec_m), "rec_shift": c_list(rec_s),
        "forget_multiplier": c_int(forget[0]), "forget_shift": c_int(forget[1]),
        "input_multiplier": c_int(inp[0]), "input_shift": c_int(inp[1]),
        "hidden_multiplier": c_int(hidden[0]), "hidden_shift": c_int(hidden[1]),
        "cell_clip": c_int(cell_clip, 0, 32767, "cell_clip"),
        "tanh_multiplier": c_int(tanh_m), "tanh_left_shift": c_int(tanh_s, 0, 31, "tanh_left_shift"),
    }
    e.struct("bench_lstm_params_t", f"{p}_params", fields)
    return batches * steps * 4 * units * (in_depth + units)


OPS = (
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", tflite.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, 250, check, emit,
           kernel="bench_kernel_lstm", params="lstm", sources=("lstm.c", "lut16.c"),
           options=("UnidirectionalSequenceLSTMOptions", (
               ("activation", "FusedActivationFunction", 0), ("cell_clip", "CellClip", 0.0),
               ("proj_clip", "ProjClip", 0.0), ("time_major", "TimeMajor", False),
               ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", False),
               ("diagonal_recurrent_tensors", "DiagonalRecurrentTensors", False)))),
)
