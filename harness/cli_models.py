"""``hilbench models list`` and ``hilbench models download``: the known models and the official files.

Registered on the ``hilbench`` group in ``harness.cli``. Exit statuses: 0 ok, 1 a file that could not
be fetched or was not the pinned one, 2 bad input (an unknown name, a mirror that is not a folder).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from harness.errors import ConfigError, HarnessError
from harness.model import official
from harness.model.zoo import Known, known_models

NAMES = (official.SUITE, *official.OFFICIAL)


@click.group()
def models() -> None:
    """The known models: list them, download the official MLPerf Tiny files."""


def _ids(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    unknown = [v for v in value if v not in NAMES]
    if unknown:
        raise click.BadParameter(f"{unknown[0]!r} is not a model set or official model; expected "
                                 f"{', '.join(NAMES)}")
    ids = [m for v in value for m in (official.OFFICIAL if v == official.SUITE else [v])]
    return list(dict.fromkeys(ids))


def _mirror(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value == "":
        raise click.BadParameter("'' is not a folder; expected the folder of the official files")
    return None if value is None else Path(value)


@models.command()
@click.argument("names", nargs=-1, required=True, callback=_ids, metavar=f"{official.SUITE}|ID...")
@click.option("--mirror", callback=_mirror, default=None, metavar="DIR",
              help=f"copy the files from DIR (the files by name, or a checkout of {official.REPO}) instead "
                   f"of GitHub; default: ${official.MIRROR_ENV}, else GitHub")
def download(names: list[str], mirror: Path | None) -> None:
    """Download the official MLPerf Tiny files.

    Each file goes into the cache only if its sha256 is the one the project pins.

    The files come from github.com/mlcommons/tiny at the pinned commit (or from
    $HILBENCH_MODEL_URL_BASE), or from a local mirror folder. A file already cached is not fetched again.
    Exit status 0 when every file is cached, 1
    when one could not be, 2 on bad input.
    """
    try:
        mirror_dir = official.mirror_dir(mirror)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    err = Console(stderr=True)
    failed = 0
    done: list[str] = []   # printed on stdout once the progress bars are gone
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    # no bars where stderr is not a terminal (CI logs, pipes): the lines below say what happened
    with Progress(*columns, console=err, transient=True, redirect_stdout=False,
                  disable=not err.is_terminal) as progress:
        for model_id in names:
            pinned = official.OFFICIAL[model_id]
            task = progress.add_task(f"{model_id} {pinned.file_name}", total=pinned.size_bytes)
            try:
                got = official.fetch(model_id, mirror_dir, functools.partial(progress.advance, task))
            except HarnessError as exc:
                failed += 1
                progress.console.print(f"[red]{model_id}[/red]: {escape(str(exc))}", soft_wrap=True)
                continue
            finally:
                progress.remove_task(task)
            what = f"from {got.source}" if got.fetched else "already cached"
            done.append(f"{model_id}: {got.path} ({what}; sha256 {pinned.sha256[:16]}... as pinned)")
    for line in done:
        click.echo(line)
    if failed:
        err.print(f"[red]{failed} of {len(names)} files not cached[/red]", soft_wrap=True)
    sys.exit(1 if failed else 0)


def _row(k: Known) -> dict[str, Any]:
    return {"id": k.id, "task": k.task, "origin": k.origin.value, "cached": k.path is not None,
            "path": None if k.path is None else str(k.path), "size_bytes": k.size_bytes, "where": k.where,
            "default": k.default}


@models.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="print the list as JSON on stdout")
def list_models(as_json: bool) -> None:
    """List the known models: origin, whether cached, where, size.

    One row per model and origin: id, task, origin (official, built-untrained, built-trained, user),
    whether its file is on this machine and where, its size in bytes.

    An MLPerf Tiny id is the official file when that is downloaded or in $HILBENCH_MODELS_DIR, else the
    same architecture built from code with untrained weights; the row marked default is the one
    `hilbench run ID` uses. Builds and downloads nothing.
    """
    try:
        rows = known_models()
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([_row(k) for k in rows], indent=2))
        return
    t = Table(title="hilbench models")
    for col in ("id", "task", "origin", "default", "cached", "size B", "where"):
        t.add_column(col, justify="right" if col == "size B" else "left")
    for k in rows:
        size = "-" if k.size_bytes is None else f"{k.size_bytes:,}"
        where = k.where if k.path is None else f"{k.where}: {k.path}"
        t.add_row(k.id, escape(k.task), k.origin.value, "yes" if k.default else "",
                  "yes" if k.path is not None else "no", size, escape(where))
    Console(width=None if sys.stdout.isatty() else max(170, Console(width=1000).measure(t).maximum)).print(t)
