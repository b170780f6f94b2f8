"""The ``EnergyMeter`` capability and its typed readings (STYLE §2, §9; DESIGN §5 energy mode).

A meter records current, voltage and one digital input (the firmware's timestamp GPIO) while the
firmware runs; ``harness.measure.energy`` turns that stream into energy per inference.

Selection strings (``--energy``): ``joulescope`` or ``joulescope:SERIAL``, ``ppk2`` or
``ppk2:PORT``, ``estimate`` (the board's active power x time, no meter at all).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from harness.errors import ConfigError, ToolchainError

EnergySource = Literal["joulescope", "ppk2", "estimate-board-active-power"]
MeterKind = Literal["joulescope", "ppk2", "estimate"]
METER_KINDS: tuple[MeterKind, ...] = ("joulescope", "ppk2", "estimate")

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SampleStream:
    """What a meter recorded, one row per sample.

    ``current_a``: amperes; NaN marks a dropped sample (the Joulescope fills gaps with NaN).
    ``voltage_v``: volts per sample, or one float when the meter supplies a fixed voltage (PPK2).
    ``gpio``: the timestamp input, True = high. ``sample_id``: the meter's sample counter when it has
    one; a jump of more than 1 means samples were lost in between (their time still counts).
    """

    sample_rate_hz: float
    current_a: FloatArray
    voltage_v: FloatArray | float
    gpio: BoolArray
    t0_s: float = 0.0
    sample_id: IntArray | None = None
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.current_a)
        if not (np.isfinite(self.sample_rate_hz) and self.sample_rate_hz > 0):
            raise ValueError(f"sample_rate_hz is {self.sample_rate_hz}; expected a finite number > 0")
        if len(self.gpio) != n:
            raise ValueError(f"gpio has {len(self.gpio)} samples, current_a {n}")
        if isinstance(self.voltage_v, np.ndarray) and len(self.voltage_v) != n:
            raise ValueError(f"voltage_v has {len(self.voltage_v)} samples, current_a {n}")
        if self.sample_id is not None:
            if len(self.sample_id) != n:
                raise ValueError(f"sample_id has {len(self.sample_id)} samples, current_a {n}")
            if n > 1 and bool(np.any(np.diff(self.sample_id) < 1)):
                raise ValueError("sample_id must increase strictly")

    @property
    def n_samples(self) -> int:
        return len(self.current_a)

    def power_w(self) -> FloatArray:
        """Power per sample (I x V), NaN where a sample was dropped."""
        return np.asarray(self.current_a, dtype=np.float64) * np.asarray(self.voltage_v, dtype=np.float64)

    def times_s(self) -> FloatArray:
        """The time of each sample: from the sample counter when there is one, so lost samples keep
        their time."""
        if self.sample_id is None:
            index = np.arange(self.n_samples, dtype=np.float64)
        else:
            index = (self.sample_id - self.sample_id[0]).astype(np.float64)
        return self.t0_s + index / self.sample_rate_hz


@dataclass(frozen=True)
class LayerEnergy:
    index: int
    energy_uj: float        # per inference: median over windows of the mean over the window's inferences
    duration_us: float


@dataclass(frozen=True)
class EnergyWindow:
    """One timed block (``infer N``) between its start and stop timestamp edges."""

    index: int
    start_s: float
    end_s: float
    energy_j: float
    inferences: int
    dropped_samples: int = 0
    flags: tuple[str, ...] = ()          # "short_window", "dropped_samples", "refused"
    layer_energy_uj: tuple[float, ...] = ()   # per-layer mode: mean per inference, one per layer
    layer_duration_us: tuple[float, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def energy_uj_per_inference(self) -> float:
        return self.energy_j * 1e6 / self.inferences

    @property
    def usable(self) -> bool:
        return "refused" not in self.flags


@dataclass(frozen=True)
class EnergyReading:
    """Energy per inference: the median over the usable windows (DESIGN §5)."""

    energy_uj_per_inference: float
    source: str                  # the meter (an EnergySource, or a registered meter's name)
    windows: tuple[EnergyWindow, ...] = ()
    layers: tuple[LayerEnergy, ...] = ()
    dropped_samples: int = 0
    estimated: bool = False
    notes: tuple[str, ...] = field(default=())   # partial windows discarded, refused windows, ...

    @property
    def flags(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for w in self.windows:
            for f in w.flags:
                seen[f] = None
        return tuple(seen)


@runtime_checkable
class EnergyMeter(Protocol):
    """A meter that records current, voltage and the timestamp GPIO between ``start`` and ``stop``."""

    source: str

    def open(self) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> SampleStream: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


def parse_energy_option(option: str, kinds: Sequence[str] = METER_KINDS) -> tuple[str, str | None]:
    """``"joulescope:ABC123"`` -> ``("joulescope", "ABC123")``; ``"ppk2"`` -> ``("ppk2", None)``.

    ``kinds`` are the meter names accepted (``harness.targets.energy.parse_energy_option`` passes the
    registered ones); ``estimate`` takes no selector.
    """
    kind, sep, selector = option.strip().partition(":")
    kind = kind.strip().lower()
    accepted = ", ".join(f"{k}[:SELECTOR]" if k != "estimate" else k for k in kinds)
    for known in kinds:
        if kind == known:
            sel = selector.strip() or None
            if sep and sel is None:
                raise ConfigError(f"energy option {option!r}: nothing after ':'; accepted: {accepted}")
            if known == "estimate" and sel is not None:
                raise ConfigError(f"energy option {option!r}: 'estimate' takes no selector")
            return known, sel
    raise ConfigError(f"unknown energy meter {kind!r} in {option!r}; accepted: {accepted} "
                      "(joulescope:SERIAL, ppk2:PORT)")


def import_optional(module: str, pip_name: str, what: str) -> ModuleType:
    """Import an optional package, or say which pip package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ToolchainError(f"{what} needs the Python package {pip_name!r}, which is not installed "
                             f"({exc}); install it with: pip install {pip_name}") from exc
