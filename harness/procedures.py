"""Procedures: what the harness does with a running firmware, between the runner and the protocol.

Each procedure drives one firmware session through ``DutClient`` and knows nothing of how the
firmware runs (QEMU, a board through a probe, a replayed transcript):
- ``performance_run``: load the input, time ``warmup`` + ``inferences`` inferences, read the output,
  the per-layer counts and the firmware's figures; on a mismatch, find the first differing layer;
- ``energy_run``: in an energy-mode firmware, record the meter over timed blocks (windows) and integrate
  between the firmware's timestamp edges (DESIGN §5);
- ``accuracy_run``: one inference per dataset item, outputs only.
Timeouts come from the model's size and the target's speed (``Target.instructions_per_s``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.ops.registry import operator_name
from harness.protocol import DutClient
from harness.targets.energy.base import EnergyMeter, EnergyReading
from harness.types import FirmwareImage

INSTRUCTIONS_PER_MAC_BOUND = 40   # well above any kernel's instructions per MAC, for timeouts
BOOT_MARGIN_S = 15.0

Progress = Callable[[str, int, int], None]   # (phase, done, total)


def seconds_per_inference(image: FirmwareImage, instructions_per_s: float) -> float:
    """A generous bound on one inference's wall time on a target this fast."""
    return max(image.macs, 10_000) * INSTRUCTIONS_PER_MAC_BOUND / instructions_per_s


def infer_timeout_s(image: FirmwareImage, instructions_per_s: float, inferences: int) -> float:
    return BOOT_MARGIN_S + seconds_per_inference(image, instructions_per_s) * inferences


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


def _compare_layer(index: int, kernel: str, got: bytes, want: bytes) -> dict[str, Any]:
    """``kernel``: the name the firmware reports, the kernel variant's (``CONV_2D_DSP``)."""
    diffs = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    return {"index": index, "op": operator_name(kernel), "kernel": kernel,
            "differing_bytes": len(diffs) + abs(len(got) - len(want)), "bytes": len(want),
            "first_difference_offset": diffs[0] if diffs else min(len(got), len(want))}


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
class PerformanceOutput:
    output: bytes                       # the first graph output's bytes
    divergence: Divergence | None       # None when every output matched
    outputs: tuple[bytes, ...] = ()     # every graph output's bytes, in the graph's order

    @property
    def search_failed(self) -> bool:
        return self.divergence is not None and self.divergence.layer is None


def performance_run(client: DutClient, image: FirmwareImage, data: bytes, inferences: int, warmup: int,
                    expected: bytes, reference_layers: Callable[[], list[bytes]],
                    instructions_per_s: float, timeout_s: float | None = None, *,
                    more_inputs: Sequence[bytes] = (), more_expected: Sequence[bytes] = ()) -> PerformanceOutput:
    """One timed session; the firmware is asked to end (``hil-exit``) unless the line died while the
    first differing layer was looked for (the result then says so). ``timeout_s`` bounds the timed
    block (default: from the model's MACs and the target's speed).

    ``data`` and ``expected`` are the first graph input and output; ``more_inputs`` and ``more_expected``
    the others of a model with several (each input loaded in turn, each output compared)."""
    client.wait_boot()
    client.profile()
    client.load_inputs([data, *more_inputs])
    client.infer(inferences, warmup, timeout_s or infer_timeout_s(image, instructions_per_s, inferences + warmup))
    outputs = tuple(client.outputs())
    output = outputs[0]
    client.command("hil-layers")
    client.command("hil-info")
    client.command("hil-timing")
    divergence = None
    if list(outputs) != [expected, *more_expected]:
        # after hil-layers and hil-info, so that the numbers they report are the timed run's
        divergence = find_first_diverging_layer(client, reference_layers,
                                                infer_timeout_s(image, instructions_per_s, 3))
    result = PerformanceOutput(output, divergence, outputs)
    try:
        client.exit(0)
    except Exception:
        if not result.search_failed:
            raise
        # the line died while the layer was looked for, which the record already says
    return result


@dataclass(frozen=True)
class EnergyPlan:
    """``windows`` timed blocks of ``inferences`` each (after ``warmup`` once), analysed with ``layers``
    segments per inference (1: whole inferences only)."""

    inferences: int
    warmup: int
    windows: int
    layers: int = 1
    min_window_s: float = 10.0


def energy_run(client: DutClient, meter: EnergyMeter, image: FirmwareImage, data: bytes | Sequence[bytes],
               plan: EnergyPlan, instructions_per_s: float) -> EnergyReading:
    """Record the meter over ``plan.windows`` timed blocks of an energy-mode firmware and integrate each
    between its timestamp edges; raises ``MeasurementError`` when the stream has no usable window.
    ``data``: the input, or every graph input of a model of several."""
    from harness.measure.energy import analyze_energy

    client.wait_boot()
    client.profile()   # says whether the firmware takes the fast binary load
    client.load_inputs([data] if isinstance(data, bytes) else list(data))
    per_block = infer_timeout_s(image, instructions_per_s, plan.inferences + plan.warmup)
    meter.open()
    try:
        meter.start()
        for window in range(plan.windows):
            client.infer(plan.inferences, plan.warmup if window == 0 else 0, per_block)
        stream = meter.stop()
    finally:
        meter.close()
    client.exit(0)
    return analyze_energy(stream, plan.inferences, source=meter.source, layers=plan.layers,
                          expected_windows=plan.windows, min_window_s=plan.min_window_s)


def accuracy_run(client: DutClient, inputs: Sequence[bytes], timeout_s: float, names: Sequence[str],
                 progress: Progress | None = None, where: str = "") -> list[bytes]:
    """The firmware's output for each input, one inference each; a failure names the item (and ``where``,
    e.g. the board) in a ``TargetError``."""
    from harness.errors import HarnessError, TargetError

    client.wait_boot()
    client.profile()   # says whether the firmware takes the fast binary load
    out: list[bytes] = []
    for i, (data, name) in enumerate(zip(inputs, names, strict=True)):
        try:
            client.load_input(data)
            client.infer(1, 0, timeout_s)
            out.append(client.output_bytes())
        except HarnessError as exc:
            raise TargetError(f"sample {name} ({i + 1} of {len(inputs)}){where}: {exc}") from exc
        client.transcript.clear()   # a long dataset would otherwise keep every line of the session
        if progress is not None:
            progress("target", i + 1, len(inputs))
    client.exit(0)
    return out
