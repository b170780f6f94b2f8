"""``hilbench compare`` and ``hilbench export``: commands over stored runs (``harness.store.frame``).

Registered on the ``hilbench`` group in ``harness.cli``. Bad input (a folder without records, a
reference that names nothing, a bad ``--fail-on``) is a usage error, exit status 2, with one clear line.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cli_store import store as store_group  # `hilbench store import/export`, registered from here
from harness.errors import ConfigError, StoreError
from harness.report import compare_text
from harness.report import export as export_runs
from harness.report.compare import compare as compare_runs
from harness.report.gates import FAIL_ON_HELP, RegressionCheck, parse_fail_on
from harness.store.frame import RunsFrame, StoreWarning, load_runs, resolve_ref

T = TypeVar("T")
__all__ = ["compare", "export", "fail_on_option", "store_group", "store_option", "where"]
RESULTS_HELP = "the results folder where run ids and git commits are looked up"
STORE_HELP = ("a database to use instead of --results-dir: sqlite:///PATH/hilbench.db or "
              "postgresql://USER:PASSWORD@HOST:PORT/DB (a path is a results folder)  [default: none]")


def store_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--store``: a URL checked for its form and dialect (nothing connects yet), or a folder path."""
    from harness.store.sql import is_url, parse_url

    if value is not None and is_url(value):
        try:
            parse_url(value)
        except StoreError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


store_option = click.option("--store", "store", metavar="URL", default=None, callback=store_url, help=STORE_HELP)


def where(ctx: click.Context, results_dir: Path | None, store: str | None, option: str = "results_dir"
          ) -> Path | str:
    """The store a command reads: ``--store`` when given (a usage error beside an explicit folder), else
    the results folder."""
    if store is None:
        return results_dir if results_dir is not None else Path("results")
    if ctx.get_parameter_source(option) not in (None, click.core.ParameterSource.DEFAULT):
        raise click.UsageError(f"--store {store!r} and --results-dir {str(results_dir)!r}: give one")
    return store


def fail_on_option(ctx: click.Context, param: click.Parameter, value: str | None) -> list[RegressionCheck]:
    if value is None:
        return []
    try:
        return parse_fail_on(value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def _load(hint: str, load: Callable[[], T]) -> T:
    """``load()``, a ``StoreError`` from it a usage error naming ``hint``; skipped files are not warned
    about here (the caller prints ``RunsFrame.warnings``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StoreWarning)
            return load()
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _skipped(frame: RunsFrame, err: Console) -> None:
    for text in frame.warnings:
        err.print(f"[yellow]skipped[/yellow]: {escape(text)}", soft_wrap=True)


def _width(table: Table) -> int | None:
    """None (the terminal's width) on a terminal; elsewhere wide enough that no cell wraps."""
    if sys.stdout.isatty():
        return None
    return max(170, Console(width=1000).measure(table).maximum)


@click.command()
@click.argument("baseline")
@click.argument("new")
@click.option("--fail-on", "checks", metavar="SPEC", callback=fail_on_option, default=None,
              help=f"{FAIL_ON_HELP} (default: none)")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help=RESULTS_HELP)
@store_option
@click.pass_context
def compare(ctx: click.Context, baseline: str, new: str, checks: list[RegressionCheck], results_dir: Path,
            store: str | None) -> None:
    """Compare the runs NEW with the runs BASELINE: every metric of every matched run, regressions first.

    BASELINE and NEW are each a results folder, a store URL, a run id, or a git commit (4 or more hex
    digits) of runs in --results-dir (or --store). Runs are matched on model (by content), board and runtime, never on the host; the
    latest run of each on each side is compared. A run that was ok or bit-exact and is not now is always
    a regression. Exit status 1 on a regression, 2 on bad input, 0 otherwise.
    """
    err = Console(stderr=True)
    source = where(ctx, results_dir, store)
    base_frame = _load("BASELINE", lambda: resolve_ref(baseline, source))
    new_frame = _load("NEW", lambda: resolve_ref(new, source, what="new runs"))
    for frame in (base_frame, new_frame):
        _skipped(frame, err)
    result = compare_runs(base_frame, new_frame, checks)
    table = compare_text.deltas_table(result, title=f"hilbench compare: {baseline} -> {new}")
    out = Console(width=_width(table))
    if result.deltas:
        out.print(table)
    elif result.matched == 0:
        out.print("no run matches between the two (same model, board and runtime)")
    for line in compare_text.unmatched_lines(result) + compare_text.layer_lines(result):
        out.print(escape(line), soft_wrap=True)
    for line in compare_text.regression_lines(result):
        out.print(f"[red]regression[/red]: {escape(line)}", soft_wrap=True)
    out.print(compare_text.verdict_line(result), soft_wrap=True, style=None if result.ok else "red")
    sys.exit(0 if result.ok else 1)


@click.command()
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="the results folder whose runs are exported")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="write the runs as CSV to FILE")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="write the runs as JSON (a list of objects, one per run) to FILE")
@store_option
@click.pass_context
def export(ctx: click.Context, results_dir: Path, csv_path: Path | None, json_path: Path | None,
           store: str | None) -> None:
    """Export every stored run (of --results-dir, or the database --store), failed ones included, as CSV
    and/or JSON.

    One row per run, oldest first. Columns: the run record's fields (model, board, runtime, status, error,
    instructions_per_inference, latency_us, flash_bytes, ram_bytes, arena_bytes, ...), then model_key (the
    model's sha256), model_name, git_commit, path (the record file) and time (ISO 8601). sections and
    provenance are objects in JSON and JSON text in CSV; per-layer figures are in the records themselves.
    """
    if csv_path is None and json_path is None:
        raise click.UsageError("give --csv FILE, --json FILE or both")
    err = Console(stderr=True)
    source = where(ctx, results_dir, store)
    frame = _load("'--store'" if store is not None else "'--results-dir'", lambda: load_runs(source))
    _skipped(frame, err)
    for path, write in ((csv_path, export_runs.write_csv), (json_path, export_runs.write_json)):
        if path is not None:
            try:
                write(frame, path)
            except StoreError as exc:
                raise click.ClickException(str(exc)) from None
            err.print(f"{len(frame)} runs written to {escape(str(path))}", soft_wrap=True)
