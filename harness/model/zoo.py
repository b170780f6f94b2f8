"""Models known by name: the MLPerf Tiny reference models (from ../shared/models
or HILBENCH_MODELS_DIR) and the project's own small Keras models, built with
TensorFlow on first use and cached by the hash of their recipe."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, ModelError
from harness.paths import PROJECT_DIR, cache_dir

MLPERF_TINY = {  # id -> file name, as published by mlcommons/tiny
    "kws01": "kws_ref_model.tflite",
    "vww01": "vww_96_int8.tflite",
    "ic01": "pretrainedResnet_quant.tflite",
    "ad01": "ad01_int8.tflite",
}
BUILT = ("tinycnn",)  # built by harness.model.keras_models


@dataclass(frozen=True)
class ModelRef:
    id: str
    path: Path

    def __str__(self) -> str:
        return self.id


def models_dir() -> Path:
    return Path(os.environ.get("HILBENCH_MODELS_DIR", PROJECT_DIR.parent / "shared" / "models"))


def mlperf_tiny_path(model_id: str) -> Path | None:
    path = models_dir() / MLPERF_TINY[model_id]
    return path if path.is_file() else None


def build_keras_model(name: str) -> Path:
    """The .tflite of one of the project's own models, converted once per recipe."""
    if name not in BUILT:
        raise ConfigError(f"unknown built model {name!r}; expected one of {list(BUILT)}")
    recipe = (Path(__file__).parent / "keras_models.py").read_bytes()
    key = hashlib.sha256(recipe + name.encode()).hexdigest()[:16]
    cache = cache_dir() / "models"
    out = cache / f"{name}-{key}.tflite"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    proc = subprocess.run([sys.executable, "-m", "harness.model.keras_models", name, str(tmp)],
                          capture_output=True, text=True, check=False, cwd=PROJECT_DIR)
    if proc.returncode != 0:
        raise ModelError(f"building model {name} with TensorFlow failed (pip install '.[models]' "
                         f"installs tensorflow-cpu):\n{proc.stderr[-1500:]}")
    os.replace(tmp, out)
    return out


def resolve_model(spec: str | Path | ModelRef) -> ModelRef:
    """A model by id (``ad01``, ``tinycnn``, ...) or by path to a ``.tflite``."""
    if isinstance(spec, ModelRef):
        return spec
    text = str(spec)
    if text in MLPERF_TINY:
        path = mlperf_tiny_path(text)
        if path is None:
            raise ConfigError(f"model {text!r}: {models_dir() / MLPERF_TINY[text]} does not exist; set "
                              "HILBENCH_MODELS_DIR to a folder with the MLPerf Tiny .tflite files")
        return ModelRef(text, path)
    if text in BUILT:
        return ModelRef(text, build_keras_model(text))
    path = Path(text)
    if path.suffix == ".tflite" or path.is_file():
        return ModelRef(path.stem, path)
    raise ConfigError(f"model {text!r} is neither a .tflite file nor a known id; known ids: "
                      f"{sorted([*MLPERF_TINY, *BUILT])}")


def reference_models(suite: str = "mlperf-tiny") -> list[str]:
    """Model ids of a suite whose files are present (the MLPerf Tiny files may be absent)."""
    if suite != "mlperf-tiny":
        raise ConfigError(f"unknown suite {suite!r}; expected 'mlperf-tiny'")
    return [m for m in MLPERF_TINY if mlperf_tiny_path(m) is not None]
