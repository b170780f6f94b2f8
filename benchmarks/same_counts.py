"""Check that two results folders hold the same instruction counts for the same runs (issue 12: a
parallel run, ``pytest -n 2``, must count exactly what a serial one does).

    python benchmarks/same_counts.py build/ci-results build/ci-results-n2

Runs are matched by model sha256, board and input sha256; for each, instructions per inference and
per layer must be equal. Prints one line per match; exits 1 on a difference or a run missing from either
folder, 2 on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import StoreError
from harness.store import ResultStore, RunRecord


def _runs(folder: Path) -> dict[tuple[str | None, str, str | None], RunRecord]:
    runs: dict[tuple[str | None, str, str | None], RunRecord] = {}
    for _, record in ResultStore(folder).records():
        if isinstance(record, StoreError):
            raise record
        runs[(record.model_sha256, record.board, record.input_sha256)] = record
    return runs


def _n(value: int | None) -> str:
    return "none" if value is None else f"{value:,}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        serial, parallel = (_runs(Path(a)) for a in argv)
    except StoreError as exc:
        print(f"same_counts: {exc}", file=sys.stderr)
        return 2
    if not serial:
        print(f"same_counts: no runs in {argv[0]}", file=sys.stderr)
        return 2
    status = 0
    for key in sorted(set(serial) | set(parallel), key=str):
        a, b = serial.get(key), parallel.get(key)
        if a is None or b is None:
            have = argv[0] if a is not None else argv[1]
            print(f"MISSING {(a or b).model} on {key[1]}: only in {have}")  # type: ignore[union-attr]
            status = 1
            continue
        layers_a = [layer.get("instructions") for layer in a.layers]
        layers_b = [layer.get("instructions") for layer in b.layers]
        same = a.instructions_per_inference == b.instructions_per_inference and layers_a == layers_b
        print(f"{'same' if same else 'DIFFERENT'} {a.model} on {a.board}: {_n(a.instructions_per_inference)} vs "
              f"{_n(b.instructions_per_inference)} instructions per inference, {len(layers_a)} layers")
        status = status or (0 if same else 1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
