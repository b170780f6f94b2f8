"""Scores from output bytes: top-1 for classifiers, reconstruction MSE and ROC AUC for anomaly detection.

The same functions score the firmware's output bytes and the host interpreter's, so equal bytes
give equal scores, exactly. Quantization follows the MLPerf Tiny reference firmware
(``QuantizeFloatToInt8``: ``round(value / scale) + zero_point``, half away from zero, clamped to
int8; ``DequantizeInt8ToFloat``: ``(q - zero_point) * scale``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.errors import ModelError
from harness.model.graph import Dtype, Tensor

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _scale_zero_point(tensor: Tensor, what: str) -> tuple[np.float32, int]:
    if tensor.quant is None or tensor.quant.per_channel:
        raise ModelError(f"{what} tensor {tensor.index} ({tensor.name!r}) has "
                         f"{'no quantization' if tensor.quant is None else 'per-channel quantization'}; "
                         "expected one scale and zero point")
    return np.float32(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])


def quantize(values: np.ndarray[Any, Any], tensor: Tensor) -> bytes:
    """``values`` (real numbers) as the bytes of input ``tensor``, as the MLPerf Tiny firmware quantizes.

    ``value / scale`` is taken in float32, rounded half away from zero, shifted by the zero point
    and clamped to [-128, 127] (INT8) or [0, 255] (UINT8). A FLOAT32 input (a model whose first QUANTIZE
    the firmware runs) takes the values as float32, as they are. Raises ``ModelError`` for any other
    tensor type, or one not quantized per tensor.

    >>> from harness.model.graph import Quantization
    >>> t = Tensor(0, "x", (1, 4), Dtype.INT8, Quantization((0.5,), (3,)))
    >>> np.frombuffer(quantize(np.array([0.25, -0.25, 100.0, -0.75]), t), dtype=np.int8).tolist()
    [4, 2, 127, 1]
    """
    if tensor.dtype is Dtype.FLOAT32:
        return np.asarray(values, dtype="<f4").tobytes()
    if tensor.dtype not in (Dtype.INT8, Dtype.UINT8):
        raise ModelError(f"input tensor {tensor.index} ({tensor.name!r}) is {tensor.dtype.name}; "
                         "expected INT8, UINT8 or FLOAT32")
    scale, zero_point = _scale_zero_point(tensor, "input")
    q = np.asarray(values, dtype=np.float32) / scale
    rounded = np.sign(q) * np.floor(np.abs(q).astype(np.float64) + 0.5)
    low, high = (-128, 127) if tensor.dtype is Dtype.INT8 else (0, 255)
    return bytes(np.clip(rounded + zero_point, low, high).astype(tensor.dtype.numpy).tobytes())


def output_values(data: bytes, tensor: Tensor) -> FloatArray:
    """The real values of an output tensor's bytes: dequantized int8 or uint8, or float32 as it is."""
    if tensor.dtype is Dtype.FLOAT32:
        return np.frombuffer(data, dtype="<f4").astype(np.float64)
    if tensor.dtype not in (Dtype.INT8, Dtype.UINT8):
        raise ModelError(f"output tensor {tensor.index} ({tensor.name!r}) is {tensor.dtype.name}; "
                         "expected INT8, UINT8 or FLOAT32")
    scale, zero_point = _scale_zero_point(tensor, "output")
    q = np.frombuffer(data, dtype=tensor.dtype.numpy).astype(np.float32)
    return ((q - np.float32(zero_point)) * scale).astype(np.float64)


def top1(data: bytes, tensor: Tensor) -> int:
    """The class with the highest score (the first of equal ones, as ``numpy.argmax``)."""
    return int(np.argmax(output_values(data, tensor)))


def window_mse(data: bytes, window: np.ndarray[Any, Any], tensor: Tensor) -> float:
    """Mean squared error between the dequantized reconstruction and the float window it came from."""
    diff = output_values(data, tensor) - np.asarray(window, dtype=np.float64)
    return float(np.mean(diff * diff))


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Area under the ROC curve of ``scores`` for ``labels`` 1 (positive) against 0; None with one class.

    The Mann-Whitney statistic: the share of (positive, negative) pairs in which the positive scores
    higher, ties counting one half.

    >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> roc_auc([1.0, 2.0], [0, 0]) is None
    True
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    if n_pos == 0 or n_neg == 0:
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2.0    # 1-based ranks, ties averaged
    rank_sum = float(np.sum(mean_rank[inverse][y == 1]))
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
