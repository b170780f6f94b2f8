"""``hilbench accuracy MODEL DATASET``: a dataset's score on the target beside the host interpreter's.

Registered on the ``hilbench`` group in ``harness.cli``; the work is in ``harness.accuracy``. Exit
status 0 when the target's score equals the host's and no sample's output differs, 1 otherwise
(or when building or the target fails), 2 on bad input (an unknown model or board, a dataset folder
without y_labels.csv, a model whose input does not match the dataset), with one line on stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.accuracy import AccuracyOptions, AccuracyResult, run_accuracy
from harness.accuracy.run import Progress as ProgressFn
from harness.boards import DEFAULT_BOARD, load_board
from harness.errors import ConfigError, HarnessError, ModelError

METRIC_NAMES = {"top1": "top-1", "auc": "ROC AUC", "mean_mse": "mean MSE"}


class BadInput(click.ClickException):
    """A usage error that is not about the command line's syntax: one line, exit status 2."""

    exit_code = 2


@contextmanager
def _progress(err: Console, board: str) -> Iterator[ProgressFn]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        tasks: dict[str, TaskID] = {}
        labels = {"host": "host interpreter", "target": f"on {board}"}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done)

        yield update


def _score(result: AccuracyResult, value: float) -> str:
    return f"{value:.2%}" if result.metric == "top1" else f"{value:.6g}"


def _table(r: AccuracyResult) -> Table:
    t = Table(title=f"accuracy of {r.model} on {r.board}")
    for col in ("dataset", "metric", "target", "host", "samples", "inferences", "mismatched", "skipped"):
        t.add_column(col)
    t.add_row(escape(r.dataset), METRIC_NAMES.get(r.metric, r.metric), _score(r, r.target_score),
              _score(r, r.host_score), str(r.samples), str(r.inferences), str(len(r.mismatched_samples)),
              str(len(r.skipped)))
    return t


def _listed(err: Console, title: str, lines: list[str]) -> None:
    for line in lines:
        err.print(f"{title}: {escape(line)}", soft_wrap=True)


@click.command()
@click.argument("model")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--board", "board_name", default=DEFAULT_BOARD, show_default=True,
              help="board to run on, or the path of a board file ending in .toml")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="score only the first N usable samples (files)  [default: all]")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON on stdout")
def accuracy(model: str, dataset: Path, board_name: str, limit: int | None, as_json: bool) -> None:
    """Score DATASET with MODEL on the target and on the host interpreter, sample by sample.

    MODEL is a .tflite or a known id (ad01, digits, ...). DATASET is a folder in the MLPerf Tiny layout:
    y_labels.csv with rows 'file,classes,class' and one int8 input file per sample, or, for anomaly
    detection, rows 'file,classes,class,window_bytes,stride_bytes' over float32 spectrograms. All
    samples go through one firmware session. Classifiers are scored by top-1, anomaly detection by ROC
    AUC (the mean reconstruction MSE when only one class is present). Every sample whose output bytes
    differ from the host interpreter's is named; samples that cannot be scored (wrong size, label out
    of range, missing) are skipped and named. Exit status 0 when the target's score equals the host's
    and no output differs, 1 otherwise, 2 on bad input.
    """
    err = Console(stderr=True)
    try:
        spec = load_board(board_name)
        with _progress(err, spec.name) as progress:
            result = run_accuracy(model, dataset, spec, AccuracyOptions(limit=limit), progress)
    except (ConfigError, ModelError) as exc:
        raise BadInput(str(exc)) from None
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        Console(width=None if sys.stdout.isatty() else 200).print(_table(result))
    err.print(f"{result.inferences} inferences of {result.samples} samples in one firmware session of "
              f"{result.session_s:.1f} s (the run: {result.wall_s:.1f} s)", soft_wrap=True)
    if result.note:
        err.print(escape(result.note), soft_wrap=True)
    _listed(err, "[yellow]skipped[/yellow]", [str(s) for s in result.skipped])
    _listed(err, "[red]output differs from the host interpreter's[/red]", list(result.mismatched_samples))
    if result.target_score != result.host_score:
        err.print(f"[red]the target's {METRIC_NAMES.get(result.metric, result.metric)} "
                  f"({_score(result, result.target_score)}) differs from the host interpreter's "
                  f"({_score(result, result.host_score)})[/red]")
    sys.exit(0 if result.ok else 1)
