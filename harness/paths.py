"""Where the project's files and caches are (importable from every layer, like errors and types)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """Root of the content-hash caches (firmware builds, built models, the QEMU plugin)."""
    return Path(os.environ.get("HILBENCH_CACHE_DIR", PROJECT_DIR / "build" / "cache"))
