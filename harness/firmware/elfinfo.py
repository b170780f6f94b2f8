"""Sizes and symbols of a built ELF, read with pyelftools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from harness.errors import BuildError


@dataclass(frozen=True)
class ElfInfo:
    section_bytes: dict[str, int]          # .text, .rodata, .data, .bss, .stack (0 when absent)
    symbols: dict[str, tuple[int, int]]    # name -> (address, size)

    @property
    def flash_bytes(self) -> int:
        s = self.section_bytes
        return s[".text"] + s[".rodata"] + s[".ARM.exidx"] + s[".data"]

    @property
    def ram_bytes(self) -> int:
        s = self.section_bytes
        return s[".data"] + s[".bss"] + s[".stack"]


SECTIONS = (".text", ".rodata", ".ARM.exidx", ".data", ".bss", ".stack")


def read_elf(path: Path) -> ElfInfo:
    try:
        with path.open("rb") as f:
            elf = ELFFile(f)
            sizes = {name: 0 for name in SECTIONS}
            symbols: dict[str, tuple[int, int]] = {}
            for section in elf.iter_sections():
                if section.name in sizes:
                    sizes[section.name] = int(section["sh_size"])
                if isinstance(section, SymbolTableSection):
                    for sym in section.iter_symbols():
                        if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT"):
                            symbols[sym.name] = (int(sym["st_value"]), int(sym["st_size"]))
    except (OSError, Exception) as exc:  # pyelftools raises ELFError and struct errors
        raise BuildError(f"cannot read the built ELF {path}: {exc}") from exc
    return ElfInfo(section_bytes=sizes, symbols=symbols)
