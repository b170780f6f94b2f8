"""The models the project builds itself with TensorFlow, by id, cached by the hash of their recipe.

- ``kws01``, ``vww01``, ``ic01``, ``ad01``: the MLPerf Tiny reference architectures, untrained
  (``harness.model.reference_archs``); operators, shapes, parameters and MACs as the official files.
- ``tinycnn``: a small CNN for the harness's own tests (``harness.model.keras_models``).
- ``digits``: a CNN trained on scikit-learn's 8x8 digits (``harness.model.digits``).

``build(model_id)`` converts a model once, in a ``python -m harness.model.keras_models`` subprocess so
TensorFlow never loads into this process, and keeps it under ``cache_dir()/"models"`` as
``ID-KEY.tflite`` with ``ID-KEY.json`` (its metadata) beside it. KEY hashes the recipe's source files,
the model id, the seed and the installed TensorFlow and Keras versions, read from the package metadata
without importing them: a later call, in any process, finds the file without TensorFlow.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, ModelError
from harness.model import counts
from harness.model.digits import digits_test_set
from harness.model.loader import load_model
from harness.paths import cache_dir

__all__ = ["BUILTIN", "BuiltinModel", "build", "cache_key", "cached_path", "digits_test_set", "metadata",
           "tensorflow_version"]

INSTALL_HINT = "pip install '.[models]' installs tensorflow-cpu and scikit-learn"
_HERE = Path(__file__).resolve().parent
_TENSORFLOW_DISTRIBUTIONS = ("tensorflow-cpu", "tensorflow", "tf-nightly-cpu", "tf-nightly")


@dataclass(frozen=True)
class BuiltinModel:
    """A model the project builds. ``origin`` is what a run record's ``model_origin`` says."""

    id: str
    description: str
    origin: str          # "built-untrained" or "built-trained"
    module: str          # the module of its recipe; its source goes into the cache key
    seed: int = 0        # seeds the weights (or training) and the calibration set


BUILTIN: dict[str, BuiltinModel] = {m.id: m for m in (
    BuiltinModel("kws01", "DS-CNN keyword spotting (MLPerf Tiny architecture, untrained), 49x10x1 in, "
                 "12 classes", "built-untrained", "reference_archs"),
    BuiltinModel("vww01", "MobileNetV1 0.25 visual wake words (MLPerf Tiny architecture, untrained), "
                 "96x96x3 in, 2 classes", "built-untrained", "reference_archs"),
    BuiltinModel("ic01", "ResNet-8 CIFAR-10 image classification (MLPerf Tiny architecture, untrained), "
                 "32x32x3 in, 10 classes", "built-untrained", "reference_archs"),
    BuiltinModel("ad01", "FC autoencoder anomaly detection (MLPerf Tiny architecture, untrained), "
                 "640 in, 640 out", "built-untrained", "reference_archs"),
    BuiltinModel("tinycnn", "small CNN for the harness's tests, 16x16x2 in, 10 classes",
                 "built-untrained", "keras_models", seed=7),
    BuiltinModel("digits", "CNN trained on scikit-learn's 8x8 digits, 8x8x1 in, 10 classes",
                 "built-trained", "digits"),
)}


def _version(distributions: tuple[str, ...]) -> str | None:
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def tensorflow_version() -> str | None:
    """The installed TensorFlow's version, from its package metadata (TensorFlow is not imported)."""
    return _version(_TENSORFLOW_DISTRIBUTIONS)


def _model(model_id: str) -> BuiltinModel:
    if model_id not in BUILTIN:
        raise ConfigError(f"unknown built model {model_id!r}; expected one of {sorted(BUILTIN)}")
    return BUILTIN[model_id]


def _versions() -> dict[str, str]:
    tf = tensorflow_version()
    if tf is None:
        raise ModelError(f"building the built-in models needs TensorFlow, which is not installed ({INSTALL_HINT})")
    return {"tensorflow": tf, "keras": _version(("keras",)) or "none"}


def cache_key(model_id: str, seed: int | None = None) -> str:
    """16 hex digits naming one build: recipe sources, id, seed, TensorFlow and Keras versions.

    Raises ``ConfigError`` for an unknown id and ``ModelError`` when TensorFlow is not installed.
    """
    model = _model(model_id)
    h = hashlib.sha256()
    for module in sorted({"keras_models", model.module}):
        h.update(module.encode() + b"\0" + (_HERE / f"{module}.py").read_bytes() + b"\0")
    h.update(json.dumps({"id": model_id, "seed": model.seed if seed is None else seed, **_versions()},
                        sort_keys=True).encode())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on ``path`` so that parallel workers (pytest-xdist) build a model once."""
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _paths(model_id: str, seed: int | None) -> tuple[Path, Path]:
    """The model file and its metadata file, for ``seed`` (None: the model's own)."""
    stem = cache_dir() / "models" / f"{model_id}-{cache_key(model_id, seed)}"
    return stem.with_suffix(".tflite"), stem.with_suffix(".json")


def cached_path(model_id: str, *, seed: int | None = None) -> Path | None:
    """The cached ``.tflite`` of a built-in model, or None when it is not built yet (or TensorFlow is
    not installed, so no build of it can be current); builds nothing. ``ConfigError`` for an unknown id."""
    _model(model_id)
    if tensorflow_version() is None:
        return None
    out, info = _paths(model_id, seed)
    return out if out.is_file() and info.is_file() else None


def build(model_id: str, *, seed: int | None = None) -> Path:
    """The ``.tflite`` of a built-in model, converted on first use (seconds; vww01 and digits take
    longest) and cached. ``seed`` overrides the model's own.

    Raises ``ConfigError`` for an unknown id, ``ModelError`` when TensorFlow is missing or the build fails.
    """
    model = _model(model_id)
    out, info = _paths(model_id, seed)
    if out.is_file() and info.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.with_suffix(".lock")):
        if not (out.is_file() and info.is_file()):  # another process may have built it meanwhile
            _convert(model, model.seed if seed is None else seed, out, info)
    return out


def _convert(model: BuiltinModel, seed: int, out: Path, info: Path) -> None:
    tmp_model, tmp_info = (p.with_suffix(f"{p.suffix}.tmp{os.getpid()}") for p in (out, info))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "harness.model.keras_models", model.id, str(tmp_model),
               "--seed", str(seed), "--info", str(tmp_info)]
    start = time.monotonic()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env,
                              cwd=_HERE.parents[1])
        if proc.returncode != 0:
            hint = f" ({INSTALL_HINT})" if "ModuleNotFoundError" in proc.stderr else ""
            raise ModelError(f"building model {model.id} with TensorFlow failed{hint}:\n{proc.stderr[-1500:]}")
        facts: dict[str, Any] = json.loads(tmp_info.read_text())
        g = load_model(tmp_model)
        facts.update({
            "id": model.id, "origin": model.origin, "description": model.description, "seed": seed,
            **_versions(), "cache_key": out.stem.rsplit("-", 1)[1], "build_s": round(time.monotonic() - start, 1),
            "sha256": g.sha256, "params": counts.params(g), "macs": counts.macs(g), "ops": counts.op_counts(g),
            "input_shape": list(g.input.shape), "output_shape": list(g.output.shape),
        })
        tmp_info.write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
        os.replace(tmp_info, info)  # the metadata first: a .tflite without its .json is rebuilt
        os.replace(tmp_model, out)
    finally:
        tmp_model.unlink(missing_ok=True)
        tmp_info.unlink(missing_ok=True)


def metadata(model_id: str, *, seed: int | None = None) -> dict[str, Any]:
    """What was recorded when the model was built (building it first if needed): id, origin, seed,
    TensorFlow and Keras versions, sha256, params, MACs, op counts, shapes, build time, and for
    ``digits`` its float and int8 test accuracy (``float_test_accuracy``, ``int8_test_accuracy``)."""
    build(model_id, seed=seed)
    _, info = _paths(model_id, seed)
    facts: dict[str, Any] = json.loads(info.read_text())
    return facts
