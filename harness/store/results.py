"""ResultStore: one JSON file per run under ``results/runs/``, written atomically."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.errors import StoreError
from harness.store.record import RunRecord


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    def save(self, record: RunRecord) -> Path:
        """Write ``record`` to ``runs/<run_id>.json`` (temp file + rename: never half-written)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", record.run_id) + ".json"
        path = self.runs_dir / name
        fd, tmp = tempfile.mkstemp(dir=self.runs_dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record.to_dict(), f, indent=2, sort_keys=True)
                f.write("\n")
            os.replace(tmp, path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StoreError(f"cannot write run record {path}: {exc}") from exc
        return path

    def load(self, path: Path) -> RunRecord:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"run record {path} is unreadable or not JSON: {exc}") from exc
        if not isinstance(data, dict) or "schema" not in data or "status" not in data:
            raise StoreError(f"run record {path} is not a hilbench record (no 'schema' or 'status')")
        try:
            return RunRecord.from_dict(data)
        except TypeError as exc:
            raise StoreError(f"run record {path}: {exc}") from exc

    def records(self) -> Iterator[tuple[Path, RunRecord | StoreError]]:
        """Every stored record, oldest first; a corrupt file yields its error and the rest still come."""
        for path in sorted(self.runs_dir.glob("*.json")):
            try:
                yield path, self.load(path)
            except StoreError as exc:
                yield path, exc
