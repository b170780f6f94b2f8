"""One run, end to end: model -> firmware -> target -> protocol -> measure -> record.

``run_model`` never raises for a failing run: every ``HarnessError`` becomes a
record whose ``status`` names the failure class and whose ``error`` says why,
so one failing benchmark never takes other results with it.

When the output differs from the host interpreter's, the same session goes on
to find the first layer whose output differs: the firmware runs the loaded
input once more and reports each layer's CRC-32, which is compared with the
interpreter's intermediate tensors; that layer's bytes are then fetched. The
session keeps the state the mismatch came from (the inferences already run),
so a fault that shows only after earlier inferences (DESIGN §5's input-reuse
trap) shows here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import harness
from harness.boards import BoardSpec
from harness.errors import ConfigError, HarnessError, MeasurementError, TargetTimeout
from harness.firmware.build import BuildOptions, build_firmware
from harness.measure import Measurement, measure
from harness.model import load_model
from harness.model.reference import default_input, reference_layer_outputs, reference_output
from harness.model.zoo import ModelRef, resolve_model
from harness.paths import PROJECT_DIR
from harness.protocol import DutClient
from harness.store.record import RunRecord
from harness.targets import create_target
from harness.targets.process import keep_logs
from harness.types import FirmwareImage

RUNTIME = "hilbench-aot"
EMULATED_INSN_PER_S = 150e6  # a slow CI machine under the counting plugin, for timeouts
STOP_TIMEOUT_S = 5.0         # for the firmware to end after hil-exit
STOP_TIMEOUT_DEAD_S = 1.0    # the same, when the layer search failed: the firmware may be dead or hung
# the firmware parses `infer N W` into int32_t (firmware/src/main.c, parse_uint): N, W <= 2**31 - 1
MAX_INFERENCES = 2**31 - 1
MAX_SEED = 2**32 - 1         # numpy's default_rng refuses negative seeds; 32 bits are enough
COUNT_LIMITS = {"inferences": (1, MAX_INFERENCES), "warmup": (0, MAX_INFERENCES), "seed": (0, MAX_SEED)}


def check_counts(**values: int) -> None:
    """Raise ``ConfigError`` unless each of inferences, warmup and seed given is in ``COUNT_LIMITS``."""
    for name, value in values.items():
        lo, hi = COUNT_LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ConfigError(f"{name} is {value!r}; expected a whole number from {lo} to {hi}")


@dataclass(frozen=True)
class RunOptions:
    inferences: int = 5
    warmup: int = 1
    seed: int = 0
    input_bytes: bytes | None = None       # default: seeded random int8
    counter: str = "auto"                  # QEMU: "auto", "plugin" or "icount"
    build: BuildOptions = field(default_factory=BuildOptions)
    timeout_s: float | None = None         # inference timeout; default from the model's MACs

    def __post_init__(self) -> None:
        check_counts(inferences=self.inferences, warmup=self.warmup, seed=self.seed)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_DIR), "describe", "--always", "--dirty", "--abbrev=40"],
                             capture_output=True, text=True, check=False, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _provenance(image: FirmwareImage | None, extra: dict[str, Any]) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tflm = version("tflite-micro")
    except PackageNotFoundError:
        tflm = "absent"
    prov: dict[str, Any] = {
        "git_commit": git_commit(), "harness_version": harness.__version__, "python": sys.version.split()[0],
        "host": platform.node(), "platform": platform.platform(), "tflite_micro": tflm}
    if image is not None:
        prov.update(compiler=image.compiler, cflags=list(image.cflags), firmware_sha256=image.sha256,
                    firmware_cached=image.cached)
    prov.update(extra)
    return prov


def _per_inference_s(image: FirmwareImage) -> float:
    return max(image.macs, 10_000) * 40 / EMULATED_INSN_PER_S


def _infer_timeout(image: FirmwareImage, options: RunOptions) -> float:
    if options.timeout_s is not None:
        return options.timeout_s
    return 15.0 + _per_inference_s(image) * (options.inferences + options.warmup)


@dataclass(frozen=True)
class Divergence:
    """Where the firmware's layer outputs first differ from the interpreter's.

    ``layer`` is the record's ``first_diverging_layer``; when it is None, ``reason`` says why.
    """

    layer: dict[str, Any] | None
    reason: str = ""

    def describe(self) -> str:
        if self.layer is None:
            return f"the first differing layer could not be found: {self.reason}"
        d = self.layer
        return (f"first differing layer: {d['index']} ({d['op']}), "
                f"{d['differing_bytes']} of {d['bytes']} bytes")


def _compare_layer(index: int, op: str, got: bytes, want: bytes) -> dict[str, Any]:
    diffs = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    return {"index": index, "op": op, "differing_bytes": len(diffs) + abs(len(got) - len(want)),
            "bytes": len(want), "first_difference_offset": diffs[0] if diffs else min(len(got), len(want))}


def find_first_diverging_layer(client: DutClient, reference_layers: Callable[[], list[bytes]],
                               timeout_s: float) -> Divergence:
    """Compare every layer's output CRC-32 with the interpreter's, then fetch the first differing one.

    ``reference_layers`` gives the interpreter's per-layer output bytes (called only here).
    Never raises: a mismatch stays a mismatch even when its cause cannot be located.
    """
    try:
        want = reference_layers()
        crcs = client.layer_crcs(timeout_s)
        if len(crcs) != len(want):
            return Divergence(None, f"the firmware reported {len(crcs)} layers; the model has {len(want)}")
        for (index, op, n_bytes, crc), ref in zip(crcs, want):
            if n_bytes == len(ref) and crc == zlib.crc32(ref):
                continue
            got = client.layer_output(index, timeout_s)
            if got == ref:
                return Divergence(None, f"layer {index} ({op}) had a CRC-32 other than the interpreter's, "
                                        "but its bytes matched when run again: the firmware is not "
                                        "deterministic")
            return Divergence(_compare_layer(index, op, got, ref))
        return Divergence(None, "every layer's output had the interpreter's CRC-32 when the loaded input was "
                                "run once more")
    # a dead line, a timeout, a garbled line, a bug of ours: none may hide the mismatch itself
    except Exception as exc:  # noqa: BLE001
        return Divergence(None, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _SessionOutput:
    output: bytes
    divergence: Divergence | None       # None when the output matched

    @property
    def search_failed(self) -> bool:
        return self.divergence is not None and self.divergence.layer is None


def _session(client: DutClient, image: FirmwareImage, data: bytes, options: RunOptions, expected: bytes,
             reference_layers: Callable[[], list[bytes]]) -> _SessionOutput:
    client.wait_boot()
    client.profile()
    client.load_input(data)
    client.infer(options.inferences, options.warmup, _infer_timeout(image, options))
    output = client.output_bytes()
    client.command("hil-layers")
    client.command("hil-info")
    divergence = None
    if output != expected:
        # after hil-layers and hil-info, so that the numbers they report are the timed run's
        divergence = find_first_diverging_layer(client, reference_layers, 15.0 + 3 * _per_inference_s(image))
    session = _SessionOutput(output, divergence)
    try:
        client.exit(0)
    except Exception:
        if not session.search_failed:
            raise
        # the line died while the layer was looked for, which the record already says
    return session


def _mismatch_error(output: bytes, expected: bytes, divergence: Divergence | None) -> str:
    n_diff = sum(a != b for a, b in zip(output, expected)) + abs(len(output) - len(expected))
    text = f"output differs from the tflite-micro host interpreter in {n_diff} of {len(expected)} bytes"
    return text if divergence is None else f"{text}; {divergence.describe()}"


def run_model(model: str | Path | ModelRef, board: BoardSpec, options: RunOptions = RunOptions(),
              target_name: str | None = None) -> RunRecord:
    """Run one model on one board; the record, whatever happened."""
    started = time.time()
    now = dt.datetime.now(dt.UTC)
    target_kind = target_name or board.target
    base = RunRecord(model=str(model), board=board.name, runtime=RUNTIME, target=target_kind, status="ok",
                     inferences=options.inferences, warmup=options.warmup,
                     seed=options.seed if options.input_bytes is None else None,
                     board_flash_bytes=board.flash_bytes, board_ram_bytes=board.ram_bytes,
                     time_utc=now.isoformat(timespec="milliseconds"),
                     run_id=f"{now:%Y%m%dT%H%M%S}-{board.name}-{Path(str(model)).stem[:48]}-{uuid.uuid4().hex[:6]}")
    image: FirmwareImage | None = None
    transcript: list[str] = []
    extra: dict[str, Any] = {}
    try:
        ref = resolve_model(model)
        base = replace(base, model=ref.id, model_path=str(ref.path), model_origin=ref.origin.value)
        if ref.source:
            extra["model_source"] = ref.source   # e.g. "official file from the cache /x/kws_ref_model.tflite"
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
                session = _session(client, image, data, options, expected,
                                   lambda: reference_layer_outputs(str(ref.path), graph, data))
            except TargetTimeout as exc:
                workdir = getattr(target, "workdir", None)
                if exc.log_path is None and workdir:
                    if keep_logs():  # else close() below removes the folder: name no path that will not exist
                        exc.log_path = str(workdir)
                    else:
                        exc.hint = ("QEMU's work folder (its stderr and instruction log) is removed at the end "
                                    "of the run; rerun with HILBENCH_KEEP_LOGS=1 to keep it")
                raise
            result = target.stop(timeout_s=STOP_TIMEOUT_DEAD_S if session.search_failed else STOP_TIMEOUT_S)
        finally:
            target.close()
        extra.update(emulator=result.emulator, counter=result.counter, exit_code=result.exit_code)
        output, divergence = session.output, session.divergence
        matches = output == expected
        error = None if matches else _mismatch_error(output, expected, divergence)
        try:
            m: Measurement | None = measure(tuple(transcript), result, image, board, options.warmup,
                                            options.inferences)
        except MeasurementError as exc:
            # a target that died or hung while the layer was looked for may take the counter's log
            # with it; the mismatch is what the record must report
            if not session.search_failed:
                raise
            m, error = None, f"{error}; no measurements either: {exc}"
        record = replace(
            base, status="ok" if matches else "mismatch", error=error,
            output_hex=output.hex(), matches_reference=matches,
            first_diverging_layer=divergence.layer if divergence is not None else None)
        if m is not None:
            record = replace(
                record, instructions_per_inference=m.instructions_per_inference,
                instructions_timed=list(m.instructions_timed), latency_source=m.latency_source,
                latency_us=m.latency_us, latency_estimated=m.latency_estimated,
                layers=[{"index": l.index, "op": l.op, "macs": l.macs, "instructions": l.instructions}
                        for l in m.layers],
                arena_bytes=m.arena_bytes if m.arena_bytes is not None else base.arena_bytes,
                stack_bytes=m.stack_bytes, energy_uj=m.energy_uj, energy_source=m.energy_source)
    except HarnessError as exc:
        record = replace(base, status=exc.status, error=str(exc))
    except Exception as exc:  # noqa: BLE001  a bug of ours: still a record, and the session goes on
        record = replace(base, status="error", error=f"internal error: {type(exc).__name__}: {exc}")
    extra["wall_s"] = round(time.time() - started, 3)
    extra["board_file"] = board.source
    if transcript:
        extra["transcript_tail"] = transcript[-8:]
    return replace(record, provenance=_provenance(image, extra))
