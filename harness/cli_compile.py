"""``hilbench compile``: write a firmware project to take away, which ``make`` builds.

Also holds ``--boards-dir``, the option every command that takes ``--board`` shares.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from harness.boards import BOARDS_DIR_HELP, DEFAULT_BOARD, load_board
from harness.errors import HarnessError
from harness.firmware.project import write_project
from harness.model import load_model
from harness.model.zoo import resolve_model
from harness.paths import BOARDS_DIR

boards_dir_option = click.option(
    "--boards-dir", "boards_dir", default=None, metavar="DIR",
    type=click.Path(exists=True, file_okay=False, resolve_path=True, path_type=Path),
    help=f"{BOARDS_DIR_HELP} [default: none, only the built-in boards]")


@click.command("compile")
@click.argument("model")
@click.option("--board", "board_name", default=DEFAULT_BOARD, show_default=True,
              help="board to build for, or the path of a board file ending in .toml")
@boards_dir_option
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), required=True,
              metavar="DIR", help="folder to write the project into: new, empty, or a project written before "
                                  "(which is replaced)")
def compile_project(model: str, board_name: str, boards_dir: Path | None, output: Path) -> None:
    """Write a firmware project for MODEL (a .tflite or a known id such as ad01) on a board into DIR.

    DIR then holds the generated model (model.c, model.h), the kernels it uses, start-up code, the UART
    driver, the headers, a linker script, a Makefile and a README.txt: `make -C DIR` builds firmware.elf
    with arm-none-eabi-gcc and the flags hilbench uses, the same bytes as hilbench's own build. Exit
    status 0 when the project was written; 1 otherwise (unknown model or board, a model the board cannot
    hold, a folder in use).
    """
    try:
        spec = load_board(board_name, BOARDS_DIR, boards_dir)
        ref = resolve_model(model)
        project = write_project(load_model(ref.path), spec, output, ref.id)
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    err = Console(stderr=True)
    err.print(f"wrote {len(project.files)} files for model {escape(project.model_id)} on board "
              f"{escape(project.board)} to {escape(str(output))}; build it with `make -C {escape(str(output))}`",
              soft_wrap=True)
