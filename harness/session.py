"""Session state shared by the pytest plugin and the CLI: options, the store, the records."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.boards import BoardSpec, load_board
from harness.errors import ConfigError
from harness.model.zoo import ModelRef
from harness.runner import RunOptions, run_model
from harness.store import ResultStore, RunRecord
from harness.targets import qemu as _qemu  # noqa: F401  (registers the "qemu" backend)


@dataclass
class HilSession:
    results_dir: Path
    inferences: int = 5
    warmup: int = 1
    records: list[RunRecord] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = ResultStore(self.results_dir)

    def run(self, model: str | Path | ModelRef, board: BoardSpec | str, inferences: int | None = None,
            warmup: int | None = None, options: RunOptions | None = None) -> RunRecord:
        """Run ``model`` on ``board``, store the record, and return it. Never raises for a failing run."""
        spec = board if isinstance(board, BoardSpec) else load_board(board)
        opts = options or RunOptions()
        opts = replace(opts, inferences=self.inferences if inferences is None else inferences,
                       warmup=self.warmup if warmup is None else warmup)
        if opts.inferences < 1 or opts.warmup < 0:
            raise ConfigError(f"inferences {opts.inferences} and warmup {opts.warmup}; expected >= 1 and >= 0")
        record = run_model(model, spec, opts)
        self.records.append(record)
        self.saved.append(self.store.save(record))
        return record
