"""MLPerf Tiny dataset folders: the ``y_labels.csv`` index and its sample files (DESIGN §6).

A classifier index has rows ``file,classes,class``; each file holds one input tensor as the
firmware takes it (int8 here: the reference runner sends a file's bytes as they are). An
anomaly-detection index adds ``window_bytes,stride_bytes``: each file is float32 little-endian
(a log-mel spectrogram), scored window by window. The MLPerf Tiny files have no header row;
one whose first field is ``file`` is accepted and ignored.

``read_dataset`` refuses a folder it cannot use at all (``ConfigError``); a row it cannot use
(malformed, a label out of range, a path leading out of the folder, a file that is missing) is
skipped and listed, and the rest is scored.
"""

from __future__ import annotations

import csv
import enum
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError

LABELS_FILE = "y_labels.csv"
FLOAT32_BYTES = 4
AD_CLASSES = 2   # 0 normal, 1 anomaly
FORMAT_HELP = ("rows 'file,classes,class' (anomaly detection: 'file,classes,class,window_bytes,stride_bytes'), "
               "as in MLPerf Tiny's benchmark/evaluation/datasets")


class DatasetKind(enum.Enum):
    CLASSIFIER = "classifier"    # one inference per file; scored by top-1
    ANOMALY = "anomaly"          # float32 windows over each file; scored by reconstruction MSE, AUC


@dataclass(frozen=True)
class Entry:
    """One usable row of the index; ``path`` exists and is a file inside the folder."""

    file: str
    path: Path
    size_bytes: int
    classes: int
    label: int
    line: int                         # in y_labels.csv, from 1
    window_bytes: int | None = None   # anomaly detection only
    stride_bytes: int | None = None


@dataclass(frozen=True)
class Skipped:
    """A row or file left out of the score, and why (names the file, the value, what is accepted)."""

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass(frozen=True)
class Dataset:
    folder: Path
    kind: DatasetKind
    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...]


def _int_field(text: str, name: str, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{name} {text.strip()!r} is not a whole number") from None
    if value < minimum:
        raise ValueError(f"{name} {value} is below {minimum}")
    return value


def _inside(folder: Path, name: str) -> Path | None:
    """``folder / name`` when it stays inside ``folder`` (no absolute path, no ``..`` out of it)."""
    root = folder.resolve()
    path = (root / name).resolve()
    return path if path != root and root in path.parents else None


def _entry(folder: Path, row: list[str], line: int, width: int) -> Entry | Skipped:
    """One row as an ``Entry``, or why it is skipped. ``width`` is the index's column count (3 or 5)."""
    where = f"{LABELS_FILE} line {line}"
    cells = [c.strip() for c in row]
    if len(cells) != width:
        return Skipped(where, f"{len(cells)} fields ({','.join(cells)!r}); this index has rows of {width}: "
                              f"{FORMAT_HELP}")
    name = cells[0]
    if not name:
        return Skipped(where, "an empty file name")
    try:
        classes = _int_field(cells[1], "classes", 1)
        label = _int_field(cells[2], "class", 0)
        window = _int_field(cells[3], "window_bytes", 1) if width == 5 else None
        stride = _int_field(cells[4], "stride_bytes", 1) if width == 5 else None
    except ValueError as exc:
        return Skipped(name, f"{where}: {exc}; expected {FORMAT_HELP}")
    if width == 5 and classes != AD_CLASSES:
        return Skipped(name, f"{where}: classes {classes}; an anomaly-detection row has {AD_CLASSES} "
                             "(0 normal, 1 anomaly)")
    if label >= classes:
        return Skipped(name, f"{where}: class {label} is out of range for {classes} classes "
                             f"(0 to {classes - 1})")
    if window is not None and window % FLOAT32_BYTES:
        return Skipped(name, f"{where}: window_bytes {window} is not a whole number of float32 values "
                             f"(a multiple of {FLOAT32_BYTES})")
    path = _inside(folder, name)
    if path is None:
        return Skipped(name, f"{where}: the file name leads out of the dataset folder {folder}; expected a "
                             "file inside it")
    if not path.exists():
        return Skipped(name, f"listed in {LABELS_FILE} (line {line}) but missing from {folder}")
    if not path.is_file():
        return Skipped(name, f"listed in {LABELS_FILE} (line {line}) but not a regular file")
    return Entry(name, path, path.stat().st_size, classes, label, line, window, stride)


def read_dataset(folder: str | Path) -> Dataset:
    """The index of the MLPerf Tiny dataset in ``folder``, every row checked.

    Raises ``ConfigError`` when ``folder`` is not a folder, has no ``y_labels.csv``, or the index
    has no row at all; rows that cannot be used are in ``Dataset.skipped``.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"dataset {str(root)!r} is not a folder; expected a folder holding {LABELS_FILE} "
                          "and the sample files it lists")
    index = root / LABELS_FILE
    if not index.is_file():
        raise ConfigError(f"dataset {str(root)!r} has no {LABELS_FILE}; expected an MLPerf Tiny index with "
                          f"{FORMAT_HELP}")
    try:
        text = index.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"dataset {str(root)!r}: cannot read {LABELS_FILE}: {exc}") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines()), start=1)
            if any(c.strip() for c in row)]
    if rows and rows[0][1][0].strip().lower() == "file":   # a header row: not MLPerf's, but common
        rows = rows[1:]
    if not rows:
        raise ConfigError(f"dataset {str(root)!r}: {LABELS_FILE} lists no sample; expected {FORMAT_HELP}")
    width = len(rows[0][1])
    if width not in (3, 5):
        raise ConfigError(f"dataset {str(root)!r}: the first row of {LABELS_FILE} has {width} fields "
                          f"({','.join(rows[0][1])!r}); expected {FORMAT_HELP}")
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for line, row in rows:
        item = _entry(root, row, line, width)
        if isinstance(item, Entry):
            entries.append(item)
        else:
            skipped.append(item)
    kind = DatasetKind.ANOMALY if width == 5 else DatasetKind.CLASSIFIER
    return Dataset(root, kind, tuple(entries), tuple(skipped))
