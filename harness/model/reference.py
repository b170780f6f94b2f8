"""The host reference: the tflite-micro Python interpreter (reference kernels).

``reference_output`` keeps what the interpreter answered in the build cache (``reference_cache_dir``),
keyed by the model file's sha256, the input's sha256 and tflite-micro's version: a run of the same model on
the same input does not start the interpreter again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import itertools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Tensor
from harness.paths import cache_dir

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
    """The first graph input of ``default_inputs``."""
    return default_inputs(g, seed)[0]


def default_inputs(g: Graph, seed: int = 0) -> list[bytes]:
    """Deterministic inputs, one per graph input in the graph's order, each in its tensor's own type, drawn
    one after the other from ``numpy.random.default_rng(seed)`` (so the first is the same for a model of one
    input and of several).

    INT8: uniform over [-128, 127]; UINT8: over [0, 255]; FLOAT32 (read by a QUANTIZE to int8, as validated):
    float32 uniform over the real range the QUANTIZE's int8 output covers, scale * (-128 - zero_point) ..
    scale * (127 - zero_point), widened by 4 steps each side so that some values clamp; little-endian bytes.
    """
    rng = np.random.default_rng(seed)
    return [_default_for(g, g.tensors[index], rng) for index in g.inputs]


def _default_for(g: Graph, x: Tensor, rng: np.random.Generator) -> bytes:
    if x.dtype is Dtype.UINT8:
        return rng.integers(0, 256, size=x.shape, dtype=np.uint8).tobytes()
    if x.dtype is Dtype.FLOAT32:
        quantize = next(op for op in g.operators if x.index in op.inputs)
        q = g.tensors[quantize.outputs[0]].quant
        assert q is not None  # validated
        scale, zero_point = float(q.scale[0]), q.zero_point[0]
        low, high = scale * (-128 - zero_point - 4), scale * (127 - zero_point + 4)
        return rng.uniform(low, high, size=x.shape).astype("<f4").tobytes()
    return rng.integers(-128, 128, size=x.shape, dtype=np.int8).tobytes()


def _runtime() -> ModuleType:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ModelError(f"the host reference needs tflite-micro (pip install --pre tflite-micro): {exc}") from exc
    module: ModuleType = runtime
    return module


def _as_list(inputs: bytes | Sequence[bytes]) -> list[bytes]:
    return [inputs] if isinstance(inputs, bytes | bytearray) else list(inputs)


def _invoke(runtime: ModuleType, model_path: str, g: Graph, inputs: Sequence[bytes], **settings: Any) -> Any:
    """An interpreter that has run one inference on ``inputs``, one per graph input."""
    if len(inputs) != len(g.inputs):
        raise ModelError(f"model {model_path}: {len(inputs)} inputs given; it takes {len(g.inputs)}")
    interpreter = runtime.Interpreter.from_file(model_path, arena_size=interpreter_arena_bytes(g), **settings)
    for k, (index, data) in enumerate(zip(g.inputs, inputs)):
        t = g.tensors[index]
        interpreter.set_input(np.frombuffer(data, dtype=t.dtype.numpy).reshape(t.shape), k)
    interpreter.invoke()
    return interpreter


def _raw_bytes(values: Any, expected_dtype: np.dtype[Any], what: str) -> bytes:
    """The bytes of ``values`` as the model stores them; its dtype must be the graph's."""
    array = np.ascontiguousarray(values)
    if array.dtype != expected_dtype:
        raise ModelError(f"{what}: the interpreter returned {array.dtype}, the model {expected_dtype}")
    return array.tobytes()


_CACHE_MAGIC = b"hilbench-reference-output 1\n"


def reference_cache_dir() -> Path:
    """Where ``reference_output`` keeps the interpreter's answers: one folder per model sha256."""
    return cache_dir() / "reference"


def _tflm_version() -> str:
    try:
        return importlib.metadata.version("tflite-micro")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _cache_path(model_path: str, inputs: Sequence[bytes]) -> Path | None:
    """The cache entry for this model file and inputs, or None when the file cannot be read (the
    interpreter then reports it). One input is keyed by its sha256; several by the sha256 of each one's
    length (8 bytes little-endian) and bytes in turn."""
    try:
        model_sha256 = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    except OSError:
        return None
    key = inputs[0] if len(inputs) == 1 else b"".join(len(x).to_bytes(8, "little") + x for x in inputs)
    input_sha256 = hashlib.sha256(key).hexdigest()
    version = "".join(c if c.isalnum() or c in ".-_" else "_" for c in _tflm_version())
    return reference_cache_dir() / model_sha256 / f"{input_sha256}-tflm-{version}.bin"


def _read_cached(path: Path, expected_bytes: int) -> bytes | None:
    """The entry's output bytes; None when it is missing, or corrupt (wrong header, size or checksum)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(_CACHE_MAGIC) + 32
    payload = raw[head:]
    if (not raw.startswith(_CACHE_MAGIC) or len(payload) != expected_bytes
            or hashlib.sha256(payload).digest() != raw[len(_CACHE_MAGIC):head]):
        return None
    return payload


def _write_cached(path: Path, payload: bytes) -> None:
    """Write the entry atomically (a temporary file in the same folder, then a rename): a reader sees the
    old entry or the new one, never half of one. A cache that cannot be written is no error."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def reference_output(model_path: str, g: Graph, input_bytes: bytes | Sequence[bytes], *,
                     cache: bool = True) -> bytes:
    """The first graph output of ``reference_outputs``."""
    return reference_outputs(model_path, g, input_bytes, cache=cache)[0]


def reference_outputs(model_path: str, g: Graph, inputs: bytes | Sequence[bytes], *,
                      cache: bool = True) -> list[bytes]:
    """Each graph output's bytes from the host interpreter for ``inputs`` (one per graph input; bytes for
    a model of one), each in its tensor's own type (int8, or float32 for a model ending in DEQUANTIZE);
    raises ``ModelError``.

    With ``cache`` (the default), an answer kept in ``reference_cache_dir()`` for the same model file,
    inputs and tflite-micro version is returned without running the interpreter; a corrupt entry is
    ignored and rewritten.
    """
    inputs = _as_list(inputs)
    sizes = [g.tensors[t].nbytes for t in g.outputs]
    path = _cache_path(model_path, inputs) if cache else None
    if path is not None:
        cached = _read_cached(path, sum(sizes))
        if cached is not None:
            starts = np.cumsum([0, *sizes])
            return [cached[a:b] for a, b in itertools.pairwise(starts)]
    out = _interpret(model_path, g, inputs[0] if len(inputs) == 1 else inputs)
    if path is not None:
        _write_cached(path, b"".join(out))
    return out


def _interpret(model_path: str, g: Graph, inputs: bytes | Sequence[bytes]) -> list[bytes]:
    """Every output's bytes for ``inputs`` (bytes: the one input of a model of one)."""
    runtime = _runtime()
    try:
        interpreter = _invoke(runtime, model_path, g, _as_list(inputs))
        outputs = [interpreter.get_output(k) for k in range(len(g.outputs))]
    except ModelError:
        raise
    except Exception as exc:  # the interpreter raises RuntimeError and others
        raise ModelError(f"model {model_path}: the tflite-micro host interpreter failed: {exc}") from exc
    return [_raw_bytes(y, g.tensors[t].dtype.numpy, f"model {model_path}: output tensor {t}")
            for t, y in zip(g.outputs, outputs)]


def reference_layer_outputs(model_path: str, g: Graph, input_bytes: bytes | Sequence[bytes]) -> list[bytes]:
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
        interpreter = _invoke(runtime, model_path, g, _as_list(input_bytes),
                              intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        tensors = [interpreter.GetTensor(op.outputs[0], 0)["tensor_data"] for op in g.operators]
    except Exception as exc:  # RuntimeError from the interpreter, KeyError if the dict changes shape
        raise ModelError(f"model {model_path}: the tflite-micro host interpreter failed to give the "
                         f"per-layer outputs: {exc}") from exc
    return [_raw_bytes(data, g.tensors[op.outputs[0]].dtype.numpy,
                       f"model {model_path}: layer {op.index} ({op.opcode}) output tensor {op.outputs[0]}")
            for op, data in zip(g.operators, tensors)]
