"""The generated model built for the host: the same ``model.c``, dispatch and
kernels as the firmware, compiled with the host's C compiler into a shared
library and run through ctypes. Kernels are tested here fast, against the
tflite-micro interpreter, before they run on an emulated board.

Builds are cached by content hash like the firmware's: the kernels once per
source change, each model once.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BuildError, ToolchainError
from harness.firmware.build import FIRMWARE_DIR, KERNELS, content_hash, kernel_sources
from harness.firmware.codegen import GeneratedModel, generate
from harness.model.graph import Graph
from harness.paths import cache_dir

HOST_CC = os.environ.get("CC", "cc")
HOST_FLAGS = ("-std=c11", "-O2", "-fPIC", "-Wall", "-Wextra", "-Werror=implicit-function-declaration")


def _compiler() -> str:
    path = shutil.which(HOST_CC)
    if path is None:
        raise ToolchainError(f"the host C compiler {HOST_CC!r} is not on PATH; install it with "
                             "`sudo apt-get install build-essential` (or set CC)")
    return path


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"host build of {what} failed", cmd, "\n".join(proc.stderr.strip().splitlines()[-15:]))


def _kernel_library(cc: str) -> Path:
    """All portable kernels as one static archive, built once per source change."""
    sources = kernel_sources(sorted(KERNELS), None)
    headers = sorted((FIRMWARE_DIR / "include").glob("*.h"))
    out = cache_dir() / "host" / f"kernels-{content_hash([cc, *HOST_FLAGS], [*sources, *headers])}.a"
    if out.is_file():
        return out
    tmp = out.parent / f"{out.stem}.tmp{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    objects = []
    for src in sources:
        obj = tmp / (src.stem + ".o")
        _run([cc, *HOST_FLAGS, f"-I{FIRMWARE_DIR / 'include'}", "-c", str(src), "-o", str(obj)], f"kernel {src.name}")
        objects.append(str(obj))
    _run(["ar", "rcs", str(tmp / out.name), *objects], "the kernel archive")
    os.replace(tmp / out.name, out)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


@dataclass
class HostModel:
    """A model compiled for the host; ``run`` executes it on one input."""

    graph: Graph
    generated: GeneratedModel
    library_path: Path

    def __post_init__(self) -> None:
        self._lib = ctypes.CDLL(str(self.library_path))
        self._lib.hil_host_invoke.argtypes = (ctypes.c_void_p, ctypes.c_uint32)
        self._lib.hil_host_invoke.restype = ctypes.c_uint32

    def run_arena(self, inputs: list[bytes], layers: int | None = None) -> bytearray:
        """The arena after running the first ``layers`` layers (all by default) on ``inputs``, one per graph input."""
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise ValueError(f"{len(inputs)} inputs given; the model takes {len(g.inputs)}")
        arena = bytearray(self.generated.arena_bytes)
        for index, data in zip(g.inputs, inputs):
            if len(data) != g.tensors[index].nbytes:
                raise ValueError(f"input of {len(data)} bytes for tensor {index}; it takes {g.tensors[index].nbytes}")
            start = self.generated.offsets[index]
            arena[start:start + len(data)] = data
        buf = (ctypes.c_uint8 * len(arena)).from_buffer(arena)
        self._lib.hil_host_invoke(ctypes.addressof(buf), len(g.operators) if layers is None else layers)
        del buf
        return arena

    def tensor(self, arena: bytearray, index: int) -> bytes:
        start = self.generated.offsets[index]
        return bytes(arena[start:start + self.graph.tensors[index].nbytes])

    def output(self, *inputs: bytes) -> bytes:
        return self.tensor(self.run_arena(list(inputs)), self.graph.outputs[0])

    def layer_outputs(self, *inputs: bytes) -> list[bytes]:
        """Each layer's output, running the model one more layer at a time."""
        return [self.tensor(self.run_arena(list(inputs), i + 1), op.outputs[0])
                for i, op in enumerate(self.graph.operators)]


def build_host_model(graph: Graph, model_id: str | None = None) -> HostModel:
    """Compile ``graph`` for the host; raises ``ToolchainError`` or ``BuildError``."""
    cc = _compiler()
    gen = generate(graph, model_id)
    sources = [FIRMWARE_DIR / "src" / "dispatch.c", FIRMWARE_DIR / "host" / "host_run.c"]
    kernels = _kernel_library(cc)
    key = content_hash([cc, *HOST_FLAGS, gen.model_c, gen.model_h, kernels.name], sources)
    out = cache_dir() / "host" / f"model-{key}.so"
    if not out.is_file():
        tmp = out.parent / f"{out.stem}.tmp{os.getpid()}"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "model.c").write_text(gen.model_c)
        (tmp / "model.h").write_text(gen.model_h)
        _run([cc, *HOST_FLAGS, "-shared", f"-I{FIRMWARE_DIR / 'include'}", f"-I{tmp}", str(tmp / "model.c"),
              *map(str, sources), str(kernels), "-o", str(tmp / out.name)], f"model {model_id or graph.name}")
        os.replace(tmp / out.name, out)
        shutil.rmtree(tmp, ignore_errors=True)
    return HostModel(graph=graph, generated=gen, library_path=out)

