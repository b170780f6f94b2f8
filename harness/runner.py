"""One run, end to end: model -> firmware -> target -> procedure -> readings -> measure -> record.

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
import math
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import harness
from harness.boards import BoardSpec
from harness.errors import ConfigError, EnergyMeasurementError, HarnessError, MeasurementError, TargetTimeout
from harness.firmware.build import BuildOptions, build_firmware
from harness.measure import measure
from harness.measure.energy import MIN_WINDOW_S, check_layer_sum
from harness.model import load_model
from harness.model.graph import Graph
from harness.model.reference import default_inputs, reference_layer_outputs, reference_outputs
from harness.model.zoo import ModelRef, resolve_model
from harness.ops.registry import operator_name
from harness.paths import PROJECT_DIR
from harness.procedures import (
    Divergence,
    EnergyPlan,
    PerformanceOutput,
    energy_run,
    find_first_diverging_layer,
    performance_run,
)
from harness.protocol import DutClient
from harness.store.record import RunRecord
from harness.targets import create_target
from harness.targets.base import CycleCounter, FirmwareSession, InstructionCounter, Target, TargetResult
from harness.targets.energy import create_energy_meter, parse_energy_option
from harness.targets.energy.base import EnergyReading
from harness.targets.readings import CycleCount, Reading
from harness.types import FirmwareImage

__all__ = ["COUNT_LIMITS", "MAX_INFERENCES", "MAX_SEED", "RunOptions", "check_counts", "find_first_diverging_layer",
           "run_model"]

RUNTIME = "hilbench-aot"
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
    probe: str | None = None               # real boards: the debug probe's unique id (--hil-probe)
    port: str | None = None                # real boards: the serial port, when the probe has none of its own
    lg_place: str | None = None            # real boards: the labgrid place to acquire (--hil-lg-place)
    energy: str | None = None              # "joulescope[:SERIAL]", "ppk2[:PORT]" or "estimate" (--hil-energy)
    energy_layers: bool = False            # also measure each layer's energy (a second, per-layer run)
    energy_windows: int = 3                # timed blocks the meter records; energy is their median

    def __post_init__(self) -> None:
        check_counts(inferences=self.inferences, warmup=self.warmup, seed=self.seed)
        if isinstance(self.energy_windows, bool) or not isinstance(self.energy_windows, int) \
                or not 1 <= self.energy_windows <= 1000:
            raise ConfigError(f"energy_windows is {self.energy_windows!r}; expected a whole number from 1 to 1000")
        if self.energy is not None:
            parse_energy_option(self.energy)   # raises ConfigError naming what is accepted


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


def _mismatch_errors(outputs: list[bytes], expected: list[bytes], divergence: Divergence | None) -> str:
    """``_mismatch_error`` of a model of one output; of several, which outputs differ, then the first's."""
    if len(expected) == 1:
        return _mismatch_error(outputs[0], expected[0], divergence)
    bad = [k for k, (o, e) in enumerate(zip(outputs, expected)) if o != e]
    if len(outputs) != len(expected):
        return f"the firmware reported {len(outputs)} outputs; the model has {len(expected)}"
    return f"graph output {bad[0]} of {len(expected)} (differing: {bad}): " + _mismatch_error(
        outputs[bad[0]], expected[bad[0]], divergence)


def _mismatch_error(output: bytes, expected: bytes, divergence: Divergence | None) -> str:
    n_diff = sum(a != b for a, b in zip(output, expected)) + abs(len(output) - len(expected))
    text = f"output differs from the tflite-micro host interpreter in {n_diff} of {len(expected)} bytes"
    return text if divergence is None else f"{text}; {divergence.describe()}"


def readings_of(target: Target, session: FirmwareSession) -> list[Reading]:
    """Every count the target's capabilities give for this session."""
    readings: list[Reading] = []
    if isinstance(target, InstructionCounter):
        readings.append(target.instruction_count(session))
    if isinstance(target, CycleCounter):
        readings.append(target.cycle_count(session))
    return readings


@dataclass
class _Prepared:
    ref: ModelRef
    graph: Graph
    data: bytes                 # the first graph input
    expected: bytes             # the first graph output
    inputs: list[bytes]         # every graph input, in the graph's order (data first)
    expected_all: list[bytes]   # every graph output (expected first)


@dataclass
class _Performance:
    output: PerformanceOutput
    readings: list[Reading]
    result: TargetResult


def _settings(options: RunOptions) -> dict[str, object]:
    """What the runner hands every backend's factory; each takes the settings it knows."""
    settings: dict[str, object] = {"counter": options.counter, "probe": options.probe, "port": options.port}
    if options.lg_place is not None:
        settings["lg_place"] = options.lg_place
    return settings


def _create_target(kind: str, board: BoardSpec, options: RunOptions) -> Target:
    """The backend's target; with ``lg_place``, a real board held in that labgrid place for the run
    (``harness.targets.labgrid_place``: acquired in ``load``, released in ``close``)."""
    if options.lg_place is None:
        return create_target(kind, board, **_settings(options))
    if kind != "hardware":
        raise ConfigError(f"--hil-lg-place {options.lg_place}: a labgrid place holds a real board, but board "
                          f"{board.name} runs on target {kind!r}; expected target 'hardware' (--hil-target hardware)")
    from harness.targets.labgrid_place import labgrid_target  # imports labgrid only when a place is asked for

    return labgrid_target(board, **_settings(options))


def _performance(target: Target, image: FirmwareImage, prep: _Prepared, options: RunOptions,
                 transcript: list[str]) -> _Performance:
    """Steps 4-5 of the pipeline: run the performance procedure on ``target``, then read its counters."""
    target.load(image)
    client = DutClient(target.open(), transcript=transcript)
    try:
        out = performance_run(client, image, prep.data, options.inferences, options.warmup, prep.expected,
                              lambda: reference_layer_outputs(str(prep.ref.path), prep.graph, prep.inputs),
                              target.instructions_per_s, options.timeout_s,
                              more_inputs=prep.inputs[1:], more_expected=prep.expected_all[1:])
    except TargetTimeout as exc:
        path, hint = target.logs()
        exc.log_path = exc.log_path or path
        exc.hint = exc.hint or ("" if exc.log_path else hint)
        raise
    result = target.stop(timeout_s=STOP_TIMEOUT_DEAD_S if out.search_failed else STOP_TIMEOUT_S)
    session = FirmwareSession(tuple(transcript), image, options.warmup, options.inferences)
    try:
        readings = readings_of(target, session)
    except MeasurementError:
        # a target that died or hung while the layer was looked for may take its counter's log with it;
        # the mismatch is what the record must report
        if not out.search_failed:
            raise
        readings = []
    return _Performance(out, readings, result)


def _energy(board: BoardSpec, graph: Graph, model_id: str, prep: _Prepared, options: RunOptions,
            target_kind: str, latency_s: float | None, extra: dict[str, Any]) -> EnergyReading | None:
    """The energy procedure on an energy-mode build (and a per-layer one with ``energy_layers``); None
    for ``estimate``, which the measurement derives from the board's power figure."""
    assert options.energy is not None
    kind, _ = parse_energy_option(options.energy)
    if kind == "estimate":
        return None
    min_window_s = MIN_WINDOW_S
    per_block = max(options.inferences, 1 if not latency_s else math.ceil(min_window_s / latency_s))

    def measured(mode: str) -> EnergyReading:
        target = _create_target(target_kind, board, options)
        build = replace(options.build, energy_mode=mode, semihosting=options.build.semihosting and target.semihosting)
        image = build_firmware(graph, board, model_id, build)
        layers = len(image.layers) if mode == "layer" else 1
        meter = create_energy_meter(options.energy or "")
        with target:
            target.load(image)
            client = DutClient(target.open())
            plan = EnergyPlan(per_block, options.warmup, options.energy_windows, layers, min_window_s)
            data = prep.data if len(prep.inputs) == 1 else prep.inputs
            return energy_run(client, meter, image, data, plan, target.instructions_per_s)

    whole = measured("inference")
    extra["energy"] = {"meter": options.energy, "windows": len(whole.windows), "inferences_per_window": per_block,
                       "dropped_samples": whole.dropped_samples, "flags": list(whole.flags),
                       "notes": list(whole.notes),
                       "window_uj_per_inference": [round(w.energy_uj_per_inference, 6) for w in whole.windows]}
    if not options.energy_layers:
        return whole
    per_layer = measured("layer")
    check = check_layer_sum(per_layer, whole)
    extra["energy"]["layer_sum_check"] = check.describe()
    if not check.ok:
        raise EnergyMeasurementError(f"per-layer energy does not add up: {check.describe()}")
    return replace(whole, layers=per_layer.layers)


def _record(base: RunRecord, perf: _Performance, prep: _Prepared, image: FirmwareImage, board: BoardSpec,
            energy: EnergyReading | None, transcript: list[str]) -> RunRecord:
    output, divergence = perf.output.output, perf.output.divergence
    outputs = list(perf.output.outputs) or [output]
    matches = outputs == prep.expected_all
    error = None if matches else _mismatch_errors(outputs, prep.expected_all, divergence)
    several = len(prep.expected_all) > 1
    record = replace(base, status="ok" if matches else "mismatch", error=error, output_hex=output.hex(),
                     outputs_hex=[o.hex() for o in outputs] if several else None,
                     matches_reference=matches,
                     first_diverging_layer=divergence.layer if divergence is not None else None)
    readings = [*perf.readings, *([energy] if energy is not None else [])]
    try:
        m = measure(readings, transcript, image, board)
    except MeasurementError as exc:
        if not perf.output.search_failed:
            raise
        return replace(record, error=f"{error}; no measurements either: {exc}")
    layers = []
    for layer in m.layers:
        # op: the TFLite operator; kernel: the variant that ran it (registry.choose: by type, shape and core)
        row: dict[str, Any] = {"index": layer.index, "op": operator_name(layer.op), "kernel": layer.op,
                               "macs": layer.macs, "instructions": layer.instructions}
        if layer.cycles is not None:
            row["cycles"] = layer.cycles
        if layer.energy_uj is not None:
            row["energy_uj"] = layer.energy_uj
        layers.append(row)
    return replace(
        record, instructions_per_inference=m.instructions_per_inference,
        instructions_timed=list(m.instructions_timed), cycles_per_inference=m.cycles_per_inference,
        latency_source=m.latency_source, latency_us=m.latency_us, latency_estimated=m.latency_estimated,
        layers=layers, arena_bytes=m.arena_bytes if m.arena_bytes is not None else base.arena_bytes,
        stack_bytes=m.stack_bytes, energy_uj=m.energy_uj, energy_source=m.energy_source)


def _prepare(ref: ModelRef, options: RunOptions) -> _Prepared:
    graph = load_model(ref.path)
    if options.input_bytes is not None and len(graph.inputs) > 1:
        raise HarnessError(f"one input given; model {ref.id} takes {len(graph.inputs)} (a run of a model of "
                           "several inputs draws them from the seed)")
    inputs = [options.input_bytes] if options.input_bytes is not None else default_inputs(graph, options.seed)
    if len(inputs[0]) != graph.input.nbytes:
        raise HarnessError(f"input of {len(inputs[0])} bytes; model {ref.id} takes {graph.input.nbytes}")
    expected = reference_outputs(str(ref.path), graph, inputs)
    return _Prepared(ref, graph, inputs[0], expected[0], inputs, expected)


def run_model(model: str | Path | ModelRef, board: BoardSpec, options: RunOptions = RunOptions(),
              target_name: str | None = None) -> RunRecord:
    """Run one model on one board; the record, whatever happened.

    The pipeline: resolve and load the model and its reference output; build the firmware; run the
    performance procedure on the target and read its counters; with ``options.energy``, the energy
    procedure on an energy-mode build; measure; record.
    """
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
        prep = _prepare(ref, options)
        base = replace(base, model_sha256=prep.graph.sha256,
                       input_sha256=hashlib.sha256(b"".join(prep.inputs)).hexdigest(),
                       reference_hex=prep.expected.hex(),
                       references_hex=[e.hex() for e in prep.expected_all] if len(prep.expected_all) > 1 else None)
        target = _create_target(target_kind, board, options)
        build = options.build if target.semihosting else replace(options.build, semihosting=False)
        image = build_firmware(prep.graph, board, prep.ref.id, build)
        base = replace(base, macs=image.macs, flash_bytes=image.flash_bytes, ram_bytes=image.ram_bytes,
                       weights_bytes=image.weights_bytes, code_bytes=image.code_bytes,
                       arena_bytes=image.arena_bytes, stack_reserved_bytes=image.stack_reserved_bytes,
                       sections=dict(image.section_bytes),
                       fits_board=image.flash_bytes <= board.flash_bytes and image.ram_bytes <= board.ram_bytes)
        with target:
            perf = _performance(target, image, prep, options, transcript)
        # "emulator" keeps its name for the reports that read it; on a real board it names the probe
        extra.update(emulator=perf.result.runner, runner=perf.result.runner, exit_code=perf.result.exit_code,
                     **perf.result.details)
        energy = None
        if options.energy is not None and perf.output.divergence is None:
            latency = next((r for r in perf.readings if isinstance(r, CycleCount)), None)
            latency_s = latency.microseconds(int(statistics.median(latency.per_inference))) / 1e6 if latency else None
            energy = _energy(board, prep.graph, prep.ref.id, prep, options, target_kind, latency_s, extra)
        record = _record(base, perf, prep, image, board, energy, transcript)
    except HarnessError as exc:
        record = replace(base, status=exc.status, error=str(exc))
    except Exception as exc:  # noqa: BLE001  a bug of ours: still a record, and the session goes on
        record = replace(base, status="error", error=f"internal error: {type(exc).__name__}: {exc}")
    extra["wall_s"] = round(time.time() - started, 3)
    extra["board_file"] = board.source
    if transcript:
        extra["transcript_tail"] = transcript[-8:]
    return replace(record, provenance=_provenance(image, extra))
