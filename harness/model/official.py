"""The official MLPerf Tiny int8 models: where they come from, their pinned sha256, and fetching them.

The four files are published in ``mlcommons/tiny``; the project pins one commit of that repository
(``COMMIT``) and each file's sha256 and size (the table in ../shared/models/README.md). ``fetch``
copies a file into ``cache_dir()/"official"`` from GitHub (raw URLs at the pinned commit; the base can
be changed with ``HILBENCH_MODEL_URL_BASE``) or from a local mirror (``--mirror DIR`` or
``HILBENCH_MODEL_MIRROR``: a folder holding the files by name, or a checkout of mlcommons/tiny). A file
is written under a temporary name and renamed only once its sha256 is the pinned one, so the cache
never holds a file that is not the official one.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from harness.errors import ConfigError, HarnessError
from harness.paths import cache_dir

REPO = "mlcommons/tiny"
COMMIT = "1afd2c9820f795965a6134facd0b4dfae41ef23f"
DEFAULT_URL_BASE = f"https://raw.githubusercontent.com/{REPO}/{COMMIT}"
URL_BASE_ENV = "HILBENCH_MODEL_URL_BASE"
MIRROR_ENV = "HILBENCH_MODEL_MIRROR"
SUITE = "mlperf-tiny"
CHUNK_BYTES = 64 * 1024
TIMEOUT_S = 30.0
OFFLINE_HINT = (f"no network? Copy the files into a folder (by name) and pass --mirror DIR, or set {MIRROR_ENV}=DIR")


class DownloadError(HarnessError):
    """An official file could not be fetched or was not the pinned one; nothing was cached."""

    status = "model"


@dataclass(frozen=True)
class OfficialFile:
    """One published file: ``repo_path`` is its path in mlcommons/tiny at ``COMMIT``."""

    model_id: str
    file_name: str
    repo_path: str
    size_bytes: int
    sha256: str
    task: str


_TRAINED = "benchmark/training"
OFFICIAL: dict[str, OfficialFile] = {f.model_id: f for f in (
    OfficialFile("kws01", "kws_ref_model.tflite",
                 f"{_TRAINED}/keyword_spotting/trained_models/kws_ref_model.tflite", 53_936,
                 "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae",
                 "keyword spotting (DS-CNN, 12 classes)"),
    OfficialFile("vww01", "vww_96_int8.tflite",
                 f"{_TRAINED}/visual_wake_words/trained_models/vww_96_int8.tflite", 333_288,
                 "597a384c8c2c8a1276f04702f25013b7838f2f814f1ca7c174d295b73e3d6b7b",
                 "visual wake words (MobileNetV1 0.25, 96x96)"),
    OfficialFile("ic01", "pretrainedResnet_quant.tflite",
                 f"{_TRAINED}/image_classification/trained_models/pretrainedResnet_quant.tflite", 98_496,
                 "3c002613d1b2475eb51dd78dfb85a546c8ae658dee71cf6ade43b022fe205415",
                 "image classification (ResNet-8, CIFAR-10)"),
    OfficialFile("ad01", "ad01_int8.tflite",
                 f"{_TRAINED}/anomaly_detection/trained_models/ad01_int8.tflite", 276_976,
                 "87cf24194ef93d1d9b11a591d805526b98008e351655d29883c825c9c106ba24",
                 "anomaly detection (FC autoencoder)"),
)}
BY_SHA256: dict[str, OfficialFile] = {f.sha256: f for f in OFFICIAL.values()}

Progress = Callable[[int], None]   # called with the bytes just written


def url_base() -> str:
    """Where the raw files are fetched from: ``HILBENCH_MODEL_URL_BASE``, else GitHub at ``COMMIT``."""
    return os.environ.get(URL_BASE_ENV, DEFAULT_URL_BASE).rstrip("/")


def url_of(official: OfficialFile) -> str:
    return f"{url_base()}/{official.repo_path}"


def official_dir() -> Path:
    """The folder of downloaded official files."""
    return cache_dir() / "official"


def sha256_of(path: Path) -> str:
    """The file's sha256 (remembered while its size and modification time stay the same)."""
    st = path.stat()
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # size and mtime_ns: the cache key only
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def official_file_of(path: Path) -> OfficialFile | None:
    """The official file whose pinned sha256 ``path`` has, if any (None too when it cannot be read)."""
    try:
        return BY_SHA256.get(sha256_of(path)) if path.is_file() else None
    except OSError:
        return None


def cached_path(model_id: str) -> Path | None:
    """The downloaded official file of ``model_id``, if it is in the cache and is the pinned one."""
    official = OFFICIAL[model_id]
    path = official_dir() / official.file_name
    found = official_file_of(path)
    return path if found is not None and found.model_id == model_id else None


def mirror_dir(mirror: Path | None = None) -> Path | None:
    """The mirror folder: ``mirror`` if given, else ``HILBENCH_MODEL_MIRROR``, else None (GitHub).

    Raises ``ConfigError`` when the folder given does not exist, naming where it came from.
    """
    if mirror is not None:
        where, path = "--mirror", mirror
    elif os.environ.get(MIRROR_ENV):
        where, path = MIRROR_ENV, Path(os.environ[MIRROR_ENV])
    else:
        return None
    if not path.is_dir():
        raise ConfigError(f"{where} {str(path)!r} is not a folder; expected a folder holding the official "
                          f"files by name ({', '.join(f.file_name for f in OFFICIAL.values())})")
    return path


@dataclass(frozen=True)
class Fetched:
    """The outcome of ``fetch``: the cached ``path``, and ``source`` (a URL, a mirror path, or "cache"
    when the file was already there and nothing was fetched)."""

    official: OfficialFile
    path: Path
    source: str

    @property
    def fetched(self) -> bool:
        return self.source != "cache"


def fetch(model_id: str, mirror: Path | None = None, progress: Progress | None = None,
          timeout_s: float = TIMEOUT_S) -> Fetched:
    """Put the official file of ``model_id`` into the cache, unless it is there already.

    ``mirror`` is a folder checked by ``mirror_dir`` (None: GitHub, or ``HILBENCH_MODEL_URL_BASE``).
    ``progress`` is called with each chunk's size in bytes. Raises ``ConfigError`` for an unknown id,
    ``DownloadError`` when the file cannot be read or fetched or is not the pinned one (its expected and
    actual sha256 named); the cache is then unchanged.
    """
    if model_id not in OFFICIAL:
        raise ConfigError(f"unknown official model {model_id!r}; expected one of {list(OFFICIAL)}")
    official = OFFICIAL[model_id]
    found = cached_path(model_id)
    if found is not None:
        return Fetched(official, found, "cache")
    if mirror is not None:
        src = _in_mirror(mirror, official)
        try:
            with open(src, "rb") as f:
                path = _store(official, f, str(src), progress)
        except OSError as exc:
            raise DownloadError(f"copying {src} into the cache failed: {exc}") from exc
        return Fetched(official, path, str(src))
    url = url_of(official)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            path = _store(official, response, url, progress)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}; expected {official.file_name} of "
                            f"{REPO} at {COMMIT[:12]}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(f"cannot reach {url}: {exc.reason}; {OFFLINE_HINT}") from exc
    except (OSError, http.client.HTTPException) as exc:  # a reset connection, a timeout, a full disk
        raise DownloadError(f"download of {url} failed: {type(exc).__name__}: {exc}") from exc
    return Fetched(official, path, url)


def _in_mirror(mirror: Path, official: OfficialFile) -> Path:
    """The file in the mirror: by name, else at its path in a checkout of mlcommons/tiny."""
    for candidate in (mirror / official.file_name, mirror / official.repo_path):
        if candidate.is_file():
            return candidate
    raise DownloadError(f"mirror {mirror} has no {official.file_name} ({official.model_id}); expected the "
                        f"file by name in that folder, or at {official.repo_path} in a checkout of {REPO}")


def _store(official: OfficialFile, stream: BinaryIO, source: str, progress: Progress | None) -> Path:
    """Copy ``stream`` to the cache under a temporary name; rename it only if its sha256 is the pinned one.

    Reads at most one byte more than the pinned size: a longer file is wrong whatever it holds.
    """
    dest = official_dir() / official.file_name
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    h = hashlib.sha256()
    n_bytes = 0
    try:
        with open(tmp, "wb") as out:
            while n_bytes <= official.size_bytes:
                chunk = stream.read(min(CHUNK_BYTES, official.size_bytes + 1 - n_bytes))
                if not chunk:
                    break
                out.write(chunk)
                h.update(chunk)
                n_bytes += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        actual = h.hexdigest()
        if actual != official.sha256:
            size = f"{n_bytes:,} bytes" if n_bytes <= official.size_bytes else f"over {official.size_bytes:,} bytes"
            raise DownloadError(
                f"{source}: sha256 {actual} ({size}) is not the pinned sha256 {official.sha256} "
                f"({official.size_bytes:,} bytes) of {official.file_name} ({official.model_id}); "
                "nothing was cached")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
