"""The reference suite: the four MLPerf Tiny int8 models and the project's own
tinycnn, compiled, run on each --hil-board, and checked bit-exactly against the
tflite-micro host interpreter. `hilbench bench` sets the same runs beside
TFLite Micro's figures.
"""

from __future__ import annotations

import pytest

from harness.model.zoo import MLPERF_TINY, mlperf_tiny_path, models_dir

MODELS = ["kws01", "vww01", "ic01", "ad01", "tinycnn"]


@pytest.mark.parametrize("model", MODELS)
def test_reference(hil, model):
    if model in MLPERF_TINY and mlperf_tiny_path(model) is None:
        pytest.skip(f"{model}: no {MLPERF_TINY[model]} in {models_dir()} (set HILBENCH_MODELS_DIR)")
    run = hil.run(model)
    assert run.ok, run.error
    assert run.matches_reference          # bit-exact against the host interpreter
    assert run.fits_board                 # flash and RAM within the board's real limits
    assert run.instructions_per_inference > 0 and len(set(run.instructions_timed)) == 1
