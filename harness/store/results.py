"""ResultStore: one JSON file per run under ``results/runs/``, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
from harness.errors import StoreError
from harness.store.record import SCHEMA_VERSION, RunRecord

MAX_STEM_CHARS = 120   # a record's file name stays far below NAME_MAX (255 bytes) with its temp prefix
RECORD_MODE = 0o644    # as any file the user writes, less the umask (os.open applies it)


def record_file_name(run_id: str) -> str:
    """``<run_id>.json`` with unsafe characters replaced; a long run_id is cut, and its hash keeps it unique.

    >>> record_file_name("20261201T000000-qemu-m4-ad01-abc123")
    '20261201T000000-qemu-m4-ad01-abc123.json'
    >>> len(record_file_name("x" * 300))
    125
    """
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id).lstrip(".") or "record"
    if len(stem) > MAX_STEM_CHARS:
        digest = hashlib.sha256(run_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        stem = f"{stem[:MAX_STEM_CHARS - 17]}-{digest}"
    return stem + ".json"


class ResultStore:
    """The run records under ``root/runs``. Every failure to read or write is a ``StoreError``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    @property
    def location(self) -> str:
        """Where the records are, for messages: the ``runs`` folder."""
        return str(self.runs_dir)

    def contains(self, run_id: str) -> bool:
        """Whether a record of ``run_id`` is stored (its file exists)."""
        return (self.runs_dir / record_file_name(run_id)).exists()

    def add(self, record: RunRecord) -> bool:
        """Store ``record`` unless its run id is already stored (then False, and nothing is written).

        Atomic against other writers: the file is linked into place only if none is there.
        """
        path = self.runs_dir / record_file_name(record.run_id)
        if path.exists():
            return False
        tmp = self.save(record, path=self.runs_dir / f".tmp-{uuid.uuid4().hex}.json.part")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot write run record {path}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return True

    def save(self, record: RunRecord, path: Path | None = None) -> Path:
        """Write ``record`` to ``runs/<run_id>.json`` (temp file + rename: never half-written).

        The file gets mode 0644 less the umask. Raises ``StoreError`` naming the path when the folder
        cannot be made or the file cannot be written (a read-only folder, a file in the way, a full disk).
        """
        path = self.runs_dir / record_file_name(record.run_id) if path is None else path
        tmp = self.runs_dir / f".tmp-{uuid.uuid4().hex}.json"
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), RECORD_MODE)
        except OSError as exc:
            raise StoreError(f"cannot write run record {path}: {exc}") from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record.to_dict(), f, indent=2, sort_keys=True, allow_nan=False)
                f.write("\n")
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write run record {path}: {exc}") from exc
        return path

    def load(self, path: Path) -> RunRecord:
        """The record in ``path``; raises ``StoreError`` naming the file and what is wrong with it.

        Only a regular file is read (a FIFO or a device named ``*.json`` is refused, never waited on).
        """
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise StoreError(f"run record {path} is unreadable: {exc}") from exc
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise StoreError(f"run record {path} is not a regular file ({_kind(mode)}); skipped")
            with os.fdopen(fd, "rb") as f:
                fd = -1
                data = json.loads(f.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"run record {path} is unreadable or not JSON: {exc}") from exc
        finally:
            if fd >= 0:
                os.close(fd)
        return record_from_data(data, str(path))

    def records(self) -> Iterator[tuple[Path, RunRecord | StoreError]]:
        """Every stored record, oldest first; a bad file yields its error and the rest still come."""
        try:
            paths = sorted(self.runs_dir.glob("*.json"))
        except OSError as exc:
            raise StoreError(f"cannot list run records in {self.runs_dir}: {exc}") from exc
        for path in paths:
            try:
                yield path, self.load(path)
            except StoreError as exc:
                yield path, exc


def record_from_data(data: Any, where: str) -> RunRecord:
    """The record in ``data`` (loaded JSON) read from ``where`` (a file, a database row); raises
    ``StoreError`` naming ``where`` and what is wrong: not a record, a schema version this hilbench does
    not read, a field of the wrong type."""
    if not isinstance(data, dict) or "schema" not in data or "status" not in data:
        raise StoreError(f"run record {where} is not a hilbench record (no 'schema' or 'status')")
    schema = data["schema"]
    if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= SCHEMA_VERSION:
        # no older version exists yet to migrate from; a newer one needs a newer hilbench
        raise StoreError(f"run record {where} has schema version {schema!r}; this hilbench "
                         f"({harness.__version__}) reads schema versions 1 to {SCHEMA_VERSION}: "
                         "a newer hilbench wrote it, or it is not a hilbench record")
    try:
        return RunRecord.from_dict(data)
    except (StoreError, TypeError) as exc:
        raise StoreError(f"run record {where}: {exc}") from exc


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return f"mode {mode:o}"
