"""``hilbench report``: the HTML report of stored runs (``harness.report.html``).

Registered on the ``hilbench`` group in ``harness.cli``. Bad input (a folder without records, records of
an unknown schema version, a baseline that names nothing) is a usage error, exit status 2, with one line.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from harness.cli_results import fail_on_option, store_option
from harness.errors import StoreError
from harness.report.gates import FAIL_ON_HELP, RegressionCheck
from harness.report.html import DEFAULT_TITLE, write_report
from harness.store.frame import RunsFrame, StoreWarning, load_runs, resolve_ref

DEFAULT_RESULTS = Path("results")


def _quietly(hint: str, ref: str | None, results_dir: Path | str) -> RunsFrame:
    """The runs of ``results_dir`` (``ref`` None) or of ``ref``; a ``StoreError`` is a usage error."""
    try:
        with warnings.catch_warnings():   # skipped files are printed from RunsFrame.warnings instead
            warnings.simplefilter("ignore", StoreWarning)
            return load_runs(results_dir) if ref is None else resolve_ref(ref, results_dir)
    except StoreError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


@click.command()
@click.argument("results_arg", metavar="[RESULTS_DIR]", required=False, type=click.Path(path_type=Path))
@click.option("--results-dir", type=click.Path(path_type=Path), default=None,
              help=f"the results folder whose runs are reported, as RESULTS_DIR  [default: {DEFAULT_RESULTS}]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="where to write the page  [default: RESULTS_DIR/report.html]")
@click.option("--baseline", metavar="REF", default=None,
              help="compare with these runs: a results folder, or a run id or git commit in RESULTS_DIR  "
                   "[default: none]")
@click.option("--fail-on", "checks", metavar="SPEC", callback=fail_on_option, default=None,
              help=f"with --baseline: {FAIL_ON_HELP} (default: none; a run that stops being ok or "
                   "bit-exact is always a regression)")
@click.option("--title", default=DEFAULT_TITLE, show_default=True, help="the page's title")
@store_option
def report(results_arg: Path | None, results_dir: Path | None, output: Path | None, baseline: str | None,
           checks: list[RegressionCheck], title: str, store: str | None) -> None:
    """Write one self-contained HTML page of the runs in RESULTS_DIR (default: results).

    The page holds the latest run of each model, board and runtime, memory against each board's limits,
    which boards each model fits, instructions per layer, the history of every stored run, the comparison
    with --baseline and with TFLite Micro, and the provenance of every figure. It needs no network: open
    it by double-click. Prints the page's path and what it holds. Exit status 2 on bad input (no records,
    records of an unknown schema version, a baseline that names nothing), 1 when the page cannot be
    written, 0 otherwise.
    """
    if results_arg is not None and results_dir is not None and results_arg != results_dir:
        raise click.UsageError(f"RESULTS_DIR {str(results_arg)!r} and --results-dir {str(results_dir)!r} differ; "
                               "give one")
    if checks and baseline is None:
        raise click.UsageError("--fail-on needs --baseline: the checks compare with it")
    if store is not None and (results_arg or results_dir) is not None:
        raise click.UsageError("--store and RESULTS_DIR (or --results-dir) both name the runs; give one")
    folder = results_arg or results_dir or DEFAULT_RESULTS
    source: Path | str = folder if store is None else store   # --store: the page goes to -o, or results/
    frame = _quietly("RESULTS_DIR" if store is None else "'--store'", None, source)
    base = None if baseline is None else _quietly("'--baseline'", baseline, source)
    err = Console(stderr=True)
    for text in (*frame.warnings, *(base.warnings if base is not None else ())):
        err.print(f"[yellow]skipped[/yellow]: {escape(text)}", soft_wrap=True)
    path = output if output is not None else folder / "report.html"
    try:
        info = write_report(path, frame, base, title, checks=checks, baseline_ref=baseline or "")
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"report: {path} ({info.bytes:,} bytes)")
    click.echo(info.line())
