"""Every operator module, and the registry, can be the first thing a program imports: the registry, the
operator modules and harness.model import each other, and a cycle shows only in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import harness.ops
from harness.paths import PROJECT_DIR

FIRST = ["harness.ops.registry", "harness.ops.cheader", "harness.model.builder", "harness.model.loader",
         "harness.model.support", "harness.firmware.codegen", "harness.firmware.planner", "harness.firmware.build",
         *sorted(f"harness.ops.{m.name}" for m in pkgutil.iter_modules(harness.ops.__path__))]


@pytest.mark.parametrize("module", list(dict.fromkeys(FIRST)))
def test_importing_it_first_works(module: str) -> None:
    code = f"import {module}\nfrom harness.ops.registry import operators\nassert operators()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=PROJECT_DIR,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
