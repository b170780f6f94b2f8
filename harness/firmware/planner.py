"""Static memory plan: every activation tensor gets an offset in one arena.

Tensors whose lifetimes (first producer to last consumer, in operator order)
overlap never share bytes, with one exception that the kernels make safe: an
operator's output may overlap an input that dies at that operator, when the
output starts at least ``gap`` bytes below the input. The kernels write their
output in order (pixel by pixel, row by row, or element by element), so the
gap is the largest distance by which the write position ever runs ahead of
the lowest input byte still to be read; it is computed here per operator from
its geometry (each operator's ``OpSpec.overlap``, harness.ops). The graph input
lives for the whole program, so every timed inference computes on the input as
loaded. Outputs of operators with ``OpSpec.aliases_input`` (RESHAPE) alias their
inputs.

Placement is greedy: each buffer at the lowest aligned offset that satisfies
every constraint with the buffers already placed, in four orders (largest
first; last produced first; each with the pinned graph input placed first),
keeping the smallest arena.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.model.graph import Graph, Operator
from harness.ops.registry import operators

ALIGN_BYTES = 16


@dataclass(frozen=True)
class MemoryPlan:
    offsets: dict[int, int]   # tensor index -> byte offset in the arena
    arena_bytes: int
    naive_bytes: int          # what one buffer per tensor would take (for reporting the planner's gain)
    overlaps: tuple[tuple[int, int, int], ...] = ()  # (operator, input tensor, gap bytes) the plan may use
    order: str = "size"       # the placement order that gave the smallest arena


@dataclass
class _Buffer:
    tensors: list[int]
    size: int
    first: int
    last: int
    gaps: dict[int, int] = field(default_factory=dict)  # input buffer id -> gap, for this buffer as an output


def _align(n: int) -> int:
    return (n + ALIGN_BYTES - 1) // ALIGN_BYTES * ALIGN_BYTES


def _overlap_gaps(g: Graph, op: Operator) -> dict[int, int]:
    """Input tensor -> gap, for the inputs this operator's kernel can overwrite as it goes (its ``OpSpec.overlap``)."""
    rule = operators()[op.opcode].overlap
    if rule is None:
        return {}
    # The rules count one-byte elements. An input as wide as the output (int16 activations of the 16x8
    # variants) scales the gap by the width; a narrower output than the input keeps gap 0 of an elementwise
    # kernel (it never writes past the input element it reads); a wider output (int8 -> int16) shares nothing.
    out_bytes = g.tensors[op.outputs[0]].dtype.itemsize
    gaps = {}
    for t, gap in rule(g, op).items():
        in_bytes = g.tensors[t].dtype.itemsize
        if in_bytes == out_bytes:
            gaps[t] = gap * out_bytes
        elif gap == 0 and out_bytes < in_bytes:
            gaps[t] = 0
    return gaps


def plan_memory(g: Graph) -> MemoryPlan:
    n_ops = len(g.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in g.inputs:
        first[t], last[t] = -1, n_ops
    for op in g.operators:
        for t in op.inputs:
            if t >= 0 and not g.tensors[t].is_constant:
                first.setdefault(t, op.index)
                last[t] = max(last.get(t, op.index), op.index)
        for t in op.outputs:
            first.setdefault(t, op.index)
            last[t] = max(last.get(t, op.index), op.index)
    for t in g.outputs:
        last[t] = n_ops

    # an operator whose output aliases its input (RESHAPE): the output joins the input's buffer
    group = {t: t for t in first}

    def root(t: int) -> int:
        while group[t] != t:
            t = group[t]
        return t

    for op in g.operators:
        if operators()[op.opcode].aliases_input:
            group[root(op.outputs[0])] = root(op.inputs[0])
    buffers: dict[int, _Buffer] = {}
    for t, begin in first.items():
        b = buffers.setdefault(root(t), _Buffer([], 0, begin, last[t]))
        b.tensors.append(t)
        b.size = max(b.size, _align(g.tensors[t].nbytes))
        b.first, b.last = min(b.first, begin), max(b.last, last[t])

    overlaps = []
    for op in g.operators:
        out = buffers[root(op.outputs[0])]
        if out.first != op.index:
            continue
        for t, gap in _overlap_gaps(g, op).items():
            src = root(t)
            if buffers[src].last == op.index and src != root(op.outputs[0]):
                out.gaps[src] = _align(gap)
                overlaps.append((op.index, t, _align(gap)))

    orders: dict[str, Callable[[_Buffer], tuple[int | bool, ...]]] = {
        "size": lambda b: (-b.size, b.first),
        "reverse": lambda b: (-b.first, -b.size),
        "pinned-size": lambda b: (b.last < n_ops, -b.size, b.first),
        "pinned-reverse": lambda b: (b.last < n_ops, -b.first, -b.size),
    }
    best: tuple[int, str, dict[int, int]] | None = None
    for name, key in orders.items():
        placed = _place(sorted(buffers.items(), key=lambda item: key(item[1])))
        arena = max((placed[r] + buffers[r].size for r in placed), default=0)
        if best is None or arena < best[0]:
            best = (arena, name, placed)
    assert best is not None
    arena, order, placement = best
    offsets = {t: placement[r] for r, b in buffers.items() for t in b.tensors}
    naive = sum(_align(g.tensors[t].nbytes) for t in first)
    return MemoryPlan(offsets=offsets, arena_bytes=max(arena, ALIGN_BYTES), naive_bytes=naive,
                      overlaps=tuple(overlaps), order=order)


def _place(order: list[tuple[int, _Buffer]]) -> dict[int, int]:
    """Greedy placement in ``order``: each buffer at the lowest aligned offset allowed by those placed."""
    placed: dict[int, int] = {}
    by_id = dict(order)
    for r, b in order:
        forbidden = []  # open intervals (lo, hi) the offset may not fall in
        for q, offset in placed.items():
            o = by_id[q]
            if not (o.first <= b.last and b.first <= o.last):
                continue
            if q in b.gaps:      # b is the output, o an input it may overwrite
                forbidden.append((offset - b.gaps[q], offset + o.size))
            elif r in o.gaps:    # b is an input that output o may overwrite
                forbidden.append((offset - b.size, offset + o.gaps[r]))
            else:
                forbidden.append((offset - b.size, offset + o.size))
        candidates = sorted({0, *(_align(max(0, hi)) for _, hi in forbidden)})
        placed[r] = next(c for c in candidates if all(c <= lo or c >= hi for lo, hi in forbidden))
    return placed
