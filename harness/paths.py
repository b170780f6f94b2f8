"""Where the project's files and caches are (importable from every layer, like errors and types).

The C sources (``firmware/``) and the built-in board files (``boards/``) live at the top of the source
checkout. A wheel carries copies of both inside the package, as ``harness/_data/firmware`` and
``harness/_data/boards`` (``setup.py`` copies them at build time; an editable install has none).
``data_dir`` alone decides which are used, the checkout's first; ``FIRMWARE_DIR`` and ``BOARDS_DIR``
are the only names the rest of the harness reads.

The build cache is never inside the installed package: ``HILBENCH_CACHE_DIR`` when set; else
``build/cache`` in a source checkout; else ``$XDG_CACHE_HOME/hilbench`` (``~/.cache/hilbench``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED_DATA_DIR = PACKAGE_DIR / "_data"   # written into the wheel by setup.py; absent in a checkout
# the folder above the package: the checkout's root when run from source, site-packages when installed
PROJECT_DIR = PACKAGE_DIR.parent
DATA_FOLDERS = ("firmware", "boards")


def checkout_dir() -> Path | None:
    """The source checkout the package runs from (an editable install, the tests), or None when installed.

    A checkout is a folder holding ``pyproject.toml``, ``firmware/`` and ``boards/`` beside the package
    (site-packages holds none of them).
    """
    root = PROJECT_DIR
    if (root / "pyproject.toml").is_file() and all((root / d).is_dir() for d in DATA_FOLDERS):
        return root
    return None


def data_dir() -> Path:
    """The folder holding ``firmware/`` and ``boards/``: the source checkout's, else the wheel's copy.

    The checkout wins, so that a stray ``harness/_data`` in it (an in-place build) never hides the files
    being edited. When neither is there (a broken install), the package's ``_data`` is returned and the
    files' absence is reported where they are read ("unknown board", the compiler's missing source).
    """
    checkout = checkout_dir()
    return checkout if checkout is not None else PACKAGED_DATA_DIR


FIRMWARE_DIR = data_dir() / "firmware"   # C sources, headers and the QEMU plugin's source
BOARDS_DIR = data_dir() / "boards"       # the built-in board files


def cache_dir() -> Path:
    """Root of the content-hash caches (firmware builds, built models, the QEMU plugin).

    ``HILBENCH_CACHE_DIR`` wins; then ``build/cache`` in a source checkout; then the user's cache folder,
    ``$XDG_CACHE_HOME/hilbench`` or ``~/.cache/hilbench`` (an empty or relative ``XDG_CACHE_HOME`` is
    ignored, as the XDG specification says). Never inside site-packages.
    """
    env = os.environ.get("HILBENCH_CACHE_DIR")
    if env:
        return Path(env)
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / "build" / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "hilbench"
