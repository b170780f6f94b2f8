"""Parse a ``.tflite`` flatbuffer into a ``Graph`` through the schema readers of
the ``tflite`` package, then validate it against what the compiler supports.

Every failure is a ``ModelError`` naming the file and what was wrong. The
generated readers index the buffer without bounds checks of their own, so any
exception they raise on a corrupt file is translated here, at the edge.
"""

from __future__ import annotations

import hashlib
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator, Quantization, Tensor
from harness.model.support import join_problems, operator_problem, operator_problems, validate
from harness.ops.registry import operators

_OPCODE_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
# Every type of the schema, by number, so a type the loader does not read is still named (UINT64 = 12)
TFLITE_TYPE_NAMES = {v: k for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
MAX_MODEL_BYTES = 64 * 1024 * 1024
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


# Per opcode: the schema options table and, per option, (key, schema field, default), from each operator's
# OpSpec.options (harness.ops). The default is what an operator without an options table gets, and its type
# is the type of the value returned. ``harness.model.builder`` writes the same tables from this description.
# Computed on first use: the operator modules import harness.model, whose package imports this module.
@cache
def option_fields() -> dict[str, tuple[str, tuple[tuple[str, str, Any], ...]]]:
    return {name: d.options for name, d in operators().items() if d.options is not None}


def _options(op: Any, index: int, opcode: str) -> tuple[tuple[str, Any], ...]:
    """The builtin options the compiler reads, as plain values; the defaults when the table is absent."""
    if opcode not in option_fields():
        return ()
    table_name, fields = option_fields()[opcode]
    table = op.BuiltinOptions()
    if table is None:
        return tuple((key, default) for key, _, default in fields)
    if op.BuiltinOptionsType() != getattr(tflite.BuiltinOptions, table_name):
        raise ModelError(f"operator {index} ({opcode}): options table has union type {op.BuiltinOptionsType()}; "
                         f"expected {table_name} ({getattr(tflite.BuiltinOptions, table_name)})")
    o = getattr(tflite, table_name)()
    o.Init(table.Bytes, table.Pos)
    return tuple((key, type(default)(getattr(o, field)())) for key, field, default in fields)


def _quantization(t: Any, what: str) -> Quantization | None:
    """The scales and zero points of tensor ``what``, range-checked for any tensor: scales finite,
    zero points within int32 (TFLite holds them as int32), one zero point per scale.

    Whether a scale is > 0 and a zero point fits the tensor's type is checked by ``support`` on the
    tensors the compiler computes with.
    """
    q = t.Quantization()
    if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
        return None
    scale = tuple(float(s) for s in q.ScaleAsNumpy().astype(np.float32))
    zero_point = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scale)
    if len(zero_point) != len(scale):
        raise ModelError(f"{what}: {len(scale)} scales and {len(zero_point)} zero points; "
                         "expected one zero point per scale")
    for c, (s, z) in enumerate(zip(scale, zero_point)):
        if not math.isfinite(s):
            raise ModelError(f"{what}: scale {s} (channel {c}) is not a finite number; expected a scale > 0")
        if not INT32_MIN <= z <= INT32_MAX:
            raise ModelError(f"{what}: zero point {z} (channel {c}) is outside int32 ({INT32_MIN}.."
                             f"{INT32_MAX}), the range TFLite holds zero points in; an INT8 tensor's lies "
                             "in -128..127")
    return Quantization(scale=scale, zero_point=zero_point, axis=int(q.QuantizedDimension()))


def _buffer(model: Any, buf: bytes, index: int, what: str) -> bytes | None:
    if index <= 0 or index >= model.BuffersLength():
        return None
    b = model.Buffers(index)
    offset, size = int(b.Offset()), int(b.Size())
    if offset > 1:  # data stored after the flatbuffer (models over 2 GB)
        if offset + size > len(buf):
            raise ModelError(f"{what}: buffer {index} lies past the end of the file "
                             f"({offset}+{size} > {len(buf)} bytes)")
        return bytes(buf[offset:offset + size])
    if b.DataLength() == 0:
        return None
    return bytes(b.DataAsNumpy().tobytes())


def _tensor(model: Any, sg: Any, buf: bytes, i: int) -> Tensor:
    t = sg.Tensors(i)
    name = (t.Name() or b"").decode("utf-8", errors="replace")
    what = f"tensor {i} ({name!r})"
    dtype = _dtype(int(t.Type()), what)
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    signature = [int(d) for d in t.ShapeSignatureAsNumpy()] if not t.ShapeSignatureIsNone() else []
    if any(d < 0 for d in signature[1:]):
        raise ModelError(f"{what}: dynamic shape {signature}; only static shapes are supported "
                         "(a dynamic batch dimension is taken as 1)")
    if any(d < 0 for d in shape):
        raise ModelError(f"{what}: dynamic shape {list(shape)}; only static shapes are supported")
    tensor = Tensor(index=i, name=name, shape=shape, dtype=dtype, quant=_quantization(t, what),
                    data=_buffer(model, buf, int(t.Buffer()), what), is_variable=bool(t.IsVariable()))
    if tensor.data is not None and len(tensor.data) != tensor.nbytes:
        raise ModelError(f"{what}: buffer holds {len(tensor.data)} bytes, its shape "
                         f"{list(shape)} of {dtype.name} needs {tensor.nbytes}")
    return tensor


def _dtype(number: int, what: str) -> Dtype:
    """The tensor type of schema number ``number``; a type the loader does not read is named in the refusal."""
    try:
        return Dtype(number)
    except ValueError:
        pass
    known = ", ".join(d.name for d in Dtype)
    if number in TFLITE_TYPE_NAMES:
        raise ModelError(f"{what}: type {TFLITE_TYPE_NAMES[number]} (TFLite TensorType {number}) is not "
                         f"supported; the loader reads {known} (the compiler computes in INT8, with INT32 "
                         "biases)")
    raise ModelError(f"{what}: type number {number} is not a TFLite TensorType (the schema of the tflite "
                     f"package has 0..{max(TFLITE_TYPE_NAMES)}); the file is corrupt or from a newer TFLite")


def parse_model(buf: bytes, name: str, path: str = "", *, several_inputs: bool = True) -> Graph:
    """Parse and validate a model from its bytes; raises ``ModelError``.

    ``several_inputs`` (the default here, for the host build of the kernels that the operator tests use)
    accepts more than one graph input; pass False for a model that is to run on the firmware, which
    takes exactly one (``load_model`` does).
    """
    where = path or name
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(f"model {where}: not a TFLite flatbuffer (no 'TFL3' identifier at byte 4)")
    if len(buf) > MAX_MODEL_BYTES:
        raise ModelError(f"model {where}: {len(buf)} bytes; at most {MAX_MODEL_BYTES} are accepted")
    try:
        graph = _parse(buf, name, path)
    except ModelError as exc:
        raise ModelError(f"model {where}: {exc}") from None
    except Exception as exc:  # the generated readers raise anything on corrupt input
        raise ModelError(f"model {where}: malformed flatbuffer ({type(exc).__name__}: {exc})") from exc
    validate(graph, several_inputs=several_inputs)
    return graph


def _parse(buf: bytes, name: str, path: str) -> Graph:
    model = tflite.Model.GetRootAs(buf, 0)
    if model.SubgraphsLength() != 1:
        raise ModelError(f"{model.SubgraphsLength()} subgraphs; exactly 1 is supported (control flow and "
                         "several signatures are not)")
    sg = model.Subgraphs(0)
    # a tensor the loader cannot read (an unknown type, a dynamic shape) is named together with every other
    # such tensor and every unsupported operator, in one refusal (support.validate names the rest)
    parsed: list[Tensor | None] = []
    tensor_problems: list[str] = []
    for i in range(sg.TensorsLength()):
        try:
            parsed.append(_tensor(model, sg, buf, i))
        except ModelError as exc:
            parsed.append(None)
            tensor_problems.append(str(exc))
    operators = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code_index = int(op.OpcodeIndex())
        if not 0 <= code_index < model.OperatorCodesLength():
            raise ModelError(f"operator {i}: opcode index {code_index} out of range; the model has "
                             f"{model.OperatorCodesLength()} operator codes")
        oc = model.OperatorCodes(code_index)
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        opcode = _OPCODE_NAMES.get(code, f"BUILTIN_{code}")
        if opcode == "CUSTOM":
            opcode = "CUSTOM:" + (oc.CustomCode() or b"?").decode("utf-8", errors="replace")
        inputs = tuple(int(x) for x in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(x) for x in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        for t in inputs + outputs:
            if not -1 <= t < len(parsed):
                raise ModelError(f"operator {i} ({opcode}): tensor index {t} out of range; expected -1 "
                                 f"(omitted) or 0..{len(parsed) - 1}")
        if operator_problem(i, opcode):  # its options table is not read: the refusal names the operator
            operators.append(Operator(i, opcode, inputs, outputs))
            continue
        operators.append(Operator(i, opcode, inputs, outputs, _options(op, i, opcode)))
    if tensor_problems:
        raise ModelError(join_problems(tensor_problems + list(operator_problems(operators).values())))
    tensors = tuple(t for t in parsed if t is not None)
    graph_inputs = tuple(int(x) for x in sg.InputsAsNumpy()) if sg.InputsLength() else ()
    graph_outputs = tuple(int(x) for x in sg.OutputsAsNumpy()) if sg.OutputsLength() else ()
    for role, indices in (("input", graph_inputs), ("output", graph_outputs)):
        for t in indices:
            if not 0 <= t < len(tensors):
                raise ModelError(f"graph {role} tensor index {t} out of range; expected 0..{len(tensors) - 1}")
    return Graph(name=name, path=path, sha256=hashlib.sha256(buf).hexdigest(), tensors=tensors,
                 operators=tuple(operators), inputs=graph_inputs, outputs=graph_outputs, file_bytes=len(buf))


def load_model(path: str | Path, *, several_inputs: bool = False) -> Graph:
    """Read, parse and validate the ``.tflite`` at ``path`` for a run; raises ``ModelError``.

    A run feeds one input buffer, so a model with several graph inputs is refused here, before the host
    interpreter or the firmware build, unless ``several_inputs`` (the host build of the kernels).
    """
    p = Path(path)
    try:
        buf = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"model {p}: cannot read it: {exc}") from exc
    return parse_model(buf, name=p.stem, path=str(p), several_inputs=several_inputs)
