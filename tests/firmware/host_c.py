"""Building and running small host C test programs against the firmware's headers and kernels,
with the sanitizers the host model build uses (harness/firmware/host.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.firmware.build import FIRMWARE_DIR
from harness.firmware.host import HOST_CC, HOST_FLAGS, SANITIZE_FLAGS, SANITIZER_ENV
from harness.ops.cheader import generated_files
from tests.conftest import IN_CI

C_DIR = Path(__file__).parent / "c"

_missing = shutil.which(HOST_CC) is None
if _missing and IN_CI:
    raise RuntimeError(f"CI: the host C compiler {HOST_CC} is missing; bootstrap.sh should have installed it")
requires_host_cc = pytest.mark.skipif(_missing, reason=f"host C compiler {HOST_CC!r} not found: "
                                                       "apt-get install build-essential (or set CC)")


def build_c(out_dir: Path, name: str, sources: list[Path], sanitize: bool = True) -> Path:
    """Compile ``sources`` (with firmware/include, and ``out_dir`` holding the headers generated from the
    operator registry, on the include path) into ``out_dir/name``."""
    exe = out_dir / name
    for file, text in generated_files().items():
        (out_dir / file).write_text(text)
    flags = [*HOST_FLAGS, *(SANITIZE_FLAGS if sanitize else ())]
    cmd = [HOST_CC, *flags, f"-I{FIRMWARE_DIR / 'include'}", f"-I{out_dir}", *map(str, sources), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
    return exe


def run_c(exe: Path, stdin: str = "") -> str:
    """stdout of ``exe`` on ``stdin``; fails the test, with the sanitizer's report, if it does not exit 0."""
    proc = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=False,
                          env={**os.environ, **SANITIZER_ENV}, timeout=60)
    assert proc.returncode == 0, f"{exe.name} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    return proc.stdout
