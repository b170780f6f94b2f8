"""Frozen values describing a parsed model: tensors, operators, quantization."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Dtype(enum.Enum):
    """TFLite tensor types, by their schema number."""

    FLOAT32 = 0
    FLOAT16 = 1
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    STRING = 5
    BOOL = 6
    INT16 = 7
    COMPLEX64 = 8
    INT8 = 9
    FLOAT64 = 10
    UINT32 = 15
    UINT16 = 16
    INT4 = 17

    @property
    def numpy(self) -> np.dtype[Any]:
        return np.dtype(_NUMPY[self])

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize


_NUMPY = {
    Dtype.FLOAT32: "<f4", Dtype.FLOAT16: "<f2", Dtype.INT32: "<i4", Dtype.UINT8: "u1", Dtype.INT64: "<i8",
    Dtype.BOOL: "u1", Dtype.INT16: "<i2", Dtype.COMPLEX64: "<c8", Dtype.INT8: "i1", Dtype.FLOAT64: "<f8",
    Dtype.UINT32: "<u4", Dtype.UINT16: "<u2", Dtype.STRING: "u1", Dtype.INT4: "u1",
}


@dataclass(frozen=True)
class Quantization:
    """r = scale * (q - zero_point); per channel along ``axis`` when there are several scales.

    Scales are float32 values as stored in the model (TFLite computes with them as float32).
    """

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: Dtype
    quant: Quantization | None
    data: bytes | None = field(default=None, repr=False)  # constant contents, little-endian
    is_variable: bool = False  # state an operator keeps across invocations (SVDF's); reset before each inference

    @property
    def elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.elements * self.dtype.itemsize

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def array(self) -> np.ndarray[Any, Any]:
        """The constant contents as an array of ``shape``; only for constant tensors."""
        if self.data is None:
            raise ValueError(f"tensor {self.index} ({self.name!r}) is not constant")
        return np.frombuffer(self.data, dtype=self.dtype.numpy).reshape(self.shape)


@dataclass(frozen=True)
class Operator:
    index: int
    opcode: str                      # BuiltinOperator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]          # tensor indices; -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str) -> Any:
        for key, value in self.options:
            if key == name:
                return value
        raise KeyError(f"operator {self.index} ({self.opcode}) has no option {name!r}")


@dataclass(frozen=True)
class Graph:
    """One parsed, validated model: a single subgraph of operators in execution order."""

    name: str
    path: str
    sha256: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    file_bytes: int = 0              # size of the .tflite it was parsed from

    @property
    def input(self) -> Tensor:
        return self.tensors[self.inputs[0]]

    @property
    def output(self) -> Tensor:
        return self.tensors[self.outputs[0]]
