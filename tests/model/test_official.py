"""The official MLPerf Tiny files: their pinned URLs, and fetching them into the cache from a mirror
folder, over HTTP (a local server) and with no network; a file that is not the pinned one is never
cached. No test reaches the internet: the real download is the same code with GitHub's URL base."""

from __future__ import annotations

import functools
import hashlib
import http.server
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.model import official
from harness.model.official import OFFICIAL, DownloadError, fetch
from tests.conftest import IN_CI, MODELS, model_path

COMMIT = "1afd2c9820f795965a6134facd0b4dfae41ef23f"
GITHUB = f"https://raw.githubusercontent.com/mlcommons/tiny/{COMMIT}/benchmark/training"
URLS = {
    "kws01": f"{GITHUB}/keyword_spotting/trained_models/kws_ref_model.tflite",
    "vww01": f"{GITHUB}/visual_wake_words/trained_models/vww_96_int8.tflite",
    "ic01": f"{GITHUB}/image_classification/trained_models/pretrainedResnet_quant.tflite",
    "ad01": f"{GITHUB}/anomaly_detection/trained_models/ad01_int8.tflite",
}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache, GitHub's URL base and no mirror, whatever the caller's environment says."""
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HILBENCH_MODEL_URL_BASE", raising=False)
    monkeypatch.delenv("HILBENCH_MODEL_MIRROR", raising=False)
    return tmp_path / "cache" / "official"


@pytest.fixture
def mirror() -> Path:
    """The folder of the official files (../shared/models); skips elsewhere, fails under CI=true."""
    return model_path("ad01_int8.tflite").parent


def test_the_urls_are_the_pinned_paths_at_the_pinned_commit() -> None:
    assert official.COMMIT == COMMIT
    assert {m: official.url_of(f) for m, f in OFFICIAL.items()} == URLS


def test_the_url_base_can_be_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILBENCH_MODEL_URL_BASE", "http://mirror.example/tiny/")
    assert official.url_of(OFFICIAL["ad01"]) == \
        "http://mirror.example/tiny/benchmark/training/anomaly_detection/trained_models/ad01_int8.tflite"


def test_the_pins_are_the_models_readme_table() -> None:
    """Every file, path, size and sha256 pinned in the code is the one ../shared/models/README.md gives."""
    readme = MODELS / "README.md"
    if not readme.is_file():
        if IN_CI:
            pytest.fail(f"CI: {readme} is missing (../shared/models should be beside the clone)")
        pytest.skip(f"{readme} not found (set HILBENCH_MODELS_DIR)")
    rows = re.findall(r"^\| `(\S+\.tflite)` \| `(\S+)` \| ([\d,]+) \| `([0-9a-f]{64})` \|$", readme.read_text(),
                      re.MULTILINE)
    assert rows == [(f.file_name, f.repo_path, f"{f.size_bytes:,}", f.sha256) for f in OFFICIAL.values()]


def test_a_mirror_fills_the_cache_with_the_pinned_files(mirror: Path, cache: Path) -> None:
    seen: list[int] = []
    got = fetch("kws01", mirror, progress=seen.append)
    assert got.fetched and got.source == str(mirror / "kws_ref_model.tflite")
    assert got.path == cache / "kws_ref_model.tflite" == official.cached_path("kws01")
    assert got.path.read_bytes() == (mirror / "kws_ref_model.tflite").read_bytes()
    assert sum(seen) == OFFICIAL["kws01"].size_bytes
    again = fetch("kws01", mirror)
    assert not again.fetched and again.source == "cache" and again.path == got.path
    assert sorted(p.name for p in cache.iterdir()) == ["kws_ref_model.tflite"]  # no temporary file left


def test_a_mirror_may_be_a_checkout_of_mlcommons_tiny(mirror: Path, tmp_path: Path) -> None:
    pinned = OFFICIAL["ad01"]
    checkout = tmp_path / "tiny"
    (checkout / pinned.repo_path).parent.mkdir(parents=True)
    shutil.copy(mirror / pinned.file_name, checkout / pinned.repo_path)
    assert fetch("ad01", checkout).source == str(checkout / pinned.repo_path)


def test_a_file_that_is_not_the_pinned_one_is_not_cached(mirror: Path, tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    data = bytearray((mirror / "ad01_int8.tflite").read_bytes())
    data[1000] ^= 1
    (bad / "ad01_int8.tflite").write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(DownloadError) as info:
        fetch("ad01", bad)
    text = str(info.value)
    assert actual in text and OFFICIAL["ad01"].sha256 in text and "nothing was cached" in text
    assert str(bad / "ad01_int8.tflite") in text
    assert list(cache.iterdir()) == [] and official.cached_path("ad01") is None


def test_a_longer_file_is_refused_after_one_byte_too_many(mirror: Path, tmp_path: Path, cache: Path) -> None:
    (tmp_path / "ad01_int8.tflite").write_bytes((mirror / "ad01_int8.tflite").read_bytes() + b"\0" * 10**6)
    seen: list[int] = []
    with pytest.raises(DownloadError, match=r"over 276,976 bytes\) is not the pinned sha256 87cf2419"):
        fetch("ad01", tmp_path, progress=seen.append)
    assert sum(seen) == OFFICIAL["ad01"].size_bytes + 1
    assert list(cache.iterdir()) == []


def test_a_mirror_without_the_file_names_it(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(DownloadError, match=r"mirror .* has no vww_96_int8\.tflite \(vww01\); expected the file "
                                            r"by name in that folder, or at benchmark/training/visual_wake_words/"):
        fetch("vww01", tmp_path)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_corrupt_cached_file_is_not_used_and_is_replaced(mirror: Path, cache: Path) -> None:
    cache.mkdir(parents=True)
    (cache / "ad01_int8.tflite").write_bytes(b"TFL3 truncated")
    assert official.cached_path("ad01") is None
    assert fetch("ad01", mirror).fetched
    assert official.cached_path("ad01") == cache / "ad01_int8.tflite"


def test_the_mirror_folder_comes_from_the_option_or_the_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert official.mirror_dir(None) is None
    assert official.mirror_dir(tmp_path) == tmp_path
    monkeypatch.setenv("HILBENCH_MODEL_MIRROR", str(tmp_path))
    assert official.mirror_dir(None) == tmp_path
    with pytest.raises(ConfigError, match=r"--mirror '.*none' is not a folder; expected a folder holding the "
                                          r"official files by name \(kws_ref_model\.tflite, "):
        official.mirror_dir(tmp_path / "none")
    monkeypatch.setenv("HILBENCH_MODEL_MIRROR", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match=r"HILBENCH_MODEL_MIRROR '.*none' is not a folder"):
        official.mirror_dir(None)


def test_an_unknown_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown official model 'tinycnn'; expected one of \['kws01', "):
        fetch("tinycnn")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_network_says_so_and_points_to_the_mirror(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HILBENCH_MODEL_URL_BASE", base)
    with pytest.raises(DownloadError) as info:
        fetch("kws01", timeout_s=5)
    text = str(info.value)
    assert text.startswith(f"cannot reach {base}/{OFFICIAL['kws01'].repo_path}: ")
    assert "no network?" in text and "--mirror DIR" in text and "HILBENCH_MODEL_MIRROR" in text
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server of a folder laid out as mlcommons/tiny: (its URL, the folder)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_download_over_http_is_checked_and_cached(server: tuple[str, Path], mirror: Path, cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    url, root = server
    pinned = OFFICIAL["kws01"]
    (root / pinned.repo_path).parent.mkdir(parents=True)
    shutil.copy(mirror / pinned.file_name, root / pinned.repo_path)
    monkeypatch.setenv("HILBENCH_MODEL_URL_BASE", url)
    seen: list[int] = []
    got = fetch("kws01", progress=seen.append)
    assert got.source == url + pinned.repo_path and got.path == cache / pinned.file_name
    assert sum(seen) == pinned.size_bytes and official.cached_path("kws01") == got.path
    with pytest.raises(DownloadError, match=r"ad01_int8\.tflite: HTTP 404 .*; expected ad01_int8\.tflite of "
                                            r"mlcommons/tiny at 1afd2c9820f7"):
        fetch("ad01")
