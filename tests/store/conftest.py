"""A throwaway PostgreSQL server for the store tests, started once per session.

The server runs from Debian's ``postgresql`` package (``make test`` installs
it): ``initdb`` and ``pg_ctl`` are looked up on PATH, then in
``/usr/lib/postgresql/<version>/bin``. Its data folder is a temporary folder,
it listens on 127.0.0.1 only, on a free port, with trust authentication, and
it is stopped and deleted at the end of the session. PostgreSQL refuses to run
as root, so under root the server runs as the unprivileged ``postgres`` user
that the Debian package creates (or the user named by ``HPTAA_PG_USER``).

When no server binary is found, tests that need the server are skipped with
the reason; when one is found but the server cannot start, they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString
from urllib.parse import quote

import pytest

_DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_SERVER_USER = "hptaa"
_DATABASE = "hptaa_tests"
_START_TIMEOUT_S = 60


@dataclass
class PostgresServer:
    """A running PostgreSQL server on 127.0.0.1 that hands out empty stores.

    Each store is a schema of its own in one database (the URL puts it first
    on the search path), which is much quicker to make than a database.
    """

    port: int
    user: str = _SERVER_USER
    database: str = _DATABASE
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def url(self, schema: str | None = None) -> str:
        """SQLAlchemy URL (psycopg driver) of the database, or of one schema in it."""
        url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"
        if schema is None:
            return url
        return url + "?options=" + quote(f"-csearch_path={schema}")

    def create_database(self) -> None:
        """Create the database that holds the stores."""
        self._execute("CREATE DATABASE {}", self.database, dbname="postgres")

    def create_schema(self) -> str:
        """Create a new empty schema and return its name."""
        name = f"store_{os.getpid()}_{next(self._counter)}"
        self._execute("CREATE SCHEMA {}", name)
        return name

    def drop_schema(self, name: str) -> None:
        """Drop a schema and everything in it."""
        self._execute("DROP SCHEMA IF EXISTS {} CASCADE", name)

    def _execute(
        self, statement: LiteralString, name: str, dbname: str | None = None
    ) -> None:
        import psycopg
        from psycopg import sql

        query = sql.SQL(statement).format(sql.Identifier(name))
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            dbname=dbname or self.database,
            autocommit=True,
        ) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(query)


def _server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, newest Debian version first."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []

    def version(folder: str) -> tuple[int, ...]:
        number = Path(folder).parent.name
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    debian = sorted(glob.glob(_DEBIAN_BIN_GLOB), key=version, reverse=True)
    candidates += [Path(folder) for folder in debian]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _run_as() -> dict[str, Any]:
    """subprocess options that run the server as an unprivileged user."""
    if os.geteuid() != 0:
        return {}
    name = os.environ.get("HPTAA_PG_USER", "postgres")
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        pytest.skip(
            f"PostgreSQL refuses to run as root and there is no user {name!r} to "
            "run it as; install Debian's postgresql package (it creates the "
            "'postgres' user) or set HPTAA_PG_USER to an unprivileged user."
        )
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(command: list[str], folder: str, as_user: dict[str, Any]) -> None:
    """Run a server command; fail the session's PostgreSQL tests if it fails."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    done = subprocess.run(
        command,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=_START_TIMEOUT_S + 30,
        check=False,
        **as_user,
    )
    if done.returncode != 0:
        log = Path(folder, "server.log")
        server_log = log.read_text() if log.is_file() else ""
        pytest.fail(
            f"{Path(command[0]).name} failed with exit status {done.returncode}:\n"
            f"{done.stdout}{done.stderr}{server_log}"
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server in a temporary folder, for the whole session."""
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in "
            f"{_DEBIAN_BIN_GLOB}; install Debian's postgresql package (make test "
            "does) to run the store tests on PostgreSQL."
        )
    pytest.importorskip(
        "psycopg", reason="the psycopg driver is not installed (pip install psycopg)"
    )
    as_user = _run_as()

    folder = tempfile.mkdtemp(prefix="hptaa-postgres-")
    if as_user:
        os.chown(folder, as_user["user"], as_user["group"])
    data = os.path.join(folder, "data")
    port = _free_port()
    settings = (
        f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=200 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = str(binaries / "pg_ctl")
    try:
        initdb = [str(binaries / "initdb"), "-D", data, "-U", _SERVER_USER]
        options = ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]
        _run([*initdb, *options], folder, as_user)
        log = os.path.join(folder, "server.log")
        wait = ["-w", "-t", str(_START_TIMEOUT_S)]
        _run(
            [pg_ctl, "-D", data, "-l", log, "-o", settings, *wait, "start"],
            folder,
            as_user,
        )
        server = PostgresServer(port)
        server.create_database()
        yield server
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(
                [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                cwd=folder,
                capture_output=True,
                timeout=60,
                check=False,
                **as_user,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new, empty trial store on PostgreSQL, dropped after the test."""
    schema = postgres_server.create_schema()
    yield postgres_server.url(schema)
    postgres_server.drop_schema(schema)
