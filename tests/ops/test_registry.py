"""The operator registry (harness/ops/) is the one list of operators: every operator in it has a TFLite
opcode, a check, an emitter, a C kernel, an enum value, a name and a dispatch case in the generated C,
and the modules that used to keep their own lists (support, loader, codegen, planner, build, host, and
the hand-written C) name no operator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tflite

from harness.firmware.build import FIRMWARE_DIR, kernel_sources
from harness.model.graph import Graph
from harness.model.loader import option_fields
from harness.ops.base import OpSpec
from harness.ops.cheader import dispatch_cases, generated_files, name_cases, ops_header
from harness.ops.registry import operators

ROOT = Path(__file__).resolve().parents[2]
OPS = operators()
# code that reads the registry instead of keeping its own operator lists
CONSUMERS = ("harness/model/support.py", "harness/model/loader.py", "harness/firmware/codegen.py",
             "harness/firmware/planner.py", "harness/firmware/build.py", "harness/firmware/host.py",
             "harness/firmware/project.py")
# an operator a consumer may still name, with the reason: graph-edge rules about one operator, not lists
ALLOWED = {("harness/model/support.py", "QUANTIZE"),      # a float graph input feeding a QUANTIZE: the hint
           ("harness/model/support.py", "DEQUANTIZE")}    # a float graph output from a final DEQUANTIZE
HAND_WRITTEN_C = ("firmware/include/bench_model.h", "firmware/src/runtime.c", "firmware/src/dispatch.c",
                  "firmware/src/main.c", "firmware/host/host_run.c")


def test_the_registry_has_the_operators_in_c_enum_order() -> None:
    codes = [d.code for d in OPS.values()]
    assert codes == sorted(codes) and len(set(codes)) == len(codes) and min(codes) >= 0
    builtin = [d for d in OPS.values() if not d.variant_of]  # a variant shares its operator's opcode
    assert len({d.opcode for d in builtin}) == len(builtin)
    assert all(OPS[d.variant_of].opcode == d.opcode for d in OPS.values() if d.variant_of)
    assert "CONV_2D" in OPS and "FULLY_CONNECTED" in OPS


@pytest.mark.parametrize("name", list(OPS))
def test_every_operator_is_complete(name: str) -> None:
    d = OPS[name]
    assert d.name == name
    assert getattr(tflite.BuiltinOperator, d.variant_of or name) == d.opcode  # the TFLite opcode of that name
    assert callable(d.check) and callable(d.emit)
    if d.options is not None:
        assert hasattr(tflite.BuiltinOptions, d.options[0]) and option_fields()[name] == d.options
    # a kernel: declared, defined in its sources, taking the parameter struct of its bench_layer_t member
    kernels_h = (FIRMWARE_DIR / "include" / "bench_kernels.h").read_text()
    model_h = (FIRMWARE_DIR / "include" / "bench_model.h").read_text()
    member = re.search(rf"const (bench_\w+_params_t) \*{d.params};", model_h)
    assert member is not None, f"bench_layer_t.p has no member {d.params}"
    assert f"void {d.kernel}(const {member.group(1)} *p, uint8_t *arena);" in kernels_h
    sources = kernel_sources([name])
    assert sources and all(p.is_file() for p in sources)
    # defined as a function, or through a macro that defines several (binary.c's BINARY_KERNEL)
    assert any(re.search(rf"^(void {d.kernel}\(|[A-Z_]+\({d.kernel},)", p.read_text(), re.MULTILINE)
               for p in sources)
    # the generated C: an enum value, a name, a dispatch case
    assert f"    {d.c_enum} = {d.code},\n" in ops_header()
    assert f"    {d.c_enum} = {d.code},\n" in ops_header()
    assert f'#ifdef BENCH_HAS_{name}\n    case {d.c_enum}: return "{name}";\n#endif\n' in name_cases()
    assert (f"#ifdef BENCH_HAS_{name}\n    case {d.c_enum}: {d.kernel}(layer->p.{d.params}, arena); break;\n"
            in dispatch_cases())


def test_the_generated_c_has_one_entry_per_operator() -> None:
    files = generated_files()
    assert set(files) == {"bench_ops.h", "bench_dispatch.inc", "bench_op_names.inc"}
    assert len(re.findall(r"^    BENCH_OP_\w+ = \d+,$", files["bench_ops.h"], re.MULTILINE)) == len(OPS)
    assert f"BENCH_OP_NONE = {max(d.code for d in OPS.values()) + 1} " in files["bench_ops.h"]
    assert files["bench_op_names.inc"].count("case BENCH_OP_") == len(OPS)
    assert files["bench_dispatch.inc"].count("case BENCH_OP_") == len(OPS)


@pytest.mark.parametrize("path", CONSUMERS)
def test_consumers_keep_no_operator_lists(path: str) -> None:
    text = (ROOT / path).read_text()
    named = {name for name in OPS if re.search(rf"[\"']{name}[\"']", text)}
    assert named <= {name for p, name in ALLOWED if p == path}, f"{path} names operators {sorted(named)}"


@pytest.mark.parametrize("path", HAND_WRITTEN_C)
def test_hand_written_c_names_no_operator(path: str) -> None:
    text = (ROOT / path).read_text()
    found = sorted({m for m in re.findall(r"BENCH_(?:OP|HAS)_(\w+)", text) if m in OPS})
    assert not found, f"{path} names operators {found}; they belong in the registry (harness/ops/)"


def _fake_ops_module(monkeypatch: pytest.MonkeyPatch, name: str, ops: tuple[OpSpec, ...]) -> None:
    """An extra operator module of harness.ops, as a later change would add one."""
    import pkgutil
    import sys
    import types

    module = types.ModuleType(f"harness.ops.{name}")
    module.OPS = ops  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    real = pkgutil.iter_modules

    def iter_modules(path: object = None, prefix: str = "") -> object:
        yield from real(path, prefix)  # type: ignore[arg-type]
        yield pkgutil.ModuleInfo(None, name, False)  # type: ignore[arg-type]

    monkeypatch.setattr(pkgutil, "iter_modules", iter_modules)


@pytest.mark.parametrize(("change", "message"), [
    ({}, "operator ADD is defined twice"),
    ({"name": "ADD_FAST", "code": 9998, "variant_of": "ADD", "speeds_up": "MUL", "isa": frozenset({"dsp"})},
     "speeds up 'MUL', which is not a registered operator of opcode"),
    ({"name": "ADD_FAST", "code": 9998, "variant_of": "ADD", "speeds_up": "ADD", "isa": frozenset({"neon"})},
     r"needs ISA features \['neon'\]; expected some of \['dsp', 'mve'\]"),
    ({"name": "ADD_AGAIN"}, "has opcode .*which ADD has already"),
    ({"name": "ADD_AGAIN", "opcode": 9999}, "has code .*which ADD has already"),
    ({"name": "ADD_AGAIN", "opcode": 9999, "code": -1}, r"negative C enum values"),
])
def test_two_modules_that_disagree_are_refused(monkeypatch: pytest.MonkeyPatch, change: dict[str, object],
                                                message: str) -> None:
    import dataclasses

    from harness.ops import registry

    add = registry.operators()["ADD"]
    _fake_ops_module(monkeypatch, "zz_extra", (dataclasses.replace(add, **change),))
    with pytest.raises(registry.RegistryError, match=message):
        registry._collect()


def _fc_graph() -> Graph:
    import numpy as np

    from harness.model.builder import OpDef, TensorDef, build_model
    from harness.model.graph import Dtype
    from harness.model.loader import parse_model

    w = np.random.default_rng(3).integers(-127, 128, (4, 16), dtype=np.int8)
    tensors = [TensorDef("x", (1, 16), Dtype.INT8, (0.05,), (3,)),
               TensorDef("w", (4, 16), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("y", (1, 4), Dtype.INT8, (0.2,), (-7,))]
    model = build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,))], [0], [2])
    return parse_model(model, name="fc")


def test_choose_takes_an_isa_variant_only_on_cores_with_its_features() -> None:
    from harness.boards import Core, core_features
    from harness.ops.registry import choose

    g = _fc_graph()
    op = g.operators[0]
    assert choose(g, op).name == "FULLY_CONNECTED"
    assert choose(g, op, core_features(Core.CORTEX_M3)).name == "FULLY_CONNECTED"
    assert choose(g, op, core_features(Core.CORTEX_M4)).name == "FULLY_CONNECTED_DSP"
    assert core_features(Core.CORTEX_M55) == {"dsp", "mve"} and not core_features(Core.CORTEX_M0)


def test_the_plan_gives_a_variants_scratch_bytes_of_their_own() -> None:
    import dataclasses

    from harness.firmware.planner import plan_memory

    g = _fc_graph()
    fc = OPS["FULLY_CONNECTED"]
    with_scratch = dataclasses.replace(fc, scratch=lambda g, op: 40)
    plan = plan_memory(g, lambda op: with_scratch)
    assert list(plan.scratch) == [0]
    start = plan.scratch[0]
    for t in (0, 2):  # the layer's input and output
        lo = plan.offsets[t]
        hi = lo + g.tensors[t].nbytes
        assert hi <= start or start + 40 <= lo
    assert plan.arena_bytes >= start + 40
    assert plan_memory(g).scratch == {}


def test_choose_prefers_the_variant_needing_the_most_isa_features() -> None:
    from harness.boards import Core, core_features
    from harness.ops.registry import choose

    # FULLY_CONNECTED_MVE (isa dsp + mve) and FULLY_CONNECTED_DSP (dsp) both take this layer
    g = _fc_graph()
    op = g.operators[0]
    assert choose(g, op, core_features(Core.CORTEX_M55)).name == "FULLY_CONNECTED_MVE"
    assert choose(g, op, core_features(Core.CORTEX_M4)).name == "FULLY_CONNECTED_DSP"
    assert choose(g, op, core_features(Core.CORTEX_M3)).name == "FULLY_CONNECTED"
