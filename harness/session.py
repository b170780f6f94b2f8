"""Session state shared by the pytest plugin and the CLI: options, the store, the records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.boards import BoardSpec, load_board
from harness.errors import StoreError
from harness.model.zoo import ModelRef
from harness.runner import RunOptions, check_counts, run_model
from harness.store import ResultStore, RunRecord, Store, open_store


@dataclass(frozen=True)
class UnsavedRecord:
    """A record the store could not write: the run's result is still in ``HilSession.records``."""

    record: RunRecord
    error: StoreError


@dataclass
class HilSession:
    """The runs of one pytest session or one CLI command.

    ``records`` holds every run's record, saved or not; ``saved`` the files written; ``unsaved`` the
    records the store failed to write, with why; ``session_id`` goes into every record (the store's
    ``of_session`` query finds them by it). Raises ``ConfigError`` for counts out of range
    (``harness.runner.COUNT_LIMITS``).
    """

    results_dir: Path
    inferences: int = 5
    warmup: int = 1
    records: list[RunRecord] = field(default_factory=list)
    saved: list[Path | str] = field(default_factory=list)   # record files, or URL#run_id in a database
    unsaved: list[UnsavedRecord] = field(default_factory=list)
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    defaults: RunOptions = field(default_factory=RunOptions)   # probe, port, energy, ... for every run
    target: str | None = None        # the backend for every run (default: each board's own target)
    store_url: str | None = None     # a database URL (harness.store.open_store); None: the results_dir folder

    def __post_init__(self) -> None:
        check_counts(inferences=self.inferences, warmup=self.warmup)
        self.store: Store = ResultStore(self.results_dir) if self.store_url is None else open_store(self.store_url)

    def run(self, model: str | Path | ModelRef, board: BoardSpec | str, inferences: int | None = None,
            warmup: int | None = None, options: RunOptions | None = None) -> RunRecord:
        """Run ``model`` on ``board``, store the record, and return it. Never raises for a failing run.

        Raises ``ConfigError`` for an unknown board or counts out of range, before anything runs, and
        ``StoreError`` when the record cannot be written: the record is then kept in ``records`` and
        ``unsaved``, so the result is not lost.
        """
        spec = board if isinstance(board, BoardSpec) else load_board(board)
        opts = options or self.defaults
        opts = replace(opts, inferences=self.inferences if inferences is None else inferences,
                       warmup=self.warmup if warmup is None else warmup)  # RunOptions checks the counts
        record = replace(run_model(model, spec, opts, target_name=self.target), session_id=self.session_id)
        self.records.append(record)
        try:
            self.saved.append(self.store.save(record))
        except StoreError as exc:
            self.unsaved.append(UnsavedRecord(record, exc))
            raise
        return record
