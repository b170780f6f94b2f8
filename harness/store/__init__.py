"""Run records and where they are kept (DESIGN §9): a JSON folder (the default) or a SQL database."""

from __future__ import annotations

from harness.store.backends import Store, copy_records, open_store
from harness.store.record import SCHEMA_VERSION, RunRecord
from harness.store.results import ResultStore
from harness.store.sql import SqlStore, StoreSchemaError, StoreUnreachable, StoreURLError

__all__ = ["SCHEMA_VERSION", "ResultStore", "RunRecord", "SqlStore", "Store", "StoreSchemaError",
           "StoreURLError", "StoreUnreachable", "copy_records", "open_store"]
