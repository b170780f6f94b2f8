"""Dataset folders in the MLPerf Tiny layout: the index read, each bad row or file skipped and named,
a folder or model that cannot be used refused up front; the digits exporter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.accuracy import DatasetKind, make_plan, read_dataset, write_classifier_dataset
from harness.errors import ConfigError, ModelError
from harness.model import load_model
from tests.accuracy.conftest import MakeDataset
from tests.conftest import MODELS, model_path


def test_the_real_ad01_folder_is_one_normal_file_of_196_windows() -> None:
    ad01 = load_model(model_path("ad01_int8.tflite"))
    dataset = read_dataset(MODELS / "ad01")
    assert dataset.kind is DatasetKind.ANOMALY and not dataset.skipped
    [entry] = dataset.entries
    assert (entry.file, entry.classes, entry.label, entry.window_bytes, entry.stride_bytes) == \
        ("normal_id_01_00000000_hist_librosa.bin", 2, 0, 2560, 512)
    plan = make_plan(dataset, ad01, "ad01")
    assert len(plan.items) == 196 and plan.items[5].name == "normal_id_01_00000000_hist_librosa.bin#5"
    assert all(len(i.input_bytes) == 640 and i.window is not None and i.window.shape == (640,) for i in plan.items)


def test_a_folder_without_labels_is_refused_naming_the_file_and_the_format(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(bytes(8))
    with pytest.raises(ConfigError, match=r"has no y_labels\.csv; expected an MLPerf Tiny index with rows "
                                          r"'file,classes,class'"):
        read_dataset(tmp_path)
    with pytest.raises(ConfigError, match="is not a folder"):
        read_dataset(tmp_path / "a.bin")


def test_an_empty_index_or_one_of_the_wrong_width_is_refused(make_dataset: MakeDataset) -> None:
    with pytest.raises(ConfigError, match="lists no sample"):
        read_dataset(make_dataset(["", "file,classes,class"], {}, "empty"))
    with pytest.raises(ConfigError, match="has 4 fields"):
        read_dataset(make_dataset(["a.bin,4,1,9"], {"a.bin": bytes(8)}, "wide"))


def test_bad_rows_are_skipped_and_named_and_the_rest_is_kept(make_dataset: MakeDataset) -> None:
    folder = make_dataset(
        ["file,classes,class", "good.bin,4,1", "", "label.bin,4,4", "words.bin,four,1", "short.bin,4",
         "gone.bin,4,2", "../outside.bin,4,0", "also.bin, 4 , 3"],
        {"good.bin": bytes(8), "label.bin": bytes(8), "words.bin": bytes(8), "also.bin": bytes(8)})
    (folder.parent / "outside.bin").write_bytes(bytes(8))
    dataset = read_dataset(folder)
    assert dataset.kind is DatasetKind.CLASSIFIER
    assert [(e.file, e.label, e.line) for e in dataset.entries] == [("good.bin", 1, 2), ("also.bin", 3, 9)]
    skipped = {s.name: s.reason for s in dataset.skipped}
    assert "class 4 is out of range for 4 classes (0 to 3)" in skipped["label.bin"]
    assert "classes 'four' is not a whole number" in skipped["words.bin"]
    assert "2 fields" in skipped["y_labels.csv line 6"]
    assert skipped["gone.bin"].startswith("listed in y_labels.csv (line 7) but missing from")
    assert "leads out of the dataset folder" in skipped["../outside.bin"]


def test_files_of_the_wrong_size_and_labels_past_the_models_classes_are_skipped(
        make_dataset: MakeDataset, classifier_model: Path) -> None:
    graph = load_model(classifier_model)
    folder = make_dataset(["a.bin,4,0", "big.bin,4,1", "b.bin,4,2", "c.bin,12,9", "d.bin,4,3"],
                          {"a.bin": bytes(8), "big.bin": bytes(9), "b.bin": bytes(8), "c.bin": bytes(8),
                           "d.bin": bytes(range(8))})
    plan = make_plan(read_dataset(folder), graph, "fc8x4")
    assert [i.name for i in plan.items] == ["a.bin", "b.bin", "d.bin"]
    assert plan.items[2].input_bytes == bytes(range(8))      # the file's bytes, as they are
    skipped = {s.name: s.reason for s in plan.skipped}
    assert skipped["big.bin"] == "9 bytes; model fc8x4 takes 8 (int8 [1, 8], 8 bytes)"
    assert skipped["c.bin"] == "class 9 is out of range for model fc8x4, which has 4 classes (0 to 3)"
    limited = make_plan(read_dataset(folder), graph, "fc8x4", limit=2)
    assert [i.name for i in limited.items] == ["a.bin", "b.bin"]


def test_a_model_whose_input_does_not_match_the_dataset_is_refused_up_front(
        make_dataset: MakeDataset, classifier_model: Path, autoencoder_model: Path) -> None:
    folder = make_dataset(["a.bin,4,0", "b.bin,4,1"], {"a.bin": bytes(64), "b.bin": bytes(64)})
    with pytest.raises(ConfigError, match=r"model fc8x4 takes int8 \[1, 8\], 8 bytes; the files of dataset "
                                          r".* are 64 bytes: the model's input shape does not match"):
        make_plan(read_dataset(folder), load_model(classifier_model), "fc8x4")
    ad = make_dataset(["s.bin,2,0,2560,512"], {"s.bin": bytes(4 * 25600)}, "ad")
    with pytest.raises(ConfigError, match=r"slides windows of 2560 bytes; model fc8x8 takes 8 values .* "
                                          r"a window of 32 bytes of float32"):
        make_plan(read_dataset(ad), load_model(autoencoder_model), "fc8x8")
    with pytest.raises(ModelError, match="needs an autoencoder"):
        make_plan(read_dataset(ad), load_model(classifier_model), "fc8x4")


def test_anomaly_files_are_windowed_quantized_and_checked(make_dataset: MakeDataset,
                                                          autoencoder_model: Path) -> None:
    graph = load_model(autoencoder_model)          # input scale 0.5, zero point 3
    values = (np.arange(16, dtype="<f4") * 0.25).astype("<f4")
    folder = make_dataset(["n.bin,2,0,32,16", "odd.bin,2,1,32,16", "tiny.bin,2,1,32,16", "x.bin,3,1,32,16",
                           "nan.bin,2,1,32,16"],
                          {"n.bin": values.tobytes(), "odd.bin": bytes(33), "tiny.bin": bytes(28),
                           "x.bin": bytes(32), "nan.bin": np.full(8, np.nan, dtype="<f4").tobytes()}, "ad")
    plan = make_plan(read_dataset(folder), graph, "fc8x8")
    assert [i.name for i in plan.items] == ["n.bin#0", "n.bin#1", "n.bin#2"]   # (64 - 32) / 16 + 1
    # window 1 is values[4:12] = 1.0, 1.25, ..., 2.75; q = round(x / 0.5) + 3, halves away from zero
    assert list(np.frombuffer(plan.items[1].input_bytes, dtype=np.int8)) == [5, 6, 6, 7, 7, 8, 8, 9]
    skipped = {s.name: s.reason for s in plan.skipped}
    assert "33 bytes; expected float32 values" in skipped["odd.bin"]
    assert "at least one window of 32 bytes" in skipped["tiny.bin"]
    assert "an anomaly-detection row has 2" in skipped["x.bin"]
    assert "not finite" in skipped["nan.bin"]


def test_write_classifier_dataset_quantizes_with_the_models_input(tmp_path: Path, classifier_model: Path) -> None:
    graph = load_model(classifier_model)            # input scale 0.1, zero point 3
    x = np.array([[0.0] * 8, [0.05, -0.05, 0.15, 1.0, -1.0, 20.0, -20.0, 0.04]], dtype=np.float32)
    folder = write_classifier_dataset(tmp_path / "out", x, [3, 0], graph, prefix="s")
    assert (folder / "y_labels.csv").read_text() == "s_00000_3.bin,4,3\ns_00001_0.bin,4,0\n"
    assert list(np.fromfile(folder / "s_00001_0.bin", dtype=np.int8)) == [4, 2, 5, 13, -7, 127, -128, 3]
    plan = make_plan(read_dataset(folder), graph, "fc8x4")
    assert [i.label for i in plan.items] == [3, 0] and not plan.skipped
    with pytest.raises(ConfigError, match=r"samples of shape \[4\]; model fc8x4 takes \[1, 8\]"):
        write_classifier_dataset(tmp_path / "bad", np.zeros((2, 4)), [0, 1], graph)
    with pytest.raises(ConfigError, match="label 7 is out of range for model fc8x4, which has 4 classes"):
        write_classifier_dataset(tmp_path / "bad", np.zeros((1, 8)), [7], graph)


def test_a_float_input_model_takes_float32_files_as_they_are(make_dataset: MakeDataset, tmp_path: Path) -> None:
    """A model with a float32 input (a QUANTIZE first) reads files of float32 values: 4 bytes a value."""
    from tests.ops.test_quantize_edges import float_fc_model

    path = tmp_path / "float_fc.tflite"
    path.write_bytes(float_fc_model(0))
    values = np.linspace(-3, 3, 16, dtype="<f4").tobytes()
    folder = make_dataset(["a.bin,4,1", "int8.bin,4,2"], {"a.bin": values, "int8.bin": bytes(16)})
    plan = make_plan(read_dataset(folder), load_model(path), "float_fc")
    assert [i.name for i in plan.items] == ["a.bin"] and plan.items[0].input_bytes == values
    assert {s.name: s.reason for s in plan.skipped}["int8.bin"] == ("16 bytes; model float_fc takes 64 "
                                                                    "(float32 [1, 16], 64 bytes)")
