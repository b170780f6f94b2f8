"""The cache of the host interpreter's output: keyed by model, input and tflite-micro version; atomic;
a corrupt entry recomputed and rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import load_model, reference
from harness.model.reference import default_input, reference_cache_dir, reference_output
from tests.model.test_reference import _fc_relu_dequantize


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The inputs the interpreter was run on; the cache in a fresh folder."""
    monkeypatch.setenv("HILBENCH_CACHE_DIR", str(tmp_path / "cache"))
    seen: list[bytes] = []
    real = reference._interpret

    def counting(model_path: str, g: object, input_bytes: bytes) -> bytes:
        seen.append(input_bytes)
        return real(model_path, g, input_bytes)  # type: ignore[arg-type]

    monkeypatch.setattr(reference, "_interpret", counting)
    return seen


def entries() -> list[Path]:
    return sorted(p for p in reference_cache_dir().rglob("*") if p.is_file())


def test_a_hit_does_not_call_the_interpreter(tmp_path: Path, calls: list[bytes]) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x = default_input(g)
    first = reference_output(str(path), g, x)
    assert calls == [x] and len(entries()) == 1
    assert reference_output(str(path), g, x) == first
    assert calls == [x]                                   # the second answer came from the cache
    assert entries()[0].parent.name == g.sha256           # one folder per model sha256
    assert not [p for p in entries() if p.name.endswith(".tmp")]


def test_a_different_input_or_model_or_version_misses(tmp_path: Path, calls: list[bytes],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x, y = default_input(g, seed=0), default_input(g, seed=1)
    reference_output(str(path), g, x)
    reference_output(str(path), g, y)
    assert calls == [x, y]
    other = tmp_path / "other.tflite"
    other.write_bytes(path.read_bytes() + b"\0")          # another file: another sha256
    reference_output(str(other), g, x)
    monkeypatch.setattr(reference, "_tflm_version", lambda: "9.9.9")
    reference_output(str(path), g, x)
    assert calls == [x, y, x, x] and len(entries()) == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "empty"])
def test_a_corrupt_entry_is_recomputed_and_rewritten(tmp_path: Path, calls: list[bytes], damage: str) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x = default_input(g)
    good = reference_output(str(path), g, x)
    [entry] = entries()
    raw = entry.read_bytes()
    entry.write_bytes({"garbage": b"not a cache entry", "truncated": raw[:-1], "empty": b"",
                       "flipped": raw[:-1] + bytes([raw[-1] ^ 1])}[damage])
    assert reference_output(str(path), g, x) == good
    assert calls == [x, x]
    assert entry.read_bytes() == raw                      # rewritten whole
    assert reference_output(str(path), g, x) == good and calls == [x, x]


def test_cache_false_always_runs_the_interpreter(tmp_path: Path, calls: list[bytes]) -> None:
    path = _fc_relu_dequantize(tmp_path)
    g = load_model(path)
    x = default_input(g)
    reference_output(str(path), g, x, cache=False)
    reference_output(str(path), g, x, cache=False)
    assert calls == [x, x] and entries() == []
