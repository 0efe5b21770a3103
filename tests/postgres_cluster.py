"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, initdb and pg_ctl in a
temporary folder, listening on 127.0.0.1 at a free port, gone when the session ends.

PostgreSQL refuses to run as root: as root, the cluster's files belong to the `postgres` user the
Debian package creates, and its programs run as that user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from services.processes import free_port

SUPERUSER = "footfall"


def server_binaries() -> Path:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL's server is not installed (Debian package postgresql; `make test` installs it)")
    return Path(found[-1]).parent


class Cluster:
    """A running cluster: its URL for a database of it, and databases made and dropped."""

    def __init__(self, port: int):
        self.port = port
        self._made = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (a copy of `template` when given); returns its URL."""
        import psycopg

        self._made += 1
        name = f"test_{os.getpid()}_{self._made}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            clause = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """initdb + pg_ctl start in a temporary folder; stopped (immediate) and removed afterwards."""
    bin_dir = server_binaries()
    root = Path(tempfile.mkdtemp(prefix="footfall-pg-"))
    data = root / "data"
    user = _unprivileged_user()
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    port = free_port()
    # Durability is not what a throwaway cluster is for: fsync off makes it quick.
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off" \
              " -c synchronous_commit=off -c max_connections=300"
    try:
        subprocess.run([bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                        "--locale=C.UTF-8", "--no-sync"], check=True, capture_output=True, cwd=root, **run_as)
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-o", options, "-w", "-t", "60", "start"],
                       check=True, capture_output=True, cwd=root, **run_as)
    except subprocess.CalledProcessError as error:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"the test cluster did not start: {error.stderr.decode()}{log}") from None
    try:
        yield Cluster(port)
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                       cwd=root, **run_as)
        shutil.rmtree(root, ignore_errors=True)


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The user the cluster runs as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")
