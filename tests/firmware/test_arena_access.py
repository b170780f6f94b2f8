"""Nothing wider than a byte is read or written through the uint8_t arena by a pointer cast (an
aliasing violation, and a misaligned access wherever the planner puts a tensor at an odd offset):
float outputs go through memcpy."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from harness.firmware.build import FIRMWARE_DIR
from tests.firmware.host_c import C_DIR, build_c, requires_host_cc, run_c

# a cast to a pointer to a type wider than a byte; MMIO registers (volatile) are the exception
_WIDE_POINTER_CAST = re.compile(r"\(\s*(?:const\s+)?(?:float|double|u?int(?:16|32|64)_t|long|int|short|unsigned)"
                                r"\s*(?:const\s*)?\*\s*\)")


@requires_host_cc
def test_dequantize_stores_floats_at_any_offset_and_in_place(tmp_path: Path) -> None:
    exe = build_c(tmp_path, "dequantize_check", [C_DIR / "dequantize_check.c",
                                                 FIRMWARE_DIR / "kernels" / "portable" / "elementwise.c",
                                                 FIRMWARE_DIR / "kernels" / "portable" / "fixedpoint.c"])
    lines = run_c(exe).split()  # UBSan stops the program at a float stored at a misaligned address
    want = b"".join(struct.pack("<f", 0.0123456789 * ((-128 + 31 * i) + 3)) for i in range(9)).hex()
    assert lines == [want] * 8


def test_no_firmware_source_casts_arena_bytes_to_a_wider_pointer() -> None:
    found = []
    for path in sorted(FIRMWARE_DIR.rglob("*.[ch]")):
        if path.parent.name == "qemu_plugin":
            continue  # host-side plugin, not firmware
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _WIDE_POINTER_CAST.search(line) and "volatile" not in line:
                found.append(f"{path.relative_to(FIRMWARE_DIR)}:{number}: {line.strip()}")
    assert not found, "wide pointer casts (use __builtin_memcpy):\n" + "\n".join(found)
