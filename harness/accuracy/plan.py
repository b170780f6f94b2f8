"""What one accuracy run infers: a dataset's samples checked against a model, as input bytes.

A classifier sample is one inference on the file's bytes, in the model input's own type (int8, or
float32 or uint8 for a model that starts with QUANTIZE). An anomaly-detection file is cut into
float32 windows (``window_bytes`` wide, every ``stride_bytes``), each quantized with the model's
input scale and zero point into one inference (or passed as float32 to a float-input model). Checks, in
order: the model takes an int8, uint8 or float32 input (``ModelError``); an anomaly-detection model reconstructs its input and the dataset's window is the
model's input (``ConfigError``, up front); then each file's size and label, skipping and listing
the ones that do not fit. When no sample is left, the run is refused (``ConfigError``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.accuracy.dataset import FLOAT32_BYTES, Dataset, DatasetKind, Entry, Skipped
from harness.accuracy.scoring import quantize
from harness.errors import ConfigError, ModelError
from harness.model.graph import Dtype, Graph


@dataclass(frozen=True)
class Item:
    """One inference: the input bytes and, for anomaly detection, the float window they came from."""

    sample: str                    # the file
    name: str                      # the file, or ``file#window`` for anomaly detection
    label: int
    input_bytes: bytes = field(repr=False)
    window: np.ndarray[Any, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Plan:
    kind: DatasetKind
    samples: tuple[Entry, ...]     # the files scored, in index order
    items: tuple[Item, ...]        # the inferences, sample by sample
    skipped: tuple[Skipped, ...]


def _shape(graph: Graph) -> str:
    t = graph.input
    return f"{t.dtype.name.lower()} {list(t.shape)}, {t.nbytes} bytes"


def check_model(graph: Graph, model: str, kind: DatasetKind) -> None:
    """Refuse a model this kind of dataset cannot score. Raises ``ModelError``."""
    if graph.input.dtype not in (Dtype.INT8, Dtype.UINT8, Dtype.FLOAT32):  # validated: never, but said clearly
        raise ModelError(f"model {model}: input tensor is {graph.input.dtype.name}; the firmware takes an int8 "
                         "input, or a uint8 or float32 one that a QUANTIZE reads")
    if kind is DatasetKind.ANOMALY and graph.output.elements != graph.input.elements:
        raise ModelError(f"model {model}: output of {graph.output.elements} values for an input of "
                         f"{graph.input.elements}; an anomaly-detection dataset is scored by reconstruction, "
                         "which needs an autoencoder (output shape = input shape)")


def _classifier_items(entry: Entry, graph: Graph, model: str) -> tuple[list[Item], Skipped | None]:
    want, classes = graph.input.nbytes, graph.output.elements
    if entry.size_bytes != want:
        return [], Skipped(entry.file, f"{entry.size_bytes} bytes; model {model} takes {want} "
                                       f"({_shape(graph)})")
    if entry.label >= classes:
        return [], Skipped(entry.file, f"class {entry.label} is out of range for model {model}, which has "
                                       f"{classes} classes (0 to {classes - 1})")
    return [Item(entry.file, entry.file, entry.label, entry.path.read_bytes())], None


def _anomaly_items(entry: Entry, graph: Graph) -> tuple[list[Item], Skipped | None]:
    assert entry.window_bytes is not None and entry.stride_bytes is not None  # rows of 5 (read_dataset)
    size, window, stride = entry.size_bytes, entry.window_bytes, entry.stride_bytes
    if size % FLOAT32_BYTES or size < window:
        return [], Skipped(entry.file, f"{size} bytes; expected float32 values (a multiple of "
                                       f"{FLOAT32_BYTES} bytes), at least one window of {window} bytes")
    if stride % FLOAT32_BYTES:
        return [], Skipped(entry.file, f"stride_bytes {stride} is not a multiple of {FLOAT32_BYTES} (float32)")
    values = np.fromfile(entry.path, dtype="<f4")
    step, width = stride // FLOAT32_BYTES, window // FLOAT32_BYTES
    if not np.all(np.isfinite(values)):
        return [], Skipped(entry.file, "holds values that are not finite (NaN or infinity)")
    items = []
    for w in range((size - window) // stride + 1):
        x = values[w * step:w * step + width]
        items.append(Item(entry.file, f"{entry.file}#{w}", entry.label, quantize(x, graph.input), x))
    return items, None


def _check_window(dataset: Dataset, graph: Graph, model: str) -> None:
    want = graph.input.elements * FLOAT32_BYTES
    windows = Counter(e.window_bytes for e in dataset.entries)
    if windows and want not in windows:
        seen = ", ".join(str(w) for w in sorted(windows, key=lambda w: w or 0))
        raise ConfigError(f"dataset {str(dataset.folder)!r} slides windows of {seen} bytes; model {model} takes "
                          f"{graph.input.elements} values ({_shape(graph)}), a window of {want} bytes of "
                          "float32: the model's input shape does not match the dataset")


def make_plan(dataset: Dataset, graph: Graph, model: str, limit: int | None = None) -> Plan:
    """The inferences for the first ``limit`` usable samples (all when None).

    Raises ``ModelError`` or ``ConfigError`` (see the module's docstring); the files and rows left
    out are in ``Plan.skipped``, after the index's own.
    """
    check_model(graph, model, dataset.kind)
    if dataset.kind is DatasetKind.ANOMALY:
        _check_window(dataset, graph, model)
    samples: list[Entry] = []
    items: list[Item] = []
    skipped = list(dataset.skipped)
    want_window = graph.input.elements * FLOAT32_BYTES
    for entry in dataset.entries:
        if limit is not None and len(samples) >= limit:
            break
        new: list[Item]
        skip: Skipped | None
        if dataset.kind is DatasetKind.ANOMALY and entry.window_bytes != want_window:
            new, skip = [], Skipped(entry.file, f"window_bytes {entry.window_bytes}; model {model} takes "
                                                f"{want_window} (float32 values of {_shape(graph)})")
        elif dataset.kind is DatasetKind.ANOMALY:
            new, skip = _anomaly_items(entry, graph)
        else:
            new, skip = _classifier_items(entry, graph, model)
        if skip is not None:
            skipped.append(skip)
            continue
        samples.append(entry)
        items.extend(new)
    if not items:
        sizes = Counter(e.size_bytes for e in dataset.entries)
        if dataset.kind is DatasetKind.CLASSIFIER and sizes and graph.input.nbytes not in sizes:
            raise ConfigError(f"model {model} takes {_shape(graph)}; the files of dataset "
                              f"{str(dataset.folder)!r} are {', '.join(map(str, sorted(sizes)))} bytes: the "
                              "model's input shape does not match the dataset")
        reasons = "; ".join(str(s) for s in skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
        raise ConfigError(f"dataset {str(dataset.folder)!r}: no sample can be scored with model {model}"
                          + (f" ({len(skipped)} skipped: {reasons})" if skipped else ""))
    return Plan(dataset.kind, tuple(samples), tuple(items), tuple(skipped))
