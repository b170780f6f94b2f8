"""The host reference: the tflite-micro Python interpreter (reference kernels)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from harness.errors import ModelError
from harness.model.graph import Graph

# Bookkeeping the interpreter keeps in its arena besides tensor data, generously: per tensor its structs,
# quantization and 16-byte alignment; per operator its node and op data; per quantization channel the
# per-channel zero points, multipliers and shifts; and a fixed part. Measured on the MLPerf Tiny models
# with every tensor preserved, the arena needs the activations plus 11-38 KB.
_ARENA_PER_TENSOR_BYTES = 1024
_ARENA_PER_OPERATOR_BYTES = 1024
_ARENA_PER_CHANNEL_BYTES = 16
_ARENA_FIXED_BYTES = 64 * 1024
_ARENA_ALIGNMENT = 16


def interpreter_arena_bytes(g: Graph) -> int:
    """Tensor arena, in bytes, for the tflite-micro interpreter of ``g``: enough when no tensor shares memory.

    Twice the sum of all tensor sizes (activations and constants) plus the bookkeeping above, and at
    least the interpreter's own default of 10 x the file size, which alone is too small for a model
    whose activations dwarf its weights (DESIGN §8b).
    """
    tensor_bytes = sum(t.nbytes for t in g.tensors)
    channels = sum(len(t.quant.scale) for t in g.tensors if t.quant is not None)
    estimate = (2 * tensor_bytes + _ARENA_PER_TENSOR_BYTES * len(g.tensors)
                + _ARENA_PER_OPERATOR_BYTES * len(g.operators) + _ARENA_PER_CHANNEL_BYTES * channels
                + _ARENA_FIXED_BYTES)
    size = max(estimate, 10 * g.file_bytes)
    return -(-size // _ARENA_ALIGNMENT) * _ARENA_ALIGNMENT


def default_input(g: Graph, seed: int = 0) -> bytes:
    """Deterministic int8 input: ``numpy.random.default_rng(seed)`` over [-128, 127]."""
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=g.input.shape, dtype=np.int8).tobytes()


def _runtime() -> ModuleType:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ModelError(f"the host reference needs tflite-micro (pip install --pre tflite-micro): {exc}") from exc
    module: ModuleType = runtime
    return module


def _invoke(runtime: ModuleType, model_path: str, g: Graph, input_bytes: bytes, **settings: Any) -> Any:
    """An interpreter that has run one inference on ``input_bytes``."""
    interpreter = runtime.Interpreter.from_file(model_path, arena_size=interpreter_arena_bytes(g), **settings)
    x = np.frombuffer(input_bytes, dtype=np.int8).reshape(g.input.shape)
    interpreter.set_input(x, 0)
    interpreter.invoke()
    return interpreter


def _raw_bytes(values: Any, expected_dtype: np.dtype[Any], what: str) -> bytes:
    """The bytes of ``values`` as the model stores them; its dtype must be the graph's."""
    array = np.ascontiguousarray(values)
    if array.dtype != expected_dtype:
        raise ModelError(f"{what}: the interpreter returned {array.dtype}, the model {expected_dtype}")
    return array.tobytes()


def reference_output(model_path: str, g: Graph, input_bytes: bytes) -> bytes:
    """Output bytes of the host interpreter for ``input_bytes``, in the output tensor's own type
    (int8, or float32 for a model ending in DEQUANTIZE); raises ``ModelError``."""
    runtime = _runtime()
    try:
        interpreter = _invoke(runtime, model_path, g, input_bytes)
        output = interpreter.get_output(0)
    except Exception as exc:  # the interpreter raises RuntimeError and others
        raise ModelError(f"model {model_path}: the tflite-micro host interpreter failed: {exc}") from exc
    return _raw_bytes(output, g.output.dtype.numpy, f"model {model_path}: output tensor {g.output.index}")


def reference_layer_outputs(model_path: str, g: Graph, input_bytes: bytes) -> list[bytes]:
    """Each operator's output tensor bytes from the host interpreter, in execution order.

    One inference with ``kPreserveAllTensors``, so every intermediate tensor survives it;
    entry ``i`` is the first output of ``g.operators[i]``, as firmware layer ``i`` writes it.
    Raises ``ModelError``.
    """
    runtime = _runtime()
    # GetTensor on an index past the subgraph crashes the process: check against the parsed graph first
    for op in g.operators:
        if not op.outputs or not 0 <= op.outputs[0] < len(g.tensors):
            raise ModelError(f"model {model_path}: operator {op.index} ({op.opcode}) has no output tensor "
                             f"among the {len(g.tensors)} tensors")
    try:
        interpreter = _invoke(runtime, model_path, g, input_bytes,
                              intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        tensors = [interpreter.GetTensor(op.outputs[0], 0)["tensor_data"] for op in g.operators]
    except Exception as exc:  # RuntimeError from the interpreter, KeyError if the dict changes shape
        raise ModelError(f"model {model_path}: the tflite-micro host interpreter failed to give the "
                         f"per-layer outputs: {exc}") from exc
    return [_raw_bytes(data, g.tensors[op.outputs[0]].dtype.numpy,
                       f"model {model_path}: layer {op.index} ({op.opcode}) output tensor {op.outputs[0]}")
            for op, data in zip(g.operators, tensors)]
