"""The pytest plugin: ``--hil-*`` options, the ``hil`` fixture, the end-of-session table.

Hooks and fixtures only; the work is in ``harness.session`` and below.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.boards import DEFAULT_BOARD, BoardSpec, load_board
from harness.errors import ConfigError
from harness.model.zoo import ModelRef
from harness.report.table import render_text
from harness.runner import RunOptions
from harness.session import HilSession
from harness.store import RunRecord

SESSION_KEY = pytest.StashKey[HilSession]()
BOARDS_KEY = pytest.StashKey[list[BoardSpec]]()


def _int_at_least(minimum: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{value} must be >= {minimum}")
    return value


def _positive_int(text: str) -> int:
    return _int_at_least(1, text)


def _non_negative_int(text: str) -> int:
    return _int_at_least(0, text)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hilbench", "hilbench: benchmark models on Cortex-M boards")
    group.addoption("--hil-board", action="append", metavar="BOARD", default=None,
                    help=f"board to run on; repeat for several (default: {DEFAULT_BOARD}; "
                         "`hilbench boards` lists them)")
    group.addoption("--hil-inferences", type=_positive_int, metavar="N", default=None,
                    help="timed inferences per run (default: 5)")
    group.addoption("--hil-warmup", type=_non_negative_int, metavar="N", default=None,
                    help="warm-up inferences before the timed ones (default: 1)")
    group.addoption("--hil-results-dir", metavar="DIR", default=None,
                    help="where run records are written, one JSON file per run (default: results)")


def pytest_configure(config: pytest.Config) -> None:
    names = config.getoption("--hil-board") or [DEFAULT_BOARD]
    try:
        boards = [load_board(n) for n in dict.fromkeys(names)]
    except ConfigError as exc:
        raise pytest.UsageError(f"--hil-board: {exc}") from None
    inferences = config.getoption("--hil-inferences")
    warmup = config.getoption("--hil-warmup")
    results = config.getoption("--hil-results-dir")
    config.stash[BOARDS_KEY] = boards
    config.stash[SESSION_KEY] = HilSession(
        results_dir=Path(results) if results is not None else Path(config.rootpath) / "results",
        inferences=5 if inferences is None else inferences, warmup=1 if warmup is None else warmup)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hil_board" in metafunc.fixturenames:
        boards = metafunc.config.stash[BOARDS_KEY]
        metafunc.parametrize("hil_board", boards, ids=[b.name for b in boards], scope="session")


@dataclass
class Hil:
    """What a test sees: ``hil.run(model)`` on the board this test instance is for."""

    session: HilSession
    board: BoardSpec

    def run(self, model: str | Path | ModelRef, inferences: int | None = None, warmup: int | None = None,
            options: RunOptions | None = None) -> RunRecord:
        return self.session.run(model, self.board, inferences=inferences, warmup=warmup, options=options)


@pytest.fixture(scope="session")
def hil_session(request: pytest.FixtureRequest) -> HilSession:
    return request.config.stash[SESSION_KEY]


@pytest.fixture
def hil(hil_session: HilSession, hil_board: BoardSpec) -> Iterator[Hil]:
    yield Hil(hil_session, hil_board)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is None or not session.records:
        return
    terminalreporter.section("hilbench")
    for line in render_text(session.records).rstrip().splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        "instructions: QEMU TCG plugin count (qemu-insn) or -icount timer (qemu-icount); "
        "latency: estimated from instructions at the board clock")
    terminalreporter.write_line(f"{len(session.saved)} run records written to {session.store.runs_dir}")
