"""What an operator's emitter may call: the ``Emitter`` protocol (``harness.firmware.codegen`` implements
it) and the C literal helpers every emitter uses.

Every integer an emitter writes goes through ``c_int`` (or a table through ``Emitter.weights``), so a value
outside its C type raises ``OutOfRange``, which ``codegen.generate`` turns into a ``ModelError`` naming the
layer.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from harness.model.graph import Graph, Operator, Tensor
from harness.model.quant import Q31_MULTIPLIER_RANGE, SHIFT_RANGE, check_int, check_requant

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1


class Emitter(Protocol):
    """The state of one ``model.c`` being written (``harness.firmware.codegen._Emitter``)."""

    g: Graph
    parts: list[str]  # C text, in order

    def off(self, t: int) -> str: ...  # tensor t's arena offset, as a C literal

    def offset(self, t: int) -> int: ...  # tensor t's arena offset

    def weights(self, name: str, ctype: str, values: np.ndarray[Any, Any]) -> str: ...

    def table(self, name: str, ctype: str, values: list[int]) -> str: ...

    def requant(self, p: str, multipliers: list[int], shifts: list[int]) -> tuple[str, str]: ...

    def tensors(self, op: Operator) -> tuple[Tensor, Tensor]: ...

    def bias_values(self, op: Operator, channels: int) -> np.ndarray[Any, Any]: ...

    def scratch(self, op: Operator) -> str: ...  # the arena offset of layer op's scratch bytes, as a C literal

    def struct(self, ctype: str, name: str, fields: dict[str, str]) -> None: ...


def c_int(v: int, lo: int = INT32_MIN, hi: int = INT32_MAX, what: str = "a value") -> str:
    """``v`` as a C literal of a type holding [lo, hi] (int32_t by default); ``OutOfRange`` outside it."""
    check_int(what, int(v), (lo, hi), "the range of its C type")
    return str(v) if v != INT32_MIN else "(-2147483647 - 1)"


def wrap_int32(v: int) -> int:
    """``v`` reduced to int32 modulo 2^32. A folded bias may lie outside int32; the kernels sum in uint32_t,
    modulo 2^32 (bench_dot.h), so the final accumulator holds the bits TFLite's int32 sum holds."""
    return (int(v) + 2**31) % 2**32 - 2**31


def requant(names: str, pair: tuple[int, int], multiplier_range: tuple[int, int] = Q31_MULTIPLIER_RANGE,
            shift_range: tuple[int, int] = SHIFT_RANGE) -> tuple[int, int]:
    """``pair`` after ``check_requant``; ``names`` gives the struct fields: "output" stands for
    output_multiplier and output_shift, "a,b" for fields a and b."""
    m_name, s_name = names.split(",") if "," in names else (f"{names}_multiplier", f"{names}_shift")
    return check_requant(m_name, pair[0], s_name, pair[1], multiplier_range, shift_range)


def rank4(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (1,) * (4 - len(shape)) + tuple(shape)


def c_list(values: Any) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"
