"""TFLite Micro's figures for the MLPerf Tiny models (DESIGN §7), and the targets we hold ourselves to.

Data only. The instruction counts are exact guest instructions per inference, counted by a QEMU TCG
plugin on mps2-an386 (Cortex-M4F) as ours are, so a ratio of the two compares like with like on
that machine. Sizes are bytes; code is .text + .rodata of the whole firmware minus the model
(DESIGN §7), which is how ``RunRecord.code_bytes`` is counted too.

>>> TFLM["ad01"].tflm_ref_insn
1954189
>>> TARGETS.instructions_vs_tflm_ref
0.5
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("DESIGN §7: TensorFlow Lite Micro 90b983c (reference kernels, and with the CMSIS-NN commit it pins), "
          "built with its own Makefile for cortex-m4 hard float, Debian arm-none-eabi-gcc 12.2 -O2 -DNDEBUG, "
          "nano newlib; run on QEMU mps2-an386; instructions counted by a TCG plugin "
          "(three timed inferences, identical counts); code = .text + .rodata minus the model flatbuffer")
MACHINE = "mps2-an386"   # the QEMU machine the TFLM figures were counted on
CORE = "cortex-m4"


@dataclass(frozen=True)
class TflmBaseline:
    """TFLite Micro on one model: MACs per inference, instructions per inference, bytes."""

    model: str
    macs: int
    tflm_ref_insn: int           # reference kernels
    tflm_cmsis_insn: int         # CMSIS-NN kernels
    tflm_arena_bytes: int
    tflm_cmsis_code_bytes: int   # TFLM + CMSIS-NN firmware, minus the model


TFLM: dict[str, TflmBaseline] = {b.model: b for b in (
    TflmBaseline("kws01", 2_656_768, 43_112_391, 7_696_568, 22_820, 107_596),
    TflmBaseline("vww01", 7_489_664, 100_483_640, 24_102_345, 100_708, 107_588),
    TflmBaseline("ic01", 12_501_632, 107_488_140, 29_865_860, 54_996, 102_252),
    TflmBaseline("ad01", 264_192, 1_954_189, 583_144, 2_580, 49_804),
)}


@dataclass(frozen=True)
class Targets:
    """The issue's targets, as upper bounds on our figure divided by TFLM's (pass when ratio <= bound)."""

    instructions_vs_tflm_ref: float = 0.5     # instructions per inference vs TFLM reference kernels
    instructions_vs_tflm_cmsis: float = 0.8   # instructions per inference vs TFLM + CMSIS-NN (issue 14)
    arena_vs_tflm: float = 0.8                # arena bytes vs TFLM's arena
    code_vs_tflm_cmsis: float = 0.25          # code bytes vs TFLM + CMSIS-NN code


TARGETS = Targets()
