"""The reference suite: the four MLPerf Tiny int8 models and the project's own
tinycnn, compiled, run on each --hil-board, and checked bit-exactly against the
tflite-micro host interpreter. `hilbench bench` sets the same runs beside
TFLite Micro's figures.

Each MLPerf Tiny id takes the official file where there is one (downloaded with
`hilbench models download mlperf-tiny`, or in HILBENCH_MODELS_DIR / ../shared/models),
else the same architecture built from code with untrained weights
(harness.model.zoo). Each test says which it used: a line on stdout (`-rA` shows
it), the test's `model_origin` property, and the origin column of the summary table.

Every model, whatever its origin, must be bit-exact and fit the board. On a
Cortex-M4 board (the core TFLite Micro's figures were counted on, DESIGN §7) an
official MLPerf Tiny model must also meet the compiler's targets: instructions at
most 0.5 x TFLite Micro's reference kernels, arena at most 0.8 x its arena, code
at most 0.25 x TFLite Micro + CMSIS-NN's code. TFLite Micro's figures are for the
official files: a model built from code has the same layers and MACs but other
weights, so its ratios are printed, not asserted (on qemu-m4, 2026-12-02, the
built models' ratios were those of the official files to within 0.002:
instructions 0.297 / 0.372 / 0.386 / 0.411 x TFLM's reference kernels for
kws01 / vww01 / ic01 / ad01, against 0.296 / 0.372 / 0.386 / 0.409). On other
cores the ratios compare different machines, so only correctness and fit are
asserted there.

A model that cannot be had at all (no official file and no TensorFlow to build
it) skips its test with a message, except under CI=true, where it fails: CI
installs TensorFlow.
"""

from __future__ import annotations

import os

import pytest

from harness.errors import HarnessError
from harness.model.zoo import ModelRef, Origin, resolve_model
from harness.report.baselines import CORE, TARGETS, TFLM
from harness.report.bench import check

MODELS = ["kws01", "vww01", "ic01", "ad01", "tinycnn"]


def _resolve(model: str) -> ModelRef:
    try:
        return resolve_model(model)
    except HarnessError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))


@pytest.mark.parametrize("model", MODELS)
def test_reference(hil, model, record_property):
    ref = _resolve(model)
    record_property("model_origin", ref.origin.value)
    print(f"{model}: {ref.source}")
    run = hil.run(ref)
    assert run.ok, run.error
    assert run.matches_reference          # bit-exact against the host interpreter
    assert run.fits_board                 # flash and RAM within the board's real limits
    assert run.instructions_per_inference > 0
    if len(run.instructions_timed) >= 2:  # exact counts repeat; one inference cannot show it
        assert len(set(run.instructions_timed)) == 1, run.instructions_timed
    base = TFLM.get(model)
    if base is None or hil.board.core.value != CORE:
        return
    checks = [check("instructions_per_inference", run.instructions_per_inference, base.tflm_ref_insn,
                    TARGETS.instructions_vs_tflm_ref),
              check("arena_bytes", run.arena_bytes, base.tflm_arena_bytes, TARGETS.arena_vs_tflm),
              check("code_bytes", run.code_bytes, base.tflm_cmsis_code_bytes, TARGETS.code_vs_tflm_cmsis)]
    figures = ", ".join(f"{c.metric} not measured" if c.ratio is None else f"{c.metric} {c.ratio:.3f} x TFLM's"
                        for c in checks)
    if ref.origin is not Origin.OFFICIAL:
        print(f"{model}: TFLite Micro targets not asserted for a {ref.origin} model: {figures}")
        return
    print(f"{model}: TFLite Micro targets asserted: {figures}")
    missed = [f"{c.metric} not measured" if c.ratio is None else
              f"{c.metric} {c.ours:,} is {c.ratio:.3f} x TFLM's {c.tflm:,} (target <= {c.bound:g})"
              for c in checks if not c.passed]
    assert not missed, "; ".join(missed)
