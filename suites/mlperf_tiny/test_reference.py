"""The reference suite: the four MLPerf Tiny int8 models and the project's own
tinycnn, compiled, run on each --hil-board, and checked bit-exactly against the
tflite-micro host interpreter. `hilbench bench` sets the same runs beside
TFLite Micro's figures.

On a Cortex-M4 board (the core TFLite Micro's figures were counted on, DESIGN §7)
each MLPerf Tiny model must also meet the compiler's targets: instructions at most
0.5 x TFLite Micro's reference kernels, arena at most 0.8 x its arena, code at
most 0.25 x TFLite Micro + CMSIS-NN's code. On other cores the ratios compare
different machines, so only correctness and fit are asserted there.

A missing MLPerf Tiny file skips its test with a message, except under CI=true,
where it fails: CI has the models beside the clone.
"""

from __future__ import annotations

import os

import pytest

from harness.model.zoo import MLPERF_TINY, mlperf_tiny_path, models_dir
from harness.report.baselines import CORE, TARGETS, TFLM
from harness.report.bench import check

MODELS = ["kws01", "vww01", "ic01", "ad01", "tinycnn"]


def _require_model(model: str) -> None:
    if model in MLPERF_TINY and mlperf_tiny_path(model) is None:
        reason = f"{model}: no {MLPERF_TINY[model]} in {models_dir()} (set HILBENCH_MODELS_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)


@pytest.mark.parametrize("model", MODELS)
def test_reference(hil, model):
    _require_model(model)
    run = hil.run(model)
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
    missed = [f"{c.metric} not measured" if c.ratio is None else
              f"{c.metric} {c.ours:,} is {c.ratio:.3f} x TFLM's {c.tflm:,} (target <= {c.bound:g})"
              for c in checks if not c.passed]
    assert not missed, "; ".join(missed)
