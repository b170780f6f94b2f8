"""``hilbench store import SRC DST`` and ``hilbench store export SRC DST``: move run records between stores.

Registered on the ``hilbench`` group in ``harness.cli``. SRC and DST are each a results folder (JSON,
the default store) or a database URL (``sqlite:///PATH/hilbench.db``, ``postgresql://...``). A run id
already in DST is skipped, and said so: running the same move twice copies nothing the second time.
A bad URL is a usage error (exit status 2); a store that cannot be read or written exits with status 1.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape

from harness.errors import StoreError
from harness.store.backends import copy_records, open_store

STORES = ("SRC and DST are each a results folder (run records as JSON files) or a database URL: "
          "sqlite:///PATH/hilbench.db or postgresql://USER:PASSWORD@HOST:PORT/DB.")


@click.group()
def store() -> None:
    """Move run records between stores: results folders and SQL databases."""


def _move(src: str, dst: str) -> None:
    err = Console(stderr=True)
    try:
        source, dest = open_store(src), open_store(dst)
    except StoreError as exc:   # a malformed URL or an unknown dialect
        raise click.UsageError(str(exc)) from None
    try:
        result = copy_records(source, dest)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    for text in result.unreadable:
        err.print(f"[yellow]skipped[/yellow]: {escape(text)}", soft_wrap=True)
    for run_id in result.present:
        err.print(f"already in {escape(dest.location)}, skipped: {escape(run_id)}", soft_wrap=True)
    click.echo(f"{len(result.copied)} run records copied from {source.location} to {dest.location}; "
               f"{len(result.present)} already there, skipped; {len(result.unreadable)} unreadable in the source")


@store.command("import")
@click.argument("src")
@click.argument("dst")
def import_(src: str, dst: str) -> None:
    """Copy every run record of SRC into DST (e.g. a results folder into a team's database).

    SRC and DST are each a results folder or a database URL. A run id already in DST is skipped and
    named; an unreadable record in SRC is named and the rest still come. Exit status 0 when every record
    of SRC is in DST, 1 when a store cannot be read or written, 2 on a bad URL.
    """
    _move(src, dst)


@store.command("export")
@click.argument("src")
@click.argument("dst")
def export(src: str, dst: str) -> None:
    """Copy every run record of SRC out into DST (e.g. a database into a results folder).

    The same move as `hilbench store import`, read the other way. SRC and DST are each a results folder or
    a database URL. A run id already in DST is skipped and named.
    """
    _move(src, dst)
