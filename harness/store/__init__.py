"""Run records and where they are kept (DESIGN §9)."""

from __future__ import annotations

from harness.store.record import SCHEMA_VERSION, RunRecord
from harness.store.results import ResultStore

__all__ = ["SCHEMA_VERSION", "ResultStore", "RunRecord"]
