"""`prune`, `erase` and `backup` on the real command line, against a real SQLite file or a
PostgreSQL database (where a backup is pg_dump's)."""

import json
import os
import pty
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import footfall, footfall_process, until
from core.keys import key_hash
from core.links import link_state, token_link_id
from db.connection import connect, is_postgres
from db.writes.links import link_by_token_hash, signing_key
from factories import jsonl, payload
from stored_bytes import stored_bytes

pytestmark = pytest.mark.both_backends  # what prune, erase and backup remove and keep differs by engine


@pytest.fixture
def calls(db_path, tmp_path):
    """Customers a, b (with a display name from traffic) and unidentified calls over four days."""
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=db_path)
    file = tmp_path / "calls.jsonl"
    file.write_bytes(jsonl([
        *[payload(user_id="a", timestamp=f"2026-11-{d:02d} 10:00:00", url=f"https://api.example.com/api/a/{d}")
          for d in (1, 2, 3, 4)],
        *[payload(user_id="b", timestamp=f"2026-11-{d:02d} 11:00:00", request_headers={
            "treblle-metadata": '{"user-id": "b", "user-name": "Bea Erased"}'}) for d in (1, 3)],
        payload(user_id=None, timestamp="2026-11-02 12:00:00"),
        payload(user_id=None, timestamp="2026-11-04 12:00:00"),
    ]))
    footfall("import", str(file), db=db_path)
    return db_path


def customers(db_path, *args):
    return {row["customer_id"]: row for row in json.loads(footfall("customers", "--format", "json", *args, db=db_path).stdout)}


def requests_of(db_path, customer: str) -> list[dict]:
    return json.loads(footfall("requests", "--customer", customer, "--format", "json", db=db_path).stdout)


def test_prune_says_what_it_removes_then_removes_it_and_keeps_every_figure(calls):
    before = customers(calls), customers(calls, "--since", "2026-11-01", "--until", "2026-11-02")
    result = footfall("prune", "--before", "2026-11-03", db=calls)
    said, done = result.stdout.splitlines()
    assert said == ("to prune: 4 raw requests of 2 customers, from 2 days (2026-11-01 to 2026-11-02),"
                    " older than 2026-11-03 00:00 UTC; every figure is kept")
    assert done.startswith("pruned 4 raw requests older than 2026-11-03 00:00 UTC in ")
    assert (customers(calls), customers(calls, "--since", "2026-11-01", "--until", "2026-11-02")) == before
    assert [row["time"][:10] for row in requests_of(calls, "a")] == ["2026-11-04", "2026-11-03"]
    again = footfall("prune", "--before", "2026-11-03T00:00:00Z", db=calls).stdout
    assert again == "no raw request is older than 2026-11-03 00:00 UTC: nothing to prune\n"


@pytest.mark.parametrize("cutoff, danger", [
    ("2030-01-01T00:00:00+02:00", "2029-12-31 22:00 UTC is in the future and that is every raw request stored (8)"),
    ("2026-11-05", "that is every raw request stored (8)"),  # past, but after the newest request
])
def test_a_prune_of_every_request_or_up_to_a_future_date_is_refused_without_yes(calls, cutoff, danger):
    refused = footfall("prune", "--before", cutoff, db=calls, check=False)  # no terminal to ask on
    assert refused.returncode == 1
    assert refused.stderr == f"footfall: refusing to prune: {danger}; run it again with --yes if that is what you mean\n"
    assert refused.stdout.startswith("to prune: 8 raw requests of 2 customers, from 4 days (2026-11-01 to 2026-11-04)")
    assert len(requests_of(calls, "a")) == 4
    confirmed = footfall("prune", "--before", cutoff, "--yes", db=calls)
    said, done = confirmed.stdout.splitlines()  # --yes skips the question, not what goes
    assert said.startswith("to prune: 8 raw requests") and done.startswith("pruned 8 raw requests")
    assert requests_of(calls, "a") == []


def test_prune_takes_the_retention_setting_and_refuses_without_a_date(calls):
    env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_RETENTION_DAYS"}
    refused = footfall("prune", db=calls, check=False, env=env)
    assert refused.returncode == 1 and "--before DATE, or set FOOTFALL_RETENTION_DAYS" in refused.stderr
    bad = footfall("prune", "--before", "last tuesday", db=calls, check=False, env=env)
    assert bad.returncode == 1
    assert bad.stderr == "footfall: --before: expected a date like 2026-12-01 or 2026-12-01T08:00, got 'last tuesday'\n"
    # With a retention of one day, whatever is older than yesterday goes (here: everything, so asked for); figures stay.
    before = customers(calls)
    retention = {**env, "FOOTFALL_RETENTION_DAYS": "1"}
    assert "every raw request" in footfall("prune", db=calls, env=retention, check=False).stderr
    result = footfall("prune", "--yes", db=calls, env=retention)
    assert "pruned 8 raw requests" in result.stdout and customers(calls) == before


def test_erase_says_what_it_removes_then_removes_the_customer_everywhere_and_refuses_an_unknown_one(calls):
    # On PostgreSQL the bytes leave the table files with --vacuum (VACUUM FULL); its log is the server's.
    vacuum = ["--vacuum"] if is_postgres(calls) else []
    result = footfall("erase", "--customer", "b", *vacuum, db=calls)
    said, done, *caveats = result.stdout.splitlines()
    assert said == ("to erase: customer 'b', 2 raw requests (2 counted in the figures) from 2 days on 1 API,"
                    " with their name, notes, stars, links and alert rules")
    assert done.startswith("erased customer 'b': 2 raw requests")
    rows = customers(calls)
    assert set(rows) == {"a"} and rows["a"]["share"] == pytest.approx(4 / 6 * 100, abs=1e-3)
    assert footfall("requests", "--customer", "b", db=calls, check=False).returncode == 1  # no such customer now
    assert b"Bea Erased" not in stored_bytes(calls, wal=False)
    unknown = footfall("erase", "--customer", "b", db=calls, check=False)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "footfall: no customer with the ID 'b'; nothing was erased"
    assert unknown.stdout == ""


@pytest.mark.sqlite_only  # the terminal is the point, not the engine
def test_on_a_terminal_prune_asks_first_and_only_a_yes_prunes(calls):
    for answer, code in ((b"n\n", 1), (b"y\n", 0)):
        keyboard, terminal = pty.openpty()  # the command's standard input is a real pseudo-terminal
        try:
            os.write(keyboard, answer)  # typed ahead: the terminal holds it until the command reads
            run = footfall_process("prune", "--before", "2030-01-01", db=calls, check=False, stdin=terminal)
        finally:
            os.close(keyboard)
            os.close(terminal)
        assert run.returncode == code, run.stderr
        assert run.stdout.startswith("to prune: 8 raw requests")
        assert run.stderr.startswith("2030-01-01 00:00 UTC is in the future and that is every raw request stored (8)."
                                     " Prune them? [y/N] ")
        if answer == b"n\n":
            assert run.stderr.endswith("footfall: nothing was pruned\n") and len(requests_of(calls, "a")) == 4
    assert "pruned 8 raw requests" in run.stdout and requests_of(calls, "a") == []


def test_backup_writes_an_owner_only_copy_and_never_overwrites_unasked(calls, tmp_path, request):
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    result = footfall("backup", str(target), db=calls)
    assert result.stdout.startswith(f"backed up {calls} to {target}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    if is_postgres(calls):  # pg_dump's custom format: restored into an empty database
        cluster = request.getfixturevalue("pg_cluster")
        restored = cluster.create_database()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, str(target)], check=True)
        copy = connect(restored)
    else:
        copy = sqlite3.connect(target)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        restored = target
    assert tuple(copy.execute("SELECT COUNT(*) FROM requests").fetchone()) == (8,)
    copy.close()
    assert customers(restored) == customers(calls)
    if is_postgres(restored):
        request.getfixturevalue("pg_cluster").drop_database(restored)
    again = footfall("backup", str(target), db=calls, check=False)
    assert again.returncode == 1 and "exists: choose another name, or add --overwrite" in again.stderr
    assert footfall("backup", str(target), "--overwrite", db=calls).returncode == 0
    nowhere = footfall("backup", str(tmp_path / "missing" / "copy.db"), db=calls, check=False)
    assert nowhere.returncode == 1 and "cannot write" in nowhere.stderr


def test_the_lifecycle_commands_never_create_a_database(tmp_path):
    for args in (["prune", "--before", "2026-01-01"], ["erase", "--customer", "a"], ["backup", str(tmp_path / "b.db")]):
        result = footfall(*args, db=tmp_path / "none.db", check=False)
        assert result.returncode == 1 and "no database at" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.sqlite_only  # the key file beside a SQLite database
def test_a_backup_takes_the_customer_link_key_along_so_links_open_on_the_restored_copy(calls, tmp_path):
    made = footfall("links", "create", "--customer", "a", db=calls).stdout
    token = made.split("?link=")[1].split()[0]
    target = tmp_path / "copy.db"
    result = footfall("backup", str(target), db=calls)
    key = Path(f"{target}.link-key")
    assert f"and the key customer links are signed with, to {key}" in result.stdout
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text() == Path(f"{calls}.link-key").read_text()
    restored = connect(target)
    stored = link_by_token_hash(restored, key_hash(token))
    assert link_state(stored, token_link_id(token, signing_key(target)), time.time()) is not None
    restored.close()


PASSWORD = "s3cret-Pw-7731"


@pytest.fixture
def password_url(pg_cluster):
    """A PostgreSQL database with an API, reached through a role that must give its password
    (scram-sha-256): a line of its own in the session cluster's pg_hba.conf, taken out again
    afterwards."""
    import psycopg

    url = pg_cluster.create_database(template=pg_cluster.template)
    footfall("apis", "add", "Shop", "--api-key", "test-project-key", db=url)
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        hba = Path(admin.execute("SHOW hba_file").fetchone()[0])
        admin.execute(f"CREATE ROLE footfall_pw LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
        original = hba.read_text()
        hba.write_text(f"host all footfall_pw 127.0.0.1/32 scram-sha-256\n{original}")
        admin.execute("SELECT pg_reload_conf()")
    assert until(lambda: refuses_a_wrong_password(url)), "the server did not read its pg_hba.conf again"
    try:
        yield url.replace("postgresql://footfall@", f"postgresql://footfall_pw:{PASSWORD}@")
    finally:
        hba.write_text(original)
        pg_cluster.drop_database(url)
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute("DROP ROLE footfall_pw")


def refuses_a_wrong_password(url: str) -> bool:
    """Whether the server asks footfall_pw for its password (it let anyone in before reading the line)."""
    import psycopg

    try:
        psycopg.connect(url.replace("postgresql://footfall@", "postgresql://footfall_pw:wrong@")).close()
        return False
    except psycopg.OperationalError:
        return True


def test_on_postgresql_backup_hands_pg_dump_the_password_and_never_shows_it(password_url, tmp_path):
    assert is_postgres(password_url)
    target = tmp_path / "copy.dump"
    result = footfall("backup", str(target), db=password_url)
    assert result.returncode == 0 and target.stat().st_size > 0
    assert PASSWORD not in result.stdout + result.stderr and "footfall_pw:***@" in result.stdout
    listed = subprocess.run(["pg_restore", "--list", str(target)], check=True, capture_output=True, text=True).stdout
    assert "TABLE DATA public apis" in listed
    # A wrong password: pg_dump's refusal, said plainly, and still no password shown.
    wrong = password_url.replace(PASSWORD, "not-the-password")
    refused = footfall("backup", str(tmp_path / "other.dump"), db=wrong, check=False)
    assert refused.returncode == 1 and "password authentication failed" in refused.stderr
    assert "not-the-password" not in refused.stdout + refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["copy.dump"]  # no partial file left behind
