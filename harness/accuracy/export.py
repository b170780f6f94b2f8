"""Write a classifier dataset in the MLPerf Tiny layout: ``y_labels.csv`` and one int8 ``.bin`` per sample.

Each sample is quantized with the model's input scale and zero point (as the MLPerf Tiny firmware
quantizes, ``harness.accuracy.scoring.quantize``), so the files hold the int8 tensor the firmware
takes. The index has no header row, as MLPerf Tiny's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.accuracy.dataset import LABELS_FILE
from harness.accuracy.scoring import quantize
from harness.errors import ConfigError, ModelError
from harness.model import Graph, load_model


def write_classifier_dataset(folder: str | Path, inputs: np.ndarray[Any, Any], labels: Sequence[int],
                             graph: Graph, prefix: str = "sample") -> Path:
    """Quantize ``inputs`` (real values, one sample per first-axis entry) for ``graph`` and write them.

    Files are ``{prefix}_{index:05d}_{label}.bin``. Returns the folder. Raises ``ConfigError`` when the
    samples' shape is not the model's input (batch dimension aside) or a label is out of range,
    ``ModelError`` when the model's input is not int8 per-tensor.
    """
    root = Path(folder)
    x = np.asarray(inputs, dtype=np.float32)
    want = tuple(graph.input.shape[1:]) if graph.input.shape[:1] == (1,) else tuple(graph.input.shape)
    classes = graph.output.elements
    if x.shape[1:] != want:
        raise ConfigError(f"samples of shape {list(x.shape[1:])}; model {graph.name} takes "
                          f"{list(graph.input.shape)} (batch dimension aside: {list(want)})")
    if len(labels) != len(x):
        raise ConfigError(f"{len(x)} samples but {len(labels)} labels; expected one label per sample")
    bad = [int(v) for v in labels if not 0 <= int(v) < classes]
    if bad:
        raise ConfigError(f"label {bad[0]} is out of range for model {graph.name}, which has {classes} classes")
    root.mkdir(parents=True, exist_ok=True)
    index = io.StringIO()
    writer = csv.writer(index, lineterminator="\n")
    for i, (sample, label) in enumerate(zip(x, labels)):
        name = f"{prefix}_{i:05d}_{int(label)}.bin"
        (root / name).write_bytes(quantize(sample, graph.input))
        writer.writerow([name, classes, int(label)])
    (root / LABELS_FILE).write_text(index.getvalue(), encoding="utf-8")
    return root


def export_digits(folder: str | Path, model_path: str | Path) -> Path:
    """The built-in ``digits`` test set (scikit-learn's 8x8 digits) as an MLPerf Tiny dataset for
    ``model_path``: y_labels.csv and one int8 ``.bin`` of 64 bytes per image. Returns the folder.

    Raises ``ModelError`` when the built-in models are not available, ``ConfigError`` when the
    model's input is not the digits' shape.
    """
    try:
        from harness.model.builtin import digits_test_set
    except ImportError as exc:
        raise ModelError(f"the digits test set needs harness.model.builtin and scikit-learn: {exc}") from exc
    images, labels = digits_test_set()
    return write_classifier_dataset(folder, images, [int(v) for v in labels], load_model(model_path),
                                    prefix="digits")
