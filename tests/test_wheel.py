"""The wheel carries everything a user needs: built, installed into a fresh virtual environment, and used
from a project folder outside the repository, with a board file of the project's own.

The fresh environment gets only the wheel (``--no-deps``); the dependencies (tensorflow, numpy, ...)
come from this environment's site-packages, added after the new environment's own by a ``.pth`` path
line. A path line adds the folder only: the ``.pth`` files in it, among them the editable install's
import finder for the checkout, are not run, so ``harness`` is the wheel's copy (checked).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest

from harness.boards import BOARDS_DIR, load_board
from harness.firmware.build import build_firmware
from harness.model import load_model
from harness.model.synth import chain_model
from tests.conftest import requires_cc, requires_qemu

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "harness", "firmware", "boards")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "_data", "*.egg-info")

USER_TEST = '''
from pathlib import Path

import harness

MODEL = Path(__file__).parent / "models" / "chain.tflite"


def test_model(hil):
    run = hil.run(MODEL)
    assert run.ok and run.matches_reference, run.error
    assert run.fits_board


def test_harness_is_the_wheels():
    assert "site-packages" in harness.__file__, harness.__file__
'''

WHERE = ("import json, harness, harness.paths as p; "
         "print(json.dumps([harness.__file__, str(p.data_dir()), str(p.cache_dir()), p.checkout_dir()]))")


def _run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _wheel(tmp_path: Path) -> Path:
    """The wheel, built from a copy of the sources (the checkout's build/ is left alone), offline."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=IGNORE)
        else:
            shutil.copy2(REPO / name, src / name)
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "--no-index",
          "-q", "-w", str(tmp_path / "dist")], env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    (wheel,) = (tmp_path / "dist").glob("hilbench-*.whl")
    return wheel


def _venv(tmp_path: Path, wheel: Path) -> tuple[Path, dict[str, str]]:
    """A fresh environment holding the wheel; its python, and the environment variables to run it with."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
          str(wheel)], env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).strip())
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "zz_hilbench_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HILBENCH_CACHE_DIR", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")   # the default cache of an installed harness
    return python, env


def _user_project(folder: Path) -> None:
    """A project of a user: a test, a model, and a board file of its own (a smaller qemu-m4)."""
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "chain.tflite").write_bytes(chain_model(np.random.default_rng(1)))
    (folder / "boards").mkdir()
    text = (BOARDS_DIR / "qemu-m4.toml").read_text().replace('name = "qemu-m4"', 'name = "my-m4"')
    text = text.replace("flash_bytes = 4_194_304", "flash_bytes = 262_144").replace(
        "ram_bytes = 4_194_304", "ram_bytes = 65_536")
    assert "262_144" in text and "65_536" in text
    (folder / "boards" / "my-m4.toml").write_text(text)
    (folder / "test_my_model.py").write_text(USER_TEST)


@requires_cc
@requires_qemu
@pytest.mark.qemu
def test_a_user_project_runs_on_the_installed_wheel(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("firmware", "boards"):
        files = {f"harness/_data/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
        assert files and files <= names, sorted(files - names)
    assert {"harness/_data/firmware/qemu_plugin/hil_insn.c", "harness/py.typed"} <= names

    python, env = _venv(tmp_path, wheel)
    where = json.loads(_run([str(python), "-c", WHERE], cwd=tmp_path, env=env))
    site = Path(where[0]).parent.parent
    assert site.is_relative_to(tmp_path / "venv"), where   # the wheel's copy, not the checkout's
    assert where[1:] == [str(site / "harness" / "_data"), str(tmp_path / "xdg-cache" / "hilbench"), None]

    project = tmp_path / "project"
    _user_project(project)
    out = _run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hil-board", "qemu-m4",
                "--hil-board", "my-m4", "--hil-boards-dir", "boards"], cwd=project, env=env)
    assert "3 passed" in out, out
    records = [json.loads(p.read_text()) for p in (project / "results").rglob("*.json")]
    runs = {r["board"]: r for r in records if "board" in r}
    assert sorted(runs) == ["my-m4", "qemu-m4"]
    assert runs["my-m4"]["provenance"]["board_file"] == str(project / "boards" / "my-m4.toml")
    assert runs["my-m4"]["board_ram_bytes"] == 65_536
    assert list((tmp_path / "xdg-cache" / "hilbench" / "firmware").iterdir())   # the cache: not in site-packages
    # the wheel's sources build the checkout's bytes
    graph = load_model(project / "models" / "chain.tflite")
    assert runs["qemu-m4"]["provenance"]["firmware_sha256"] == build_firmware(
        graph, load_board("qemu-m4"), "chain").sha256

    boards = _run([str(python.parent / "hilbench"), "boards", "--boards-dir", "boards"], cwd=project,
                  env={**env, "COLUMNS": "250"})
    assert "my-m4" in boards and "built-in" in boards and str(project / "boards" / "my-m4.toml") in boards
