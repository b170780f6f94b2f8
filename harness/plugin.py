"""The pytest plugin: ``--hil-*`` options, the ``hil`` fixture, the end-of-session table.

Hooks and fixtures only; the work is in ``harness.session`` and below. Under pytest-xdist each
worker sends its records to the controller when it finishes (``workeroutput``), and the controller
prints the one table of the whole session.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from harness.accuracy import AccuracyOptions, AccuracyResult, run_accuracy
from harness.boards import BOARDS_DIR_HELP, DEFAULT_BOARD, BoardSpec, check_boards_dir, load_board
from harness.errors import ConfigError, StoreError
from harness.model.zoo import ModelRef
from harness.paths import BOARDS_DIR
from harness.report import compare_text
from harness.report.compare import Baseline, Comparison, compare_records
from harness.report.gates import FAIL_ON_HELP, RegressionCheck, parse_fail_on
from harness.report.table import render_text
from harness.runner import COUNT_LIMITS, MAX_INFERENCES, RunOptions
from harness.session import HilSession, UnsavedRecord
from harness.store import RunRecord
from harness.store.frame import StoreWarning, resolve_ref
from harness.targets.backends import get_backend
from harness.targets.process import sigterm_raises_keyboard_interrupt

SESSION_KEY = pytest.StashKey[HilSession]()
BOARDS_KEY = pytest.StashKey[list[BoardSpec]]()
SESSION_ID_KEY = "hilbench_session_id"  # config.workerinput[...]: the controller's session id
WORKER_OUTPUT_KEY = "hilbench"   # config.workeroutput[...]: this worker's records, as JSON
BASELINE_KEY = pytest.StashKey[Baseline]()        # --hil-compare, resolved on the controller
COMPARISON_KEY = pytest.StashKey[Comparison]()    # the session against it, at the end
REPORT_KEY = pytest.StashKey[list[tuple[str, bool]]]()   # --hil-report: summary lines (text, is an error)


def _int_in_range(minimum: int, maximum: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise argparse.ArgumentTypeError(f"{value} is out of range; expected {minimum} to {maximum}")
    return value


def _inferences(text: str) -> int:
    return _int_in_range(*COUNT_LIMITS["inferences"], text)


def _warmup(text: str) -> int:
    return _int_in_range(*COUNT_LIMITS["warmup"], text)


def _store(text: str) -> str:
    """A store URL (checked: its form and dialect; nothing connects yet) or a results folder."""
    from harness.store.sql import is_url, parse_url

    if is_url(text):
        try:
            parse_url(text)
        except StoreError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _fail_on(text: str) -> list[RegressionCheck]:
    try:
        return parse_fail_on(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _boards_dir(text: str) -> Path:
    try:
        return check_boards_dir(Path(text)).resolve()
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ref(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty reference; expected a results folder, run id or commit")
    return text.strip()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hilbench", "hilbench: benchmark models on Cortex-M boards")
    group.addoption("--hil-board", action="append", metavar="BOARD", default=None,
                    help=f"board to run on, or the path of a board file ending in .toml; repeat for "
                         f"several (default: {DEFAULT_BOARD}; `hilbench boards` lists them)")
    group.addoption("--hil-boards-dir", type=_boards_dir, metavar="DIR", default=None,
                    help=f"{BOARDS_DIR_HELP} (default: none, only the built-in boards)")
    group.addoption("--hil-inferences", type=_inferences, metavar="N", default=None,
                    help=f"timed inferences per run, 1 to {MAX_INFERENCES} (default: 5)")
    group.addoption("--hil-warmup", type=_warmup, metavar="N", default=None,
                    help=f"warm-up inferences before the timed ones, 0 to {MAX_INFERENCES} (default: 1)")
    group.addoption("--hil-results-dir", metavar="DIR", default=None,
                    help="where run records are written, one JSON file per run (default: results)")
    group.addoption("--hil-store", type=_store, metavar="URL", default=None,
                    help="write run records to this database instead: sqlite:///results/hilbench.db or "
                         "postgresql://USER:PASSWORD@HOST:PORT/DB (a path is a results folder; default: none, "
                         "the --hil-results-dir folder)")
    group.addoption("--hil-compare", type=_ref, metavar="REF", default=None,
                    help="at the end, compare the session's runs with a baseline: a results folder, or a "
                         "run id or git commit in --hil-results-dir; a run that was ok or bit-exact and is "
                         "not now fails the session (default: none, no comparison)")
    group.addoption("--hil-fail-on", type=_fail_on, metavar="SPEC", default=None,
                    help="with --hil-compare: " + FAIL_ON_HELP.replace("%", "%%") + " (default: none)")
    group.addoption("--hil-target", metavar="BACKEND", default=None,
                    help="run every board with this target backend instead of the board's own "
                         "(`hilbench boards` shows each board's; default: the board's)")
    group.addoption("--hil-probe", metavar="ID", default=None,
                    help="real boards: the debug probe, by its unique id (`hilbench probes` lists them), "
                         "or gdb:HOST:PORT[:RESET] for a GDB server (OpenOCD, pyOCD gdbserver: RESET 'reset halt', the "
                         "default; J-Link: 'reset'; QEMU: 'system_reset'); "
                         "default: the only probe attached")
    group.addoption("--hil-port", metavar="PORT", default=None,
                    help="real boards: the serial port (a device or a pyserial URL); default: the port "
                         "whose USB serial number is the probe's")
    group.addoption("--hil-lg-place", metavar="NAME", default=None,
                    help="real boards: acquire this labgrid place for each run (the coordinator from labgrid's "
                         "LG_COORDINATOR, default 127.0.0.1:20408), take its serial port and power from it, "
                         "release it after (default: none, no labgrid)")
    group.addoption("--hil-energy", metavar="METER", default=None,
                    help="measure energy per inference: joulescope[:SERIAL], ppk2[:PORT], or estimate "
                         "(the board's active power x time); default: estimate where the board has a figure")
    group.addoption("--hil-energy-layers", action="store_true", default=False,
                    help="with --hil-energy: also each layer's energy (a second run that pulses at every layer)")
    group.addoption("--hil-report", metavar="PATH", default=None,
                    help="at the end, write the HTML report of this session's runs (against --hil-compare's "
                         "baseline when given) to PATH, one self-contained file (default: none, no report)")


def pytest_configure(config: pytest.Config) -> None:
    names = config.getoption("--hil-board") or [DEFAULT_BOARD]
    try:
        user_dir = config.getoption("--hil-boards-dir")
        boards = [load_board(n, BOARDS_DIR, user_dir) for n in dict.fromkeys(names)]
    except ConfigError as exc:
        raise pytest.UsageError(f"--hil-board: {exc}") from None
    inferences = config.getoption("--hil-inferences")
    warmup = config.getoption("--hil-warmup")
    results = config.getoption("--hil-results-dir")
    config.stash[BOARDS_KEY] = boards
    # SIGTERM (timeout, a cancelled CI job) stops the session as Ctrl-C does, so running targets close
    config.add_cleanup(sigterm_raises_keyboard_interrupt())
    # xdist workers take the controller's session id, so one `pytest -n N` is one session in the store
    workerinput = getattr(config, "workerinput", None)
    session_id = workerinput.get(SESSION_ID_KEY) if workerinput is not None else None
    config.addinivalue_line("markers", "board(name=None): needs a real board (one whose target is hardware, "
                                       "or the board named); skipped on emulated boards")
    try:
        target = config.getoption("--hil-target")
        if target is not None:
            get_backend(target)
        defaults = RunOptions(probe=config.getoption("--hil-probe"), port=config.getoption("--hil-port"),
                              lg_place=config.getoption("--hil-lg-place"),
                              energy=config.getoption("--hil-energy"),
                              energy_layers=config.getoption("--hil-energy-layers"))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    if defaults.energy_layers and defaults.energy is None:
        raise pytest.UsageError("--hil-energy-layers needs --hil-energy METER (joulescope[:SERIAL] or ppk2[:PORT])")
    config.stash[SESSION_KEY] = HilSession(
        results_dir=Path(results) if results is not None else Path(config.rootpath) / "results",
        inferences=5 if inferences is None else inferences, warmup=1 if warmup is None else warmup,
        defaults=defaults, target=target, store_url=config.getoption("--hil-store"),
        **({"session_id": session_id} if session_id else {}))
    ref, checks = config.getoption("--hil-compare"), config.getoption("--hil-fail-on")
    if checks is not None and ref is None:
        raise pytest.UsageError("--hil-fail-on needs --hil-compare REF, the baseline the checks compare with")
    if ref is not None and workerinput is None:   # the controller compares; workers only run
        try:
            with warnings.catch_warnings():   # files skipped are named in the summary instead
                warnings.simplefilter("ignore", StoreWarning)
                hil = config.stash[SESSION_KEY]
                frame = resolve_ref(ref, hil.results_dir if hil.store_url is None else hil.store_url)
        except StoreError as exc:
            raise pytest.UsageError(f"--hil-compare: {exc}") from None
        config.stash[BASELINE_KEY] = Baseline(ref, frame, tuple(checks or ()))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """On the xdist controller: give each worker this session's id."""
    hil = node.config.stash.get(SESSION_KEY, None)
    if hil is not None:
        node.workerinput[SESSION_ID_KEY] = hil.session_id


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hil_board" in metafunc.fixturenames:
        boards = metafunc.config.stash[BOARDS_KEY]
        metafunc.parametrize("hil_board", boards, ids=[b.name for b in boards], scope="session")


@dataclass
class Hil:
    """What a test sees: ``hil.run(model)`` and ``hil.accuracy(model, dataset)`` on the board this test
    instance is for."""

    session: HilSession
    board: BoardSpec

    def run(self, model: str | Path | ModelRef, inferences: int | None = None, warmup: int | None = None,
            options: RunOptions | None = None) -> RunRecord:
        """The run's record; fails the test when the record cannot be stored (the summary still shows it)."""
        try:
            return self.session.run(model, self.board, inferences=inferences, warmup=warmup, options=options)
        except StoreError as exc:
            record = self.session.records[-1]
            pytest.fail(f"the run of {record.model} on {record.board} ended with status {record.status!r}, "
                        f"but its record was not stored: {exc}", pytrace=False)

    def accuracy(self, model: str | Path | ModelRef, dataset: str | Path, limit: int | None = None,
                 options: AccuracyOptions | None = None) -> AccuracyResult:
        """``dataset`` (an MLPerf Tiny folder) scored on this board and on the host interpreter, in one
        firmware session; raises ``HarnessError`` (bad input: ``ConfigError``/``ModelError``)."""
        opts = options or AccuracyOptions(target=self.session.target)
        if limit is not None:
            opts = replace(opts, limit=limit)
        return run_accuracy(model, dataset, self.board, opts)


@pytest.fixture(scope="session")
def hil_session(request: pytest.FixtureRequest) -> HilSession:
    return request.config.stash[SESSION_KEY]


def _board_marker_skip(item: pytest.Item, board: BoardSpec, target: str) -> str | None:
    """Why a test marked ``board`` cannot run on ``board`` (None: it can)."""
    marker = item.get_closest_marker("board")
    if marker is None:
        return None
    wanted = marker.kwargs.get("name", marker.args[0] if marker.args else None)
    if wanted is not None and board.name != wanted:
        return f"needs the board {wanted} (this run is on {board.name}): --hil-board {wanted}"
    if wanted is None and target != "hardware":
        return (f"needs a real board; {board.name} runs on {target}: --hil-board BOARD --hil-probe ID "
                "(`hilbench probes` lists the probes)")
    return None


@pytest.fixture
def hil(hil_session: HilSession, hil_board: BoardSpec, request: pytest.FixtureRequest) -> Iterator[Hil]:
    reason = _board_marker_skip(request.node, hil_board, hil_session.target or hil_board.target)
    if reason is not None:
        pytest.skip(reason)
    yield Hil(hil_session, hil_board)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's records to the controller. On the controller (or without
    xdist): compare the session's runs with the baseline; a regression makes the exit status 1."""
    workeroutput = getattr(session.config, "workeroutput", None)
    hil = session.config.stash.get(SESSION_KEY, None)
    baseline = session.config.stash.get(BASELINE_KEY, None)
    if hil is not None and baseline is not None:   # workers' records came in pytest_testnodedown
        comparison = compare_records(baseline, hil.records)
        session.config.stash[COMPARISON_KEY] = comparison
        if not comparison.ok and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    report = session.config.getoption("--hil-report", None)
    if hil is not None and report is not None and workeroutput is None:   # the controller, or no xdist
        from harness.report.html import write_session_report  # plotly is imported only when asked for

        path = Path(session.config.invocation_params.dir, report)
        session.config.stash[REPORT_KEY] = write_session_report(path, hil.records, baseline)
    if workeroutput is None or hil is None:
        return
    workeroutput[WORKER_OUTPUT_KEY] = json.dumps({
        "records": [r.to_dict() for r in hil.records],
        "saved": [str(p) for p in hil.saved],
        "unsaved": [{"record": u.record.to_dict(), "error": str(u.error)} for u in hil.unsaved],
    })


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: take in a finished worker's records, for the summary."""
    hil = node.config.stash.get(SESSION_KEY, None)
    text = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if hil is None or text is None:
        return
    data = json.loads(text)
    hil.records.extend(RunRecord.from_dict(r) for r in data["records"])
    hil.saved.extend(Path(p) for p in data["saved"])
    hil.unsaved.extend(UnsavedRecord(RunRecord.from_dict(u["record"]), StoreError(u["error"]))
                       for u in data["unsaved"])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None and session.records:
        _summary_of_runs(terminalreporter, session)
    baseline, comparison = config.stash.get(BASELINE_KEY, None), config.stash.get(COMPARISON_KEY, None)
    if baseline is not None and comparison is not None:
        terminalreporter.section("hilbench compare")
        for text in baseline.frame.warnings:
            terminalreporter.write_line(f"baseline file skipped: {text}", yellow=True)
        for line, regressed in compare_text.summary_lines(comparison, baseline.ref):
            terminalreporter.write_line(line, red=regressed)
    for line, failed in config.stash.get(REPORT_KEY, []):
        terminalreporter.write_line(line, red=failed)


def _summary_of_runs(terminalreporter: Any, session: HilSession) -> None:
    terminalreporter.section("hilbench")
    # from several xdist workers the records come worker by worker: show them in the order they ran
    records = sorted(session.records, key=lambda r: r.time_utc)
    for line in render_text(records).rstrip().splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(
        "instructions: QEMU TCG plugin count (qemu-insn) or -icount timer (qemu-icount); "
        "latency: estimated from instructions at the board clock")
    if session.saved:
        terminalreporter.write_line(f"{len(session.saved)} run records written to {session.store.runs_dir}")
    for u in session.unsaved:
        terminalreporter.write_line(f"record not stored ({u.record.model} on {u.record.board}, status "
                                    f"{u.record.status}): {u.error}", red=True)
