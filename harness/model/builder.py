"""Write small ``.tflite`` flatbuffers without TensorFlow, for tests.

``build_model`` turns a list of tensors and operators into model bytes through the
schema builders of the ``tflite`` package, so a test can make a single-operator
model of any shape and quantization and feed it to the loader or an interpreter.
Options are given under the keys ``harness.model.loader`` reads them back with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
import tflite

from harness.model.graph import Dtype
from harness.model.loader import option_fields

# Opcodes whose options table the loader does not read; RESHAPE takes ``new_shape``, the others nothing.
_WRITE_ONLY: dict[str, tuple[str, tuple[tuple[str, str, Any], ...]]] = {
    "RESHAPE": ("ReshapeOptions", (("new_shape", "NewShape", None),)),
    "PAD": ("PadOptions", ()),
    "QUANTIZE": ("QuantizeOptions", ()),
    "DEQUANTIZE": ("DequantizeOptions", ()),
}


def _options_of(opcode: str) -> tuple[str, tuple[tuple[str, str, Any], ...]] | None:
    """The options table the builder writes for ``opcode``: the loader's, or a write-only one."""
    return _WRITE_ONLY.get(opcode) or option_fields().get(opcode)


_BUILTIN_CODES: dict[str, int] = {k: v for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_BUFFER_ALIGNMENT = 16


@dataclass(frozen=True)
class TensorDef:
    name: str
    shape: tuple[int, ...]
    dtype: Dtype
    scale: tuple[float, ...] | None = None
    zero_point: tuple[int, ...] | None = None     # zeros when there is a scale but no zero point
    axis: int = 0                                 # quantized_dimension
    data: bytes | None = None                     # constant contents; None = activation tensor (buffer 0)
    shape_signature: tuple[int, ...] | None = None
    is_variable: bool = False                     # state kept across invocations (SVDF's activation_state)


@dataclass(frozen=True)
class OpDef:
    opcode: str                                   # BuiltinOperator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]                       # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)   # keys as harness.model.loader reads them


def _vector(b: flatbuffers.Builder, values: Sequence[Any], dtype: str) -> int:
    return int(b.CreateNumpyVector(np.asarray(values, dtype=dtype).reshape(-1)))


def _data_vector(b: flatbuffers.Builder, data: bytes) -> int:
    """A byte vector aligned for any element type, as the TFLite converter writes them."""
    b.StartVector(1, len(data), _BUFFER_ALIGNMENT)
    b.head -= len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return int(b.EndVector())


def _builtin_code(opcode: str) -> int:
    if opcode.startswith("CUSTOM:"):  # "CUSTOM:<custom code>", as the loader names a custom operator
        return int(tflite.BuiltinOperator.CUSTOM)
    if opcode not in _BUILTIN_CODES:
        raise ValueError(f"unknown opcode {opcode!r}; expected a BuiltinOperator name")
    return _BUILTIN_CODES[opcode]


def _check_options(op: OpDef) -> None:
    keys = {key for key, _, _ in (_options_of(op.opcode) or ("", ()))[1]}
    for key in op.options:
        if key not in keys:
            raise ValueError(f"{op.opcode} takes no option {key!r}; it takes {sorted(keys) or 'none'}")


def _options(b: flatbuffers.Builder, op: OpDef) -> tuple[int, int]:
    """The union type and offset of the options table of ``op``; (0, 0) for an opcode without one."""
    found = _options_of(op.opcode)
    if found is None:
        return 0, 0
    table, fields = found
    values = {key: op.options.get(key, default) for key, _, default in fields}
    if values.get("new_shape") is not None:
        values["new_shape"] = _vector(b, values["new_shape"], "<i4")
    getattr(tflite, f"{table}Start")(b)
    for key, name, _ in fields:
        if values[key] is not None:
            getattr(tflite, f"{table}Add{name}")(b, values[key])
    return getattr(tflite.BuiltinOptions, table), int(getattr(tflite, f"{table}End")(b))


def _quantization(b: flatbuffers.Builder, t: TensorDef) -> int | None:
    if t.scale is None:
        return None
    zero_point = t.zero_point if t.zero_point is not None else (0,) * len(t.scale)
    scale, zp = _vector(b, t.scale, "<f4"), _vector(b, zero_point, "<i8")
    tflite.QuantizationParametersStart(b)
    tflite.QuantizationParametersAddScale(b, scale)
    tflite.QuantizationParametersAddZeroPoint(b, zp)
    tflite.QuantizationParametersAddQuantizedDimension(b, t.axis)
    return int(tflite.QuantizationParametersEnd(b))


def _tensor(b: flatbuffers.Builder, t: TensorDef, buffer: int) -> int:
    name, shape, quant = b.CreateString(t.name), _vector(b, t.shape, "<i4"), _quantization(b, t)
    signature = _vector(b, t.shape_signature, "<i4") if t.shape_signature is not None else None
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape)
    tflite.TensorAddType(b, t.dtype.value)
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name)
    if quant is not None:
        tflite.TensorAddQuantization(b, quant)
    if signature is not None:
        tflite.TensorAddShapeSignature(b, signature)
    if t.is_variable:
        tflite.TensorAddIsVariable(b, True)
    return int(tflite.TensorEnd(b))


def _operator(b: flatbuffers.Builder, op: OpDef, opcode_index: int) -> int:
    inputs, outputs = _vector(b, op.inputs, "<i4"), _vector(b, op.outputs, "<i4")
    options_type, options = _options(b, op)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, opcode_index)
    tflite.OperatorAddInputs(b, inputs)
    tflite.OperatorAddOutputs(b, outputs)
    if options_type:
        tflite.OperatorAddBuiltinOptionsType(b, options_type)
        tflite.OperatorAddBuiltinOptions(b, options)
    return int(tflite.OperatorEnd(b))


def _operator_code(b: flatbuffers.Builder, opcode: str) -> int:
    code = _builtin_code(opcode)
    custom = b.CreateString(opcode.split(":", 1)[1]) if opcode.startswith("CUSTOM:") else None
    tflite.OperatorCodeStart(b)
    if custom is not None:
        tflite.OperatorCodeAddCustomCode(b, custom)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
    tflite.OperatorCodeAddBuiltinCode(b, code)
    tflite.OperatorCodeAddVersion(b, 1)
    return int(tflite.OperatorCodeEnd(b))


def _buffer(b: flatbuffers.Builder, data: bytes | None) -> int:
    vector = _data_vector(b, data) if data else None
    tflite.BufferStart(b)
    if vector is not None:
        tflite.BufferAddData(b, vector)
    return int(tflite.BufferEnd(b))


def _table_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return int(b.EndVector())


def _subgraph(b: flatbuffers.Builder, tensors: Sequence[TensorDef], ops: Sequence[OpDef],
              inputs: Sequence[int], outputs: Sequence[int], opcodes: Sequence[str]) -> int:
    buffers = _buffer_indices(tensors)
    tensor_vector = _table_vector(b, [_tensor(b, t, i) for t, i in zip(tensors, buffers)])
    op_vector = _table_vector(b, [_operator(b, op, opcodes.index(op.opcode)) for op in ops])
    input_vector, output_vector = _vector(b, inputs, "<i4"), _vector(b, outputs, "<i4")
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tensor_vector)
    tflite.SubGraphAddInputs(b, input_vector)
    tflite.SubGraphAddOutputs(b, output_vector)
    tflite.SubGraphAddOperators(b, op_vector)
    return int(tflite.SubGraphEnd(b))


def _buffer_indices(tensors: Sequence[TensorDef]) -> list[int]:
    """Buffer 0 is the empty sentinel; constant tensors get buffers 1, 2, ... in tensor order."""
    indices, next_index = [], 1
    for t in tensors:
        indices.append(next_index if t.data is not None else 0)
        next_index += t.data is not None
    return indices


def build_model(tensors: Sequence[TensorDef], ops: Sequence[OpDef], inputs: Sequence[int],
                outputs: Sequence[int], *, subgraphs: int = 1, version: int = 3) -> bytes:
    """The ``.tflite`` bytes of one subgraph (repeated ``subgraphs`` times) of ``tensors`` and ``ops``."""
    for op in ops:
        _builtin_code(op.opcode)
        _check_options(op)
    opcodes = list(dict.fromkeys(op.opcode for op in ops))
    b = flatbuffers.Builder(1024)
    # Constant data first: the builder writes back to front, so it lands at the end of the file.
    buffer_vector = _table_vector(b, [_buffer(b, None)] + [_buffer(b, t.data) for t in tensors
                                                           if t.data is not None])
    subgraph = _subgraph(b, tensors, ops, inputs, outputs, opcodes)
    subgraph_vector = _table_vector(b, [subgraph] * subgraphs)
    code_vector = _table_vector(b, [_operator_code(b, name) for name in opcodes])
    description = b.CreateString("harness.model.builder")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, version)
    tflite.ModelAddOperatorCodes(b, code_vector)
    tflite.ModelAddSubgraphs(b, subgraph_vector)
    tflite.ModelAddDescription(b, description)
    tflite.ModelAddBuffers(b, buffer_vector)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())
