"""hilbench: hardware-in-the-loop benchmarking of int8 TinyML models on Cortex-M boards."""

from __future__ import annotations

__version__ = "0.1.0"
