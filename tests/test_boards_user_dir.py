"""A user's own folder of board files (``--hil-boards-dir``, ``--boards-dir``) beside the built-in boards.

A board's name means one board: a user's file named like a built-in board is refused, naming both files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import cli
from harness.boards import BOARDS_DIR, board_names, load_board, scan_boards
from harness.errors import ConfigError

pytest_plugins = ["pytester"]


def _board(folder: Path, name: str, like: str = "qemu-m4", ram_bytes: int | None = None) -> Path:
    """A copy of the built-in board ``like`` named ``name`` in ``folder``, with ``ram_bytes`` of RAM if given."""
    text = (BOARDS_DIR / f"{like}.toml").read_text().replace(f'name = "{like}"', f'name = "{name}"')
    if ram_bytes is not None:
        text = re.sub(r"ram_bytes = [0-9_]+", f"ram_bytes = {ram_bytes}", text)
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def test_a_board_of_the_users_folder_loads_by_name(tmp_path: Path) -> None:
    mine = _board(tmp_path / "mine", "my-m4", ram_bytes=262_144)
    spec = load_board("my-m4", BOARDS_DIR, tmp_path / "mine")
    assert (spec.name, spec.ram_bytes, spec.source) == ("my-m4", 262_144, str(mine))
    assert load_board("qemu-m4", BOARDS_DIR, tmp_path / "mine").source == str(BOARDS_DIR / "qemu-m4.toml")
    assert "my-m4" in board_names(BOARDS_DIR, tmp_path / "mine") and "qemu-m4" in board_names(BOARDS_DIR)
    with pytest.raises(ConfigError, match=r"unknown board 'my-m4'; expected one of \[.*'qemu-m4'"):
        load_board("my-m4")   # not without the folder


def test_a_users_board_that_shadows_a_built_in_one_is_refused_naming_both(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    shadow = _board(mine, "qemu-m4", ram_bytes=131_072)
    _board(mine, "my-m4")
    message = (rf"board file {re.escape(str(shadow))}: 'qemu-m4' is the name of the built-in board "
               rf"{re.escape(str(BOARDS_DIR / 'qemu-m4.toml'))}; a board's name must mean one board in the "
               r"results, so give your file and its board another name")
    with pytest.raises(ConfigError, match=message):
        load_board("qemu-m4", BOARDS_DIR, mine)
    with pytest.raises(ConfigError, match=message):
        load_board(str(BOARDS_DIR / "qemu-m4.toml"), BOARDS_DIR, mine)
    assert load_board("my-m4", BOARDS_DIR, mine).name == "my-m4"   # the folder's other boards still load
    scan = scan_boards(BOARDS_DIR, mine)
    assert scan.boards["qemu-m4"].source == str(BOARDS_DIR / "qemu-m4.toml")   # the built-in one, unchanged
    assert scan.user_boards == {"my-m4"}
    assert [str(e) for e in scan.errors if "qemu-m4" in str(e)] and re.search(message, str(scan.errors[-1]))


def test_a_toml_path_may_be_a_folders_own_file_but_not_take_its_name(tmp_path: Path) -> None:
    mine = _board(tmp_path / "mine", "my-m4")
    assert load_board(str(mine), BOARDS_DIR, tmp_path / "mine").source == str(mine)
    other = _board(tmp_path / "other", "my-m4")
    with pytest.raises(ConfigError, match=r"'my-m4' is the name of a board in .*mine; give the file"):
        load_board(str(other), BOARDS_DIR, tmp_path / "mine")


def test_a_boards_folder_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"boards folder .*nowhere: not found or not a folder; expected a "
                                          r"folder of board files \(NAME\.toml\)"):
        load_board("qemu-m4", BOARDS_DIR, tmp_path / "nowhere")


def test_the_built_in_folder_given_as_the_users_is_no_clash() -> None:
    assert load_board("qemu-m4", BOARDS_DIR, BOARDS_DIR).name == "qemu-m4"
    assert not scan_boards(BOARDS_DIR, BOARDS_DIR).errors


# -- hilbench boards, run, compile --------------------------------------------------------------------------


def test_boards_lists_both_sources_and_names_the_shadowing_file(tmp_path: Path) -> None:
    mine = _board(tmp_path / "mine", "my-m4", ram_bytes=262_144)
    _board(tmp_path / "mine", "qemu-m3")
    out = CliRunner(env={"COLUMNS": None}).invoke(cli.main, ["boards", "--boards-dir", str(tmp_path / "mine")])
    assert out.exit_code == 1, out.output
    rows = {line.split()[1]: line for line in out.stdout.splitlines() if line.startswith("│")}
    assert "built-in" in rows["qemu-m4"] and str(mine) in rows["my-m4"] and "256" in rows["my-m4"]
    assert "built-in" in rows["qemu-m3"]
    assert f"yours: {tmp_path / 'mine'}" in out.stdout
    assert "not loaded" in out.stderr and "'qemu-m3' is the name of the built-in board" in out.stderr


def test_run_takes_boards_dir_and_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli.main, ["run", "ad01", "--board", "my-m4", "--boards-dir", str(tmp_path / "no")])
    assert out.exit_code == 2 and "Directory" in out.output and "does not exist" in out.output
    _board(tmp_path / "mine", "qemu-m4")
    out = CliRunner().invoke(cli.main, ["run", "ad01", "--board", "qemu-m4", "--boards-dir",
                                        str(tmp_path / "mine"), "--results-dir", str(tmp_path / "res")])
    assert out.exit_code == 1 and "is the name of the built-in board" in out.output
    assert not (tmp_path / "res").exists()


# -- the pytest plugin ----------------------------------------------------------------------------------------


def test_help_shows_hil_boards_dir_with_its_default(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--hil-boards-dir=DIR*"])
    assert "(default: none, only the built-in boards)" in " ".join(result.stdout.str().split())


def test_hil_boards_dir_errors_are_usage_errors(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--hil-boards-dir", "nowhere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hil-boards-dir*boards folder nowhere: not found or not a folder*"])
    _board(pytester.path / "mine", "qemu-m4")
    result = pytester.runpytest("--hil-boards-dir", "mine", "--hil-board", "qemu-m4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hil-board: board file *qemu-m4.toml: 'qemu-m4' is the name of the built-in*"])


def test_hil_boards_dir_gives_the_fixture_the_users_board(pytester: pytest.Pytester) -> None:
    _board(pytester.path / "mine", "my-m4", ram_bytes=262_144)
    pytester.makepyfile("""
        def test_board(hil_board):
            assert (hil_board.name, hil_board.ram_bytes) == ("my-m4", 262_144)
            assert hil_board.source.endswith("mine/my-m4.toml")
    """)
    result = pytester.runpytest("--hil-boards-dir", "mine", "--hil-board", "my-m4", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
