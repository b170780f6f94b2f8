"""benchmarks/same_counts.py: the check that a parallel run counted what the serial one did can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.paths import PROJECT_DIR
from harness.store import ResultStore, RunRecord

SCRIPT = PROJECT_DIR / "benchmarks" / "same_counts.py"


def _store(folder: Path, runs: list[tuple[str, int, list[int]]]) -> Path:
    store = ResultStore(folder)
    for i, (model, total, layers) in enumerate(runs):
        store.save(RunRecord(model=model, board="qemu-m4", runtime="hilbench-aot", target="qemu", status="ok",
                             run_id=f"{folder.name}-{i}", model_sha256=f"sha-{model}", input_sha256="in",
                             instructions_per_inference=total,
                             layers=[{"index": k, "op": "CONV_2D", "macs": 1, "instructions": n}
                                     for k, n in enumerate(layers)]))
    return folder


def _check(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(a), str(b)], capture_output=True, text=True,
                          check=False, cwd=PROJECT_DIR)


def test_equal_counts_pass_and_any_difference_fails(tmp_path: Path) -> None:
    serial = _store(tmp_path / "serial", [("kws01", 100, [60, 40]), ("ad01", 10, [10])])
    same = _store(tmp_path / "same", [("ad01", 10, [10]), ("kws01", 100, [60, 40])])
    total = _store(tmp_path / "total", [("kws01", 101, [60, 40]), ("ad01", 10, [10])])
    layer = _store(tmp_path / "layer", [("kws01", 100, [61, 39]), ("ad01", 10, [10])])
    missing = _store(tmp_path / "missing", [("kws01", 100, [60, 40])])
    ok = _check(serial, same)
    assert ok.returncode == 0 and ok.stdout.count("same ") == 2, ok.stdout + ok.stderr
    for other in (total, layer):
        out = _check(serial, other)
        assert out.returncode == 1 and "DIFFERENT kws01 on qemu-m4" in out.stdout
    out = _check(serial, missing)
    assert out.returncode == 1 and "MISSING ad01" in out.stdout


def test_an_empty_serial_folder_is_bad_input(tmp_path: Path) -> None:
    out = _check(tmp_path / "none", tmp_path / "none")
    assert out.returncode == 2 and "no runs" in out.stderr
