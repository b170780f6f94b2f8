"""Scoring: MLPerf Tiny's quantization, top-1, window MSE, ROC AUC; the host interpreter's scores of the
real AD sample are the ones in ../shared/models/README.md."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from harness.accuracy import make_plan, read_dataset
from harness.accuracy.result import score_outputs
from harness.accuracy.run import host_outputs
from harness.accuracy.scoring import output_values, quantize, roc_auc, top1, window_mse
from harness.errors import ModelError
from harness.model import load_model
from harness.model.graph import Dtype, Quantization, Tensor
from harness.model.zoo import ModelRef
from tests.conftest import MODELS, model_path

INT8 = Tensor(0, "t", (1, 4), Dtype.INT8, Quantization((0.5,), (-2,)))


def test_quantize_rounds_halves_away_from_zero_and_saturates() -> None:
    x = np.array([0.25, 0.75, -0.25, -0.75, 1000.0, -1000.0, 0.0, 0.2], dtype=np.float32)
    t = Tensor(0, "t", (1, 8), Dtype.INT8, Quantization((0.5,), (-2,)))
    assert list(np.frombuffer(quantize(x, t), dtype=np.int8)) == [-1, 0, -3, -4, 127, -128, -2, -2]
    with pytest.raises(ModelError, match="is INT16; expected INT8, UINT8 or FLOAT32"):
        quantize(x, Tensor(0, "s", (1, 8), Dtype.INT16, Quantization((0.5,), (0,))))
    # a float32 input (read by the model's own QUANTIZE) takes the values as they are
    assert quantize(x, Tensor(0, "f", (1, 8), Dtype.FLOAT32, None)) == x.astype("<f4").tobytes()
    u8 = Tensor(0, "u", (1, 8), Dtype.UINT8, Quantization((0.5,), (126,)))
    assert list(np.frombuffer(quantize(x, u8), dtype=np.uint8)) == [127, 128, 125, 124, 255, 0, 126, 126]
    with pytest.raises(ModelError, match="per-channel quantization"):
        quantize(x, Tensor(0, "p", (1, 8), Dtype.INT8, Quantization((0.5, 0.25), (0, 0))))


def test_outputs_are_dequantized_and_the_first_highest_class_wins() -> None:
    data = np.array([-2, 6, 6, 0], dtype=np.int8).tobytes()
    assert list(output_values(data, INT8)) == [0.0, 4.0, 4.0, 1.0]
    assert top1(data, INT8) == 1
    u8 = Tensor(0, "u", (1, 4), Dtype.UINT8, Quantization((0.5,), (126,)))
    assert list(output_values(np.array([126, 134, 255, 0], dtype=np.uint8).tobytes(), u8)) == [0.0, 4.0, 64.5, -63.0]
    f32 = Tensor(0, "f", (1, 3), Dtype.FLOAT32, None)
    assert top1(np.array([0.1, 0.7, 0.2], dtype="<f4").tobytes(), f32) == 1
    assert window_mse(data, np.array([0.0, 2.0, 4.0, 3.0]), INT8) == pytest.approx((4 + 0 + 4) / 4)


def test_roc_auc_is_the_share_of_pairs_ranked_right_with_ties_counting_half() -> None:
    rng = np.random.default_rng(3)
    scores = list(rng.integers(0, 6, size=40).astype(float))   # many ties
    labels = list(rng.integers(0, 2, size=40))
    pairs = [(p, n) for p, n in itertools.product(range(40), repeat=2) if labels[p] == 1 and labels[n] == 0]
    brute = sum(1.0 if scores[p] > scores[n] else 0.5 if scores[p] == scores[n] else 0.0 for p, n in pairs)
    assert roc_auc(scores, labels) == pytest.approx(brute / len(pairs))
    assert roc_auc([1.0, 2.0, 3.0], [1, 1, 1]) is None


def test_host_scores_of_the_real_ad_sample_are_the_readme_values() -> None:
    """../shared/models/README.md: window 0 scores 11.676; the mean over 196 windows is 10.264; the max
    12.410. The file's score is the mean; with one class present the metric is the mean MSE."""
    path = model_path("ad01_int8.tflite")
    graph = load_model(path)
    plan = make_plan(read_dataset(MODELS / "ad01"), graph, "ad01")
    host = host_outputs(ModelRef("ad01", path), graph, plan)
    per_window = [window_mse(out, item.window, graph.output) for out, item in zip(host, plan.items)
                  if item.window is not None]
    assert len(per_window) == 196
    assert round(per_window[0], 3) == 11.676
    assert round(float(np.mean(per_window)), 3) == 10.264
    assert round(max(per_window), 3) == 12.410
    scores = score_outputs(plan, graph, host, host)
    assert scores.metric == "mean_mse" and scores.target_score == scores.host_score
    assert round(scores.host_score, 3) == 10.264 and "AUC is undefined" in scores.note
