"""One accuracy run: a dataset through one firmware session, beside the host interpreter.

Order: resolve and parse the model, read the dataset and plan the inferences (bad input is
refused here, before anything is built); the host interpreter's output for every input; build the
firmware; then one session on the target: boot once, and for each input ``db load N``,
``db <hex>`` chunks, ``infer 1 0`` and ``hil-output`` (the raw output bytes, our extension).
QEMU is not restarted between samples. Every output is compared byte for byte with the host's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.accuracy.dataset import read_dataset
from harness.accuracy.plan import Plan, make_plan
from harness.accuracy.result import AccuracyResult, score_outputs
from harness.boards import BoardSpec
from harness.errors import ConfigError
from harness.firmware.build import BuildOptions, build_firmware
from harness.model import Graph, load_model
from harness.model.reference import reference_output
from harness.model.zoo import ModelRef, resolve_model
from harness.procedures import accuracy_run, infer_timeout_s
from harness.protocol import DutClient
from harness.runner import STOP_TIMEOUT_S
from harness.targets import create_target
from harness.types import FirmwareImage

# progress(stage, done, total): stage "host" (the interpreter) or "target"; called after each inference
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AccuracyOptions:
    limit: int | None = None          # score the first N usable samples (files); None: all
    build: BuildOptions = field(default_factory=BuildOptions)
    target: str | None = None         # the backend; default: the board's
    timeout_s: float | None = None    # per inference; default from the model's MACs

    def __post_init__(self) -> None:
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int)
                                       or self.limit < 1):
            raise ConfigError(f"limit is {self.limit!r}; expected a whole number of samples, 1 or more")


def host_outputs(ref: ModelRef, graph: Graph, plan: Plan, progress: Progress | None = None) -> list[bytes]:
    """The tflite-micro interpreter's output bytes for every planned input; raises ``ModelError``."""
    out = []
    for i, item in enumerate(plan.items):
        out.append(reference_output(str(ref.path), graph, item.input_bytes))
        if progress is not None:
            progress("host", i + 1, len(plan.items))
    return out


def target_outputs(image: FirmwareImage, board: BoardSpec, plan: Plan, options: AccuracyOptions,
                   progress: Progress | None = None) -> list[bytes]:
    """The firmware's output bytes for every planned input, from one session on the target.

    Raises ``TargetError`` naming the sample being inferred when the target fails (a timeout, a
    fault, a line that is not the protocol); the target is always closed.
    """
    # no counts needed: QEMU runs without its counting plugin
    with create_target(options.target or board.target, board, counter="icount") as target:
        timeout_s = options.timeout_s or infer_timeout_s(image, target.instructions_per_s, 1)
        target.load(image)
        client = DutClient(target.open())
        out = accuracy_run(client, [item.input_bytes for item in plan.items], timeout_s,
                           [item.name for item in plan.items], progress, where=f" on {board.name}")
        target.stop(timeout_s=STOP_TIMEOUT_S)
    return out


def run_accuracy(model: str | Path | ModelRef, dataset: str | Path, board: BoardSpec,
                 options: AccuracyOptions = AccuracyOptions(), progress: Progress | None = None) -> AccuracyResult:
    """Score ``dataset`` with ``model`` on ``board`` and on the host interpreter.

    Raises ``ConfigError``/``ModelError`` for bad input before anything is built (unknown model,
    no ``y_labels.csv``, a model whose input does not match the dataset, no usable sample), and
    other ``HarnessError``s when building or the target fails. Samples skipped (wrong size, label
    out of range, missing) are listed in the result.
    """
    started = time.monotonic()
    ref = resolve_model(model)
    graph = load_model(ref.path)
    plan = make_plan(read_dataset(dataset), graph, ref.id, options.limit)
    host = host_outputs(ref, graph, plan, progress)
    image = build_firmware(graph, board, ref.id, options.build)
    session_started = time.monotonic()
    target = target_outputs(image, board, plan, options, progress)
    session_s = time.monotonic() - session_started
    s = score_outputs(plan, graph, target, host)
    return AccuracyResult(
        model=ref.id, model_sha256=graph.sha256, model_path=str(ref.path), model_origin=str(ref.origin),
        board=board.name,
        dataset=str(dataset), kind=plan.kind.value, metric=s.metric, target_score=s.target_score,
        host_score=s.host_score, samples=len(plan.samples), inferences=len(plan.items),
        mismatched_samples=tuple(n for row in s.per_sample for n in row.mismatched), skipped=plan.skipped,
        per_sample=s.per_sample, note=s.note, target_mean_mse=s.target_mean_mse, host_mean_mse=s.host_mean_mse,
        firmware_sha256=image.sha256, target=options.target or board.target, session_s=round(session_s, 3),
        wall_s=round(time.monotonic() - started, 3))
