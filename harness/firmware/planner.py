"""Static memory plan: every activation tensor gets an offset in one arena.

Tensors whose lifetimes (first producer to last consumer, in operator order)
overlap never share bytes, with one exception that the kernels make safe: an
operator's output may overlap an input that dies at that operator, when the
output starts at least ``gap`` bytes below the input. The kernels write their
output in order (pixel by pixel, row by row, or element by element), so the
gap is the largest distance by which the write position ever runs ahead of
the lowest input byte still to be read; it is computed here per operator from
its geometry (the ``OpSpec.overlap`` of the kernel variant chosen for the layer,
harness.ops.registry.choose). The graph input
lives for the whole program, so every timed inference computes on the input as
loaded; so does each variable tensor (an operator's state, such as SVDF's),
which the firmware resets before each inference. Outputs of operators with
``OpSpec.aliases_input`` (RESHAPE) alias their inputs. A variant's scratch
bytes (``OpSpec.scratch``: an im2col buffer, say) are a buffer of their own
that lives during its layer only.

Placement is greedy: each buffer at the lowest aligned offset that satisfies
every constraint with the buffers already placed, in four orders (largest
first; last produced first; each with the pinned graph input placed first;
scratch buffers last in each), keeping the smallest arena.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.model.graph import Graph, Operator
from harness.ops.base import OpSpec
from harness.ops.registry import choose as choose_spec
from harness.ops.registry import operators

ALIGN_BYTES = 16


@dataclass(frozen=True)
class MemoryPlan:
    offsets: dict[int, int]   # tensor index -> byte offset in the arena
    arena_bytes: int
    naive_bytes: int          # what one buffer per tensor would take (for reporting the planner's gain)
    overlaps: tuple[tuple[int, int, int], ...] = ()  # (operator, input tensor, gap bytes) the plan may use
    order: str = "size"       # the placement order that gave the smallest arena
    scratch: dict[int, int] = field(default_factory=dict)  # layer index -> offset of its scratch bytes


@dataclass
class _Buffer:
    tensors: list[int]
    size: int
    first: int
    last: int
    gaps: dict[int, int] = field(default_factory=dict)  # input buffer id -> gap, for this buffer as an output


def _align(n: int) -> int:
    return (n + ALIGN_BYTES - 1) // ALIGN_BYTES * ALIGN_BYTES


def _overlap_gaps(g: Graph, op: Operator, spec: OpSpec) -> dict[int, int]:
    """Input tensor -> gap, for the inputs the layer's kernel (``spec``, the variant chosen for it) can overwrite
    as it goes (its ``OpSpec.overlap``)."""
    rule = spec.overlap
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


def _scratch_bytes(g: Graph, op: Operator, spec: OpSpec) -> int:
    return spec.scratch(g, op) if spec.scratch is not None else 0


def variable_tensors(g: Graph) -> list[int]:
    """The variable tensors (``Tensor.is_variable``: state an operator reads and updates) in index order;
    ``support.validate`` accepted each only as an operator's input, with no data."""
    return [t.index for t in g.tensors if t.is_variable and not t.is_constant]


def plan_memory(g: Graph, choose: Callable[[Operator], OpSpec] | None = None) -> MemoryPlan:
    """The plan for ``g`` whose layers run the kernels ``choose`` picks (default: the portable ones for their
    tensor types); each chosen variant's overlap rule and scratch bytes shape it."""
    if choose is None:
        def choose(op: Operator) -> OpSpec:
            return choose_spec(g, op)
    specs = {op.index: choose(op) for op in g.operators}
    n_ops = len(g.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in g.inputs:
        first[t], last[t] = -1, n_ops
    for t in variable_tensors(g):  # state kept across layers (SVDF's): its own bytes for the whole program
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

    # each layer's scratch (an im2col buffer, say): its own bytes while the layer runs, under key -1 - layer
    scratch_sizes = {op.index: _scratch_bytes(g, op, specs[op.index]) for op in g.operators}
    for index, size in scratch_sizes.items():
        if size > 0:
            buffers[-1 - index] = _Buffer([], _align(size), index, index)

    overlaps = []
    for op in g.operators:
        out = buffers[root(op.outputs[0])]
        if out.first != op.index:
            continue
        for t, gap in _overlap_gaps(g, op, specs[op.index]).items():
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
        # scratch buffers (negative keys) last: small and short-lived, they fill the gaps the tensors leave
        placed = _place(sorted(buffers.items(), key=lambda item: (item[0] < 0, key(item[1]))))
        arena = max((placed[r] + buffers[r].size for r in placed), default=0)
        if best is None or arena < best[0]:
            best = (arena, name, placed)
    assert best is not None
    arena, order, placement = best
    offsets = {t: placement[r] for r, b in buffers.items() for t in b.tensors}
    scratch = {index: placement[-1 - index] for index, size in scratch_sizes.items() if size > 0}
    naive = sum(_align(g.tensors[t].nbytes) for t in first) + sum(_align(s) for s in scratch_sizes.values())
    return MemoryPlan(offsets=offsets, arena_bytes=max(arena, ALIGN_BYTES), naive_bytes=naive,
                      overlaps=tuple(overlaps), order=order, scratch=scratch)


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
