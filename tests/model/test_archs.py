"""The four MLPerf Tiny architectures built from code (harness.model.reference_archs): the figures of
DESIGN §6, the official files op by op where ../shared/models is present, and a bit-exact run on qemu-m4.

The built models come from the shared build cache (``harness.model.builtin``), so each is converted
once per cache key, whichever test asks first: cold, the four take about 30 s on two cores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.boards import load_board
from harness.model import Graph, builtin, load_model
from harness.model.counts import WEIGHTED_OPS, macs, op_counts, params
from harness.model.graph import Dtype
from harness.runner import RunOptions, run_model
from tests.conftest import IN_CI, model_path, requires_cc, requires_qemu

pytestmark = pytest.mark.skipif(builtin.tensorflow_version() is None and not IN_CI,
                                reason="TensorFlow not installed: pip install '.[models]'")


@dataclass(frozen=True)
class Design:
    """One row of the table in DESIGN §6."""

    file_name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    ops: tuple[tuple[str, int], ...]   # in order of first appearance
    params: int
    macs: int


DESIGN = {
    "kws01": Design("kws_ref_model.tflite", (1, 49, 10, 1), (1, 12),
                    (("CONV_2D", 5), ("DEPTHWISE_CONV_2D", 4), ("AVERAGE_POOL_2D", 1), ("RESHAPE", 1),
                     ("FULLY_CONNECTED", 1), ("SOFTMAX", 1)), 22_604, 2_656_768),
    "vww01": Design("vww_96_int8.tflite", (1, 96, 96, 3), (1, 2),
                    (("CONV_2D", 14), ("DEPTHWISE_CONV_2D", 13), ("AVERAGE_POOL_2D", 1), ("RESHAPE", 1),
                     ("FULLY_CONNECTED", 1), ("SOFTMAX", 1)), 210_850, 7_489_664),
    "ic01": Design("pretrainedResnet_quant.tflite", (1, 32, 32, 3), (1, 10),
                   (("CONV_2D", 9), ("ADD", 3), ("AVERAGE_POOL_2D", 1), ("RESHAPE", 1),
                    ("FULLY_CONNECTED", 1), ("SOFTMAX", 1)), 77_706, 12_501_632),
    "ad01": Design("ad01_int8.tflite", (1, 640), (1, 640), (("FULLY_CONNECTED", 10),), 265_864, 264_192),
}
# The input quantization follows from the input's range, so the image models take the official inputs
OFFICIAL_INPUT_QUANT = {"vww01": (1 / 255, -128), "ic01": (1.0, -128)}


def _built(model_id: str) -> Graph:
    return load_model(builtin.build(model_id))


def _producers(g: Graph) -> dict[int, int]:
    return {t: op.index for op in g.operators for t in op.outputs}


def _wiring(g: Graph) -> list[list[str]]:
    """Per operator, where each input comes from: 'op N', 'input' or the shape of a constant."""
    made = _producers(g)
    return [[f"op {made[i]}" if i in made else "input" if i in g.inputs else f"const {g.tensors[i].shape}"
             for i in op.inputs if i >= 0] for op in g.operators]


@pytest.mark.parametrize("model_id", list(DESIGN))
def test_built_reference_has_the_figures_of_design(model_id: str) -> None:
    want, g = DESIGN[model_id], _built(model_id)
    assert (g.input.shape, g.input.dtype) == (want.input_shape, Dtype.INT8)
    assert (g.output.shape, g.output.dtype) == (want.output_shape, Dtype.INT8)
    assert tuple(op_counts(g).items()) == want.ops
    assert (params(g), macs(g)) == (want.params, want.macs)
    for op in g.operators:
        if op.opcode in WEIGHTED_OPS:
            w = g.tensors[op.inputs[1]]
            out_channels = w.shape[3] if op.opcode == "DEPTHWISE_CONV_2D" else w.shape[0]
            assert w.quant is not None and w.dtype is Dtype.INT8
            # conv weights per channel, FULLY_CONNECTED per tensor (DESIGN §6), a bias for every layer
            assert len(w.quant.scale) == (1 if op.opcode == "FULLY_CONNECTED" else out_channels), op
            assert len(op.inputs) == 3 and g.tensors[op.inputs[2]].dtype is Dtype.INT32, op
    if g.operators[-1].opcode == "SOFTMAX":
        assert g.output.quant is not None
        assert (g.output.quant.scale, g.output.quant.zero_point) == ((1 / 256,), (-128,))
    if model_id in OFFICIAL_INPUT_QUANT:
        assert g.input.quant is not None
        assert (g.input.quant.scale[0], g.input.quant.zero_point[0]) == (
            pytest.approx(OFFICIAL_INPUT_QUANT[model_id][0], rel=1e-6), OFFICIAL_INPUT_QUANT[model_id][1])


@pytest.mark.parametrize("model_id", list(DESIGN))
def test_built_reference_matches_the_official_file_op_by_op(model_id: str) -> None:
    official = load_model(model_path(DESIGN[model_id].file_name))
    g = _built(model_id)
    assert [op.opcode for op in g.operators] == [op.opcode for op in official.operators]
    for mine, theirs in zip(g.operators, official.operators):
        shapes = [[graph.tensors[i].shape for i in op.inputs + op.outputs if i >= 0]
                  for graph, op in ((g, mine), (official, theirs))]
        assert shapes[0] == shapes[1], f"operator {mine.index} ({mine.opcode})"
        # padding, strides, fused activation, pool window, ...
        assert dict(mine.options) == dict(theirs.options), f"operator {mine.index} ({mine.opcode})"
    assert _wiring(g) == _wiring(official)
    assert (g.input.shape, g.output.shape) == (official.input.shape, official.output.shape)
    assert (params(g), macs(g)) == (params(official), macs(official))
    # the shape constant of the RESHAPE, [-1, features] in both (the batch was left dynamic)
    for mine, theirs in zip(g.operators, official.operators):
        if mine.opcode == "RESHAPE":
            assert g.tensors[mine.inputs[1]].array().tolist() == official.tensors[theirs.inputs[1]].array().tolist()


@requires_qemu
@requires_cc
def test_built_references_and_digits_run_bit_exact_on_qemu_m4() -> None:
    board = load_board("qemu-m4")
    failures = []
    for model_id in [*DESIGN, "digits"]:
        path: Path = builtin.build(model_id)
        run = run_model(path, board, RunOptions(inferences=1, warmup=0))
        if not (run.ok and run.matches_reference):
            failures.append(f"{model_id}: {run.status} {run.error}")
    assert not failures
