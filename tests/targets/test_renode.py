"""The Renode target (harness/targets/renode.py) against a fake Renode that replays the recordings of
real Renode 1.16.1 sessions (../shared/renode-sessions, tests/fakes/fake_renode.py).

The real driver code runs: it spawns the fake through ``HILBENCH_RENODE``, drives the recorded monitor
over TCP (telnet bytes, echo, prompts, error texts), connects pyserial to the server socket terminal,
and reads the hook lines of Renode's log from the fake's stdout. The UART side is the firmware built
here, run by QEMU inside the fake: the recorded firmware's protocol predates the harness's (the
harness now sends ``hil-timing``), so its UART bytes cannot be replayed to today's harness.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.errors import ConfigError
from harness.runner import RunOptions, run_model
from harness.targets.renode import RenodeSpec, parse_renode_section

FAKE = Path(__file__).resolve().parents[1] / "fakes" / "fake_renode.py"
BOARD = "renode-stm32f4"
TINYCNN_LAYERS = [74206, 126567, 66, 29713, 1377, 4209]
AD01_LAYERS = [230707, 50443, 50427, 50447, 3283, 8219, 50467, 50499, 50555, 253220]

needs_qemu = pytest.mark.skipif(shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None,
                                reason="the fake Renode runs the firmware's UART side in qemu-system-arm")


@pytest.fixture
def fake_renode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(recording: str, *extra: str) -> Path:
        script = tmp_path / "renode"
        args = " ".join([f"--recording {recording}", *extra])
        script.write_text(f"#!/bin/sh\nexec {sys.executable} {FAKE} {args} \"$@\"\n")
        script.chmod(0o755)
        monkeypatch.setenv("HILBENCH_RENODE", str(script))
        return script
    return use


def _run(model: str, board: object = None):  # type: ignore[no-untyped-def]
    return run_model(model, board or load_board(BOARD), RunOptions(inferences=5, warmup=1), target_name="renode")


@needs_qemu
def test_tinycnn_replay_gives_the_recorded_counts(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("tinycnn-full.jsonl")
    record = _run("tinycnn")
    assert record.status == "ok", record.error
    assert record.instructions_per_inference == 236170
    assert record.instructions_timed == [236170] * 5
    assert [row["instructions"] for row in record.layers] == TINYCNN_LAYERS
    assert record.latency_source == "renode-insn"
    prov = record.provenance
    assert prov["counter"] == "renode-insn" and prov["renode_mips"] == 100
    assert prov["renode_platform"] == "platforms/cpus/stm32f4.repl"
    assert prov["runner"].startswith("Renode v1.16.1")
    assert prov["renode_exit_code"] == 0          # ended by `quit`, not killed


@needs_qemu
def test_ad01_replay_gives_the_recorded_counts(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("ad01-full.jsonl")
    record = _run("ad01")
    assert record.status == "ok", record.error
    assert record.instructions_timed == [798299] * 5
    assert [row["instructions"] for row in record.layers] == AD01_LAYERS


def test_renode_missing_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HILBENCH_RENODE", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    if shutil.which("renode"):
        pytest.skip("renode is installed here")
    record = _run("tinycnn")
    assert record.status == "renode-missing"
    assert "github.com/renode/renode/releases" in (record.error or "")


@needs_qemu
def test_unknown_platform(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("errors.jsonl")
    board = load_board(BOARD)
    board = replace(board, sections=(("renode", RenodeSpec("platforms/cpus/nonexistent.repl", "usart1")),))
    record = _run("tinycnn", board)
    assert record.status == "renode-platform"
    assert "Could not find file 'platforms/cpus/nonexistent.repl'" in (record.error or "")


@needs_qemu
def test_renode_dying_mid_run(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("tinycnn-full.jsonl", "--die-on infer")
    record = _run("tinycnn")
    # harness/protocol.py wraps every read error in TargetError (status "boot"); the cause is kept
    assert record.status == "renode-died"
    assert "Renode exited with code 134" in (record.error or "")


@needs_qemu
def test_bad_hook(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("errors-bad-hook.jsonl")
    record = _run("ad01")
    assert record.status == "renode-hook"
    assert "Python runtime error: name 'this' is not defined" in (record.error or "")


@needs_qemu
def test_wrong_memory_map(fake_renode) -> None:  # type: ignore[no-untyped-def]
    fake_renode("errors-wrong-memory-map.jsonl", "--uart none")
    record = _run("ad01")
    assert record.status == "renode-memory-map"
    assert "CPU was halted" in (record.error or "")


def test_section_is_validated() -> None:
    assert parse_renode_section({"platform": "p.repl", "uart": "sysbus.usart1", "dwt_hz": 168_000_000},
                                "w") == RenodeSpec("p.repl", "usart1", 168_000_000, 168)
    with pytest.raises(ConfigError, match="unknown keys"):
        parse_renode_section({"platform": "p.repl", "uart": "usart1", "speed": 1}, "w")
    with pytest.raises(ConfigError, match="platform"):
        parse_renode_section({"platform": "stm32f4", "uart": "usart1"}, "w")


@pytest.mark.renode
@pytest.mark.skipif(shutil.which("renode") is None, reason="Renode is not on PATH (see the README to install it)")
def test_real_renode_tinycnn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HILBENCH_RENODE", raising=False)
    record = _run("tinycnn")
    assert record.status == "ok", record.error
    assert record.instructions_per_inference == 236170
