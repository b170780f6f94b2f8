"""Emulator processes and work folders that do not outlive the harness.

A ``timeout``, a cancelled CI job or a ``kill`` ends the harness with SIGTERM
or SIGKILL. Three things keep an emulator from running on after that, orphaned
at full CPU and filling its work folder:

- ``spawn`` starts the child with ``PR_SET_PDEATHSIG`` = SIGKILL (Linux), so
  the kernel kills it when the harness dies, even by SIGKILL. The kernel sends
  that signal when the *thread* that forked the child ends, not the process, so
  every child is forked by one daemon thread that lives as long as the process.
- ``sigterm_raises_keyboard_interrupt`` turns SIGTERM into ``KeyboardInterrupt``
  (as SIGINT is), so ``finally`` blocks run and targets close.
- ``make_workdir`` puts work folders under one parent per user,
  ``$TMPDIR/hilbench-work-<uid>/<pid>-<label>-XXXX``, and removes the folders of
  processes that no longer exist first: the clean-up a SIGKILL prevented
  happens at the next start. (Never name a folder ``renode-*``: Renode deletes
  those, DESIGN §4b.)
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import getpass
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, cast

from harness.firmware.build import pid_alive

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>
WORK_ROOT_NAME = "hilbench-work"
KEEP_MARKER = ".keep"         # a folder kept by HILBENCH_KEEP_LOGS; never swept


def work_root(temp_dir: Path | None = None) -> Path:
    """The parent of this user's work folders: ``<temp_dir>/hilbench-work-<uid>``.

    ``temp_dir`` defaults to ``tempfile.gettempdir()`` (``$TMPDIR``, else ``/tmp``).
    """
    user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    base = Path(tempfile.gettempdir()) if temp_dir is None else temp_dir
    return base / f"{WORK_ROOT_NAME}-{user}"


def _folder_pid(folder: Path) -> int | None:
    head = folder.name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def sweep_workdirs(root: Path | None = None) -> list[Path]:
    """Remove the work folders of processes that no longer exist; the folders removed.

    Folders marked to be kept (``HILBENCH_KEEP_LOGS``) and folders of live processes stay.
    """
    root = work_root() if root is None else root
    removed = []
    with contextlib.suppress(OSError):
        for folder in root.iterdir():
            pid = _folder_pid(folder)
            if pid is None or pid_alive(pid) or (folder / KEEP_MARKER).exists():
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def keep_logs() -> bool:
    """True when ``HILBENCH_KEEP_LOGS`` asks for work folders to be kept after ``close``."""
    return os.environ.get("HILBENCH_KEEP_LOGS", "") not in ("", "0")


def make_workdir(label: str) -> Path:
    """A new, empty work folder for this process, after sweeping those of dead processes."""
    root = work_root()
    sweep_workdirs(root)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{label}-", dir=root))
    if keep_logs():
        (folder / KEEP_MARKER).touch()
    return folder


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks the kernel to SIGKILL the child when its parent dies; None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    try:
        prctl = ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody would send the signal
            os._exit(1)

    return preexec


_Request = tuple[Callable[[], "subprocess.Popen[bytes]"], "queue.SimpleQueue[object]"]


class _Spawner:
    """One daemon thread that forks every child, so PDEATHSIG fires only when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while True:
            start, reply = self._requests.get()
            try:
                reply.put(start())
            except BaseException as exc:  # noqa: BLE001  handed to the caller, who raises it
                reply.put(exc)

    def run(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="hilbench-spawner", daemon=True)
                self._thread.start()
        reply: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._requests.put((start, reply))
        result = reply.get()
        if isinstance(result, BaseException):
            raise result
        return cast("subprocess.Popen[bytes]", result)


_SPAWNER = _Spawner()


def spawn(cmd: Sequence[str], stdout: IO[bytes] | int | None = None,
          stderr: IO[bytes] | int | None = None) -> subprocess.Popen[bytes]:
    """Start ``cmd`` (stdin from /dev/null) so that it dies with this process, even by SIGKILL (Linux).

    Raises what ``subprocess.Popen`` raises (``OSError`` when ``cmd`` cannot be run).
    """
    preexec = _pdeathsig_preexec()

    def start() -> subprocess.Popen[bytes]:
        # preexec runs between fork and exec; it only calls prctl and getppid, which take no locks
        # that another thread of ours could hold
        return subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                preexec_fn=preexec)  # noqa: PLW1509

    return _SPAWNER.run(start) if preexec is not None else start()


def sigterm_raises_keyboard_interrupt() -> Callable[[], None]:
    """Make SIGTERM raise ``KeyboardInterrupt`` in the main thread; the function that undoes it.

    Lets ``finally`` blocks close targets when ``timeout``, CI or ``kill`` ends the
    harness. A second SIGTERM during that clean-up is ignored (the first already
    asked to stop). Does nothing outside the main thread or where a handler is set.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return lambda: None

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"terminated by signal {signum} (SIGTERM)")

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore
