"""A throwaway PostgreSQL cluster from Debian's binaries, for tests.

``initdb`` into a temporary folder, ``pg_ctl start`` on a free port on
127.0.0.1 with the socket in that folder, one fresh database per test, and
``pg_ctl stop`` and the folder removed at the end.  As root the server runs as
the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SETUP_HINT = (
    "PostgreSQL's server binaries are missing: run `bash scripts/bootstrap.sh setup` "
    "(it installs Debian's postgresql package) or `apt-get install postgresql`"
)


def postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with initdb and pg_ctl."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise RuntimeError(SETUP_HINT)
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running cluster; :meth:`new_database` gives each test its own database."""

    root: Path
    port: int
    bindir: Path
    run_as: list[str]
    _names: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def new_database(self) -> str:
        """An empty database; its SQLAlchemy URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast"]
            + ["-w", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Start a cluster; ``RuntimeError`` saying what to install if the binaries are missing."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    (root / "socket").mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(f"there is no postgres user; {SETUP_HINT}") from None
        for path in (root, root / "socket"):
            os.chown(path, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = root / "data"

    def run(*args: str) -> None:
        result = subprocess.run(
            [*run_as, *args], capture_output=True, text=True, check=False, timeout=120
        )
        if result.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed: {result.stdout}{result.stderr}{log}".strip()
            )

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    port = _free_port()
    options = (
        f"-p {port} -k {root / 'socket'} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    log = str(root / "server.log")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", log, "-o", options, "-w", "start")
    return PostgresServer(root, port, bindir, run_as)
