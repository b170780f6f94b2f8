"""Small models and dataset folders for the accuracy tests."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.model.builder import OpDef, TensorDef, build_model
from harness.model.graph import Dtype
from tests.conftest import IN_CI

HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None and importlib.util.find_spec("sklearn") is not None

MakeDataset = Callable[..., Path]


def fc_tflite(inputs: int, outputs: int, x_scale: float = 0.1, x_zp: int = 3) -> bytes:
    """x int8 [1, inputs] -FULLY_CONNECTED-> y int8 [1, outputs], deterministic weights."""
    w = np.random.default_rng(0).integers(-20, 21, size=(outputs, inputs), dtype=np.int8).tobytes()
    tensors = [TensorDef("x", (1, inputs), Dtype.INT8, (x_scale,), (x_zp,)),
               TensorDef("w", (outputs, inputs), Dtype.INT8, (0.02,), (0,), data=w),
               TensorDef("y", (1, outputs), Dtype.INT8, (0.05,), (-2,))]
    return build_model(tensors, [OpDef("FULLY_CONNECTED", (0, 1, -1), (2,))], [0], [2])


@pytest.fixture
def classifier_model(tmp_path: Path) -> Path:
    """int8 [1, 8] in, 4 classes out."""
    path = tmp_path / "fc8x4.tflite"
    path.write_bytes(fc_tflite(8, 4))
    return path


@pytest.fixture
def autoencoder_model(tmp_path: Path) -> Path:
    """int8 [1, 8] in and out (input scale 0.5, zero point 3): an anomaly-detection model over windows
    of 8 float32 values (32 bytes)."""
    path = tmp_path / "fc8x8.tflite"
    path.write_bytes(fc_tflite(8, 8, x_scale=0.5))
    return path


@pytest.fixture
def make_dataset(tmp_path: Path) -> MakeDataset:
    """``make_dataset(rows, files)``: a folder with y_labels.csv of ``rows`` (lines, as written) and
    ``files`` (name -> bytes)."""
    def make(rows: list[str], files: dict[str, bytes], name: str = "ds") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "y_labels.csv").write_text("".join(r + "\n" for r in rows))
        for file, data in files.items():
            (folder / file).write_bytes(data)
        return folder
    return make


@pytest.fixture(scope="session")
def digits_model() -> Path:
    """The trained ``digits`` model (built with TensorFlow once, then cached)."""
    if not HAS_TENSORFLOW:
        if IN_CI:
            pytest.fail("CI: tensorflow or scikit-learn is missing; bootstrap.sh should have installed .[models]")
        pytest.skip("the digits model is built with TensorFlow and scikit-learn: pip install '.[models]'")
    from harness.model.builtin import build

    return build("digits")


@pytest.fixture(scope="session")
def digits_dataset(digits_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.accuracy import export_digits

    return export_digits(tmp_path_factory.mktemp("digits"), digits_model)
