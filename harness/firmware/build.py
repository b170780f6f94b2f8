"""Build a firmware ELF for a model and a board with arm-none-eabi-gcc.

Builds are cached by content hash: the hash covers every C source and header,
the generated model sources, the linker script, the flags and the compiler's
version, so an unchanged input never compiles twice.

A build runs in ``<cache>/firmware/<folder>.tmp<pid>/`` and is renamed into place
when it succeeded; any failure or interrupt removes the temporary folder, and
those of dead processes are swept before the next build. It is reproducible:
the compiler runs in the temporary folder with relative names and
``-ffile-prefix-map``, so neither that folder nor the checkout's location
reaches the ELF's debug information, and identical inputs give identical bytes.
The ELF's sha256 is stored beside it and checked on every cache hit: a damaged
cached ELF is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from harness.boards import BoardSpec, ClockKind, Core, GpioKind, UartKind, core_features
from harness.errors import BuildError, ConfigError, FitError, ModelError, ToolchainError
from harness.firmware.codegen import GeneratedModel, generate
from harness.firmware.elfinfo import read_elf
from harness.firmware.linker import linker_script
from harness.model.graph import Graph
from harness.model.support import graph_io_problem
from harness.ops.cheader import generated_files
from harness.ops.registry import operators
from harness.paths import FIRMWARE_DIR as FIRMWARE_DIR  # noqa: PLC0414  (re-exported for mypy --strict)
from harness.paths import cache_dir
from harness.types import FirmwareImage, LayerSpec

CC = "arm-none-eabi-gcc"
INSTALL_HINT = ("install it with `sudo apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi`, "
                "or run ./bootstrap.sh, which installs everything")
PLATFORM_SOURCES = ("startup.c", "fault.c", "exit.c", "markers.c", "timer.c", "io.c", "runtime.c", "main.c",
                    "dispatch.c")
UART_SOURCES = {UartKind.CMSDK: "uart_cmsdk.c", UartKind.STM32: "uart_stm32.c", UartKind.NRF: "uart_nrf.c",
                UartKind.STM32V2: "uart_stm32v2.c", UartKind.STM32_LPUART: "uart_stm32v2.c",
                UartKind.NRF52_UARTE: "uart_nrf52.c", UartKind.RP2040_UART: "uart_pl011.c"}
# the -D defines a UART kind adds (none for the kinds of the emulated boards: their builds stay as they were)
UART_DEFINES: dict[UartKind, dict[str, str]] = {UartKind.STM32_LPUART: {"BENCH_UART_LPUART": "1"}}
# the board's clock set-up, run before main (a no-op for "none")
CLOCK_SOURCES = {kind: f"clock_{kind.value}.c" for kind in ClockKind}
# what a build for a board of this clock kind cannot do yet, said when it is built (BuildNote)
BUILD_NOTES = {
    ClockKind.RP2040: ("the RP2040 boots from QSPI flash only through a 256-byte boot2 stage at 0x10000000, "
                       "which hilbench does not provide yet: this image starts at 0x10000100 and builds, but a "
                       "Pico cannot boot it until a boot2 (the Pico SDK's boot2_w25q080, with its CRC32) is "
                       "placed before it"),
}
# BuildOptions.energy_mode -> BENCH_ENERGY_MODE (DESIGN §5): "inference" pulses the timestamp GPIO at the
# start and stop of a timed block, "layer" also at the end of every layer of the timed inferences
ENERGY_MODES = {"off": 0, "inference": 1, "layer": 2}
# STM32 timestamp GPIO, by the board's clock kind (its family): (GPIOA's base, the RCC register whose bit n
# clocks port n, A = 0); ports are 0x400 apart. RM0383 §2.3 memory map and §6.3.9 RCC_AHB1ENR (F411);
# RM0432 §2.2.2 and §6.4.17 RCC_AHB2ENR (L4+); RM0455 §2.3.2 and §8.7.42 RCC_AHB4ENR (H7A3)
STM32_GPIO = {ClockKind.STM32F4: (0x4002_0000, 0x4002_3830), ClockKind.STM32L4: (0x4800_0000, 0x4002_104C),
              ClockKind.STM32H7: (0x5802_0000, 0x5802_44E0)}
NRF52_GPIO_BASES = {0: 0x5000_0000, 1: 0x5000_0300}  # nRF52840 PS §6.9: P0, P1
CORE_FLAGS = {
    Core.CORTEX_M0: ("-mcpu=cortex-m0",),
    Core.CORTEX_M0PLUS: ("-mcpu=cortex-m0plus",),
    Core.CORTEX_M3: ("-mcpu=cortex-m3",),
    Core.CORTEX_M4: ("-mcpu=cortex-m4",),
    Core.CORTEX_M7: ("-mcpu=cortex-m7",),
    Core.CORTEX_M33: ("-mcpu=cortex-m33",),
    Core.CORTEX_M55: ("-mcpu=cortex-m55",),
}
FPU_FLAGS = {"fpv4-sp-d16": ("-mfpu=fpv4-sp-d16",), "fpv5-d16": ("-mfpu=fpv5-d16",),
             "fpv5-sp-d16": ("-mfpu=fpv5-sp-d16",), "fp-armv8-mve": ("-mfpu=auto",)}
COMMON_FLAGS = ("-mthumb", "-std=c11", "-g", "-Wall", "-Wextra", "-ffunction-sections", "-fdata-sections",
                "-ffreestanding", "-fno-common", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables")
LINK_FLAGS = ("-nostdlib", "-nostartfiles", "-Wl,--gc-sections")
CODE_ESTIMATE_BYTES = 16 * 1024  # runtime + kernels, for the check before building
# part of the cache key: how the build is laid out changes the ELF's bytes (relative names, prefix maps)
BUILD_LAYOUT = "cwd=build-folder;file-prefix-map=.,firmware"
MODEL_NAME_CHARS = 48           # of the model id in a cache folder's name; the content hash tells builds apart
ELF_SHA256_FILE = "firmware.elf.sha256"
_TMP_SUFFIX = re.compile(r"\.tmp(\d+)$")


class BuildNote(UserWarning):
    """A build that succeeded but will not run as is on the board (``BUILD_NOTES``)."""


@dataclass(frozen=True)
class BuildOptions:
    opt_level: str = "-O2"
    semihosting: bool = True
    test_hook: int = 0           # test hooks: 1 fault, 2 hang, 3 garbage, 4 fault in hil-layer-* (tests only)
    # extra -D NAME=VALUE; BENCH_TEST_CORRUPT_LAYER=k flips a bit of layer k's output (tests only)
    defines: tuple[tuple[str, str], ...] = field(default=())
    # "off" (performance mode: m-lap-us lines), "inference" or "layer" (energy mode: timestamp pulses on the
    # board's [timestamp_gpio]); see ENERGY_MODES. Reaches the build as -D defines, so it is in the cache key.
    energy_mode: str = "off"


def energy_defines(board: BoardSpec, options: BuildOptions) -> dict[str, str]:
    """The ``-D`` defines of ``options.energy_mode`` on ``board``: none for "off", so that performance
    builds stay as they were. Raises ``ConfigError`` for an unknown mode, a board without a
    ``[timestamp_gpio]`` table, or an STM32 pin on a board whose clock kind names no STM32 family."""
    if options.energy_mode not in ENERGY_MODES:
        raise ConfigError(f"energy mode {options.energy_mode!r}; expected one of {list(ENERGY_MODES)}")
    if options.energy_mode == "off":
        return {}
    gpio = board.timestamp_gpio
    if gpio is None:
        raise ConfigError(f"board {board.name!r} has no [timestamp_gpio] table, so it cannot build energy mode "
                          f"{options.energy_mode!r}: add one to {board.source or 'its board file'} with kind "
                          f"(one of {[k.value for k in GpioKind]}), port and pin; kind = \"none\" for an "
                          "emulated board, whose pulses are then seen only by the QEMU plugin")
    defines = {"BENCH_ENERGY_MODE": str(ENERGY_MODES[options.energy_mode])}
    # parse_board checked port and pin against the kind's ranges
    if gpio.kind is GpioKind.STM32:
        if board.clock not in STM32_GPIO:
            families = [c.value for c in STM32_GPIO]
            raise ConfigError(f"board {board.name!r}: [timestamp_gpio] kind 'stm32' needs the board's clock to "
                              f"name its family, one of {families}; it is {board.clock.value!r}")
        gpioa, rcc_enr = STM32_GPIO[board.clock]
        port = "ABCDEFGHIJK".index(str(gpio.port))
        defines |= {"BENCH_TS_GPIO_BASE": f"{gpioa + 0x400 * port:#x}u", "BENCH_TS_RCC_ENR": f"{rcc_enr:#x}u",
                    "BENCH_TS_RCC_BIT": f"{port}u"}
    elif gpio.kind is GpioKind.NRF52:
        defines["BENCH_TS_GPIO_BASE"] = f"{NRF52_GPIO_BASES[int(gpio.port or 0)]:#x}u"
    if gpio.kind is not GpioKind.NONE:
        defines["BENCH_TS_GPIO_PIN"] = f"{gpio.pin}u"
    return defines


def content_hash(parts: list[str], files: list[Path]) -> str:
    """The cache key of a build: its text inputs (flags, generated sources) and its source files."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:24]


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists (of any user); True off POSIX, where it cannot be checked safely.

    Used to sweep the temporary folders of processes that were killed (here and in ``harness.targets``).
    """
    if os.name != "posix":
        return True  # os.kill(pid, 0) ends the process on Windows
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_builds(folder: Path) -> list[Path]:
    """Remove ``*.tmp<pid>`` build folders in ``folder`` whose process no longer exists; those removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_SUFFIX.search(entry.name)
        if m is not None and not pid_alive(int(m.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def cache_folder_name(board: BoardSpec, model_id: str, key: str) -> str:
    """``<board>-<model>-<key>``: the model id made file-safe and cut to ``MODEL_NAME_CHARS``.

    The key (a content hash of every input) keeps builds of models with the same first characters apart;
    the cut keeps the name, plus ``.tmp<pid>``, under the 255 bytes a file system allows.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)[:MODEL_NAME_CHARS]
    return f"{board.name}-{safe}-{key}"


def cached_elf_ok(elf: Path) -> bool:
    """True when ``elf`` still has the sha256 written beside it when it was built."""
    try:
        want = (elf.parent / ELF_SHA256_FILE).read_text().split()[0]
        return hashlib.sha256(elf.read_bytes()).hexdigest() == want
    except (OSError, IndexError):
        return False


def find_compiler() -> str:
    path = shutil.which(CC)
    if path is None:
        raise ToolchainError(f"the cross compiler {CC} is not on PATH; {INSTALL_HINT}")
    return path


def compiler_version(cc: str) -> str:
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def check_fit(gen: GeneratedModel, board: BoardSpec, model: str) -> None:
    """Refuse, before building, a model whose weights or arena cannot fit the board."""
    flash_need = gen.weights_bytes + CODE_ESTIMATE_BYTES
    ram_need = gen.arena_bytes + board.stack_bytes
    if flash_need > board.flash_bytes or ram_need > board.ram_bytes:
        raise FitError(
            f"model {model} does not fit board {board.name}: it needs about {flash_need} bytes of flash "
            f"({gen.weights_bytes} weights and biases + ~{CODE_ESTIMATE_BYTES} code) and {ram_need} bytes "
            f"of RAM ({gen.arena_bytes} arena + {board.stack_bytes} stack); the board has "
            f"{board.flash_bytes} bytes of flash and {board.ram_bytes} bytes of RAM")


def kernel_sources(ops: list[str]) -> list[Path]:
    """The kernel files of the specs ``ops`` (each ``OpSpec.sources``): a plain name is in
    ``firmware/kernels/portable/``, a path such as ``dsp/fully_connected_dsp.c`` is under ``firmware/kernels/``
    (the core-specific variants, which ``harness.ops.registry.choose`` picks per layer)."""
    registry = operators()
    names = sorted({name for op in ops for name in registry[op].sources})
    return [FIRMWARE_DIR / "kernels" / (name if "/" in name else f"portable/{name}") for name in names]


def firmware_sources(board: BoardSpec, ops: list[str], energy_mode: str = "off") -> list[Path]:
    """The C files of a firmware, in link order: the platform, the board's clock set-up and UART driver,
    in energy mode the timestamp pulse and the board's GPIO driver, the kernels of ``ops``."""
    sources = [FIRMWARE_DIR / "src" / s for s in PLATFORM_SOURCES]
    sources += [FIRMWARE_DIR / "src" / CLOCK_SOURCES[board.clock], FIRMWARE_DIR / "src" / UART_SOURCES[board.uart_kind]]
    if energy_mode != "off" and board.timestamp_gpio is not None:  # energy_defines refuses the other cases
        driver = f"gpio_{board.timestamp_gpio.kind.value}.c"
        sources += [FIRMWARE_DIR / "src" / "energy.c", FIRMWARE_DIR / "src" / driver]
    return sources + kernel_sources(sorted(set(ops)))


def generate_checked(graph: Graph, board: BoardSpec, model_id: str) -> GeneratedModel:
    """``model.c`` and ``model.h`` for ``graph``, after the checks a build makes first.

    Raises ``ModelError`` (a graph without inputs or outputs, an unsupported operator or value) and
    ``FitError`` (weights or arena too large for the board).
    """
    # load_model's check, again for graphs parsed in memory: the firmware loads one input buffer
    problem = graph_io_problem(graph)
    if problem:
        raise ModelError(f"model {model_id}: {problem}")
    gen = generate(graph, model_id, core_features(board.core))
    check_fit(gen, board, model_id)
    return gen


def compile_flags(board: BoardSpec, options: BuildOptions) -> list[str]:
    """The compiler flags of a build for ``board``: common, core, FPU, then the ``-D`` defines, sorted."""
    flags = [*COMMON_FLAGS, options.opt_level, *CORE_FLAGS[board.core]]
    if board.fpu:
        flags += [*FPU_FLAGS.get(board.fpu, (f"-mfpu={board.fpu}",)), "-mfloat-abi=hard"]
    else:
        flags.append("-mfloat-abi=soft")
    defines = {
        "BENCH_CPU_HZ": f"{board.clock_hz}u", "BENCH_UART_BASE": f"{board.uart_base:#x}u",
        "BENCH_UART_CLOCK_HZ": f"{board.uart_clock_hz}u", "BENCH_UART_BAUD": f"{board.baud}u",
        "BENCH_SEMIHOSTING": "1" if options.semihosting else "0", "BENCH_TEST_HOOK": str(options.test_hook),
        **UART_DEFINES.get(board.uart_kind, {}),
        # startup.c calls bench_clock_init() only then: the emulated boards' builds stay as they were
        **({"BENCH_CLOCK_SETUP": "1"} if board.clock is not ClockKind.NONE else {}),
        **energy_defines(board, options),
        **dict(options.defines),
    }
    flags += [f"-D{k}={v}" for k, v in sorted(defines.items())]
    return flags


def build_firmware(graph: Graph, board: BoardSpec, model_id: str | None = None,
                   options: BuildOptions = BuildOptions()) -> FirmwareImage:
    """Generate, compile and link; raises FitError, ToolchainError or BuildError."""
    model_id = model_id or graph.name
    gen = generate_checked(graph, board, model_id)
    if board.clock in BUILD_NOTES:
        warnings.warn(f"board {board.name}: {BUILD_NOTES[board.clock]}", BuildNote, stacklevel=2)
    cc = find_compiler()
    version = compiler_version(cc)
    flags = compile_flags(board, options)
    sources = firmware_sources(board, [layer.op for layer in gen.layers], options.energy_mode)
    headers = sorted((FIRMWARE_DIR / "include").glob("*.h"))
    script = linker_script(board)

    generated = generated_files()  # bench_ops.h and bench_dispatch.inc, from the operator registry
    key = content_hash([version, script, gen.model_c, gen.model_h, *generated.values(), *flags, *LINK_FLAGS,
                        BUILD_LAYOUT], [*sources, *headers])
    out_dir = cache_dir() / "firmware" / cache_folder_name(board, model_id, key)
    elf = out_dir / "firmware.elf"
    cached = elf.is_file() and cached_elf_ok(elf)
    if not cached:
        # not built, or a cached ELF that was damaged (truncated, edited, no sha256): build it again
        sweep_stale_builds(out_dir.parent)
        tmp_dir = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
        try:
            files = {"model.c": gen.model_c, "model.h": gen.model_h, **generated, "link.ld": script}
            _compile(tmp_dir, _command(cc, flags, sources, tmp_dir), files, board, model_id)
            _publish(tmp_dir, out_dir)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)  # gone after _publish; left by an error or interrupt
    return _image(elf, board, model_id, graph, gen, version, flags, cached)


def _command(cc: str, flags: list[str], sources: list[Path], tmp_dir: Path) -> list[str]:
    """The compile-and-link command, run in ``tmp_dir`` with relative names for the files there.

    The prefix maps turn ``tmp_dir`` into ``.`` and the firmware folder into ``firmware`` in the debug
    information, so the same inputs give the same ELF bytes wherever and whenever they are built.
    """
    prefix_maps = [f"-ffile-prefix-map={tmp_dir}=.", f"-ffile-prefix-map={FIRMWARE_DIR}=firmware"]
    return [cc, *flags, *prefix_maps, f"-I{FIRMWARE_DIR / 'include'}", "-I.", *map(str, sources), "model.c",
            "-Tlink.ld", *LINK_FLAGS, "-Wl,-Map=firmware.map", "-o", "firmware.elf", "-lgcc"]


def _compile(tmp_dir: Path, cmd: list[str], files: dict[str, str], board: BoardSpec, model_id: str) -> None:
    """Write ``files`` into a fresh ``tmp_dir`` and run ``cmd`` there; raises FitError or BuildError."""
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True)
    for name, text in files.items():
        (tmp_dir / name).write_text(text)
    proc = subprocess.run(cmd, cwd=tmp_dir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        overflow = re.findall(r"region `(\w+)' overflowed by (\d+) bytes", proc.stderr)
        if overflow:
            what = ", ".join(f"{region} by {n} bytes" for region, n in overflow)
            raise FitError(f"model {model_id} does not fit board {board.name}: the link overflowed {what} "
                           f"(board: {board.flash_bytes} bytes flash, {board.ram_bytes} bytes RAM)")
        raise BuildError(f"building firmware for model {model_id} on board {board.name} failed", cmd, tail)
    (tmp_dir / "build.cmd").write_text(" ".join(cmd) + "\n")
    digest = hashlib.sha256((tmp_dir / "firmware.elf").read_bytes()).hexdigest()
    (tmp_dir / ELF_SHA256_FILE).write_text(f"{digest}  firmware.elf\n")


def _publish(tmp_dir: Path, out_dir: Path) -> None:
    """Move a finished build into place, replacing a damaged one; keep another process's good one."""
    if out_dir.exists() and not cached_elf_ok(out_dir / "firmware.elf"):
        shutil.rmtree(out_dir, ignore_errors=True)
    try:
        tmp_dir.rename(out_dir)
    except OSError:
        if not cached_elf_ok(out_dir / "firmware.elf"):
            raise BuildError(f"cannot move the build {tmp_dir} to {out_dir}") from None
        # another process built it meanwhile; its ELF has the same bytes


def _image(elf: Path, board: BoardSpec, model_id: str, graph: Graph, gen: GeneratedModel, version: str,
           flags: list[str], cached: bool) -> FirmwareImage:
    info = read_elf(elf)
    markers: dict[str, int] = {}
    for name in ("hil_mark_infer_begin", "hil_mark_layer", "hil_mark_infer_end"):
        if name not in info.symbols:
            raise BuildError(f"{elf}: marker function {name} is missing from the ELF")
        markers[name] = info.symbols[name][0] & ~1
    if "hil_mark_timestamp" in info.symbols:  # energy-mode builds: each timestamp pulse
        markers["hil_mark_timestamp"] = info.symbols["hil_mark_timestamp"][0] & ~1
    uncounted = []
    if "SysTick_Handler" in info.symbols:
        addr, size = info.symbols["SysTick_Handler"]
        uncounted.append((addr & ~1, (addr & ~1) + size))
    weights = sum(info.symbols[s][1] for s in gen.weight_symbols if s in info.symbols)
    s = info.section_bytes
    return FirmwareImage(
        elf_path=elf, sha256=hashlib.sha256(elf.read_bytes()).hexdigest(), board=board.name,
        model_id=model_id, model_sha256=graph.sha256, flash_bytes=info.flash_bytes, ram_bytes=info.ram_bytes,
        code_bytes=s[".text"] + s[".rodata"] + s[".ARM.exidx"] - weights, weights_bytes=weights,
        arena_bytes=gen.arena_bytes, stack_reserved_bytes=s[".stack"], section_bytes=dict(s), macs=gen.macs,
        layers=tuple(LayerSpec(l.index, l.op, l.macs) for l in gen.layers), markers=markers,
        uncounted=tuple(uncounted), compiler=version, cflags=tuple(flags), cached=cached)
