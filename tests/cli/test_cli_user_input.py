"""`hilbench` against careless or hostile input: markup in names, stores that cannot be written, counts out
of range, bad board files. The runs are faked (no QEMU): what is tested is the command around them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness import cli
from harness.boards import BOARDS_DIR, BoardSpec, load_board, scan_boards
from harness.errors import ConfigError
from harness.runner import MAX_INFERENCES, MAX_SEED, RunOptions, run_model
from harness.session import HilSession
from harness.store import RunRecord
from tests.conftest import model_path

MARKUP_ERROR = "boom [/red] then [bold]kept[/bold] and [link=x]y[/link]"


def fake_run(status: str = "ok", error: str | None = None) -> Callable[..., RunRecord]:
    def run(model: Any, board: BoardSpec, options: RunOptions | None = None, target_name: str | None = None
            ) -> RunRecord:
        options = options or RunOptions()
        return RunRecord(model=str(model), board=board.name, runtime="fake", target="qemu", status=status,
                         error=error, inferences=options.inferences, warmup=options.warmup, seed=options.seed,
                         instructions_per_inference=1234, run_id=f"t-{board.name}-{Path(str(model)).stem}")
    return run


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[RunRecord]:
    """Fake runs that succeed; the list holds what each returned."""
    done: list[RunRecord] = []

    def run(*args: Any, **kwargs: Any) -> RunRecord:
        done.append(fake_run()(*args, **kwargs))
        return done[-1]
    monkeypatch.setattr("harness.session.run_model", run)
    return done


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


# -- rich markup in user and firmware text ---------------------------------------------------------------


def test_a_model_path_with_markup_is_printed_verbatim(tmp_path: Path) -> None:
    # the real runner: the file does not exist, so the run ends at once with status "model"
    out = invoke("run", "x[/x].tflite", "--results-dir", str(tmp_path))
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit)
    # the model id is the file's stem, "x]" (the path has a folder "x["), and the error quotes the path
    assert "x] on qemu-m4: model: model x[/x].tflite: cannot read it" in out.stderr
    out = invoke("run", "y[bold].tflite", "--results-dir", str(tmp_path))
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    assert "│ y[bold] " in out.stdout          # the table's model cell


def test_an_error_with_markup_is_printed_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.session.run_model", fake_run("mismatch", MARKUP_ERROR))
    out = invoke("run", "[bold]m.tflite", "--results-dir", str(tmp_path))
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    assert f"[bold]m.tflite on qemu-m4: mismatch: {MARKUP_ERROR}" in out.stderr
    assert "[bold]m.tflite" in out.stdout
    assert len(list((tmp_path / "runs").glob("*.json"))) == 1


def test_boards_with_markup_in_a_board_file_are_printed_verbatim(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    text = (BOARDS_DIR / "qemu-m4.toml").read_text()
    (boards / "odd.toml").write_text(text.replace('"qemu-m4"', '"odd"').replace(
        'description = "MPS2 AN386, Cortex-M4F, emulated by QEMU"', 'description = "a [/b] [bold]board"'))
    monkeypatch.setattr(cli, "scan_boards", lambda: scan_boards(boards))
    out = invoke("boards")
    assert out.exit_code == 0, out.output
    assert "a [/b] [bold]board" in out.stdout


# -- `hilbench boards` --------------------------------------------------------------------------------------


def test_boards_piped_is_not_cut_to_80_columns() -> None:
    out = CliRunner(env={"COLUMNS": None}).invoke(cli.main, ["boards"])
    assert out.exit_code == 0, out.output
    assert "NUCLEO-L4R5ZI limits" in out.stdout or "limits of nucleo-l4r5zi" in out.stdout
    assert "MPS2 AN386, Cortex-M4F, emulated by QEMU" in out.stdout and "…" not in out.stdout


def test_boards_lists_the_good_boards_and_names_the_bad_file(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    boards = tmp_path / "boards"
    boards.mkdir()
    for name in ("qemu-m3", "qemu-m4"):
        (boards / f"{name}.toml").write_text((BOARDS_DIR / f"{name}.toml").read_text())
    (boards / "broken.toml").write_bytes(b'name = "broken"\ndescription = "caf\xe9"\n')
    monkeypatch.setattr(cli, "scan_boards", lambda: scan_boards(boards))
    out = invoke("boards")
    assert out.exit_code == 1
    assert "qemu-m3" in out.stdout and "qemu-m4" in out.stdout
    assert "broken.toml: cannot read it: 'utf-8' codec can't decode" in out.stderr
    assert "Traceback" not in out.output


# -- the store cannot write: the result is printed, then the store's error ---------------------------------


def _in_the_way(tmp_path: Path, how: str) -> Path:
    if how == "results-dir is a file":
        (tmp_path / "res").write_text("")
    elif how == "runs is a file":
        (tmp_path / "res").mkdir()
        (tmp_path / "res" / "runs").write_text("")
    return tmp_path / "res"


@pytest.mark.parametrize("how", ["results-dir is a file", "runs is a file"])
def test_run_json_prints_the_record_when_the_store_cannot_write(tmp_path: Path, runs: list[RunRecord],
                                                                how: str) -> None:
    out = invoke("run", "ad01", "--json", "--results-dir", str(_in_the_way(tmp_path, how)))
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    printed = json.loads(out.stdout)
    assert printed["session_id"]  # the session stamps its id on every record it runs
    assert {**printed, "session_id": ""} == runs[0].to_dict()
    assert "record not stored (ad01 on qemu-m4, status ok): cannot write run record" in out.stderr
    assert "Traceback" not in out.output


def test_run_prints_the_table_then_the_store_error_for_every_board(tmp_path: Path, runs: list[RunRecord]) -> None:
    out = invoke("run", "ad01", "--board", "qemu-m4", "--board", "qemu-m3",
                 "--results-dir", str(_in_the_way(tmp_path, "results-dir is a file")))
    assert out.exit_code == 1, out.output
    assert "qemu-m4" in out.stdout and "qemu-m3" in out.stdout and "1,234" in out.stdout
    assert out.stderr.count("record not stored") == 2 and "records:" not in out.stderr


def test_bench_prints_the_table_then_the_store_error(tmp_path: Path, runs: list[RunRecord]) -> None:
    model_path("ad01_int8.tflite")  # bench skips a model whose file is missing
    out = invoke("bench", "--models", "ad01", "--results-dir", str(_in_the_way(tmp_path, "runs is a file")))
    assert out.exit_code == 1, out.output
    assert "ad01" in out.stdout and "1,234" in out.stdout
    assert "record not stored (ad01 on qemu-m4, status ok)" in out.stderr
    assert "Traceback" not in out.output


# -- counts and seed: bounded before anything is built ----------------------------------------------------


@pytest.mark.parametrize("option, value, accepted", [
    ("--seed", "-1", f"0<=x<={MAX_SEED}"),
    ("--seed", str(2**32), f"0<=x<={MAX_SEED}"),
    ("--inferences", str(10**80), f"1<=x<={MAX_INFERENCES}"),
    ("--inferences", str(2**31), f"1<=x<={MAX_INFERENCES}"),
    ("--inferences", "0", f"1<=x<={MAX_INFERENCES}"),
    ("--warmup", str(2**31), f"0<=x<={MAX_INFERENCES}"),
])
def test_counts_out_of_range_are_usage_errors(runs: list[RunRecord], option: str, value: str,
                                              accepted: str) -> None:
    out = invoke("run", "ad01", option, value)
    assert out.exit_code == 2 and not runs
    assert value in out.stderr and accepted in out.stderr


def test_the_largest_counts_and_seed_are_accepted(tmp_path: Path, runs: list[RunRecord]) -> None:
    out = invoke("run", "ad01", "--inferences", str(MAX_INFERENCES), "--warmup", str(MAX_INFERENCES),
                 "--seed", str(MAX_SEED), "--json", "--results-dir", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert (runs[0].inferences, runs[0].warmup, runs[0].seed) == (MAX_INFERENCES, MAX_INFERENCES, MAX_SEED)


@pytest.mark.parametrize("counts, message", [
    ({"seed": -1}, r"seed is -1; expected a whole number from 0 to 4294967295"),
    ({"inferences": 2**31}, r"inferences is 2147483648; expected a whole number from 1 to 2147483647"),
    ({"warmup": -1}, r"warmup is -1; expected a whole number from 0 to 2147483647"),
    ({"inferences": True}, r"inferences is True; expected a whole number"),
])
def test_run_options_refuse_counts_out_of_range(counts: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RunOptions(**counts)  # type: ignore[arg-type]


def test_a_session_refuses_counts_before_running(tmp_path: Path, runs: list[RunRecord]) -> None:
    with pytest.raises(ConfigError, match=r"inferences is 0; expected a whole number from 1"):
        HilSession(results_dir=tmp_path, inferences=0)
    session = HilSession(results_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"inferences is 10{80}; expected a whole number from 1 to 2147483647"):
        session.run("ad01", "qemu-m4", inferences=10**80)
    with pytest.raises(ConfigError, match=r"warmup is 2147483648; expected"):
        session.run("ad01", "qemu-m4", warmup=2**31)
    assert not runs and not session.records


def test_the_runner_records_the_seed(tmp_path: Path) -> None:
    board = load_board("qemu-m4")
    # a model that does not exist: the record is written at once, with the options it was given
    assert run_model(tmp_path / "none.tflite", board, RunOptions(seed=99)).seed == 99
    assert run_model(tmp_path / "none.tflite", board, RunOptions(input_bytes=b"\0")).seed is None
    assert run_model(tmp_path / "none.tflite", board).provenance["board_file"].endswith("boards/qemu-m4.toml")


# -- --board: names and paths ---------------------------------------------------------------------------------


def test_a_board_name_cannot_reach_outside_boards(tmp_path: Path, runs: list[RunRecord]) -> None:
    (tmp_path / "x.toml").write_text((BOARDS_DIR / "qemu-m4.toml").read_text().replace('"qemu-m4"', '"x"'))
    for name in ("../../tmp/x", os.path.relpath(tmp_path / "x", BOARDS_DIR)):  # the second one exists
        out = invoke("run", "ad01", "--board", name)
        assert out.exit_code == 1 and not runs
        assert f"unknown board {name!r}; expected one of [" in out.stderr
        assert "or the path of a board file ending in .toml" in out.stderr


def test_a_board_file_given_by_path_is_named_in_the_output(tmp_path: Path, runs: list[RunRecord]) -> None:
    mine = tmp_path / "my-board.toml"
    mine.write_text((BOARDS_DIR / "qemu-m4.toml").read_text().replace('"qemu-m4"', '"my-board"'))
    out = invoke("run", "ad01", "--board", str(mine), "--results-dir", str(tmp_path / "res"))
    assert out.exit_code == 0, out.output
    assert f"board my-board from the board file {mine}" in out.stderr
    assert runs[0].board == "my-board"
