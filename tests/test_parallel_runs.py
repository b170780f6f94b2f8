"""Parallel runs (issue 12, item 3): workers share the content-hash build cache without races, every
worker's record lands in the one store, and instruction counts are those of a serial run."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from tests.conftest import requires_cc, requires_qemu

pytest_plugins = ["pytester"]


def _build_in(cache: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import os

    os.environ["HILBENCH_CACHE_DIR"] = cache
    from harness.boards import load_board
    from harness.firmware.build import build_firmware
    from harness.model import load_model
    from harness.model.zoo import resolve_model

    ref = resolve_model("tinycnn")
    image = build_firmware(load_model(ref.path), load_board("qemu-m4"), "tinycnn")
    queue.put((image.sha256, str(image.elf_path)))


@requires_cc
def test_workers_building_the_same_firmware_at_once_make_one_good_image(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_build_in, args=(str(tmp_path), queue)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    results = [queue.get(timeout=5) for _ in workers]
    assert len({sha for sha, _ in results}) == 1, results           # one image, byte-identical
    assert len({elf for _, elf in results}) == 1                    # in one cache folder
    elf = Path(results[0][1])
    assert elf.read_bytes()[:4] == b"\x7fELF"
    firmware = tmp_path / "firmware"
    assert not [p.name for p in firmware.iterdir() if ".tmp" in p.name]   # no half-built folder left


SUITE = """
import pytest

@pytest.mark.parametrize("model", ["tinycnn", "ad01_int8"])
@pytest.mark.parametrize("seed", [0, 1])
def test_model(hil, model, seed):
    import os
    from harness.runner import RunOptions
    name = model if model == "tinycnn" else os.path.join(os.environ["HILBENCH_TEST_MODELS"], model + ".tflite")
    record = hil.run(name, inferences=2, warmup=1, options=RunOptions(seed=seed))
    assert record.ok, record.error
"""


def _counts(results: Path) -> dict[tuple[str, int], tuple[int, list[int]]]:
    out = {}
    for path in (results / "runs").glob("*.json"):
        r = json.loads(path.read_text())
        out[(r["model"], r["seed"])] = (r["instructions_per_inference"], [l["instructions"] for l in r["layers"]])
    return out


@requires_qemu
@requires_cc
def test_n_2_gives_the_counts_of_a_serial_run_and_one_store(pytester: pytest.Pytester, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xdist", reason="pip install pytest-xdist (the dev extra)")
    from tests.conftest import model_path

    monkeypatch.setenv("HILBENCH_TEST_MODELS", str(model_path("ad01_int8.tflite").parent))
    pytester.makepyfile(SUITE)
    serial_dir, parallel_dir = tmp_path / "serial", tmp_path / "parallel"
    serial = pytester.runpytest_subprocess("-n", "0", "--hil-results-dir", str(serial_dir), "-p", "no:cacheprovider")
    serial.assert_outcomes(passed=4)
    parallel = pytester.runpytest_subprocess("-n", "2", "--hil-results-dir", str(parallel_dir),
                                             "-p", "no:cacheprovider")
    parallel.assert_outcomes(passed=4)
    parallel.stdout.fnmatch_lines([f"*4 run records written to {parallel_dir / 'runs'}*"])
    serial_counts, parallel_counts = _counts(serial_dir), _counts(parallel_dir)
    assert len(serial_counts) == 4
    assert parallel_counts == serial_counts
    sessions = {json.loads(p.read_text())["session_id"] for p in (parallel_dir / "runs").glob("*.json")}
    assert len(sessions) == 1                    # the workers' records are one session in the store
