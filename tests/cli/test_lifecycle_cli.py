"""`prune`, `erase` and `backup` on the real command line, against a real SQLite file."""

import json
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from conftest import footfall
from core.keys import key_hash
from core.links import link_state, token_link_id
from db.connection import connect
from db.links import link_by_token_hash, signing_key
from factories import jsonl, payload


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


def test_prune_removes_old_requests_and_keeps_every_figure(calls):
    before = customers(calls), customers(calls, "--since", "2026-11-01", "--until", "2026-11-02")
    result = footfall("prune", "--before", "2026-11-03", db=calls)
    assert "pruned 4 raw requests older than 2026-11-03T00:00:00Z" in result.stdout
    assert (customers(calls), customers(calls, "--since", "2026-11-01", "--until", "2026-11-02")) == before
    history = json.loads(footfall("requests", "--customer", "a", "--format", "json", db=calls).stdout)
    assert [row["time"][:10] for row in history] == ["2026-11-04", "2026-11-03"]
    assert "pruned 0 raw requests" in footfall("prune", "--before", "2026-11-03T00:00:00Z", db=calls).stdout


def test_prune_takes_the_retention_setting_and_refuses_without_a_date(calls):
    env = {k: v for k, v in os.environ.items() if k != "FOOTFALL_RETENTION_DAYS"}
    refused = footfall("prune", db=calls, check=False, env=env)
    assert refused.returncode == 1 and "--before DATE, or set FOOTFALL_RETENTION_DAYS" in refused.stderr
    bad = footfall("prune", "--before", "last tuesday", db=calls, check=False, env=env)
    assert bad.returncode == 1 and "not an ISO 8601 date or time" in bad.stderr
    # With a retention of one day, whatever is older than yesterday goes; every figure stays.
    before = customers(calls)
    result = footfall("prune", db=calls, env={**env, "FOOTFALL_RETENTION_DAYS": "1"})
    assert result.stdout.startswith("pruned ") and customers(calls) == before


def test_erase_removes_the_customer_everywhere_and_refuses_an_unknown_one(calls):
    result = footfall("erase", "--customer", "b", db=calls)
    assert "erased customer 'b': 2 raw requests" in result.stdout
    rows = customers(calls)
    assert set(rows) == {"a"} and rows["a"]["share"] == pytest.approx(4 / 6 * 100, abs=1e-3)
    assert json.loads(footfall("requests", "--customer", "b", "--format", "json", db=calls).stdout) == []
    assert b"Bea Erased" not in calls.read_bytes()
    unknown = footfall("erase", "--customer", "b", db=calls, check=False)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "footfall: no customer with the ID 'b'; nothing was erased"


def test_backup_writes_an_owner_only_copy_and_never_overwrites_unasked(calls, tmp_path):
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    result = footfall("backup", str(target), db=calls)
    assert result.stdout.startswith(f"backed up {calls} to {target}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT COUNT(*) FROM requests").fetchone() == (8,)
    copy.close()
    assert customers(target) == customers(calls)
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
