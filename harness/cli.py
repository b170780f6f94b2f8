"""The ``hilbench`` command: drives the same flow as the pytest plugin, one model at a time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from harness.boards import DEFAULT_BOARD, all_boards, load_board
from harness.errors import HarnessError
from harness.report.table import runs_table
from harness.runner import RunOptions
from harness.session import HilSession


@click.group()
@click.version_option(package_name="hilbench")
def main() -> None:
    """Benchmark int8 TinyML models on Cortex-M boards, emulated or real."""


@main.command()
def boards() -> None:
    """List the boards: core, clock, flash and RAM (the real part's limits)."""
    t = Table(title="hilbench boards")
    for col in ("board", "core", "FPU", "clock MHz", "flash KiB", "RAM KiB", "target", "notes"):
        t.add_column(col)
    try:
        specs = all_boards()
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    for b in specs.values():
        note = f"limits of {b.emulates}" if b.emulates else b.description
        t.add_row(b.name + (" (default)" if b.name == DEFAULT_BOARD else ""), b.core.value, b.fpu or "-",
                  str(b.clock_hz // 1_000_000), f"{b.flash_bytes / 1024:g}", f"{b.ram_bytes / 1024:g}",
                  b.target + (f" {b.qemu.machine}" if b.qemu else ""), note)
    Console().print(t)


@main.command()
@click.argument("model")
@click.option("--board", "board_names", multiple=True, default=[DEFAULT_BOARD], show_default=True,
              help="board to run on; repeat for several")
@click.option("--inferences", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the random int8 input")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the run record(s) as JSON on stdout")
def run(model: str, board_names: tuple[str, ...], inferences: int, warmup: int, seed: int, results_dir: Path,
        as_json: bool) -> None:
    """Compile MODEL (a .tflite or a known id such as ad01), run it on each board, store the records."""
    try:
        specs = [load_board(n) for n in board_names]
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    session = HilSession(results_dir=results_dir, inferences=inferences, warmup=warmup)
    err = Console(stderr=True)
    for spec in specs:
        with err.status(f"{model} on {spec.name}: compiling, running, measuring"):
            session.run(model, spec, options=RunOptions(seed=seed))
    if as_json:
        out = [r.to_dict() for r in session.records]
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        Console(width=None if sys.stdout.isatty() else 170).print(runs_table(session.records))
        for r in session.records:
            if not r.ok:
                err.print(f"[red]{r.model} on {r.board}: {r.status}[/red]: {r.error}")
        err.print(f"records: {session.store.runs_dir}")
    sys.exit(0 if all(r.ok for r in session.records) else 1)


if __name__ == "__main__":
    main()
