"""The key customer links are signed with, made once per database and shared by every process that
uses it: beside a SQLite file (`<db file>.link-key`); inside a PostgreSQL database (its settings
row), since the team's dashboards and CLIs run on several machines with no file in common. A link
made by one process (the CLI) opens in another (the dashboard); FOOTFALL_LINK_SECRET, when set, is
the key and nothing is stored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from links_support import SHOP_API, Call, app_env, billing, open_link, traffic  # noqa: F401 (fixtures)

from conftest import ROOT
from core.keys import key_hash
from core.links import INVALID_LINK, link_state, token_link_id
from db.connection import connect
from db.writes.links import KEY_FILE_SUFFIX, KEY_SETTING, link_by_token_hash, signing_key

ACME_NAME_SENT = "Acme Corp"
PRINT_KEY = "import sys; from db.writes.links import signing_key; print(signing_key(sys.argv[1]).decode())"

pytestmark = pytest.mark.both_backends  # the key is kept beside the file, or in the server's database


def in_empty_folder(folder: Path, args: list[str], **env: str) -> subprocess.Popen:
    """A Python process started in an empty working folder (it must leave nothing there)."""
    folder.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, *args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def finished(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def stored_key(db_path) -> str | None:
    """The key as the database keeps it: the file beside SQLite's, the settings row on PostgreSQL."""
    if isinstance(db_path, Path):
        path = Path(f"{db_path}{KEY_FILE_SUFFIX}")
        return path.read_text().strip() if path.exists() else None
    with connect(db_path) as conn:  # a connection of its own
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY_SETTING,)).fetchone()
    return None if row is None else row[0]


def test_processes_starting_together_all_sign_with_one_key_made_once(conn, db_path, tmp_path, monkeypatch):
    monkeypatch.delenv("FOOTFALL_LINK_SECRET", raising=False)
    assert stored_key(db_path) is None
    folder = tmp_path / "elsewhere"
    starting = [in_empty_folder(folder, ["-c", PRINT_KEY, str(db_path)]) for _ in range(4)]
    keys = {finished(process).strip() for process in starting}

    assert len(keys) == 1 and len(keys.pop()) >= 40  # 32 random bytes, base64
    assert signing_key(db_path).decode() == stored_key(db_path)  # and this process, later, reads the same
    assert stored_key(db_path) in {finished(in_empty_folder(folder, ["-c", PRINT_KEY, str(db_path)])).strip()}
    assert list(folder.iterdir()) == []  # no key file in the working folder
    if not isinstance(db_path, Path):  # nor anywhere beside a "database file" that is a URL
        assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere"]


def test_a_link_made_by_the_cli_opens_in_the_dashboard_of_another_process(traffic, app_env, conn, db_path, tmp_path):
    traffic.send(Call("acme", ACME_NAME_SENT, hours_ago=2), Call("acme", ACME_NAME_SENT, hours_ago=3))
    made = finished(in_empty_folder(tmp_path / "cli", ["-m", "footfall", "--db", str(db_path), "links", "create",
                                                         "--customer", "acme", "--api", SHOP_API]))
    token = made.strip().rsplit("link=", 1)[1]

    key = signing_key(db_path)  # this process's key, read on its own connection
    assert link_state(link_by_token_hash(conn, key_hash(token)), token_link_id(token, key), time.time()) is not None
    at = open_link(token)  # the dashboard, in this process
    assert [t.value for t in at.title] == [ACME_NAME_SENT] and not at.warning
    assert [w.value for w in open_link(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")).warning] == [INVALID_LINK]


def test_with_footfall_link_secret_that_is_the_key_and_none_is_stored(conn, db_path, tmp_path):
    secret = "a team-wide secret of our own"
    out = finished(in_empty_folder(tmp_path / "elsewhere", ["-c", PRINT_KEY.replace(
        "signing_key(sys.argv[1])", "signing_key(sys.argv[1], sys.argv[2])"), str(db_path), secret]))

    assert out.strip() == secret
    assert stored_key(db_path) is None
