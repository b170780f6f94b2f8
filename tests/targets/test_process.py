"""QEMU does not outlive the harness: SIGTERM closes targets, SIGKILL still kills QEMU, folders are swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.paths import PROJECT_DIR
from harness.targets.process import KEEP_MARKER, spawn, sweep_workdirs, work_root
from tests.conftest import requires_cc, requires_qemu

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc: Linux")

# `hilbench run tinycnn` with firmware that hangs in its first inference (test hook 2) and a long timeout
HANGING_HILBENCH = textwrap.dedent("""
    import dataclasses, sys
    import harness.session
    from harness.cli import main
    from harness.firmware.build import BuildOptions

    real_run_model = harness.session.run_model

    def hanging(model, board, options, *args, **kwargs):
        options = dataclasses.replace(options, build=BuildOptions(test_hook=2), timeout_s=600.0)
        return real_run_model(model, board, options, *args, **kwargs)

    harness.session.run_model = hanging
    main(["run", "tinycnn", "--inferences", "1", "--warmup", "0", "--results-dir", sys.argv[1]])
""")

# a parent that starts `sleep` through spawn(), says its id, and waits to be killed
SPAWNING_PARENT = textwrap.dedent("""
    import time
    from harness.targets.process import spawn

    child = spawn(["sleep", "60"])
    print(child.pid, flush=True)
    time.sleep(60)
""")


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(command name, state, parent id) of a process, from /proc; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    state, ppid = text[text.rindex(")") + 2:].split()[:2]
    return name, state, int(ppid)


def running(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z"  # a zombie is dead; only its exit status waits to be read


def children(pid: int, name: str) -> list[int]:
    """Ids of the processes called ``name`` whose parent is ``pid`` (found by scanning /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] == name and stat[2] == pid and stat[1] != "Z":
                found.append(int(entry.name))
    return found


def wait_for(what: str, check: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s")
        time.sleep(0.05)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def python(script: str, *args: str, tmp: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("HILBENCH_KEEP_LOGS", None)
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=PROJECT_DIR, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_spawned_child_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = python(SPAWNING_PARENT, tmp=tmp_path)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert running(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        wait_for(f"the child {child} of a killed parent to die", lambda: not running(child), 5.0)
    finally:
        parent.kill()
        parent.wait()


def test_a_child_outlives_the_thread_that_started_it() -> None:
    # PR_SET_PDEATHSIG fires when the forking *thread* ends: spawn() must not fork from the caller's thread
    started: list[subprocess.Popen[bytes]] = []
    thread = threading.Thread(target=lambda: started.append(spawn(["sleep", "30"])))
    thread.start()
    thread.join()
    proc = started[0]
    try:
        time.sleep(0.3)
        assert proc.poll() is None, f"the child ended with {proc.returncode} when its starting thread ended"
    finally:
        proc.kill()
        proc.wait()


def test_sweep_removes_only_the_folders_of_dead_processes(tmp_path: Path) -> None:
    gone, live, kept, other = (tmp_path / f"{dead_pid()}-qemu-m4-a", tmp_path / f"{os.getpid()}-qemu-m4-b",
                               tmp_path / f"{dead_pid()}-qemu-m4-c", tmp_path / "notes")
    for folder in (gone, live, kept, other):
        folder.mkdir()
        (folder / "insn.log").write_text("begin 1\n")
    (kept / KEEP_MARKER).touch()
    assert sweep_workdirs(tmp_path) == [gone]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, kept, other))


def _hanging_run(tmp_path: Path) -> tuple[subprocess.Popen[str], int, Path]:
    """A `hilbench run` whose firmware hangs, once its QEMU runs: the process, QEMU's id, the work root."""
    proc = python(HANGING_HILBENCH, str(tmp_path / "results"), tmp=tmp_path)
    qemu: list[int] = []

    def qemu_started() -> bool:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"hilbench ended with {proc.returncode} before QEMU started:\n{out}\n{err}")
        qemu[:] = children(proc.pid, "qemu-system-arm")
        return bool(qemu)

    wait_for("QEMU to start under hilbench", qemu_started, 180.0)
    time.sleep(0.5)  # let the firmware reach its hang
    root = work_root(tmp_path)
    assert [p.name.split("-")[0] for p in root.iterdir()] == [str(proc.pid)]
    return proc, qemu[0], root


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_sigterm_to_hilbench_stops_qemu_and_removes_its_work_folder(tmp_path: Path) -> None:
    proc, qemu, root = _hanging_run(tmp_path)
    try:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 1, err  # ended like Ctrl-C: "Aborted!"
        assert not running(qemu)
        assert list(root.iterdir()) == []
    finally:
        proc.kill()
        proc.communicate()


@requires_qemu
@requires_cc
@pytest.mark.qemu
def test_sigkill_to_hilbench_kills_qemu_and_the_next_start_sweeps_the_folder(tmp_path: Path) -> None:
    proc, qemu, root = _hanging_run(tmp_path)
    try:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=20)
        wait_for(f"QEMU ({qemu}) to die with hilbench", lambda: not running(qemu), 5.0)
        left = list(root.iterdir())
        assert len(left) == 1  # nobody could remove it ...
        assert sweep_workdirs(root) == left  # ... so the next start does (make_workdir sweeps first)
    finally:
        proc.kill()
        proc.communicate()
