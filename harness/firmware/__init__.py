"""The firmware layer: plan memory, generate C, build an ELF for a board (DESIGN §1)."""
