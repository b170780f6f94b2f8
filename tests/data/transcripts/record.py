"""Record the transcripts that ``tests/fakes/fake_target.py`` replays: real runs of tinycnn on qemu-m4.

Run from the project's root, with QEMU and the Arm toolchain installed::

    .venv/bin/python tests/data/transcripts/record.py            # every case
    .venv/bin/python tests/data/transcripts/record.py ok fault   # some

Each case is one ``run_model`` through a ``Recorder`` backend (``harness.targets.transcript``) around
the QEMU target, written to ``tests/data/transcripts/<case>.json``:

- ``ok``: 3 timed inferences after 1 warm-up, the default seed;
- ``mismatch``: layer ``CORRUPT_LAYER``'s output has a bit flipped (``BENCH_TEST_CORRUPT_LAYER``), so
  the output differs and the runner looks for the first diverging layer;
- ``fault``: a bus fault in the first inference (build test hook 1);
- ``hang``: the first inference never ends (test hook 2); recorded with ``timeout_s=1``, the run waits
  the protocol's margin (about 16 s) before it times out;
- ``garbage``: bytes that are not protocol text after boot (test hook 3).

Each file keeps the run's options (``options``) and the key fields of the record the real run made
(``record``), which the replaying tests compare with. Record again when the firmware's protocol
changes (a replay then reports which exchange differs): the files are small, review their diff.
A case whose run does not end with the expected status is not written, and the exit status is 1.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))   # the project root, for `harness` from a source tree

from harness.boards import load_board
from harness.firmware.build import BuildOptions
from harness.runner import RunOptions, run_model
from harness.store import RunRecord
from harness.targets.backends import register_backend, unregister_backend
from harness.targets.transcript import Recorder

MODEL = "tinycnn"
BOARD = "qemu-m4"
CORRUPT_LAYER = 3
RECORD_FIELDS = ("status", "error", "output_hex", "reference_hex", "matches_reference", "instructions_per_inference",
                 "instructions_timed", "layers", "stack_bytes", "arena_bytes", "latency_source", "latency_us",
                 "cycles_per_inference", "first_diverging_layer")
# case -> (run options, the status its record must have, what it shows)
CASES: dict[str, tuple[RunOptions, str, str]] = {
    "ok": (RunOptions(inferences=3, warmup=1), "ok", "a good run"),
    "mismatch": (RunOptions(inferences=3, warmup=1, build=BuildOptions(
        defines=(("BENCH_TEST_CORRUPT_LAYER", str(CORRUPT_LAYER)),))), "mismatch",
        f"layer {CORRUPT_LAYER}'s output has a bit flipped"),
    "fault": (RunOptions(inferences=3, warmup=1, build=BuildOptions(test_hook=1)), "fault",
              "a bus fault in the first inference"),
    "hang": (RunOptions(inferences=3, warmup=1, timeout_s=1.0, build=BuildOptions(test_hook=2)), "timeout",
             "the first inference never ends"),
    "garbage": (RunOptions(inferences=3, warmup=1, build=BuildOptions(test_hook=3)), "measurement",
                "bytes that are not protocol text after boot"),
}


def options_json(options: RunOptions) -> dict[str, Any]:
    """What a replay needs to ask for the same run (``tests.fakes.fake_target.replay_options``)."""
    return {"inferences": options.inferences, "warmup": options.warmup, "seed": options.seed,
            "timeout_s": options.timeout_s, "counter": options.counter,
            "build": {k: [list(d) for d in v] if k == "defines" else v for k, v in asdict(options.build).items()}}


def record_json(record: RunRecord) -> dict[str, Any]:
    data = record.to_dict()
    return {k: data.get(k) for k in RECORD_FIELDS}


def record_case(case: str, recorder: Recorder) -> bool:
    options, status, note = CASES[case]
    recorder.targets.clear()
    record = run_model(MODEL, load_board(BOARD), options, target_name="recording")
    if record.status != status or not recorder.targets:
        print(f"{case}: status {record.status!r}, expected {status!r}; not written: {record.error}", file=sys.stderr)
        return False
    path = HERE / f"{case}.json"
    recorder.targets[-1].transcript(options_json(options), record_json(record), note).save(path)
    print(f"{case}: {record.status}, {len(recorder.targets[-1].line.exchanges if recorder.targets[-1].line else [])} "
          f"exchanges -> {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return True


def main(cases: list[str]) -> int:
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        print(f"unknown cases {unknown}; expected some of {list(CASES)}", file=sys.stderr)
        return 2
    recorder = Recorder("qemu")
    register_backend(recorder.backend("recording"))
    try:
        results = [record_case(case, recorder) for case in cases or list(CASES)]
    finally:
        unregister_backend("recording")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
