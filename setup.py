"""The one packaging step pyproject.toml cannot declare: the C sources and board files go into the wheel.

``firmware/`` and ``boards/`` stay at the top of the repository (DESIGN's layout); ``build_py`` copies
them into the built package as ``harness/_data/firmware`` and ``harness/_data/boards``, where
``harness.paths.data_dir`` finds them in an installed wheel. An editable install copies nothing: it
reads the checkout's folders. ``MANIFEST.in`` puts both folders into the sdist, so a wheel built from
the sdist (``python -m build``) has them too. Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_FOLDERS = ("firmware", "boards")  # harness.paths.DATA_FOLDERS
DATA_PACKAGE_DIR = Path("harness", "_data")  # harness.paths.PACKAGED_DATA_DIR, inside the package
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.o", "*.so", "*.elf", ".*")


class BuildPyWithData(build_py):
    """``build_py``, then a fresh copy of each data folder into ``<build_lib>/harness/_data``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # harness.paths reads the checkout's folders
        for name in DATA_FOLDERS:
            source = ROOT / name
            if not source.is_dir():
                raise FileNotFoundError(f"{source}: the package needs it (is MANIFEST.in complete?)")
            target = Path(self.build_lib) / DATA_PACKAGE_DIR / name
            shutil.rmtree(target, ignore_errors=True)  # a stale build/lib keeps no deleted file
            shutil.copytree(source, target, ignore=JUNK)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs: list[str] = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        data = Path(self.build_lib) / DATA_PACKAGE_DIR
        return outputs + [str(p) for p in sorted(data.rglob("*")) if p.is_file()]


setup(cmdclass={"build_py": BuildPyWithData})
