"""Energy meters (DESIGN §5 energy mode): the ``EnergyMeter`` protocol, its readings and adapters.

The adapters import their packages (``joulescope``, ``ppk2-api``) only when opened: neither is a
required dependency.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import ConfigError
from harness.targets.energy.base import (
    METER_KINDS,
    EnergyMeter,
    EnergyReading,
    EnergySource,
    EnergyWindow,
    LayerEnergy,
    MeterKind,
    SampleStream,
)
from harness.targets.energy.base import parse_energy_option as _parse
from harness.targets.energy.estimate import estimate_energy
from harness.targets.energy.joulescope_meter import JoulescopeMeter
from harness.targets.energy.ppk2_meter import Ppk2Meter

__all__ = [
    "METER_KINDS", "EnergyMeter", "EnergyReading", "EnergySource", "EnergyWindow", "JoulescopeMeter",
    "LayerEnergy", "MeterKind", "Ppk2Meter", "SampleStream", "create_energy_meter", "estimate_energy",
    "parse_energy_option", "register_energy_meter",
]

MeterFactory = Callable[[str | None], EnergyMeter]
_METERS: dict[str, MeterFactory] = {}


def register_energy_meter(kind: str, factory: MeterFactory) -> None:
    """Register a meter backend by name; a duplicate raises (STYLE §2)."""
    if kind in _METERS:
        raise ConfigError(f"energy meter {kind!r} is already registered")
    _METERS[kind] = factory


def parse_energy_option(option: str) -> tuple[str, str | None]:
    """``"joulescope:ABC123"`` -> ``("joulescope", "ABC123")``: the registered meters and ``estimate``."""
    return _parse(option, (*_METERS, "estimate"))


def create_energy_meter(option: str) -> EnergyMeter:
    """``"joulescope:SERIAL"`` or ``"ppk2:PORT"`` -> an unopened meter."""
    kind, selector = parse_energy_option(option)
    if kind == "estimate":
        raise ConfigError("'estimate' uses no meter: the energy comes from the board's active power "
                          "(estimate_energy)")
    return _METERS[kind](selector)


register_energy_meter("joulescope", lambda sel: JoulescopeMeter(serial=sel))
register_energy_meter("ppk2", lambda sel: Ppk2Meter(port=sel))
