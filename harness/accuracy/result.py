"""The result of one accuracy run: the score on the target beside the host interpreter's, per sample.

``score_outputs`` turns the output bytes of every inference, the target's and the host's, into
an ``AccuracyResult``'s scores. Classifiers: top-1 (the share of samples whose highest output is
the label). Anomaly detection: each window's reconstruction MSE, a file's score the mean over its
windows; ROC AUC over the files (1 anomaly against 0 normal) when both classes are present,
otherwise the AUC is undefined and the metric is the mean file score (``mean_mse``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from harness.accuracy.dataset import DatasetKind, Skipped
from harness.accuracy.plan import Plan
from harness.accuracy.scoring import roc_auc, top1, window_mse
from harness.model.graph import Graph


@dataclass(frozen=True)
class SampleScore:
    """One file: its label, the target's and the host's prediction (classifiers) or file score (AD)."""

    file: str
    label: int
    target: float
    host: float
    mismatched: tuple[str, ...] = ()   # the inferences whose output bytes differ from the host's


@dataclass(frozen=True)
class Scores:
    metric: str                        # "top1", "auc" or "mean_mse"
    target_score: float
    host_score: float
    per_sample: tuple[SampleScore, ...]
    note: str = ""
    target_mean_mse: float | None = None
    host_mean_mse: float | None = None


@dataclass(frozen=True)
class AccuracyResult:
    """Frozen summary of one run of a dataset through one firmware session.

    ``ok`` holds when the target's score equals the host's and no output byte differed.
    ``mismatched_samples`` names each differing inference: the file (classifiers) or ``file#window``.
    """

    model: str
    model_sha256: str
    model_path: str
    model_origin: str                  # official, built-trained, built-untrained, user (harness.model.zoo)
    board: str
    dataset: str
    kind: str                          # "classifier" or "anomaly"
    metric: str
    target_score: float
    host_score: float
    samples: int                       # files scored
    inferences: int                    # inferences on the target (one per file, or per window)
    mismatched_samples: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    per_sample: tuple[SampleScore, ...]
    note: str = ""
    target_mean_mse: float | None = None
    host_mean_mse: float | None = None
    firmware_sha256: str = ""
    target: str = ""                   # the target backend (qemu, ...)
    session_s: float = 0.0             # wall time of the one firmware session (boot to exit)
    wall_s: float = 0.0                # of the whole run, building and the host interpreter included

    @property
    def ok(self) -> bool:
        return self.target_score == self.host_score and not self.mismatched_samples

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"file": s.name, "reason": s.reason} for s in self.skipped]
        data["mismatched_samples"] = list(self.mismatched_samples)
        data["per_sample"] = [{**asdict(s), "mismatched": list(s.mismatched)} for s in self.per_sample]
        data["ok"] = self.ok
        return data


def _classifier(plan: Plan, graph: Graph, target: Sequence[bytes], host: Sequence[bytes]) -> Scores:
    rows = []
    for item, t, h in zip(plan.items, target, host):
        rows.append(SampleScore(item.sample, item.label, top1(t, graph.output), top1(h, graph.output),
                                (item.name,) if t != h else ()))
    n = len(rows)
    return Scores("top1", sum(r.target == r.label for r in rows) / n, sum(r.host == r.label for r in rows) / n,
                  tuple(rows))


def _anomaly(plan: Plan, graph: Graph, target: Sequence[bytes], host: Sequence[bytes]) -> Scores:
    by_file: dict[str, tuple[int, list[float], list[float], list[str]]] = {}
    for item, t, h in zip(plan.items, target, host):
        assert item.window is not None   # every anomaly-detection item has its window (make_plan)
        _, ts, hs, bad = by_file.setdefault(item.sample, (item.label, [], [], []))
        ts.append(window_mse(t, item.window, graph.output))
        hs.append(window_mse(h, item.window, graph.output))
        if t != h:
            bad.append(item.name)
    rows = tuple(SampleScore(f, label, float(np.mean(ts)), float(np.mean(hs)), tuple(bad))
                 for f, (label, ts, hs, bad) in by_file.items())
    labels = [r.label for r in rows]
    t_mean = float(np.mean([r.target for r in rows]))
    h_mean = float(np.mean([r.host for r in rows]))
    t_auc, h_auc = roc_auc([r.target for r in rows], labels), roc_auc([r.host for r in rows], labels)
    if t_auc is None or h_auc is None:
        present = sorted(set(labels))
        note = (f"AUC is undefined: only class {present[0]} ({'normal' if present[0] == 0 else 'anomaly'}) "
                "is present; the score is the mean reconstruction MSE over the files")
        return Scores("mean_mse", t_mean, h_mean, rows, note, t_mean, h_mean)
    return Scores("auc", t_auc, h_auc, rows, "", t_mean, h_mean)


def score_outputs(plan: Plan, graph: Graph, target: Sequence[bytes], host: Sequence[bytes]) -> Scores:
    """Scores of the target's and the host's outputs, one output per ``plan.items`` entry, in order."""
    if not len(target) == len(host) == len(plan.items):
        raise ValueError(f"{len(target)} target and {len(host)} host outputs for {len(plan.items)} inferences")
    if plan.kind is DatasetKind.ANOMALY:
        return _anomaly(plan, graph, target, host)
    return _classifier(plan, graph, target, host)
