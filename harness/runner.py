"""One run, end to end: model -> firmware -> target -> protocol -> measure -> record.

``run_model`` never raises for a failing run: every ``HarnessError`` becomes a
record whose ``status`` names the failure class and whose ``error`` says why,
so one failing benchmark never takes other results with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import harness
from harness.boards import BoardSpec
from harness.errors import HarnessError, TargetTimeout
from harness.firmware.build import BuildOptions, build_firmware
from harness.measure import measure
from harness.model import load_model
from harness.model.reference import default_input, reference_output
from harness.model.zoo import ModelRef, resolve_model
from harness.paths import PROJECT_DIR
from harness.protocol import DutClient
from harness.store.record import RunRecord
from harness.targets import create_target
from harness.types import FirmwareImage

RUNTIME = "hilbench-aot"
EMULATED_INSN_PER_S = 150e6  # a slow CI machine under the counting plugin, for timeouts


@dataclass(frozen=True)
class RunOptions:
    inferences: int = 5
    warmup: int = 1
    seed: int = 0
    input_bytes: bytes | None = None       # default: seeded random int8
    counter: str = "auto"                  # QEMU: "auto", "plugin" or "icount"
    build: BuildOptions = field(default_factory=BuildOptions)
    timeout_s: float | None = None         # inference timeout; default from the model's MACs


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_DIR), "describe", "--always", "--dirty", "--abbrev=40"],
                             capture_output=True, text=True, check=False, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _provenance(image: FirmwareImage | None, extra: dict[str, Any]) -> dict[str, Any]:
    try:
        from importlib.metadata import version

        tflm = version("tflite-micro")
    except Exception:
        tflm = "absent"
    prov = {"git_commit": git_commit(), "harness_version": harness.__version__, "python": sys.version.split()[0],
            "host": platform.node(), "platform": platform.platform(), "tflite_micro": tflm}
    if image is not None:
        prov.update(compiler=image.compiler, cflags=list(image.cflags), firmware_sha256=image.sha256,
                    firmware_cached=image.cached)
    prov.update(extra)
    return prov


def _infer_timeout(image: FirmwareImage, options: RunOptions) -> float:
    if options.timeout_s is not None:
        return options.timeout_s
    per_inference = max(image.macs, 10_000) * 40 / EMULATED_INSN_PER_S
    return 15.0 + per_inference * (options.inferences + options.warmup)


def _session(client: DutClient, image: FirmwareImage, data: bytes, options: RunOptions) -> bytes:
    client.wait_boot()
    client.profile()
    client.load_input(data)
    client.infer(options.inferences, options.warmup, _infer_timeout(image, options))
    output = client.output_bytes()
    client.command("hil-layers")
    client.command("hil-info")
    client.exit(0)
    return output


def run_model(model: str | Path | ModelRef, board: BoardSpec, options: RunOptions = RunOptions(),
              target_name: str | None = None) -> RunRecord:
    """Run one model on one board; the record, whatever happened."""
    started = time.time()
    now = dt.datetime.now(dt.timezone.utc)
    target_kind = target_name or board.target
    base = RunRecord(model=str(model), board=board.name, runtime=RUNTIME, target=target_kind, status="ok",
                     inferences=options.inferences, warmup=options.warmup,
                     board_flash_bytes=board.flash_bytes, board_ram_bytes=board.ram_bytes,
                     time_utc=now.isoformat(timespec="seconds"),
                     run_id=f"{now:%Y%m%dT%H%M%S}-{board.name}-{Path(str(model)).stem}-{uuid.uuid4().hex[:6]}")
    image: FirmwareImage | None = None
    transcript: list[str] = []
    extra: dict[str, Any] = {}
    try:
        ref = resolve_model(model)
        base = replace(base, model=ref.id, model_path=str(ref.path))
        graph = load_model(ref.path)
        data = options.input_bytes if options.input_bytes is not None else default_input(graph, options.seed)
        if len(data) != graph.input.nbytes:
            raise HarnessError(f"input of {len(data)} bytes; model {ref.id} takes {graph.input.nbytes}")
        base = replace(base, model_sha256=graph.sha256, input_sha256=hashlib.sha256(data).hexdigest())
        expected = reference_output(str(ref.path), graph, data)
        base = replace(base, reference_hex=expected.hex())
        image = build_firmware(graph, board, ref.id, options.build)
        base = replace(base, macs=image.macs, flash_bytes=image.flash_bytes, ram_bytes=image.ram_bytes,
                       weights_bytes=image.weights_bytes, code_bytes=image.code_bytes,
                       arena_bytes=image.arena_bytes, stack_reserved_bytes=image.stack_reserved_bytes,
                       sections=dict(image.section_bytes),
                       fits_board=image.flash_bytes <= board.flash_bytes and image.ram_bytes <= board.ram_bytes)
        target = create_target(target_kind, board, counter=options.counter)
        try:
            target.load(image)
            client = DutClient(target.open(), transcript=transcript)
            try:
                output = _session(client, image, data, options)
            except TargetTimeout as exc:
                if exc.log_path is None and getattr(target, "workdir", None):
                    exc.log_path = str(getattr(target, "workdir"))
                raise
            result = target.stop(timeout_s=5.0)
        finally:
            target.close()
        extra = {"emulator": result.emulator, "counter": result.counter, "exit_code": result.exit_code}
        m = measure(tuple(transcript), result, image, board, options.warmup, options.inferences)
        matches = output == expected
        record = replace(
            base, status="ok" if matches else "mismatch",
            error=None if matches else f"output differs from the tflite-micro host interpreter in "
                                       f"{sum(a != b for a, b in zip(output, expected))} of {len(expected)} bytes",
            instructions_per_inference=m.instructions_per_inference,
            instructions_timed=list(m.instructions_timed), latency_source=m.latency_source,
            latency_us=m.latency_us, latency_estimated=m.latency_estimated,
            layers=[{"index": l.index, "op": l.op, "macs": l.macs, "instructions": l.instructions}
                    for l in m.layers],
            arena_bytes=m.arena_bytes if m.arena_bytes is not None else base.arena_bytes,
            stack_bytes=m.stack_bytes, energy_uj=m.energy_uj, energy_source=m.energy_source,
            output_hex=output.hex(), matches_reference=matches)
    except HarnessError as exc:
        record = replace(base, status=exc.status, error=str(exc))
    except Exception as exc:  # a bug of ours: still a record, and the session goes on
        record = replace(base, status="error", error=f"internal error: {type(exc).__name__}: {exc}")
    extra["wall_s"] = round(time.time() - started, 3)
    if transcript:
        extra["transcript_tail"] = transcript[-8:]
    return replace(record, provenance=_provenance(image, extra))
