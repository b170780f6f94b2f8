"""Parse a ``.tflite`` flatbuffer into a ``Graph`` through the schema readers of
the ``tflite`` package, then validate it against what the compiler supports.

Every failure is a ``ModelError`` naming the file and what was wrong. The
generated readers index the buffer without bounds checks of their own, so any
exception they raise on a corrupt file is translated here, at the edge.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator, Quantization, Tensor
from harness.model.support import validate

_OPCODE_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
MAX_MODEL_BYTES = 64 * 1024 * 1024


# Per opcode: the schema options table and, per option, (key, schema field, default). The default is
# what an operator without an options table gets, and its type is the type of the value returned.
# ``harness.model.builder`` writes the same tables from this description.
OPTION_FIELDS: dict[str, tuple[str, tuple[tuple[str, str, Any], ...]]] = {
    "CONV_2D": ("Conv2DOptions", (
        ("padding", "Padding", 0), ("stride_w", "StrideW", 1), ("stride_h", "StrideH", 1),
        ("activation", "FusedActivationFunction", 0), ("dilation_w", "DilationWFactor", 1),
        ("dilation_h", "DilationHFactor", 1))),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", (
        ("padding", "Padding", 0), ("stride_w", "StrideW", 1), ("stride_h", "StrideH", 1),
        ("depth_multiplier", "DepthMultiplier", 1), ("activation", "FusedActivationFunction", 0),
        ("dilation_w", "DilationWFactor", 1), ("dilation_h", "DilationHFactor", 1))),
    "FULLY_CONNECTED": ("FullyConnectedOptions", (
        ("activation", "FusedActivationFunction", 0), ("weights_format", "WeightsFormat", 0),
        ("keep_num_dims", "KeepNumDims", False))),
    "SOFTMAX": ("SoftmaxOptions", (("beta", "Beta", 1.0),)),
    **{pool: ("Pool2DOptions", (
        ("padding", "Padding", 0), ("stride_w", "StrideW", 1), ("stride_h", "StrideH", 1),
        ("filter_w", "FilterWidth", 1), ("filter_h", "FilterHeight", 1),
        ("activation", "FusedActivationFunction", 0))) for pool in ("AVERAGE_POOL_2D", "MAX_POOL_2D")},
    "ADD": ("AddOptions", (("activation", "FusedActivationFunction", 0),)),
    "MUL": ("MulOptions", (("activation", "FusedActivationFunction", 0),)),
    "MEAN": ("ReducerOptions", (("keep_dims", "KeepDims", False),)),
    "CONCATENATION": ("ConcatenationOptions", (
        ("axis", "Axis", 0), ("activation", "FusedActivationFunction", 0))),
}


def _options(op: Any, opcode: str) -> tuple[tuple[str, Any], ...]:
    """The builtin options the compiler reads, as plain values; the defaults when the table is absent."""
    if opcode not in OPTION_FIELDS:
        return ()
    table_name, fields = OPTION_FIELDS[opcode]
    table = op.BuiltinOptions()
    if table is None:
        return tuple((key, default) for key, _, default in fields)
    if op.BuiltinOptionsType() != getattr(tflite.BuiltinOptions, table_name):
        raise ModelError(f"{opcode} options table has union type {op.BuiltinOptionsType()}; "
                         f"expected {table_name} ({getattr(tflite.BuiltinOptions, table_name)})")
    o = getattr(tflite, table_name)()
    o.Init(table.Bytes, table.Pos)
    return tuple((key, type(default)(getattr(o, field)())) for key, field, default in fields)


def _quantization(t: Any) -> Quantization | None:
    q = t.Quantization()
    if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
        return None
    scale = tuple(float(s) for s in q.ScaleAsNumpy().astype(np.float32))
    zero_point = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scale)
    return Quantization(scale=scale, zero_point=zero_point, axis=int(q.QuantizedDimension()))


def _buffer(model: Any, buf: bytes, index: int) -> bytes | None:
    if index <= 0 or index >= model.BuffersLength():
        return None
    b = model.Buffers(index)
    offset, size = int(b.Offset()), int(b.Size())
    if offset > 1:  # data stored after the flatbuffer (models over 2 GB)
        if offset + size > len(buf):
            raise ModelError(f"buffer {index} lies past the end of the file ({offset}+{size} > {len(buf)})")
        return bytes(buf[offset:offset + size])
    if b.DataLength() == 0:
        return None
    return bytes(b.DataAsNumpy().tobytes())


def _tensor(model: Any, sg: Any, buf: bytes, i: int) -> Tensor:
    t = sg.Tensors(i)
    try:
        dtype = Dtype(int(t.Type()))
    except ValueError:
        raise ModelError(f"tensor {i}: unknown type number {t.Type()}") from None
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    if not t.ShapeSignatureIsNone() and any(int(d) < 0 for d in t.ShapeSignatureAsNumpy()[1:]):
        raise ModelError(f"tensor {i}: dynamic shape {list(t.ShapeSignatureAsNumpy())}; "
                         "only static shapes are supported (a dynamic batch dimension is taken as 1)")
    if any(d < 0 for d in shape):
        raise ModelError(f"tensor {i}: dynamic shape {list(shape)}; only static shapes are supported")
    name = (t.Name() or b"").decode("utf-8", errors="replace")
    tensor = Tensor(index=i, name=name, shape=shape, dtype=dtype, quant=_quantization(t),
                    data=_buffer(model, buf, int(t.Buffer())))
    if tensor.data is not None and len(tensor.data) != tensor.nbytes:
        raise ModelError(f"tensor {i} ({name!r}): buffer holds {len(tensor.data)} bytes, its shape "
                         f"{list(shape)} of {dtype.name} needs {tensor.nbytes}")
    return tensor


def parse_model(buf: bytes, name: str, path: str = "") -> Graph:
    """Parse and validate a model from its bytes; raises ``ModelError``."""
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
    validate(graph)
    return graph


def _parse(buf: bytes, name: str, path: str) -> Graph:
    model = tflite.Model.GetRootAs(buf, 0)
    if model.SubgraphsLength() != 1:
        raise ModelError(f"{model.SubgraphsLength()} subgraphs; exactly 1 is supported")
    sg = model.Subgraphs(0)
    tensors = tuple(_tensor(model, sg, buf, i) for i in range(sg.TensorsLength()))
    operators = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code_index = int(op.OpcodeIndex())
        if not 0 <= code_index < model.OperatorCodesLength():
            raise ModelError(f"operator {i}: opcode index {code_index} out of range")
        oc = model.OperatorCodes(code_index)
        code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
        opcode = _OPCODE_NAMES.get(code, f"BUILTIN_{code}")
        if opcode == "CUSTOM":
            opcode = "CUSTOM:" + (oc.CustomCode() or b"?").decode("utf-8", errors="replace")
        inputs = tuple(int(x) for x in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(x) for x in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        for t in inputs + outputs:
            if not -1 <= t < len(tensors):
                raise ModelError(f"operator {i} ({opcode}): tensor index {t} out of range")
        operators.append(Operator(i, opcode, inputs, outputs, _options(op, opcode)))
    graph_inputs = tuple(int(x) for x in sg.InputsAsNumpy()) if sg.InputsLength() else ()
    graph_outputs = tuple(int(x) for x in sg.OutputsAsNumpy()) if sg.OutputsLength() else ()
    for t in graph_inputs + graph_outputs:
        if not 0 <= t < len(tensors):
            raise ModelError(f"graph input/output tensor index {t} out of range")
    return Graph(name=name, path=path, sha256=hashlib.sha256(buf).hexdigest(), tensors=tensors,
                 operators=tuple(operators), inputs=graph_inputs, outputs=graph_outputs)


def load_model(path: str | Path) -> Graph:
    """Read, parse and validate the ``.tflite`` at ``path``; raises ``ModelError``."""
    p = Path(path)
    try:
        buf = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"model {p}: cannot read it: {exc}") from exc
    return parse_model(buf, name=p.stem, path=str(p))
