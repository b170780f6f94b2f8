"""Models known by name, and where each one's file comes from (its origin).

An MLPerf Tiny id (``kws01``, ``vww01``, ``ic01``, ``ad01``) resolves, in order, to:

1. the official file downloaded into the cache (``hilbench models download mlperf-tiny``);
2. the file of that name in ``HILBENCH_MODELS_DIR`` (default ../shared/models), which holds the
   official files: its origin is ``official`` when its sha256 is the pinned one, else ``user``;
3. the same architecture built from code with TensorFlow (``harness.model.builtin``), with untrained
   weights: origin ``built-untrained``.

``tinycnn`` and ``digits`` are only built from code. A path is a ``user`` model, unless its sha256 is
the pinned sha256 of an official file. The origin goes into the run record as ``model_origin``.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, HarnessError, ModelError
from harness.model import official
from harness.paths import PROJECT_DIR

MLPERF_TINY = {m: f.file_name for m, f in official.OFFICIAL.items()}  # id -> file name in mlcommons/tiny
BUILT = ("tinycnn", "digits")  # ids that are only built from code (harness.model.builtin)
MODELS_DIR_ENV = "HILBENCH_MODELS_DIR"
DOWNLOAD_HINT = f"`hilbench models download {official.SUITE}` fetches the official files"


class Origin(enum.StrEnum):
    """Where a model's file came from: the record's ``model_origin``."""

    OFFICIAL = "official"                # a published MLPerf Tiny file, sha256 as pinned
    BUILT_UNTRAINED = "built-untrained"  # built from code by harness.model.builtin, weights not trained
    BUILT_TRAINED = "built-trained"      # built from code and trained
    USER = "user"                        # any other file


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: its id, its file, where that came from (``origin``) and a line saying so
    (``source``, e.g. "official file from the cache /x/kws_ref_model.tflite")."""

    id: str
    path: Path
    origin: Origin = Origin.USER
    source: str = ""

    def __str__(self) -> str:
        return self.id


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_DIR_ENV, PROJECT_DIR.parent / "shared" / "models"))


def mlperf_tiny_path(model_id: str) -> Path | None:
    """The file of an MLPerf Tiny id on this machine, without building: the official file in the cache,
    else the file of that name in ``models_dir()`` (whatever it holds); None when neither exists."""
    cached = official.cached_path(model_id)
    if cached is not None:
        return cached
    path = models_dir() / MLPERF_TINY[model_id]
    return path if path.is_file() else None


def _from_file(model_id: str, path: Path, where: str | None) -> ModelRef:
    """A model file's ref: ``official`` when its sha256 is a pinned one; ``where`` is the folder's name."""
    found = official.official_file_of(path)
    if found is not None and (where is None or found.model_id == model_id):
        text = f"official file from {where} {path}" if where else f"official file {path} ({found.file_name})"
        return ModelRef(model_id, path, Origin.OFFICIAL, text)
    if where is None:
        return ModelRef(model_id, path, Origin.USER, f"file {path}")
    return ModelRef(model_id, path, Origin.USER, f"file from {where} {path}, not the official one (its sha256 "
                                                 f"is not the pinned {official.OFFICIAL[model_id].sha256[:12]}...)")


def built_source(origin: Origin) -> str:
    return ("built from code (trained weights)" if origin is Origin.BUILT_TRAINED
            else "built from code (untrained weights)")


def _built(model_id: str) -> ModelRef:
    """Build ``model_id`` from code (cached by ``harness.model.builtin``)."""
    from harness.model import builtin  # TensorFlow loads there only when a model is not cached yet

    origin = Origin(builtin.BUILTIN[model_id].origin)
    path = builtin.build(model_id)
    return ModelRef(model_id, path, origin, f"{built_source(origin)} {path}")


def _mlperf(model_id: str) -> ModelRef:
    cached = official.cached_path(model_id)
    if cached is not None:
        return ModelRef(model_id, cached, Origin.OFFICIAL, f"official file from the cache {cached}")
    path = models_dir() / MLPERF_TINY[model_id]
    if path.is_file():
        return _from_file(model_id, path, MODELS_DIR_ENV if MODELS_DIR_ENV in os.environ else "the models folder")
    try:
        return _built(model_id)
    except HarnessError as exc:
        raise ModelError(f"model {model_id!r}: no official {MLPERF_TINY[model_id]} in the cache "
                         f"{official.official_dir()} or in {models_dir()}, and building it from code failed "
                         f"({DOWNLOAD_HINT}, or set {MODELS_DIR_ENV} to a folder holding them): {exc}") from exc


def resolve_model(spec: str | Path | ModelRef) -> ModelRef:
    """A model by id (``ad01``, ``tinycnn``, ...) or by path to a ``.tflite``; see the module docstring.

    Raises ``ConfigError`` for a name that is neither, ``ModelError`` when a model cannot be built.
    """
    if isinstance(spec, ModelRef):
        return spec
    text = str(spec)
    if text in MLPERF_TINY:
        return _mlperf(text)
    if text in BUILT:
        return _built(text)
    path = Path(text)
    if path.suffix == ".tflite" or path.is_file():
        return _from_file(path.stem, path, None)
    raise ConfigError(f"model {text!r} is neither a .tflite file nor a known id; known ids: "
                      f"{sorted([*MLPERF_TINY, *BUILT])}")


@dataclass(frozen=True)
class Known:
    """One way a known model can be had on this machine, for ``hilbench models list``.

    ``path`` is its file when that is on this machine (None: not downloaded, or not built yet);
    ``default`` is true for the one ``resolve_model(id)`` takes.
    """

    id: str
    task: str
    origin: Origin
    path: Path | None
    size_bytes: int | None
    where: str              # "cache", "models folder", "build cache", or how to get it
    default: bool


def _built_known(model_id: str, default: bool) -> Known:
    from harness.model import builtin

    spec = builtin.BUILTIN[model_id]
    task = official.OFFICIAL[model_id].task if model_id in official.OFFICIAL else spec.description
    origin = Origin(spec.origin)
    path = builtin.cached_path(model_id)
    if path is None:
        return Known(model_id, task, origin, None, None, "built on first use (TensorFlow)", default)
    return Known(model_id, task, origin, path, path.stat().st_size, "build cache", default)


def known_models() -> list[Known]:
    """Every known model and origin, in the order ``resolve_model`` tries them; builds nothing."""
    rows: list[Known] = []
    for model_id, pinned in official.OFFICIAL.items():
        task = pinned.task
        cached = official.cached_path(model_id)
        in_dir = models_dir() / pinned.file_name
        found: Known | None = None
        if cached is not None:
            found = Known(model_id, task, Origin.OFFICIAL, cached, pinned.size_bytes, "cache", True)
        elif in_dir.is_file():
            origin = _from_file(model_id, in_dir, "models folder").origin
            found = Known(model_id, task, origin, in_dir, in_dir.stat().st_size, "models folder", True)
        if found is not None:
            rows.append(found)
        if found is None or found.origin is not Origin.OFFICIAL:
            rows.append(Known(model_id, task, Origin.OFFICIAL, None, pinned.size_bytes,
                              f"not downloaded (hilbench models download {official.SUITE})", False))
        rows.append(_built_known(model_id, default=found is None))
    rows.extend(_built_known(model_id, default=True) for model_id in BUILT)
    return rows


def reference_models(suite: str = official.SUITE) -> list[str]:
    """Model ids of a suite whose files are on this machine (downloaded or in ``models_dir()``)."""
    if suite != official.SUITE:
        raise ConfigError(f"unknown suite {suite!r}; expected {official.SUITE!r}")
    return [m for m in MLPERF_TINY if mlperf_tiny_path(m) is not None]
