"""The registry of target backends: built-in ones, and any package's through an entry point.

A backend is a ``Backend`` value: its name (a board's ``target``, ``--hil-target``), the factory that
makes a ``Target`` for a board, and the board-file section it owns (``[qemu]``, ``[hardware]``) with
the parser that validates that section. The board loader hands each section to its owner, so a
backend's settings are checked where the backend is defined, when the board file is loaded.

A package adds a backend by naming a ``Backend`` in its ``pyproject.toml``::

    [project.entry-points."hilbench.targets"]
    mylab = "mylab.hilbench_backend:BACKEND"

Backends are found lazily (this module imports no backend and no board code), so reading a board file
costs only the import of the backends whose sections it has. ``register_backend`` registers one at
run time (tests register their fakes this way, like a real backend).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from harness.errors import ConfigError

ENTRY_POINT_GROUP = "hilbench.targets"
# name -> "module:attribute"; also declared as entry points in pyproject.toml, which a source tree
# without an install (or an install that lost its metadata) does not see
BUILTIN: dict[str, str] = {
    "qemu": "harness.targets.qemu:BACKEND",
    "hardware": "harness.targets.hardware:BACKEND",
    "renode": "harness.targets.renode:BACKEND",
}

SectionParser = Callable[[dict[str, Any], str], object]   # (table, "board 'x' (file) [section]") -> settings


@dataclass(frozen=True)
class Backend:
    """One kind of target. ``factory(board, **settings)`` makes the ``Target``; ``parse_section`` validates
    the board file's ``[section]`` table (keys it does not know are errors) into the settings object that
    ``BoardSpec.section(name)`` returns. ``section`` None: the backend reads nothing from board files."""

    name: str
    factory: Callable[..., Any]
    section: str | None = None
    parse_section: SectionParser | None = None
    description: str = ""


_registered: dict[str, Backend] = {}
_loaded_entry_points = False


def _load(spec: str, where: str) -> Backend:
    module, _, attr = spec.partition(":")
    try:
        value = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"target backend {where}: cannot load {spec!r}: {exc}") from exc
    backend = value() if callable(value) and not isinstance(value, Backend) else value
    if not isinstance(backend, Backend):
        raise ConfigError(f"target backend {where}: {spec!r} is a {type(backend).__name__}, "
                          "expected a harness.targets.backends.Backend")
    return backend


def _discover() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _registered or BUILTIN.get(ep.name) == ep.value:
            continue   # a built-in (loaded from BUILTIN) or registered already
        if ep.name in BUILTIN:
            raise ConfigError(f"entry point {ep.value!r} ({ep.dist.name if ep.dist else '?'}) claims the "
                              f"built-in target backend name {ep.name!r}; give the backend another name")
        _registered[ep.name] = _load(ep.value, f"{ep.name!r} (entry point)")


def register_backend(backend: Backend, *, replace: bool = False) -> None:
    """Register ``backend``; a second one of the same name raises ``ConfigError`` unless ``replace``."""
    if not replace and (backend.name in _registered or backend.name in BUILTIN):
        raise ConfigError(f"target backend {backend.name!r} is already registered")
    _registered[backend.name] = backend


def unregister_backend(name: str) -> None:
    """Remove a backend registered at run time (for tests); a built-in stays."""
    _registered.pop(name, None)


def backend_names() -> list[str]:
    _discover()
    return sorted({*BUILTIN, *_registered})


def get_backend(name: str) -> Backend:
    """The backend called ``name``; raises ``ConfigError`` naming the ones that exist."""
    _discover()
    if name in _registered:
        return _registered[name]
    if name in BUILTIN:
        _registered[name] = _load(BUILTIN[name], repr(name))
        return _registered[name]
    raise ConfigError(f"unknown target backend {name!r}; expected one of {backend_names()}")


def section_owners() -> Mapping[str, str]:
    """Board-file section -> the backend that owns it (loads every backend)."""
    owners: dict[str, str] = {}
    for name in backend_names():
        section = get_backend(name).section
        if section is not None:
            owners[section] = name
    return owners


def parse_backend_section(section: str, table: dict[str, Any], where: str) -> tuple[str, object]:
    """(owner backend, settings) of one board-file section; raises ``ConfigError`` when no backend owns it."""
    owners = section_owners()
    if section not in owners:
        raise ConfigError(f"{where}: unknown section [{section}]; the target backends' sections are "
                          f"{sorted(f'[{s}]' for s in owners)}")
    backend = get_backend(owners[section])
    assert backend.parse_section is not None
    return backend.name, backend.parse_section(dict(table), f"{where} [{section}]")
