"""The ``hilbench`` command: drives the same flow as the pytest plugin, one model at a time."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness import cli_accuracy, cli_compile, cli_models, cli_probes, cli_report, cli_results
from harness.boards import DEFAULT_BOARD, load_board, scan_boards
from harness.cli_compile import boards_dir_option
from harness.cli_results import store_option, where
from harness.errors import HarnessError, StoreError
from harness.model.zoo import Origin, resolve_model
from harness.paths import BOARDS_DIR
from harness.report import bench as bench_report
from harness.report.baselines import TFLM
from harness.report.table import runs_table
from harness.runner import MAX_INFERENCES, MAX_SEED, RunOptions
from harness.session import HilSession
from harness.targets.backends import get_backend
from harness.targets.process import sigterm_raises_keyboard_interrupt
from harness.targets.qemu import qemu_spec


@click.group()
@click.version_option(package_name="hilbench")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Benchmark int8 TinyML models on Cortex-M boards, emulated or real."""
    # SIGTERM (timeout, a cancelled CI job, kill) ends a run as Ctrl-C does: targets close, QEMU stops
    ctx.call_on_close(sigterm_raises_keyboard_interrupt())


@main.command()
@boards_dir_option
def boards(boards_dir: Path | None) -> None:
    """List the boards: core, clock, flash and RAM (the real part's limits).

    With --boards-dir, the built-in boards and yours, with the file each comes from. A board file that
    does not load, or that takes a built-in board's name, is named on stderr after the table of the
    others; the exit status is then 1.
    """
    t = Table(title="hilbench boards")
    columns = ["board", "core", "FPU", "clock MHz", "flash KiB", "RAM KiB", "target", "notes"]
    for col in columns + (["source"] if boards_dir is not None else []):
        t.add_column(col)
    # scan_boards() with no arguments when no folder is given (the tests replace it with a lambda)
    scan = scan_boards() if boards_dir is None else scan_boards(user_dir=boards_dir)
    if boards_dir is not None:
        t.caption = f"built-in boards: {BOARDS_DIR}; yours: {boards_dir}"
    for b in scan.boards.values():
        note = f"limits of {b.emulates}" if b.emulates else b.description
        cells = [b.name + (" (default)" if b.name == DEFAULT_BOARD else ""), b.core.value, b.fpu or "-",
                 str(b.clock_hz // 1_000_000), f"{b.flash_bytes / 1024:g}", f"{b.ram_bytes / 1024:g}",
                 b.target + (f" {q.machine}" if (q := qemu_spec(b)) else ""), note]
        if boards_dir is not None:
            cells.append(b.source if b.name in scan.user_boards else "built-in")
        t.add_row(*(escape(c) for c in cells))
    Console(width=_width(t)).print(t)
    err = Console(stderr=True)
    for exc in scan.errors:
        err.print(f"[red]not loaded[/red]: {escape(str(exc))}", soft_wrap=True)
    sys.exit(1 if scan.errors else 0)


@main.command()
@click.argument("model")
@click.option("--board", "board_names", multiple=True, default=[DEFAULT_BOARD], show_default=True,
              help="board to run on, or the path of a board file ending in .toml; repeat for several")
@boards_dir_option
@click.option("--inferences", type=click.IntRange(1, MAX_INFERENCES), default=5, show_default=True)
@click.option("--warmup", type=click.IntRange(0, MAX_INFERENCES), default=1, show_default=True)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="seed of the random int8 input")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the run record(s) as JSON on stdout")
@click.option("--target", metavar="BACKEND", default=None,
              help="run with this target backend instead of the board's own (`hilbench boards` shows it)")
@click.option("--probe", metavar="ID", default=None,
              help="real boards: the debug probe's unique id (`hilbench probes`), or gdb:HOST:PORT for a GDB "
                   "server; default: the only probe attached")
@click.option("--port", metavar="PORT", default=None,
              help="real boards: the serial port (device or pyserial URL); default: the probe's own")
@click.option("--energy", metavar="METER", default=None,
              help="joulescope[:SERIAL], ppk2[:PORT] or estimate; default: estimate where the board has a figure")
@click.option("--energy-layers", is_flag=True, help="with --energy: also each layer's energy")
@store_option
@click.pass_context
def run(ctx: click.Context, model: str, board_names: tuple[str, ...], boards_dir: Path | None, inferences: int,
        warmup: int, seed: int, results_dir: Path, as_json: bool, target: str | None, probe: str | None,
        port: str | None, energy: str | None, energy_layers: bool, store: str | None) -> None:
    """Compile MODEL (a .tflite or a known id such as ad01), run it on each board, store the records.

    The results are printed even when a record cannot be stored; the store's error follows them. Exit
    status 0 when every run is ok and its record stored; 1 otherwise.
    """
    try:
        specs = [load_board(n, BOARDS_DIR, boards_dir) for n in board_names]
        if target is not None:
            get_backend(target)
        if energy_layers and energy is None:
            raise click.UsageError("--energy-layers needs --energy METER (joulescope[:SERIAL] or ppk2[:PORT])")
        session = HilSession(inferences=inferences, warmup=warmup, target=target,
                             **_store_args(where(ctx, results_dir, store)))
        options = RunOptions(seed=seed, probe=probe, port=port, energy=energy, energy_layers=energy_layers)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    err = Console(stderr=True)
    for spec in specs:
        if Path(spec.source).parent != BOARDS_DIR:   # a path ending in .toml, or a board of --boards-dir
            err.print(f"board {escape(spec.name)} from the board file {escape(spec.source)}", soft_wrap=True)
    for spec in specs:
        # a StoreError leaves the record in session.unsaved: it is printed, then reported below
        with err.status(f"{escape(model)} on {escape(spec.name)}: compiling, running, measuring"), \
                contextlib.suppress(StoreError):
            session.run(model, spec, options=options)
    if as_json:
        out = [r.to_dict() for r in session.records]
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2))
    else:
        table = runs_table(session.records)
        Console(width=_width(table)).print(table)
        for r in session.records:
            if not r.ok:
                err.print(f"[red]{escape(r.model)} on {escape(r.board)}: {escape(r.status)}[/red]: "
                          f"{escape(r.error or '')}", soft_wrap=True)
    unsaved = _report_store(session, err)
    sys.exit(0 if all(r.ok for r in session.records) and not unsaved else 1)


def _store_args(place: Path | str) -> dict[str, Any]:
    """HilSession's store arguments for a results folder (a path) or a database (a URL string)."""
    return {"results_dir": place} if isinstance(place, Path) else {"results_dir": Path("results"), "store_url": place}


def _report_store(session: HilSession, err: Console) -> bool:
    """Say where the records went and which could not be stored; True if one could not."""
    if session.saved:
        err.print(f"records: {escape(str(session.store.runs_dir))}", soft_wrap=True)
    for u in session.unsaved:
        err.print(f"[red]record not stored[/red] ({escape(u.record.model)} on {escape(u.record.board)}, "
                  f"status {escape(u.record.status)}): {escape(str(u.error))}", soft_wrap=True)
    return bool(session.unsaved)


def _model_ids(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    ids = [m.strip() for m in value.split(",") if m.strip()]
    unknown = [m for m in ids if m not in TFLM]
    if not ids or unknown:
        raise click.BadParameter(f"{value!r}: expected a comma-separated list of {', '.join(TFLM)}")
    return list(dict.fromkeys(ids))


def _width(table: Table) -> int | None:
    """None (the terminal's width) on a terminal; elsewhere wide enough that no cell wraps."""
    if sys.stdout.isatty():
        return None
    return max(170, Console(width=1000).measure(table).maximum)


@main.command()
@click.option("--board", "board_name", default=DEFAULT_BOARD, show_default=True, help="board to run on")
@boards_dir_option
@click.option("--models", "model_ids", default=",".join(TFLM), show_default=True, callback=_model_ids,
              help="comma-separated MLPerf Tiny model ids")
@click.option("--results-dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="also write the rows (main and per layer) as JSON to FILE")
@click.option("--markdown", is_flag=True,
              help="print only the main table, as Markdown, on stdout (the rest goes to stderr)")
@store_option
@click.pass_context
def bench(ctx: click.Context, board_name: str, boards_dir: Path | None, model_ids: list[str], results_dir: Path,
          json_path: Path | None, markdown: bool, store: str | None) -> None:
    """Benchmark the MLPerf Tiny models on one board, beside TFLite Micro's figures (DESIGN §7).

    Each model runs once (2 timed inferences after 1 warm-up: QEMU's counts are exact) and its record is
    stored. Exit status 0 when every model ran, is bit-exact and meets every target, and every record
    was stored; 1 otherwise.
    """
    try:
        spec = load_board(board_name, BOARDS_DIR, boards_dir)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    session = HilSession(inferences=2, warmup=1, **_store_args(where(ctx, results_dir, store)))
    err = Console(stderr=True)
    rows: list[bench_report.ModelRow] = []
    layers: dict[str, list[bench_report.LayerRow]] = {}
    for model_id in model_ids:
        try:  # the official file where there is one (cached or in the models folder), else built from code
            with err.status(f"{model_id}: finding the model"):
                ref = resolve_model(model_id)
        except HarnessError as exc:
            reason = (f"{exc} (`hilbench models download mlperf-tiny [--mirror DIR]` fetches the official "
                      "file; `pip install '.[models]'` lets hilbench build it from code)")
            rows.append(bench_report.skipped_row(model_id, reason, TFLM[model_id]))
            continue
        if ref.origin != Origin.OFFICIAL:
            err.print(f"{model_id}: {escape(ref.source or ref.origin.value)}", soft_wrap=True)
        # a StoreError leaves the record in session.unsaved: it is printed, then reported below
        with err.status(f"{model_id} on {escape(spec.name)}: compiling, running, measuring"), \
                contextlib.suppress(StoreError):
            session.run(ref, spec)
        record = session.records[-1]
        rows.append(bench_report.model_row(record, TFLM[model_id]))
        layers[model_id] = bench_report.layer_rows(record)

    main_table = bench_report.main_table(rows, spec.name)
    if markdown:
        click.echo(bench_report.markdown_table(rows), nl=False)
        out = err
    else:
        out = Console(width=_width(main_table))
        out.print(main_table)
        for row in rows:
            if layers.get(row.model):
                out.print(bench_report.layer_table(row, layers[row.model]))
    machine = q.machine if (q := qemu_spec(spec)) else None
    for line in bench_report.provenance_lines(session.records, spec.name, machine, spec.core.value):
        out.print(line, soft_wrap=True)
    for row in rows:
        if row.status != "ok":
            out.print(f"[red]{row.model}: {row.status}[/red]: {escape(row.error or '')}", soft_wrap=True)
    if json_path is not None:
        data = bench_report.bench_json(spec.name, rows, layers)
        try:
            json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {json_path}: {exc}") from None
    missed = bench_report.shortfalls(rows)
    if missed:
        out.print(f"[red]targets missed[/red]: {escape('; '.join(missed))}", soft_wrap=True)
    else:
        out.print(f"all {len(rows)} models ran, are bit-exact and meet every target")
    unsaved = _report_store(session, err)
    sys.exit(1 if missed or unsaved else 0)


# commands over stored runs: compare (regression checks) and export (CSV, JSON)
main.add_command(cli_results.compare)
main.add_command(cli_results.export)
main.add_command(cli_results.store_group)   # hilbench store import/export: move records between stores
main.add_command(cli_report.report)   # the HTML report of stored runs
main.add_command(cli_compile.compile_project)   # a firmware project to take away
main.add_command(cli_models.models)   # list the known models, download the official files
main.add_command(cli_accuracy.accuracy)   # a dataset's score on the target beside the host's
main.add_command(cli_probes.probes)   # the debug probes attached (pyOCD), with their serial ports


if __name__ == "__main__":
    main()
