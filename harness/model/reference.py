"""The host reference: the tflite-micro Python interpreter (reference kernels)."""

from __future__ import annotations

import numpy as np

from harness.errors import ModelError
from harness.model.graph import Graph


def default_input(g: Graph, seed: int = 0) -> bytes:
    """Deterministic int8 input: ``numpy.random.default_rng(seed)`` over [-128, 127]."""
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=g.input.shape, dtype=np.int8).tobytes()


def reference_output(model_path: str, g: Graph, input_bytes: bytes) -> bytes:
    """Output bytes of the host interpreter for ``input_bytes``; raises ``ModelError``."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ModelError(f"the host reference needs tflite-micro (pip install --pre tflite-micro): {exc}") from exc
    try:
        interpreter = runtime.Interpreter.from_file(model_path)
        x = np.frombuffer(input_bytes, dtype=np.int8).reshape(g.input.shape)
        interpreter.set_input(x, 0)
        interpreter.invoke()
        return bytes(np.asarray(interpreter.get_output(0)).astype(np.int8).tobytes())
    except Exception as exc:  # the interpreter raises RuntimeError and others
        raise ModelError(f"model {model_path}: the tflite-micro host interpreter failed: {exc}") from exc
