"""``OpSpec``: everything the compiler knows about one TFLite operator, in one value.

One module per operator (or family) in ``harness.ops`` defines ``OPS``, a tuple of ``OpSpec``;
``harness.ops.registry`` collects them. The loader, the support check, the code generator, the
memory planner, the build and the generated C header (``bench_ops.h``) all read the registry, so
an operator is described once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.model.graph import Graph, Operator
from harness.ops.emit import Emitter

# options table of the schema, and per option (key, schema field, default); see harness.model.loader
Options = tuple[str, tuple[tuple[str, str, Any], ...]]
Check = Callable[[Graph, Operator], None]
Emit = Callable[[Emitter, Operator, str], int]
Overlap = Callable[[Graph, Operator], dict[int, int]]


@dataclass(frozen=True)
class OpSpec:
    """One operator: its TFLite identity, its checks, its code and its C kernel.

    ``code`` is the value of ``BENCH_OP_<name>`` in the generated ``bench_op_t``: a stable number, the
    free one for a new operator (the registry refuses duplicates; gaps are allowed). ``emit`` writes the
    layer's parameter struct through the emitter and returns its multiply-accumulate count.
    ``overlap`` gives, per input tensor, how many bytes below it the output may start (the kernel
    writes in order); None when the output may not overlap its inputs. ``aliases_input``: the output
    is the input's bytes (RESHAPE), so the planner gives both one buffer.
    """

    name: str                        # BuiltinOperator name, e.g. "CONV_2D"
    opcode: int                      # tflite.BuiltinOperator value
    code: int                        # BENCH_OP_<name> in bench_op_t
    check: Check                     # raises ModelError (support.validate adds the model's name)
    emit: Emit
    kernel: str                      # C function, void kernel(const <params type> *p, uint8_t *arena)
    params: str                      # member of bench_layer_t.p the kernel takes
    sources: tuple[str, ...]         # firmware/kernels/<core or portable>/ files it needs
    options: Options | None = None   # the builtin options the loader reads; None: none
    overlap: Overlap | None = None
    aliases_input: bool = False
    scores_output: bool = False      # a probability distribution: a model ending in it reports scores
    several_outputs: bool = False    # writes every one of its output tensors (SPLIT), each its own buffer
    int_output: bool = False         # writes INT32 indices (ARG_MAX): its output may end the graph as INT32
    # A kernel for some tensor types of another operator: the TFLite name it serves (its ``select`` picks
    # this spec by name); never looked up by a model's opcode, and not listed as supported on its own. The
    # code generator and the build use the variant; the check and the planner rules (overlap, aliases_input)
    # are the operator's, so a variant's kernel must keep to them.
    variant_of: str = ""
    # The registered spec (by name) whose kernel runs ``op``: this one or one of its variants, by tensor type.
    select: Callable[[Graph, Operator], str] | None = None
    # A faster kernel for the layers of another spec (``speeds_up``, by name; ``variant_of`` names its TFLite
    # operator) on cores with the ISA features ``isa`` ("dsp": the DSP extension's SIMD, as on Cortex-M4/M7/M33/
    # M55; "mve": Helium), for the layers ``accepts`` takes (None: all). Unlike a type variant it has its own
    # planner rules: ``overlap`` (its own write order) and ``scratch``, the bytes of working memory a layer
    # needs, which the memory plan places in the arena for that layer alone. ``registry.choose`` picks, per
    # layer, the first registered such variant (in C enum order) that the core and the layer allow.
    speeds_up: str = ""
    isa: frozenset[str] = frozenset()
    accepts: Callable[[Graph, Operator], bool] | None = None
    scratch: Callable[[Graph, Operator], int] | None = None

    def for_op(self, g: Graph, op: Operator) -> str:
        """The name of the spec whose emitter and kernel run ``op`` (see ``select``)."""
        return self.select(g, op) if self.select is not None else self.name

    @property
    def c_enum(self) -> str:
        return f"BENCH_OP_{self.name}"
