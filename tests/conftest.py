"""Shared test helpers. In CI (CI=true) a tool that bootstrap.sh installs is never skipped: its absence fails."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

IN_CI = os.environ.get("CI") == "true"
MODELS = Path(os.environ.get("HILBENCH_MODELS_DIR", Path(__file__).resolve().parents[2] / "shared" / "models"))


def _require(tool: str, hint: str) -> pytest.MarkDecorator:
    missing = shutil.which(tool) is None
    if missing and IN_CI:
        raise RuntimeError(f"CI: {tool} is missing; bootstrap.sh should have installed it")
    return pytest.mark.skipif(missing, reason=f"{tool} not found: {hint}")


requires_qemu = _require("qemu-system-arm", "run ./bootstrap.sh or apt-get install qemu-system-arm")
requires_cc = _require("arm-none-eabi-gcc", "run ./bootstrap.sh or apt-get install gcc-arm-none-eabi")


def model_path(file_name: str) -> Path:
    path = MODELS / file_name
    if not path.is_file():
        if IN_CI:
            pytest.fail(f"CI: {path} is missing (../shared/models should be beside the clone)")
        pytest.skip(f"{file_name} not found in {MODELS} (set HILBENCH_MODELS_DIR)")
    return path


def interpret(model: bytes, *inputs: Any) -> bytes:
    """The tflite-micro interpreter's output bytes for a model given as bytes (any output dtype)."""
    from tflite_micro.python.tflite_micro import runtime  # a dependency of the project: never skipped

    from harness.model import parse_model
    from harness.model.reference import interpreter_arena_bytes

    arena_bytes = interpreter_arena_bytes(parse_model(model, name="interpret"))
    ip = runtime.Interpreter.from_bytes(model, arena_size=arena_bytes)
    for i, x in enumerate(inputs):
        ip.set_input(x, i)
    ip.invoke()
    return bytes(np.asarray(ip.get_output(0)).tobytes())


def fc_dequantize_model(folder: Path) -> Path:
    """x int8 [1,16] -FULLY_CONNECTED-> h int8 [1,4] -DEQUANTIZE-> y float32 [1,4], written to ``folder``."""
    from harness.model.builder import OpDef, TensorDef, build_model
    from harness.model.graph import Dtype

    w = np.random.default_rng(11).integers(-128, 128, (4, 16), dtype=np.int8)
    bias = np.array([900, -700, 20, 5], "<i4")
    tensors = [TensorDef("x", (1, 16), Dtype.INT8, (0.05,), (3,)),
               TensorDef("w", (4, 16), Dtype.INT8, (0.01,), (0,), data=w.tobytes()),
               TensorDef("b", (4,), Dtype.INT32, (0.0005,), (0,), data=bias.tobytes()),
               TensorDef("h", (1, 4), Dtype.INT8, (0.2,), (-7,)),
               TensorDef("y", (1, 4), Dtype.FLOAT32)]
    ops = [OpDef("FULLY_CONNECTED", (0, 1, 2), (3,), {"activation": 0}), OpDef("DEQUANTIZE", (3,), (4,))]
    model = folder / "fc_dequantize.tflite"
    model.write_bytes(build_model(tensors, ops, [0], [4]))
    return model


@pytest.fixture
def fake_target(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``fake`` target backend (tests/fakes/fake_target.py), registered for this test:
    ``fake_target.replay("ok")``, then ``run_model(..., target_name="fake")``."""
    from tests.fakes.fake_target import installed

    with installed(monkeypatch) as fake:
        yield fake


@contextlib.contextmanager
def booted_firmware(graph: Any, model_id: str, board: Any, options: Any = None) -> Iterator[Any]:
    """A ``DutClient`` to the model's firmware booted in QEMU on ``board``; asked to exit and stopped after."""
    from harness.firmware.build import BuildOptions, build_firmware
    from harness.protocol import DutClient
    from harness.targets import create_target

    image = build_firmware(graph, board, model_id, options or BuildOptions())
    target = create_target("qemu", board)
    try:
        target.load(image)
        client = DutClient(target.open())
        client.wait_boot()
        yield client
        client.exit(0)
        assert target.stop(timeout_s=5.0).exit_code == 0
    finally:
        target.close()


def host_mismatches(model: bytes, name: str, rng: np.random.Generator, runs: int = 1) -> list[str]:
    """Run ``model`` ``runs`` times on random int8 inputs in its host build (sanitizers on) and in the
    interpreter; one line per run whose output differs."""
    from harness.firmware.host import build_host_model
    from harness.model.loader import parse_model

    graph = parse_model(model, name=name)
    host = build_host_model(graph)
    problems = []
    for _ in range(runs):
        inputs = [rng.integers(-128, 128, size=graph.tensors[t].shape, dtype=np.int8) for t in graph.inputs]
        expected = interpret(model, *inputs)
        got = host.output(*(x.tobytes() for x in inputs))
        if got != expected:
            problems.append(f"{sum(a != b for a, b in zip(got, expected))} of {len(expected)} bytes differ")
    return problems


def tensorflow_converted(folder: Path, name: str, script: str, *, needs: tuple[str, ...] = ()) -> Path:
    """``folder/name``, written by ``script`` (TensorFlow's converter, in a subprocess, given the path as its
    argument). Skips where TensorFlow or a module of ``needs`` (``tf_keras``) is missing, except in CI."""
    import importlib.util
    import subprocess
    import sys

    from harness.model import builtin

    missing = [m for m in needs if importlib.util.find_spec(m) is None]
    if builtin.tensorflow_version() is None:
        missing.insert(0, "tensorflow")
    if missing and not IN_CI:
        pytest.skip(f"{', '.join(missing)} not installed: ./bootstrap.sh setup installs them")
    path = folder / name
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=False,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return path
