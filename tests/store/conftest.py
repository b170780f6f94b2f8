"""Stores to test against: a SQLite file always, and a throwaway PostgreSQL cluster on loopback.

The cluster is Debian's ``postgresql`` (bootstrap.sh installs it): ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/<version>/bin`` make and start it in a temp folder on a free port, as the ``postgres``
user when the tests run as root (PostgreSQL refuses to run as root). Each test gets a database of its
own. Without PostgreSQL its tests are skipped with the reason, and fail in CI (CI=true).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI

PG_USER = "hil"
PG_PASSWORD = "s3cret-pw"


@dataclass(frozen=True)
class PgCluster:
    port: int
    log: Path

    def url(self, database: str, password: str = PG_PASSWORD) -> str:
        return f"postgresql://{PG_USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"hil_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, password=PG_PASSWORD,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI: {reason}; bootstrap.sh should have installed postgresql")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _pg_bin()
    if bindir is None:
        _unavailable("PostgreSQL not found (no /usr/lib/postgresql/*/bin/initdb): "
                     "run ./bootstrap.sh or apt-get install postgresql")
        return
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="hilbench-pg-"))
    if os.geteuid() == 0:   # postgres refuses to run as root: the cluster is the postgres user's
        runuser = shutil.which("runuser")
        try:
            shutil.chown(root, "postgres", "postgres")
        except (LookupError, OSError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            _unavailable(f"running as root and there is no postgres user to run PostgreSQL as: {exc}")
            return
        as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
    data, log = root / "data", root / "postgres.log"
    pwfile = root / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        full = [*as_user, *cmd] if as_user[:1] != ["su"] else [*as_user, " ".join(cmd)]
        return subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)

    init = run(str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
               "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        return
    port = _free_port()
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start")
    if start.returncode != 0:
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-300:]} {tail}")
        return
    try:
        yield PgCluster(port, log)
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a new database in the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db/hilbench.db"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.url(cluster.create_database())
