"""Choosing a store by URL or path, and moving records between stores.

``open_store("results")`` is the JSON folder (``ResultStore``), the default; ``open_store(
"sqlite:///results/hilbench.db")`` or ``open_store("postgresql://user:pw@host/db")`` a database
(``SqlStore``). Both have the same interface: ``save``, ``add``, ``contains``, ``records`` and ``location``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from harness.errors import StoreError
from harness.store.results import ResultStore
from harness.store.sql import SqlStore, is_url

Store: TypeAlias = ResultStore | SqlStore


def open_store(url_or_path: str | Path) -> Store:
    """The store at ``url_or_path``: a database URL (``dialect[+driver]://...``), else a results folder.

    Nothing is connected to or created yet. Raises ``StoreURLError`` (a ``StoreError``) for a malformed
    URL or an unknown dialect.
    """
    if isinstance(url_or_path, str) and is_url(url_or_path):
        return SqlStore(url_or_path)
    return ResultStore(Path(url_or_path))


@dataclass
class CopyResult:
    """What ``copy_records`` did: run ids copied, already in the destination, and source entries skipped."""

    copied: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)   # the StoreError of each bad source entry


def copy_records(src: Store, dst: Store) -> CopyResult:
    """Copy every record of ``src`` into ``dst``; a run id already in ``dst`` is left as it is there.

    Idempotent: a second copy copies nothing. A source entry that is not a good record is listed in
    ``unreadable`` and the rest still come. Raises ``StoreError`` when a store cannot be read or written.
    """
    result = CopyResult()
    if str(src.location) == str(dst.location):
        raise StoreError(f"source and destination are the same store ({src.location})")
    for _, item in src.records():
        if isinstance(item, StoreError):
            result.unreadable.append(str(item))
        elif dst.add(item):
            result.copied.append(item.run_id)
        else:
            result.present.append(item.run_id)
    return result
