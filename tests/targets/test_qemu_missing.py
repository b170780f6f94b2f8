"""A missing emulator is a `boot` failure that says how to install it, not a `build` failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.errors import EmulatorMissingError, ToolchainError
from harness.runner import RunOptions, run_model
from tests.conftest import requires_cc


def test_a_missing_emulator_is_a_toolchain_error_with_status_boot() -> None:
    assert issubclass(EmulatorMissingError, ToolchainError)
    assert (EmulatorMissingError.status, ToolchainError.status) == ("boot", "build")


@requires_cc
def test_missing_qemu_gives_a_boot_record_with_the_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    cc = shutil.which("arm-none-eabi-gcc")
    assert cc is not None
    bin_dir = tmp_path / "bin"  # the cross compiler and nothing else
    bin_dir.mkdir()
    (bin_dir / "arm-none-eabi-gcc").symlink_to(Path(cc).resolve())
    monkeypatch.setenv("PATH", str(bin_dir))
    run = run_model("tinycnn", load_board("qemu-m4"), RunOptions(inferences=1, warmup=0))
    assert run.status == "boot", run.error
    assert "qemu-system-arm is not on PATH" in (run.error or "")
    assert "apt-get install qemu-system-arm" in (run.error or "")
    assert run.flash_bytes is not None  # the firmware was built: only the emulator is missing
