"""The generated model built for the host: the same ``model.c``, dispatch and
kernels as the firmware, compiled with the host's C compiler into a small
program (``firmware/host/host_run.c``) that the harness runs once per input.
Kernels are tested here fast, against the tflite-micro interpreter, before they
run on an emulated board.

By default the program is built with AddressSanitizer and
UndefinedBehaviorSanitizer (STYLE §9): signed overflow, shifts of 32 or more,
misaligned accesses and reads past the arena or a weight table stop it, and
``HostRunError`` carries the sanitizer's report. A separate process rather than
a library loaded into Python, because the sanitizers' runtime must start with
the program.

Builds are cached by content hash like the firmware's: the kernels once per
source change and flag set, each model once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BuildError, HostRunError, ToolchainError
from harness.firmware.build import FIRMWARE_DIR, content_hash, kernel_sources
from harness.firmware.codegen import GeneratedModel, generate
from harness.model.graph import Graph
from harness.ops.cheader import generated_files
from harness.ops.registry import operators
from harness.paths import cache_dir

HOST_CC = os.environ.get("CC", "cc")
HOST_FLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration")
SANITIZE_FLAGS = ("-fsanitize=undefined,address", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g")
# halt at the first report, with a stack trace; leaks are not the kernels' concern (they allocate nothing)
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=0:detect_leaks=0:print_stacktrace=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
RUN_TIMEOUT_S = 120.0
STDERR_TAIL_LINES = 25
_EXIT_LAYER = 3  # host_run.c: a layer reported an error status


def _compiler() -> str:
    path = shutil.which(HOST_CC)
    if path is None:
        raise ToolchainError(f"the host C compiler {HOST_CC!r} is not on PATH; install it with "
                             "`sudo apt-get install build-essential` (or set CC)")
    return path


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-STDERR_TAIL_LINES:])


def _sanitizer_report(stderr: str) -> str | None:
    """The sanitizer's report in ``stderr``, from its first line to its SUMMARY (ASan's shadow-memory map
    that follows is left out); None when there is none."""
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if "runtime error:" in line or "ERROR: AddressSanitizer" in line
                  or "ERROR: LeakSanitizer" in line), None)
    if start is None:
        return None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("SUMMARY:")), len(lines) - 1)
    report = lines[start:end + 1]
    if len(report) > 2 * STDERR_TAIL_LINES:
        report = report[:STDERR_TAIL_LINES] + ["    ..."] + report[-STDERR_TAIL_LINES:]
    return "\n".join(report)


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"host build of {what} failed", cmd, _tail(proc.stderr))


def _flags(sanitize: bool) -> tuple[str, ...]:
    return (*HOST_FLAGS, *SANITIZE_FLAGS) if sanitize else HOST_FLAGS


def _kernel_library(cc: str, flags: tuple[str, ...]) -> Path:
    """All portable kernels, the dispatch (with every operator's kernel) and the host runner as one static
    archive, built once per source change and flags: a model then compiles only its own model.c."""
    ops = sorted(operators())
    sources = [*kernel_sources(ops), FIRMWARE_DIR / "src" / "dispatch.c", FIRMWARE_DIR / "host" / "host_run.c"]
    headers = sorted((FIRMWARE_DIR / "include").glob("*.h"))
    generated = generated_files()
    out = cache_dir() / "host" / f"kernels-{content_hash([cc, *flags, *generated.values()], [*sources, *headers])}.a"
    if out.is_file():
        return out
    tmp = out.parent / f"{out.stem}.tmp{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    # dispatch.c takes the operators to link from model.h; the host build links them all
    (tmp / "model.h").write_text("".join(f"#define BENCH_HAS_{op} 1\n" for op in ops))
    for name, text in generated.items():
        (tmp / name).write_text(text)
    objects = []
    for src in sources:
        obj = tmp / (src.stem + ".o")
        _run([cc, *flags, f"-I{FIRMWARE_DIR / 'include'}", f"-I{tmp}", "-c", str(src), "-o", str(obj)],
             f"kernel {src.name}")
        objects.append(str(obj))
    _run(["ar", "rcs", str(tmp / out.name), *objects], "the kernel archive")
    os.replace(tmp / out.name, out)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


@dataclass
class HostModel:
    """A model compiled for the host; each run is one process over a fresh arena."""

    graph: Graph
    generated: GeneratedModel
    executable: Path
    sanitized: bool = True

    def _arena(self, inputs: list[bytes]) -> bytes:
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise ValueError(f"{len(inputs)} inputs given; the model takes {len(g.inputs)}")
        arena = bytearray(self.generated.arena_bytes)
        for index, data in zip(g.inputs, inputs):
            if len(data) != g.tensors[index].nbytes:
                raise ValueError(f"input of {len(data)} bytes for tensor {index}; it takes {g.tensors[index].nbytes}")
            start = self.generated.offsets[index]
            arena[start:start + len(data)] = data
        # variable tensors as the firmware sets them before each inference (TFLM's reset: an int8 state's zero
        # point, else 0)
        for offset, size, fill in self.generated.variables:
            arena[offset:offset + size] = bytes([fill]) * size
        return bytes(arena)

    def _execute(self, inputs: list[bytes], args: list[str]) -> bytes:
        """stdout of the program on the arena holding ``inputs``; raises ``HostRunError``."""
        cmd = [str(self.executable), *args]
        env = {**os.environ, **SANITIZER_ENV}
        try:
            proc = subprocess.run(cmd, input=self._arena(inputs), capture_output=True, env=env, check=False,
                                  timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise HostRunError(f"host run of model {self.graph.name} took longer than {RUN_TIMEOUT_S:g} s", cmd,
                               _tail((exc.stderr or b"").decode(errors="replace"))) from exc
        stderr = proc.stderr.decode(errors="replace")
        if proc.returncode != 0:
            report = _sanitizer_report(stderr)
            if report is not None:
                raise HostRunError(f"host run of model {self.graph.name} failed: the sanitizers found undefined "
                                   "behaviour or a bad memory access", cmd, report)
            lines = [line for line in stderr.splitlines() if line.startswith("hil-host: layer ")]
            if proc.returncode == _EXIT_LAYER and lines:
                what = lines[-1].removeprefix("hil-host: ")
            else:
                what = f"exit status {proc.returncode}"
            raise HostRunError(f"host run of model {self.graph.name} failed: {what}", cmd, _tail(stderr))
        return proc.stdout

    def run_arena(self, inputs: list[bytes], layers: int | None = None) -> bytearray:
        """The arena after running the first ``layers`` layers (all by default) on ``inputs``, one per graph input.

        Raises ``ValueError`` for inputs of the wrong number or size, ``HostRunError`` when the program stops.
        """
        n = len(self.graph.operators) if layers is None else layers
        out = self._execute(inputs, [str(n)])
        if len(out) != self.generated.arena_bytes:
            raise HostRunError(f"host run of model {self.graph.name} wrote {len(out)} bytes; the arena has "
                               f"{self.generated.arena_bytes}", [str(self.executable), str(n)])
        return bytearray(out)

    def tensor(self, arena: bytearray, index: int) -> bytes:
        start = self.generated.offsets[index]
        return bytes(arena[start:start + self.graph.tensors[index].nbytes])

    def output(self, *inputs: bytes) -> bytes:
        return self.tensor(self.run_arena(list(inputs)), self.graph.outputs[0])

    def outputs(self, *inputs: bytes) -> list[bytes]:
        """Every graph output's bytes, in the graph's order, from one run on ``inputs``."""
        arena = self.run_arena(list(inputs))
        return [self.tensor(arena, index) for index in self.graph.outputs]

    def layer_outputs(self, *inputs: bytes) -> list[bytes]:
        """Each layer's output, taken right after it runs (later layers may reuse its memory); one process."""
        size, ops = self.generated.arena_bytes, self.graph.operators
        out = self._execute(list(inputs), [str(len(ops)), "each"])
        if len(out) != size * len(ops):
            raise HostRunError(f"host run of model {self.graph.name} wrote {len(out)} bytes; expected "
                               f"{len(ops)} arenas of {size}", [str(self.executable), str(len(ops)), "each"])
        return [self.tensor(bytearray(out[i * size:(i + 1) * size]), op.outputs[0]) for i, op in enumerate(ops)]


def build_host_model(graph: Graph, model_id: str | None = None, *, sanitize: bool = True,
                     generated: GeneratedModel | None = None, features: frozenset[str] = frozenset()) -> HostModel:
    """Compile ``graph`` for the host, with the sanitizers unless ``sanitize`` is false, choosing the kernel
    variants of a core with ISA ``features`` (``frozenset({"dsp"})``: the DSP kernels, whose SIMD
    instructions ``bench_simd.h`` computes in plain C on the host).

    ``generated`` replaces the sources ``generate(graph)`` would give (tests corrupt them on purpose).
    Raises ``ModelError`` (from codegen), ``ToolchainError`` or ``BuildError``.
    """
    cc = _compiler()
    flags = _flags(sanitize)
    gen = generated if generated is not None else generate(graph, model_id, features)
    kernels = _kernel_library(cc, flags)
    generated_c = generated_files()
    key = content_hash([cc, *flags, gen.model_c, gen.model_h, *generated_c.values(), kernels.name], [])
    out = cache_dir() / "host" / f"model-{key}"
    if not out.is_file():
        tmp = out.parent / f"{out.name}.tmp{os.getpid()}"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "model.c").write_text(gen.model_c)
        (tmp / "model.h").write_text(gen.model_h)
        for name, text in generated_c.items():
            (tmp / name).write_text(text)
        _run([cc, *flags, f"-I{FIRMWARE_DIR / 'include'}", f"-I{tmp}", str(tmp / "model.c"), str(kernels),
              "-o", str(tmp / out.name)], f"model {model_id or graph.name}")
        os.replace(tmp / out.name, out)
        shutil.rmtree(tmp, ignore_errors=True)
    return HostModel(graph=graph, generated=gen, executable=out, sanitized=sanitize)
