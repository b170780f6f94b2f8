"""Wall time of the reference suite under the harness against bare QEMU runs of the same firmware. Not a test.

For each model of the reference suite (suites/mlperf_tiny: kws01, vww01, ic01, ad01, tinycnn) on one QEMU
board: the firmware is built first (untimed: a warm build cache, as on a second CI run), then

- ``harness``: ``run_model`` end to end (model load, host reference, cached build, QEMU, the protocol
  client, the counter's log, measurement), timed twice: ``cold`` with the host interpreter's output cache
  emptied for that model, then ``warm``;
- ``bare``: QEMU started with the same ELF and arguments (the same ``QemuTarget``), driven by the minimal
  script below, which sends the same commands with no harness work (no parsing beyond waiting for
  ``m-ready``, no reference, no measurement) and waits for QEMU to exit.

The bare script loads the input the way the harness does: ``hil-load`` blocks when ``profile`` advertises
them (``m-hil-fast-load``), else MLPerf Tiny ``db`` chunks. Prints seconds per model and the ratio
harness/bare, and exits 1 when the suite's warm total is above ``--limit`` (1.3) x the bare total
(issue 12, item 5).

    .venv/bin/python benchmarks/suite_walltime.py [--board qemu-m4] [--models kws01,vww01] [--limit 1.3]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.boards import load_board
from harness.firmware.build import build_firmware
from harness.model.loader import load_model
from harness.model.reference import default_input, reference_cache_dir
from harness.model.zoo import resolve_model
from harness.protocol import SerialLike
from harness.runner import RunOptions, run_model
from harness.targets.base import create_target

MODELS = ["kws01", "vww01", "ic01", "ad01", "tinycnn"]
_FAST = re.compile(rb"m-hil-fast-load block_bytes=(\d+)")


def _until_ready(port: SerialLike, timeout_s: float = 60.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout_s
    while not buf.endswith(b"m-ready\r\n"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no m-ready; last bytes {buf[-200:]!r}")
        buf += port.read(port.in_waiting or 1)
    return buf


def _send(port: SerialLike, cmd: str) -> bytes:
    port.write(cmd.encode("ascii") + b"%")
    return _until_ready(port)


def bare_session(port: SerialLike, data: bytes, inferences: int, warmup: int) -> None:
    """The harness's commands, sent with no harness work."""
    _until_ready(port)
    m = _FAST.search(_send(port, "profile"))
    if m is None:
        _send(port, f"db load {len(data)}")
        for i in range(0, len(data), 38):
            _send(port, "db " + data[i:i + 38].hex())
    else:
        block = int(m.group(1))
        port.write(f"hil-load {len(data)}%".encode("ascii"))
        buf = b""
        for i in range(0, len(data), block):
            chunk = data[i:i + block]
            port.write(chunk + zlib.crc32(chunk).to_bytes(4, "little"))
            while b"m-hil-ack" not in buf:
                buf += port.read(port.in_waiting or 1)
            buf = buf.split(b"m-hil-ack", 1)[1]
        _until_ready(port)
    for cmd in (f"infer {inferences} {warmup}", "hil-output", "hil-layers", "hil-info", "hil-timing"):
        _send(port, cmd)
    port.write(b"hil-exit 0%")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="qemu-m4")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--limit", type=float, default=1.3)
    args = ap.parse_args()
    board = load_board(args.board)
    options = RunOptions()
    rows = []
    print(f"{'model':8} {'cold_s':>8} {'harness_s':>9} {'bare_s':>7} {'ratio':>6}")
    for model in args.models.split(","):
        ref = resolve_model(model)
        graph = load_model(ref.path)
        data = default_input(graph, options.seed)
        image = build_firmware(graph, board, ref.id, options.build)
        shutil.rmtree(reference_cache_dir() / graph.sha256, ignore_errors=True)
        timed = []
        for _ in range(2):
            start = time.perf_counter()
            record = run_model(ref, board, options)
            timed.append(time.perf_counter() - start)
            if record.status != "ok" or not record.matches_reference:
                print(f"{model}: harness run failed: {record.status} {record.error}", file=sys.stderr)
                return 2
        start = time.perf_counter()
        target = create_target(board.target, board, counter=options.counter)
        try:
            target.load(image)
            bare_session(target.open(), data, options.inferences, options.warmup)
            target.stop(timeout_s=30.0)
        finally:
            target.close()
        bare = time.perf_counter() - start
        rows.append((timed[1], bare))
        print(f"{model:8} {timed[0]:8.2f} {timed[1]:9.2f} {bare:7.2f} {timed[1] / bare:6.2f}", flush=True)
    harness_s = sum(r[0] for r in rows)
    bare_s = sum(r[1] for r in rows)
    ratio = harness_s / bare_s
    print(f"{'total':8} {'':8} {harness_s:9.2f} {bare_s:7.2f} {ratio:6.2f}  (limit {args.limit:g}x)")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
