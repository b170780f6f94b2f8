"""Turn what a run produced into numbers, each with its provenance (DESIGN §1)."""

from __future__ import annotations

from harness.measure.counts import Measurement, measure

__all__ = ["Measurement", "measure"]
