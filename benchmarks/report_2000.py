"""How long the HTML report takes for 2,000 stored runs (the issue asks for under 10 s). Not a test.

Synthesizes 2,000 records from the real ones in tests/report/data: 8 models (the real ad01 and kws01 and
six renamed copies with their own sha256), the 6 boards of boards/, 100 commits over 100 days, with
instruction counts and sizes drifting from commit to commit and one run in 50 failing; writes them with
``ResultStore`` to a temporary results folder, then times ``load_runs`` and ``render_report``.

    .venv/bin/python benchmarks/report_2000.py [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.boards import all_boards
from harness.report.html import plotly_js, render_report
from harness.store import ResultStore, RunRecord
from harness.store.frame import load_runs

DATA = ROOT / "tests" / "report" / "data"
MODELS = ("ad01", "kws01", "net_a", "net_b", "net_c", "net_d", "net_e", "net_f")
COMMITS = 100


def synthesize(n: int, seed: int = 0) -> list[RunRecord]:
    """``n`` records: real ones copied onto other models, boards, commits and times."""
    rng = random.Random(seed)
    real = {r.model: r for r in (RunRecord.from_dict(json.loads(p.read_text())) for p in sorted(DATA.glob("*.json")))}
    boards = all_boards()
    start = datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC)
    commits = [hashlib.sha1(str(i).encode()).hexdigest() for i in range(COMMITS)]
    out = []
    for i in range(n):
        model = MODELS[i % len(MODELS)]
        base = real["kws01" if model in ("kws01", "net_b", "net_d", "net_f") else "ad01"]
        board = boards[sorted(boards)[(i // len(MODELS)) % len(boards)]]
        k = i * COMMITS // n                                   # commits in time order
        drift = 1 + 0.002 * (k % 17) - 0.01 * (k // 50)
        when = start + datetime.timedelta(hours=24 * k + rng.random())
        sha = base.model_sha256 if model in real else hashlib.sha256(model.encode()).hexdigest()
        insn = int((base.instructions_per_inference or 0) * drift)
        failed = i % 50 == 49
        out.append(dataclasses.replace(
            base, model=model, model_sha256=sha, board=board.name, board_flash_bytes=board.flash_bytes,
            board_ram_bytes=board.ram_bytes, instructions_per_inference=None if failed else insn,
            status="timeout" if failed else "ok", error="no answer in 10 s" if failed else None,
            flash_bytes=(base.flash_bytes or 0) + 4 * (k % 13), code_bytes=(base.code_bytes or 0) + 4 * (k % 13),
            layers=[] if failed else [{**x, "instructions": int(x["instructions"] * drift)} for x in base.layers],
            provenance={**base.provenance, "git_commit": commits[k]},
            time_utc=when.isoformat(timespec="seconds"), run_id=f"{when:%Y%m%dT%H%M%S}-{board.name}-{model}-{i:05d}"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="write the results folder and report here instead of a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp) / "results"
        store = ResultStore(folder)
        for record in synthesize(args.runs):
            store.save(record)
        plotly_js()   # reading plotly.js from the installed package is not the report's work
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = load_runs(folder)
        t1 = time.perf_counter()
        page = render_report(frame)
        t2 = time.perf_counter()
        (folder / "report.html").write_text(page, encoding="utf-8")
        size = len(page.encode("utf-8"))
        own = size - len(plotly_js().encode("utf-8"))
        print(f"{len(frame.runs):,} runs, {len(frame.layers):,} layers: load_runs {t1 - t0:.2f} s, "
              f"render_report {t2 - t1:.2f} s, total {t2 - t0:.2f} s (limit 10 s)")
        print(f"page {size:,} bytes: plotly.js {size - own:,} + the report's own {own:,}")
        return 0 if t2 - t0 < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
