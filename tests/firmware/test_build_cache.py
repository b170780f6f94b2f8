"""The firmware build cache: reproducible bytes, damaged entries rebuilt, no temporary folders left."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.boards import BoardSpec, load_board
from harness.errors import BuildError
from harness.firmware import build as build_module
from harness.firmware.build import (
    ELF_SHA256_FILE,
    FIRMWARE_DIR,
    BuildOptions,
    build_firmware,
    sweep_stale_builds,
)
from harness.model import load_model
from harness.model.graph import Graph
from harness.model.zoo import resolve_model
from harness.runner import RunOptions, run_model
from harness.types import FirmwareImage
from tests.conftest import requires_cc, requires_qemu

pytestmark = requires_cc


@pytest.fixture(scope="module")
def tinycnn() -> Path:
    return resolve_model("tinycnn").path  # made once, in the shared cache, before any test moves the cache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def board() -> BoardSpec:
    return load_board("qemu-m4")


def build(model: Path, board: BoardSpec, model_id: str = "tinycnn") -> FirmwareImage:
    graph: Graph = load_model(model)
    return build_firmware(graph, board, model_id)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "firmware").iterdir() if ".tmp" in p.name)


def test_identical_builds_in_two_places_have_identical_bytes(tinycnn: Path, board: BoardSpec, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    images = []
    for where in ("first", "second-cache-somewhere-else"):
        monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / where))
        images.append(build(tinycnn, board))
    first, second = images
    assert first.elf_path != second.elf_path and not first.cached and not second.cached
    assert first.sha256 == second.sha256
    elf = first.elf_path.read_bytes()
    for path in (tmp_path, FIRMWARE_DIR.parent):  # neither the build folder nor the checkout is in the ELF
        assert str(path).encode() not in elf
    assert b".tmp" not in elf


def test_a_damaged_cached_elf_is_rebuilt(tinycnn: Path, board: BoardSpec, cache: Path) -> None:
    good = build(tinycnn, board)
    data = good.elf_path.read_bytes()
    good.elf_path.write_bytes(data[: len(data) // 2])       # truncated
    again = build(tinycnn, board)
    assert (again.cached, again.sha256) == (False, good.sha256)
    assert again.elf_path.read_bytes() == data
    again.elf_path.write_bytes(data[:100] + b"\xff" + data[101:])  # one byte changed: still an ELF
    assert build(tinycnn, board).cached is False
    (again.elf_path.parent / ELF_SHA256_FILE).unlink()          # an entry without its digest
    assert build(tinycnn, board).cached is False
    assert build(tinycnn, board).cached is True
    assert hashlib.sha256(good.elf_path.read_bytes()).hexdigest() == good.sha256


@requires_qemu
@pytest.mark.qemu
def test_a_run_after_a_damaged_cached_elf_is_ok(tinycnn: Path, board: BoardSpec, cache: Path) -> None:
    first = run_model(tinycnn, board, RunOptions(inferences=1, warmup=0))
    assert first.status == "ok", first.error
    elf = next((cache / "firmware").glob("*/firmware.elf"))
    elf.write_bytes(elf.read_bytes()[:4096])
    second = run_model(tinycnn, board, RunOptions(inferences=1, warmup=0))
    assert second.status == "ok", second.error
    assert second.provenance["firmware_cached"] is False
    assert second.provenance["firmware_sha256"] == first.provenance["firmware_sha256"]


def test_an_interrupted_build_leaves_no_temporary_folder(tinycnn: Path, board: BoardSpec, cache: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = subprocess.run

    def interrupted(cmd: list[str], **kwargs: Any) -> Any:
        if "cwd" in kwargs:  # the compile, not `gcc --version`
            raise KeyboardInterrupt
        return real_run(cmd, **kwargs)

    monkeypatch.setattr(build_module.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(tinycnn, board)
    assert leftovers(cache) == []


def test_a_failed_build_leaves_no_temporary_folder(tinycnn: Path, board: BoardSpec, cache: Path) -> None:
    with pytest.raises(BuildError, match="-Obogus"):
        build_firmware(load_model(tinycnn), board, "tinycnn", BuildOptions(opt_level="-Obogus"))
    assert leftovers(cache) == []


def test_temporary_folders_of_dead_processes_are_swept(tinycnn: Path, board: BoardSpec, cache: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = cache / "firmware" / f"qemu-m4-ad01-0123.tmp{dead.pid}"
    busy = cache / "firmware" / f"qemu-m4-ad01-0123.tmp{os.getppid()}"  # a build running elsewhere
    for folder in (stale, busy):
        (folder / "sub").mkdir(parents=True)
    build(tinycnn, board)
    assert leftovers(cache) == [busy.name]
    assert sweep_stale_builds(cache / "firmware") == []


def test_a_model_file_name_of_240_characters_builds(tinycnn: Path, board: BoardSpec, cache: Path,
                                                    tmp_path: Path) -> None:
    long_model = tmp_path / ("m" * (240 - len(".tflite")) + ".tflite")
    shutil.copyfile(tinycnn, long_model)
    ref = resolve_model(long_model)
    image = build(ref.path, board, ref.id)
    assert image.model_id == ref.id and len(ref.id) == 233
    folder = image.elf_path.parent.name
    assert len(folder) + len(".tmp4194304") <= 255
    assert re.fullmatch(r"qemu-m4-m{48}-[0-9a-f]{24}", folder)  # cut model id, then the content hash
