"""Which model fits which board: flash and RAM margins, measured where a run was built for the board and
estimated elsewhere.

Sizes are compile-time figures from a run's ELF: flash is .text + .rodata + .data (weights, code and
initial data), RAM is .data + .bss + the stack reserve (the arena is in .bss). On a board the model was
built for, need and limit are the run's own (``flash_bytes``, ``ram_bytes``, ``board_flash_bytes``,
``board_ram_bytes``): *measured*. On another board they are *estimated* from a run on another board
(one with the same core when there is one, else the latest): the same flash, and the same RAM with that
board's stack reserve instead (code differs a little between cores, so the estimate is approximate).
A margin is limit - need, in bytes; negative means it does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.boards import BoardSpec
from harness.report.markup import value
from harness.store.frame import latest


@dataclass(frozen=True)
class BoardLimits:
    """A board's flash and RAM (bytes), stack reserve (bytes) and core, from ``boards/`` or a record."""

    name: str
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int | None
    core: str | None


@dataclass(frozen=True)
class Fit:
    """One model on one board. Bytes throughout; ``measured`` when a run was built for this board."""

    flash_need: int
    ram_need: int
    flash_limit: int
    ram_limit: int
    measured: bool
    run_id: str         # the run the sizes come from
    from_board: str     # that run's board

    @property
    def flash_margin(self) -> int:
        return self.flash_limit - self.flash_need

    @property
    def ram_margin(self) -> int:
        return self.ram_limit - self.ram_need

    @property
    def fits(self) -> bool:
        return self.flash_margin >= 0 and self.ram_margin >= 0

    @property
    def tightest(self) -> float:
        """The smaller margin as a share of its limit (1.0: all free; below 0: does not fit)."""
        return min(self.flash_margin / self.flash_limit, self.ram_margin / self.ram_limit)


@dataclass(frozen=True)
class FitGrid:
    """Rows (model_key, runtime, label), board columns, and a cell for each pair (None: nothing known)."""

    rows: list[tuple[str, str, str]]
    boards: list[BoardLimits]
    cells: dict[tuple[str, str, str], Fit | None]


def core_of(provenance: Any) -> str | None:
    """The ``-mcpu=`` a run was compiled for, from its provenance's cflags.

    >>> core_of({"cflags": ["-O2", "-mcpu=cortex-m7"]}), core_of({})
    ('cortex-m7', None)
    """
    flags = provenance.get("cflags") if isinstance(provenance, dict) else None
    for flag in flags or ():
        if isinstance(flag, str) and flag.startswith("-mcpu="):
            return flag.removeprefix("-mcpu=")
    return None


def board_limits(runs: pd.DataFrame, boards: Mapping[str, BoardSpec]) -> list[BoardLimits]:
    """Every board in ``boards`` and every other board a run was built for (its record holds the limits)."""
    out = {name: BoardLimits(name, b.flash_bytes, b.ram_bytes, b.stack_bytes, b.core.value)
           for name, b in boards.items()}
    for r in runs.itertuples(index=False):
        flash, ram = value(r.board_flash_bytes), value(r.board_ram_bytes)
        if r.board not in out and flash and ram:
            out[r.board] = BoardLimits(r.board, int(flash), int(ram), None, core_of(r.provenance))
    return sorted(out.values(), key=lambda b: b.name)


def _sized(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["flash_bytes"].notna() & runs["ram_bytes"].notna()]


def fit_grid(runs: pd.DataFrame, boards: Mapping[str, BoardSpec]) -> FitGrid:
    """The grid for every model with sizes in ``runs`` and every board (see the module docstring)."""
    sized = latest(_sized(runs))
    limits = board_limits(runs, boards)
    runtimes = set(sized["runtime"])
    rows: list[tuple[str, str, str]] = []
    cells: dict[tuple[str, str, str], Fit | None] = {}
    for (key, runtime), group in sized.groupby(["model_key", "runtime"], sort=False):
        name = str(group["model_name"].iloc[0])
        row = (str(key), str(runtime), name if len(runtimes) == 1 else f"{name} ({runtime})")
        rows.append(row)
        by_board = {r.board: r for r in group.itertuples(index=False)}
        for b in limits:
            cells[(row[0], row[1], b.name)] = _fit(by_board, b, {x.name: x for x in limits})
    rows.sort(key=lambda r: r[2])
    return FitGrid(rows, limits, cells)


def _fit(by_board: Mapping[str, Any], board: BoardLimits, limits: Mapping[str, BoardLimits]) -> Fit | None:
    run = by_board.get(board.name)
    if run is not None:
        return Fit(int(run.flash_bytes), int(run.ram_bytes),
                   int(value(run.board_flash_bytes) or board.flash_bytes),
                   int(value(run.board_ram_bytes) or board.ram_bytes), True, run.run_id, run.board)
    if not by_board:
        return None
    same_core = [r for r in by_board.values() if board.core is not None and core_of(r.provenance) == board.core]
    ref = max(same_core or by_board.values(), key=lambda r: (r.time, r.run_id))
    ram = int(ref.ram_bytes)
    reserved = value(ref.stack_reserved_bytes)
    if reserved is not None and board.stack_bytes is not None:
        ram = ram - int(reserved) + board.stack_bytes
    return Fit(int(ref.flash_bytes), ram, board.flash_bytes, board.ram_bytes, False, ref.run_id, ref.board)
