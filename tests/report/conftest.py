"""A real browser for the report's tests: Debian's chromium, driven by Playwright.

Playwright's own browser download cannot work on these machines, so the fixture launches the system
binary (`bootstrap.sh` installs the `chromium` package). Outside CI a missing browser skips the test
with how to install it; under CI=true it fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# quiet and offline: no update checks, no sync, no background fetches (the report must need none)
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu", "--disable-quic"]


def chromium_path() -> str | None:
    explicit = os.environ.get("HILBENCH_CHROMIUM")
    if explicit:
        return explicit
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        message = "no chromium on PATH: run ./bootstrap.sh or `sudo apt-get install chromium` (or set HILBENCH_CHROMIUM)"
        if IN_CI:
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright  # a dev dependency: never skipped

    with sync_playwright() as p:
        # Playwright passes --no-sandbox itself, which Chromium needs when run as root
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
