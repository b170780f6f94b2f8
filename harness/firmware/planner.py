"""Static memory plan: every activation tensor gets an offset in one arena.

Tensors whose lifetimes (first producer to last consumer, in operator order)
overlap never share bytes. The graph input lives for the whole program, so
every timed inference computes on the input as loaded. RESHAPE outputs alias
their inputs. Placement is greedy by size: the largest buffer first, each at
the lowest aligned offset free over its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.graph import Graph

ALIGN_BYTES = 16


@dataclass(frozen=True)
class MemoryPlan:
    offsets: dict[int, int]   # tensor index -> byte offset in the arena
    arena_bytes: int
    naive_bytes: int          # what one buffer per tensor would take (for reporting the planner's gain)


@dataclass
class _Buffer:
    tensors: list[int]
    size: int
    first: int
    last: int


def _align(n: int) -> int:
    return (n + ALIGN_BYTES - 1) // ALIGN_BYTES * ALIGN_BYTES


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

    # RESHAPE aliases: output joins the input's buffer
    group = {t: t for t in first}

    def root(t: int) -> int:
        while group[t] != t:
            t = group[t]
        return t

    for op in g.operators:
        if op.opcode == "RESHAPE":
            group[root(op.outputs[0])] = root(op.inputs[0])
    buffers: dict[int, _Buffer] = {}
    for t in first:
        r = root(t)
        b = buffers.setdefault(r, _Buffer([], 0, first[t], last[t]))
        b.tensors.append(t)
        b.size = max(b.size, _align(g.tensors[t].nbytes))
        b.first, b.last = min(b.first, first[t]), max(b.last, last[t])

    placed: list[tuple[int, _Buffer]] = []
    offsets: dict[int, int] = {}
    for b in sorted(buffers.values(), key=lambda b: (-b.size, b.first)):
        live = sorted((off, off + o.size) for off, o in placed if o.first <= b.last and b.first <= o.last)
        offset = 0
        for lo, hi in live:
            if offset + b.size <= lo:
                break
            offset = max(offset, hi)
        placed.append((offset, b))
        for t in b.tensors:
            offsets[t] = offset
    arena = max((off + b.size for off, b in placed), default=0)
    naive = sum(_align(g.tensors[t].nbytes) for t in first)
    return MemoryPlan(offsets=offsets, arena_bytes=max(arena, ALIGN_BYTES), naive_bytes=naive)
