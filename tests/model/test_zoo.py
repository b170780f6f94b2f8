"""Resolving a model by id or path, and its origin: official file in the cache, then the official file in
HILBENCH_MODELS_DIR, then the model built from code; a path is a user model unless it is an official
file. Building is faked here (harness.model.builtin is replaced): what is tested is the order and what
each ModelRef and run record says."""

from __future__ import annotations

import shutil
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import harness.model
from harness.boards import load_board
from harness.errors import ConfigError, ModelError
from harness.model import official, zoo
from harness.model.zoo import BUILT, MLPERF_TINY, ModelRef, Origin, known_models, resolve_model
from harness.runner import run_model
from tests.conftest import model_path


@dataclass
class FakeSpec:
    origin: str
    description: str = "a fake built model"


@dataclass
class FakeBuiltin:
    """Stands for harness.model.builtin: ``build`` writes a small file and remembers the call."""

    root: Path
    built: list[str] = field(default_factory=list)
    fail: str | None = None

    def path(self, model_id: str) -> Path:
        return self.root / f"{model_id}-built.tflite"

    def build(self, model_id: str) -> Path:
        if self.fail is not None:
            raise ModelError(self.fail)
        self.built.append(model_id)
        self.root.mkdir(parents=True, exist_ok=True)
        self.path(model_id).write_bytes(b"TFL3" + model_id.encode())
        return self.path(model_id)

    def cached_path(self, model_id: str) -> Path | None:
        return self.path(model_id) if self.path(model_id).is_file() else None


@pytest.fixture
def builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBuiltin:
    fake = FakeBuiltin(tmp_path / "built")
    module = types.ModuleType("harness.model.builtin")
    module.BUILTIN = {**{m: FakeSpec("built-untrained") for m in [*MLPERF_TINY, "tinycnn"]},  # type: ignore[attr-defined]
                      "digits": FakeSpec("built-trained")}
    module.build = fake.build  # type: ignore[attr-defined]
    module.cached_path = fake.cached_path  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "harness.model.builtin", module)
    monkeypatch.setattr(harness.model, "builtin", module, raising=False)
    return fake


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the official cache folder, the models folder), both empty."""
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HILBENCH_MODELS_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    return tmp_path / "cache" / "official", tmp_path / "models"


def _official(name: str) -> Path:
    return model_path(name)  # ../shared/models: skips elsewhere, fails under CI=true


def test_an_id_takes_the_downloaded_official_file_first(builtin: FakeBuiltin, dirs: tuple[Path, Path]) -> None:
    cache, models = dirs
    src = _official("kws_ref_model.tflite")
    shutil.copy(src, models / src.name)
    official.fetch("kws01", src.parent)
    ref = resolve_model("kws01")
    assert ref == ModelRef("kws01", cache / src.name, Origin.OFFICIAL, f"official file from the cache {cache / src.name}")
    assert zoo.mlperf_tiny_path("kws01") == cache / src.name and not builtin.built


def test_then_the_official_file_in_the_models_folder(builtin: FakeBuiltin, dirs: tuple[Path, Path]) -> None:
    _, models = dirs
    src = _official("ad01_int8.tflite")
    shutil.copy(src, models / src.name)
    ref = resolve_model("ad01")
    assert (ref.id, ref.path, ref.origin) == ("ad01", models / src.name, Origin.OFFICIAL)
    assert ref.source == f"official file from HILBENCH_MODELS_DIR {models / src.name}"
    assert not builtin.built


def test_another_file_in_the_models_folder_is_used_as_a_user_model(builtin: FakeBuiltin,
                                                                   dirs: tuple[Path, Path]) -> None:
    _, models = dirs
    (models / "ad01_int8.tflite").write_bytes(b"TFL3 a retrained ad01")
    ref = resolve_model("ad01")
    assert (ref.path, ref.origin) == (models / "ad01_int8.tflite", Origin.USER)
    assert ref.source.startswith(f"file from HILBENCH_MODELS_DIR {models / 'ad01_int8.tflite'}, not the official "
                                 "one (its sha256 is not the pinned 87cf24194ef9...)")


def test_an_official_file_under_another_id_s_name_is_not_that_id_s_official_file(
        builtin: FakeBuiltin, dirs: tuple[Path, Path]) -> None:
    _, models = dirs
    shutil.copy(_official("ad01_int8.tflite"), models / "kws_ref_model.tflite")
    assert resolve_model("kws01").origin is Origin.USER


def test_without_a_file_an_mlperf_id_is_built_from_code(builtin: FakeBuiltin, dirs: tuple[Path, Path]) -> None:
    ref = resolve_model("vww01")
    assert ref == ModelRef("vww01", builtin.path("vww01"), Origin.BUILT_UNTRAINED,
                           f"built from code (untrained weights) {builtin.path('vww01')}")
    assert builtin.built == ["vww01"] and zoo.mlperf_tiny_path("vww01") is None


def test_a_failed_build_says_how_to_have_the_model(builtin: FakeBuiltin, dirs: tuple[Path, Path]) -> None:
    cache, models = dirs
    builtin.fail = "No module named 'tensorflow'"
    with pytest.raises(ModelError) as info:
        resolve_model("ic01")
    assert str(info.value) == (
        f"model 'ic01': no official pretrainedResnet_quant.tflite in the cache {cache} or in {models}, and "
        "building it from code failed (`hilbench models download mlperf-tiny` fetches the official files, or "
        "set HILBENCH_MODELS_DIR to a folder holding them): No module named 'tensorflow'")


@pytest.mark.parametrize(("model_id", "origin", "words"), [("tinycnn", Origin.BUILT_UNTRAINED, "untrained"),
                                                            ("digits", Origin.BUILT_TRAINED, "trained")])
def test_the_project_s_own_models_are_built(builtin: FakeBuiltin, dirs: tuple[Path, Path], model_id: str,
                                            origin: Origin, words: str) -> None:
    ref = resolve_model(model_id)
    assert (ref.id, ref.path, ref.origin) == (model_id, builtin.path(model_id), origin)
    assert ref.source.startswith(f"built from code ({words} weights) ")


def test_a_path_is_a_user_model_unless_it_is_an_official_file(tmp_path: Path, builtin: FakeBuiltin) -> None:
    mine = tmp_path / "mine.tflite"
    mine.write_bytes(b"TFL3 mine")
    assert resolve_model(mine) == ModelRef("mine", mine, Origin.USER, f"file {mine}")
    assert resolve_model(str(tmp_path / "absent.tflite")).origin is Origin.USER
    src = _official("vww_96_int8.tflite")
    copy = tmp_path / "renamed.tflite"
    shutil.copy(src, copy)
    assert resolve_model(copy) == ModelRef("renamed", copy, Origin.OFFICIAL,
                                           f"official file {copy} (vww_96_int8.tflite)")
    assert not builtin.built


def test_an_unknown_name_lists_the_known_ids() -> None:
    with pytest.raises(ConfigError, match=r"model 'kws02' is neither a \.tflite file nor a known id; known ids: "
                                          r"\['ad01', 'digits', 'ic01', 'kws01', 'tinycnn', 'vww01'\]"):
        resolve_model("kws02")


def test_a_ref_made_by_hand_is_a_user_model_and_passes_through() -> None:
    ref = ModelRef("x", Path("x.tflite"))
    assert ref.origin is Origin.USER and resolve_model(ref) is ref and str(ref) == "x"


def test_origins_are_the_record_s_words() -> None:
    assert [o.value for o in Origin] == ["official", "built-untrained", "built-trained", "user"]
    assert BUILT == ("tinycnn", "digits")


def test_the_list_names_every_model_and_which_one_an_id_takes(builtin: FakeBuiltin,
                                                              dirs: tuple[Path, Path]) -> None:
    cache, models = dirs
    kws = _official("kws_ref_model.tflite")
    official.fetch("kws01", kws.parent)
    shutil.copy(_official("ad01_int8.tflite"), models)
    (models / "pretrainedResnet_quant.tflite").write_bytes(b"TFL3 retrained")
    builtin.build("tinycnn")
    rows = {(k.id, k.origin.value): k for k in known_models()}
    assert list(rows) == [
        ("kws01", "official"), ("kws01", "built-untrained"),
        ("vww01", "official"), ("vww01", "built-untrained"),
        ("ic01", "user"), ("ic01", "official"), ("ic01", "built-untrained"),
        ("ad01", "official"), ("ad01", "built-untrained"),
        ("tinycnn", "built-untrained"), ("digits", "built-trained")]
    assert [key for key, k in rows.items() if k.default] == [
        ("kws01", "official"), ("vww01", "built-untrained"), ("ic01", "user"), ("ad01", "official"),
        ("tinycnn", "built-untrained"), ("digits", "built-trained")]
    k = rows["kws01", "official"]
    assert (k.path, k.size_bytes, k.where) == (cache / kws.name, 53_936, "cache")
    k = rows["vww01", "official"]
    assert (k.path, k.size_bytes, k.where) == (None, 333_288, "not downloaded (hilbench models download mlperf-tiny)")
    assert (rows["ic01", "user"].path, rows["ic01", "user"].size_bytes) == (models / "pretrainedResnet_quant.tflite", 14)
    assert rows["ad01", "official"].where == "models folder"
    assert rows["tinycnn", "built-untrained"].path == builtin.path("tinycnn")
    assert rows["digits", "built-trained"].path is None and "built on first use" in rows["digits", "built-trained"].where
    assert builtin.built == ["tinycnn"]   # listing builds nothing


def test_the_run_record_says_where_the_model_came_from(builtin: FakeBuiltin, dirs: tuple[Path, Path],
                                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, models = dirs
    shutil.copy(_official("ad01_int8.tflite"), models)
    board = load_board("qemu-m4")

    def refuse(path: Path) -> None:
        raise ModelError(f"stop after resolving {path.name}")

    monkeypatch.setattr("harness.runner.load_model", refuse)
    record = run_model("ad01", board)
    assert (record.status, record.model_origin) == ("model", "official")
    assert record.provenance["model_source"] == f"official file from HILBENCH_MODELS_DIR {models / 'ad01_int8.tflite'}"
    assert run_model("tinycnn", board).model_origin == "built-untrained"
    assert run_model(tmp_path / "none.tflite", board).model_origin == "user"
    builtin.fail = "no TensorFlow"
    failed = run_model("kws01", board)
    assert (failed.status, failed.model_origin) == ("model", None)
    assert failed.to_dict()["model_origin"] is None


def test_the_built_models_are_the_known_ids_with_an_origin_of_the_record() -> None:
    from harness.model import builtin  # the real one: its table only, nothing is built

    assert set(builtin.BUILTIN) == {*MLPERF_TINY, *BUILT}
    assert {Origin(m.origin) for m in builtin.BUILTIN.values()} <= {Origin.BUILT_UNTRAINED, Origin.BUILT_TRAINED}
