"""`hilbench models download` and `hilbench models list`: what they print and their exit statuses
(0 ok, 1 a file not cached, 2 bad input). The files come from a mirror folder (../shared/models) or from
nowhere (a closed port): no test reaches the internet."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness import cli
from harness.model.official import OFFICIAL
from tests.conftest import model_path
from tests.model.test_zoo import builtin  # noqa: F401  (a fixture: harness.model.builtin faked)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HILBENCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.delenv("HILBENCH_MODEL_URL_BASE", raising=False)
    monkeypatch.delenv("HILBENCH_MODEL_MIRROR", raising=False)
    return tmp_path / "cache" / "official"


@pytest.fixture
def mirror() -> Path:
    return model_path("ad01_int8.tflite").parent   # skips elsewhere, fails under CI=true


def hilbench(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def test_download_mlperf_tiny_from_a_mirror(mirror: Path, cache: Path) -> None:
    out = hilbench("models", "download", "mlperf-tiny", "--mirror", str(mirror))
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in cache.iterdir()) == sorted(f.file_name for f in OFFICIAL.values())
    lines = out.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == list(OFFICIAL)
    assert lines[0] == (f"kws01: {cache / 'kws_ref_model.tflite'} (from {mirror / 'kws_ref_model.tflite'}; "
                        "sha256 aeea436800704fce... as pinned)")
    again = hilbench("models", "download", "kws01")   # no mirror, no network needed: it is cached
    assert again.exit_code == 0 and "(already cached; " in again.stdout


def test_the_mirror_may_come_from_the_environment(mirror: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILBENCH_MODEL_MIRROR", str(mirror))
    out = hilbench("models", "download", "ad01")
    assert out.exit_code == 0, out.output
    assert [p.name for p in cache.iterdir()] == ["ad01_int8.tflite"]


def test_a_file_that_is_not_the_pinned_one_fails_and_is_not_cached(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "kws_ref_model.tflite").write_bytes(b"TFL3 not the official file")
    out = hilbench("models", "download", "kws01", "--mirror", str(tmp_path))
    assert out.exit_code == 1
    assert "is not the pinned sha256 aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae" in out.stderr
    assert "1 of 1 files not cached" in out.stderr and out.stdout == ""
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_mirror_without_a_file_names_it_and_the_others_are_still_cached(mirror: Path, tmp_path: Path,
                                                                          cache: Path) -> None:
    part = tmp_path / "part"
    part.mkdir()
    (part / "ad01_int8.tflite").write_bytes((mirror / "ad01_int8.tflite").read_bytes())
    out = hilbench("models", "download", "mlperf-tiny", "--mirror", str(part))
    assert out.exit_code == 1
    assert f"kws01: mirror {part} has no kws_ref_model.tflite (kws01)" in out.stderr
    assert "3 of 4 files not cached" in out.stderr
    assert out.stdout.startswith("ad01: ") and [p.name for p in cache.iterdir()] == ["ad01_int8.tflite"]


def test_no_network_says_so_and_points_to_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HILBENCH_MODEL_URL_BASE", f"http://127.0.0.1:{port}")
    out = hilbench("models", "download", "ad01")
    assert out.exit_code == 1
    assert f"ad01: cannot reach http://127.0.0.1:{port}/benchmark/training/anomaly_detection/" in out.stderr
    assert "no network? Copy the files into a folder (by name) and pass --mirror DIR, or set " \
           "HILBENCH_MODEL_MIRROR=DIR" in " ".join(out.stderr.split())


@pytest.mark.parametrize(("args", "message"), [
    (["kws02"], "'kws02' is not a model set or official model; expected mlperf-tiny, kws01, vww01, ic01, ad01"),
    ([], "Missing argument"),
    (["ad01", "--mirror", "/nonexistent"], "--mirror '/nonexistent' is not a folder; expected a folder holding"),
    (["ad01", "--mirror", ""], "'' is not a folder"),
])
def test_bad_input_is_a_usage_error(args: list[str], message: str) -> None:
    out = hilbench("models", "download", *args)
    assert out.exit_code == 2 and message in " ".join(out.stderr.split()), out.output


def test_a_mirror_from_the_environment_that_is_not_a_folder_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HILBENCH_MODEL_MIRROR", "/nonexistent")
    out = hilbench("models", "download", "ad01")
    assert out.exit_code == 2 and "HILBENCH_MODEL_MIRROR '/nonexistent' is not a folder" in out.stderr


@pytest.mark.usefixtures("builtin")   # building is faked: nothing is built by a list anyway
def test_list_shows_every_model_with_its_origin(mirror: Path, cache: Path) -> None:
    assert hilbench("models", "download", "kws01", "--mirror", str(mirror)).exit_code == 0
    out = hilbench("models", "list", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert {r["id"] for r in rows} == {"kws01", "vww01", "ic01", "ad01", "tinycnn", "digits"}
    kws = [r for r in rows if r["id"] == "kws01"]
    assert kws[0] == {"id": "kws01", "task": OFFICIAL["kws01"].task, "origin": "official", "cached": True,
                      "path": str(cache / "kws_ref_model.tflite"), "size_bytes": 53_936, "where": "cache",
                      "default": True}
    assert [r["origin"] for r in kws] == ["official", "built-untrained"] and not kws[1]["default"]
    vww = [r for r in rows if r["id"] == "vww01"]
    assert [(r["origin"], r["cached"], r["default"]) for r in vww] == [("official", False, False),
                                                                       ("built-untrained", vww[1]["cached"], True)]
    assert {r["origin"] for r in rows if r["id"] == "digits"} == {"built-trained"}
    text = hilbench("models", "list")
    assert text.exit_code == 0
    for words in ("id", "task", "origin", "default", "cached", "size B", "where", "built-untrained",
                  f"cache: {cache / 'kws_ref_model.tflite'}", "53,936", "not downloaded (hilbench models download"):
        assert words in text.stdout, words


def test_list_on_an_empty_machine_shows_the_built_models_as_defaults_and_builds_nothing(tmp_path: Path) -> None:
    out = hilbench("models", "list", "--json")   # the real harness.model.builtin
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [(r["id"], r["origin"]) for r in rows if r["default"]] == [
        ("kws01", "built-untrained"), ("vww01", "built-untrained"), ("ic01", "built-untrained"),
        ("ad01", "built-untrained"), ("tinycnn", "built-untrained"), ("digits", "built-trained")]
    assert not any(r["cached"] for r in rows)
    assert not (tmp_path / "cache").exists()
