"""Builds the instruction-counting QEMU plugin (firmware/qemu_plugin/hil_insn.c) with the host gcc."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from harness.errors import BuildError, ToolchainError
from harness.paths import FIRMWARE_DIR, cache_dir

PLUGIN_SOURCE = FIRMWARE_DIR / "qemu_plugin" / "hil_insn.c"


def build_plugin() -> Path:
    """Path of the built plugin, compiling it once per source content."""
    source = PLUGIN_SOURCE.read_bytes()
    key = hashlib.sha256(source).hexdigest()[:16]
    out = cache_dir() / "qemu-plugin" / f"hil_insn-{key}.so"
    if out.is_file():
        return out
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolchainError("no host C compiler (gcc) to build the QEMU plugin; "
                             "install it with `sudo apt-get install gcc`, or run ./bootstrap.sh")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    cmd = [cc, "-O2", "-Wall", "-shared", "-fPIC", "-o", str(tmp), str(PLUGIN_SOURCE)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError("building the QEMU instruction-counting plugin failed", cmd, proc.stderr[-2000:])
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)  # gone after the rename; left by a failure or an interrupt
    return out
