"""harness.model.builtin: the built-in models' registry, cache, metadata, and TensorFlow kept out of the
harness process. Builds go to the shared cache (``cache_dir()/"models"``), so a model is converted once
per cache key whichever test asks first; a cold build of all six takes about a minute on two cores."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ConfigError, ModelError
from harness.model import builtin, load_model
from harness.model.digits import TEST_SAMPLES, digits_train_set, int8_accuracy, quantize
from harness.paths import PROJECT_DIR
from tests.conftest import IN_CI

requires_tensorflow = pytest.mark.skipif(
    builtin.tensorflow_version() is None and not IN_CI,
    reason="TensorFlow not installed: pip install '.[models]'")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          check=False, cwd=PROJECT_DIR, timeout=600)


def test_registry_names_the_four_references_tinycnn_and_digits() -> None:
    assert list(builtin.BUILTIN) == ["kws01", "vww01", "ic01", "ad01", "tinycnn", "digits"]
    assert {m.id: m.origin for m in builtin.BUILTIN.values()} == {
        "kws01": "built-untrained", "vww01": "built-untrained", "ic01": "built-untrained",
        "ad01": "built-untrained", "tinycnn": "built-untrained", "digits": "built-trained"}
    assert all(m.description for m in builtin.BUILTIN.values())


def test_unknown_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown built model 'kws02'; expected one of \['ad01'"):
        builtin.build("kws02")
    with pytest.raises(ConfigError):
        builtin.cached_path("kws02")


def test_missing_tensorflow_is_a_model_error_with_the_install_hint(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(builtin, "_TENSORFLOW_DISTRIBUTIONS", ("no-such-tensorflow",))
    with pytest.raises(ModelError, match=r"needs TensorFlow, which is not installed \(pip install '\.\[models\]'"):
        builtin.build("ad01")
    assert builtin.cached_path("ad01") is None
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").iterdir())


@requires_tensorflow
def test_a_failed_build_keeps_the_error_and_leaves_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path))
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Traceback: ModuleNotFoundError: No module named tensorflow' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(builtin.sys, "executable", str(fake))
    with pytest.raises(ModelError, match=r"(?s)building model ad01 with TensorFlow failed \(pip install "
                                         r"'\.\[models\]'.*No module named tensorflow"):
        builtin.build("ad01")
    assert sorted(p.suffix for p in (tmp_path / "models").iterdir()) == [".lock"]


def test_the_cache_key_needs_no_tensorflow_and_follows_the_recipe() -> None:
    proc = _python("""
        import sys
        from harness.model import builtin
        keys = [builtin.cache_key(m) for m in builtin.BUILTIN]
        assert len(set(keys)) == len(keys), keys
        assert builtin.cache_key("ad01", seed=1) != builtin.cache_key("ad01")
        assert builtin.cache_key("ad01", seed=0) == builtin.cache_key("ad01")
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not loaded, loaded
    """)
    assert proc.returncode == 0, proc.stderr


@requires_tensorflow
def test_a_second_build_in_a_fresh_process_does_not_import_tensorflow() -> None:
    first = builtin.build("tinycnn")
    proc = _python("""
        import sys
        from harness.model import builtin
        from harness.model.digits import digits_test_set
        print(builtin.build("tinycnn"))
        print(builtin.cached_path("tinycnn"))
        assert builtin.metadata("tinycnn")["id"] == "tinycnn"
        images, labels = digits_test_set()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert not loaded, loaded
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(first), str(first)]


@requires_tensorflow
def test_metadata_records_the_build() -> None:
    path = builtin.build("kws01")
    facts = builtin.metadata("kws01")
    assert path.with_suffix(".json").is_file()
    assert facts["id"] == "kws01" and facts["origin"] == "built-untrained" and facts["seed"] == 0
    assert facts["tensorflow"] == builtin.tensorflow_version()
    assert facts["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert facts["cache_key"] == builtin.cache_key("kws01") and path.name == f"kws01-{facts['cache_key']}.tflite"
    assert (facts["params"], facts["macs"]) == (22_604, 2_656_768)
    assert facts["input_shape"] == [1, 49, 10, 1] and facts["output_shape"] == [1, 12]


@requires_tensorflow
@pytest.mark.parametrize("model_id", ["ad01", "kws01"])
def test_a_rebuild_in_another_cache_gives_the_same_bytes(model_id: str, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    # vww01, ic01, tinycnn and digits were checked the same way by hand (vww01 alone converts in ~12 s)
    shared = builtin.build(model_id).read_bytes()
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path))
    again = builtin.build(model_id)
    assert again.parent == tmp_path / "models"
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(shared).hexdigest()


def test_the_digits_split_is_fixed_and_disjoint() -> None:
    images, labels = builtin.digits_test_set()
    train_images, train_labels = digits_train_set()
    assert images.shape == (TEST_SAMPLES, 8, 8, 1) and images.dtype == np.float32
    assert labels.shape == (TEST_SAMPLES,) and set(labels.tolist()) == set(range(10))
    assert train_images.shape == (1797 - TEST_SAMPLES, 8, 8, 1) and len(train_labels) == 1797 - TEST_SAMPLES
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    again, _ = builtin.digits_test_set()
    assert np.array_equal(images, again)
    train_rows = {row.tobytes() for row in train_images}
    # a few digits images occur twice in the data set; the split is by sample, not by pixels
    assert sum(row.tobytes() in train_rows for row in images) < 10


def test_quantize_rounds_and_saturates() -> None:
    x = np.array([0.0, 0.25, 1.0, 2.0, -1.0], dtype=np.float32)
    assert quantize(x, 1 / 255, -128).tolist() == [-128, -64, 127, 127, -128]


@requires_tensorflow
def test_digits_is_trained_and_its_int8_accuracy_is_recorded() -> None:
    path = builtin.build("digits")
    facts = builtin.metadata("digits")
    assert facts["origin"] == "built-trained" and facts["dataset"] == "sklearn.datasets.load_digits"
    assert facts["test_samples"] == TEST_SAMPLES and facts["train_samples"] == 1797 - TEST_SAMPLES
    assert facts["float_test_accuracy"] >= 0.95 and facts["int8_test_accuracy"] >= 0.95
    assert abs(facts["float_test_accuracy"] - facts["int8_test_accuracy"]) <= 0.02
    # the figure is reproducible without TensorFlow, from the same test split
    assert int8_accuracy(path.read_bytes(), *builtin.digits_test_set()) == facts["int8_test_accuracy"]
    g = load_model(path)
    assert [op.opcode for op in g.operators] == ["CONV_2D", "CONV_2D", "RESHAPE", "FULLY_CONNECTED",
                                                 "FULLY_CONNECTED", "SOFTMAX"]
    assert g.input.shape == (1, 8, 8, 1) and g.input.quant is not None
    assert (g.input.quant.scale[0], g.input.quant.zero_point[0]) == (pytest.approx(1 / 255), -128)
    assert json.loads(path.with_suffix(".json").read_text()) == facts
