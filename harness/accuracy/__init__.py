"""Accuracy on the target beside the host interpreter, over an MLPerf Tiny dataset folder (DESIGN §5, §6).

``run_accuracy(model, folder, board)`` streams every sample to one firmware session and returns a
frozen ``AccuracyResult``: top-1 (classifiers) or ROC AUC / mean reconstruction MSE (anomaly
detection) on the target and on the tflite-micro interpreter, and every sample whose output bytes
differ. ``export_digits`` writes the built-in digits test set in that layout.
"""

from __future__ import annotations

from harness.accuracy.dataset import LABELS_FILE, Dataset, DatasetKind, Entry, Skipped, read_dataset
from harness.accuracy.export import export_digits, write_classifier_dataset
from harness.accuracy.plan import Item, Plan, make_plan
from harness.accuracy.result import AccuracyResult, SampleScore
from harness.accuracy.run import AccuracyOptions, run_accuracy

__all__ = ["LABELS_FILE", "AccuracyOptions", "AccuracyResult", "Dataset", "DatasetKind", "Entry", "Item",
           "Plan", "SampleScore", "Skipped", "export_digits", "make_plan", "read_dataset", "run_accuracy",
           "write_classifier_dataset"]
