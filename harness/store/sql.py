"""SqlStore: the run records in a SQL database through SQLAlchemy Core (SQLite, PostgreSQL).

Two tables. ``hilbench_runs`` holds one row per run: the record's fields that reports query as columns
(``COLUMNS``) and the whole record as JSON text (``record``), so no field is lost, unknown ones included;
the record is read back from that JSON alone. ``hilbench_schema`` holds one row, the version of these
tables (``STORE_SCHEMA_VERSION``): a database of another version is refused with a ``StoreSchemaError``
before anything is read or written.

A database that cannot be reached is a ``StoreUnreachable``; a URL that cannot be parsed or names a
dialect SQLAlchemy does not know is a ``StoreURLError``. Every message names the URL without its
password. Several processes may write to one database at once: each save is one transaction of one
statement (SQLite waits for its lock up to ``SQLITE_BUSY_S``), and the tables are created under a lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url

from harness.errors import StoreError
from harness.store.record import RunRecord
from harness.store.results import record_from_data

STORE_SCHEMA_VERSION = 1     # of the tables below; a change to them is a new version and a migration
SQLITE_BUSY_S = 60.0         # how long an SQLite writer waits for another one's lock
CONNECT_TIMEOUT_S = 10       # how long a PostgreSQL connection is tried
_PG_LOCK_KEY = 0x68696C62    # pg_advisory_xact_lock key serialising table creation ("hilb")
DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}   # the dialects tested and their driver

metadata = sa.MetaData()
runs_table = sa.Table(
    "hilbench_runs", metadata,
    sa.Column("run_id", sa.String(255), primary_key=True),
    sa.Column("time_utc", sa.String(64), nullable=False, index=True),
    sa.Column("session_id", sa.String(255), nullable=False, index=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("model_sha256", sa.String(64)),
    sa.Column("board", sa.String(255), nullable=False),
    sa.Column("runtime", sa.String(255), nullable=False),
    sa.Column("target", sa.String(255), nullable=False),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("instructions_per_inference", sa.BigInteger),
    sa.Column("cycles_per_inference", sa.BigInteger),
    sa.Column("latency_us", sa.Float),
    sa.Column("flash_bytes", sa.BigInteger),
    sa.Column("ram_bytes", sa.BigInteger),
    sa.Column("arena_bytes", sa.BigInteger),
    sa.Column("matches_reference", sa.Boolean),
    sa.Column("fits_board", sa.Boolean),
    sa.Column("energy_uj", sa.Float),
    sa.Column("record_schema", sa.Integer, nullable=False),
    sa.Column("record", sa.Text, nullable=False),   # RunRecord.to_dict() as JSON: the record itself
)
schema_table = sa.Table(
    "hilbench_schema", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),   # always 1: one row
    sa.Column("version", sa.Integer, nullable=False),
)
COLUMNS = tuple(c.name for c in runs_table.columns if c.name not in ("git_commit", "record_schema", "record"))


class StoreURLError(StoreError):
    """A store URL that cannot be parsed, or whose dialect or driver is unknown or not installed."""


class StoreUnreachable(StoreError):
    """A database that refuses the connection (down, wrong host or port, bad credentials, no database)."""


class StoreSchemaError(StoreError):
    """A database whose hilbench tables are of another schema version than this hilbench's."""


def is_url(text: str) -> bool:
    """Whether ``text`` is a database URL (``dialect[+driver]://...``) rather than a folder path.

    >>> is_url("sqlite:///results/hilbench.db"), is_url("postgresql+psycopg://u@h/db"), is_url("results")
    (True, True, False)
    >>> is_url("C:/results")
    False
    """
    scheme, sep, _ = text.partition("://")
    return bool(sep) and len(scheme) > 1 and all(c.isalnum() or c in "+_-." for c in scheme)


def redact(url: str | URL) -> str:
    """``url`` for messages: its password replaced by ``***``.

    >>> redact("postgresql://ann:s3cret@db.example:5432/hil")
    'postgresql://ann:***@db.example:5432/hil'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError):
        text = str(url)
        scheme, sep, rest = text.partition("://")
        creds, at, host = rest.rpartition("@")
        if sep and at and ":" in creds:
            return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
        return text


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL of ``url``, its driver chosen (``postgresql://`` uses psycopg 3).

    Raises ``StoreURLError`` for a malformed URL or an unknown dialect, naming the URL without its password.
    """
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise StoreURLError(f"store URL {redact(url)!r} is malformed ({exc}); expected a path to a results "
                            "folder, sqlite:///PATH/hilbench.db or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
                            ) from None
    if parsed.drivername in DRIVERS:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    try:
        parsed.get_dialect()
    except sa_exc.NoSuchModuleError:
        raise StoreURLError(f"store URL {redact(parsed)!r}: unknown database dialect {parsed.drivername!r}; "
                            f"expected one of {sorted(DRIVERS)} (e.g. sqlite:///results/hilbench.db)") from None
    except ImportError as exc:
        raise StoreURLError(f"store URL {redact(parsed)!r}: the driver of {parsed.drivername!r} is not "
                            f"installed ({exc}); install it with pip, or use one of {sorted(DRIVERS)}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StoreURLError(f"store URL {redact(parsed)!r} names no database file; expected "
                            "sqlite:///PATH/hilbench.db (a relative path) or sqlite:////ABS/PATH/hilbench.db")
    return parsed


def _git_commit(record: RunRecord) -> str | None:
    commit = record.provenance.get("git_commit")
    return str(commit)[:64] if commit else None


def _row(record: RunRecord) -> dict[str, Any]:
    """The row of ``record``: the queried columns and the record as JSON (raises ValueError for NaN)."""
    row: dict[str, Any] = {name: getattr(record, name) for name in COLUMNS}
    row.update(git_commit=_git_commit(record), record_schema=record.schema,
               record=json.dumps(record.to_dict(), sort_keys=True, allow_nan=False))
    return row


class SqlStore:
    """The run records in the database at ``url``. Every failure to read or write is a ``StoreError``.

    Nothing connects until the first save or read. The tables are created on the first write to a
    database without them; a read of such a database finds no records.
    """

    def __init__(self, url: str) -> None:
        self.url = parse_url(url)
        self.location = redact(url)
        self._engine: Engine | None = None
        self._checked = False

    @property
    def runs_dir(self) -> str:
        """Where the records are, for messages (as ``ResultStore.runs_dir``): the URL without its password."""
        return self.location

    def __repr__(self) -> str:
        return f"SqlStore({self.location!r})"

    # connection and schema ----------------------------------------------------------------------------

    def _engine_(self) -> Engine:
        if self._engine is None:
            backend = self.url.get_backend_name()
            args: dict[str, Any] = {}
            if backend == "sqlite":
                args = {"timeout": SQLITE_BUSY_S}
            elif backend == "postgresql":
                args = {"connect_timeout": CONNECT_TIMEOUT_S}
            try:
                self._engine = sa.create_engine(self.url, connect_args=args, pool_pre_ping=True)
            except (sa_exc.ArgumentError, ImportError) as exc:
                raise StoreURLError(f"store {self.location}: {exc}") from None
        return self._engine

    def _fail(self, doing: str, exc: Exception) -> StoreError:
        """The ``StoreError`` for ``exc`` raised while ``doing``: unreachable, or another database error."""
        if isinstance(exc, sa_exc.OperationalError) and not _is_busy(exc):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            if self.url.get_backend_name() == "sqlite":
                return StoreUnreachable(f"store {self.location}: cannot open the SQLite database while {doing}: "
                                        f"{reason}; check that the path is a file in a folder you may write to")
            return StoreUnreachable(
                f"store {self.location}: the database refused the connection while {doing}: {reason}; "
                "check that the server runs and the URL's host, port, user, password and database name")
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return StoreError(f"store {self.location}: database error while {doing}: {reason}")

    def _ensure_schema(self, create: bool) -> bool:
        """Check the tables' schema version, creating the tables first when ``create``.

        Returns False when the database has no hilbench tables (and ``create`` is False).
        """
        if self._checked:
            return True
        engine = self._engine_()
        backend = self.url.get_backend_name()
        if backend == "sqlite" and self.url.database and not create \
                and not Path(self.url.database).expanduser().exists():
            return False    # not made yet: no records (a read never creates the file)
        if create and backend == "sqlite" and self.url.database:
            try:
                Path(self.url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnreachable(f"store {self.location}: cannot make the database's folder: {exc}") from None
        try:
            with engine.begin() as conn:
                if backend == "postgresql":   # CREATE TABLE IF NOT EXISTS races in PostgreSQL: serialise it
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                tables = set(sa.inspect(conn).get_table_names())
                if not create and not tables & {runs_table.name, schema_table.name}:
                    return False
                if runs_table.name in tables and schema_table.name not in tables:
                    version: int | None = 0    # runs written before the schema table existed
                else:
                    if create:
                        for table in (schema_table, runs_table):
                            conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
                        for index in runs_table.indexes:
                            conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
                        _insert_ignore(conn, schema_table, {"id": 1, "version": STORE_SCHEMA_VERSION})
                    version = conn.execute(sa.select(schema_table.c.version)
                                           .where(schema_table.c.id == 1)).scalar_one_or_none()
        except sa_exc.SQLAlchemyError as exc:
            raise self._fail("checking its hilbench tables", exc) from None
        if version != STORE_SCHEMA_VERSION:
            raise _schema_error(self.location, version)
        self._checked = True
        return True

    # writing ----------------------------------------------------------------------------------------

    def save(self, record: RunRecord) -> str:
        """Store ``record``, replacing a stored record of the same run id; returns where it went."""
        self._write(record, replace=True)
        return f"{self.location}#{record.run_id}"

    def add(self, record: RunRecord) -> bool:
        """Store ``record`` unless its run id is already stored (then False). Atomic against other writers."""
        return self._write(record, replace=False)

    def _write(self, record: RunRecord, replace: bool) -> bool:
        try:
            row = _row(record)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"cannot write run record {record.run_id!r} to {self.location}: {exc}") from None
        self._ensure_schema(create=True)
        try:
            with self._engine_().begin() as conn:
                if replace:
                    return _upsert(conn, row)
                return _insert_ignore(conn, runs_table, row)
        except sa_exc.SQLAlchemyError as exc:
            raise self._fail(f"writing run record {record.run_id!r}", exc) from None

    # reading ----------------------------------------------------------------------------------------

    def contains(self, run_id: str) -> bool:
        if not self._ensure_schema(create=False):
            return False
        try:
            with self._engine_().connect() as conn:
                return conn.execute(sa.select(runs_table.c.run_id)
                                    .where(runs_table.c.run_id == run_id)).first() is not None
        except sa_exc.SQLAlchemyError as exc:
            raise self._fail(f"looking up run {run_id!r}", exc) from None

    def records(self) -> Iterator[tuple[str, RunRecord | StoreError]]:
        """Every stored record, oldest first; a row that is not a good record yields its error."""
        if not self._ensure_schema(create=False):
            return
        query = sa.select(runs_table.c.run_id, runs_table.c.record).order_by(runs_table.c.time_utc,
                                                                             runs_table.c.run_id)
        try:
            with self._engine_().connect() as conn:
                rows = conn.execute(query).all()
        except sa_exc.SQLAlchemyError as exc:
            raise self._fail("reading the run records", exc) from None
        for run_id, text in rows:
            where = f"{self.location}#{run_id}"
            try:
                yield where, record_from_data(json.loads(text), where)
            except ValueError as exc:
                yield where, StoreError(f"run record {where} is not JSON: {exc}")
            except StoreError as exc:
                yield where, exc

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _is_busy(exc: sa_exc.OperationalError) -> bool:
    return "locked" in str(exc.orig).lower()


def _schema_error(location: str, version: int | None) -> StoreSchemaError:
    if version is None:
        return StoreSchemaError(f"store {location}: its table hilbench_schema has no version row; it was not "
                                "made by hilbench, or a write was cut short: give another database")
    if version < STORE_SCHEMA_VERSION:
        return StoreSchemaError(
            f"store {location} has schema version {version}, older than this hilbench's "
            f"{STORE_SCHEMA_VERSION}: the store needs migrating. This hilbench has no migration from version "
            f"{version}: export its records with the hilbench that wrote them (`hilbench store export "
            f"{location} FOLDER`), then `hilbench store import FOLDER URL` into a new database")
    return StoreSchemaError(f"store {location} has schema version {version}, newer than this hilbench's "
                            f"{STORE_SCHEMA_VERSION}: a newer hilbench made it; upgrade hilbench to use it")


def _insert_ignore(conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless its primary key is there; True if it was inserted."""
    backend = conn.dialect.name
    if backend in ("sqlite", "postgresql"):
        if backend == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        stmt = insert(table).values(**row).on_conflict_do_nothing()
        if backend == "postgresql":   # psycopg's rowcount is not the rows inserted here: ask for them
            return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None
        return conn.execute(stmt).rowcount == 1
    with conn.begin_nested():
        try:
            conn.execute(table.insert().values(**row))
        except sa_exc.IntegrityError:
            return False
    return True


def _upsert(conn: sa.Connection, row: dict[str, Any]) -> bool:
    backend = conn.dialect.name
    if backend in ("sqlite", "postgresql"):
        if backend == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        stmt = insert(runs_table).values(**row)
        conn.execute(stmt.on_conflict_do_update(index_elements=[runs_table.c.run_id],
                                                set_={k: stmt.excluded[k] for k in row if k != "run_id"}))
        return True
    conn.execute(runs_table.delete().where(runs_table.c.run_id == row["run_id"]))
    conn.execute(runs_table.insert().values(**row))
    return True
