"""The operator registry: every ``OpSpec`` of the modules of ``harness.ops``, by name.

An operator module is any module of this package that defines ``OPS`` (a tuple of ``OpSpec``); the
registry imports them all, so adding an operator adds a file and edits no shared table. It is the one
list of operators: the loader's option readers, ``support.validate``'s checks, the code generator's
emitters, the planner's rules, the build's kernel sources and the generated C enum, name table and
dispatch cases (``harness.ops.cheader``) all come from here.

Raises ``RegistryError`` at import for two operators of one name, TFLite opcode or C enum value, or a
negative C enum value. A variant (``OpSpec.variant_of``: a kernel for some tensor types of an operator,
such as QUANTIZE from float32) shares its operator's opcode and has a C enum value of its own. Gaps between values are allowed (so that changes made side by side can take
ranges of their own): the firmware names and dispatches only the operators its model uses.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

import harness.ops

if TYPE_CHECKING:   # the operator modules import harness.model, whose loader imports this module
    from harness.model.graph import Graph, Operator
    from harness.ops.base import OpSpec


# what a kernel variant may need of the core (OpSpec.isa); harness.boards.CORE_FEATURES says which cores have them
ISA_FEATURES = frozenset({"dsp", "mve"})


class RegistryError(RuntimeError):
    """Two operator modules disagree (a duplicate name, opcode or enum value), or enum values have gaps."""


def _collect() -> dict[str, OpSpec]:
    found: list[tuple[str, OpSpec]] = []
    for info in sorted(pkgutil.iter_modules(harness.ops.__path__), key=lambda i: i.name):
        if info.name == "registry":
            continue
        module = importlib.import_module(f"harness.ops.{info.name}")
        found += [(info.name, d) for d in getattr(module, "OPS", ())]
    by_name: dict[str, OpSpec] = {}
    seen: dict[tuple[str, int], str] = {}
    for module_name, d in found:
        if d.name in by_name:
            raise RegistryError(f"operator {d.name} is defined twice (the second time in harness.ops.{module_name})")
        keys = (("code", d.code),) if d.variant_of else (("opcode", d.opcode), ("code", d.code))
        for key in keys:
            if key in seen:
                raise RegistryError(f"operator {d.name} (harness.ops.{module_name}) has {key[0]} {key[1]}, which "
                                    f"{seen[key]} has already; give it the next free one")
            seen[key] = d.name
        by_name[d.name] = d
    for d in by_name.values():
        base = by_name.get(d.variant_of) if d.variant_of else None
        if d.variant_of and (base is None or base.opcode != d.opcode):
            raise RegistryError(f"operator {d.name} is a variant of {d.variant_of!r}, which is not a registered "
                                f"operator of opcode {d.opcode}")
    for d in by_name.values():
        target = by_name.get(d.speeds_up) if d.speeds_up else None
        if d.speeds_up and (target is None or target.opcode != d.opcode or not d.variant_of):
            raise RegistryError(f"operator {d.name} speeds up {d.speeds_up!r}, which is not a registered operator of "
                                f"opcode {d.opcode}, or names no variant_of")
        if not d.isa <= ISA_FEATURES or (d.isa and not d.speeds_up):
            raise RegistryError(f"operator {d.name} needs ISA features {sorted(d.isa)}; expected some of "
                                f"{sorted(ISA_FEATURES)}, on a variant that speeds up another")
    negative = [d.name for d in by_name.values() if d.code < 0]
    if negative:
        raise RegistryError(f"operators {negative} have negative C enum values; expected 0 or more")
    return dict(sorted(by_name.items(), key=lambda item: item[1].code))


@cache
def operators() -> dict[str, OpSpec]:
    """Every registered operator by name, in the order of its C enum value."""
    return _collect()


def lookup(name: str) -> OpSpec | None:
    """The operator named ``name`` (a BuiltinOperator name), None when the compiler does not support it."""
    return operators().get(name)


def operator_name(spec: str) -> str:
    """The TFLite operator a spec's kernel runs (``CONV_2D`` for ``CONV_2D_DSP``); an unknown name as it is
    (a firmware reporting an operator this harness does not know)."""
    d = operators().get(spec)
    return d.variant_of or d.name if d is not None else spec


def supported() -> list[str]:
    """The names of the supported operators, in C enum order (for messages)."""
    return [name for name, d in operators().items() if not d.variant_of]


def choose(g: Graph, op: Operator, features: frozenset[str] = frozenset()) -> OpSpec:
    """The spec whose kernel runs ``op`` on a core with ISA ``features``: the variant for its tensor types
    (``OpSpec.select``), or, among the variants speeding that one up that the core and the layer allow, the
    one needing the most ISA features (MVE before DSP on a Cortex-M55), the first registered on a tie."""
    ops = operators()
    chosen = ops[ops[op.opcode].for_op(g, op)]
    faster = [d for d in ops.values()
              if d.speeds_up == chosen.name and d.isa <= features and (d.accepts is None or d.accepts(g, op))]
    return max(faster, key=lambda d: len(d.isa), default=chosen)
