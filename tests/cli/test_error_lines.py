"""Every error of the command line is one line that says what to fix, never a traceback: a server
`copy --to` (or --db) cannot use, a file that is not a database, a path that cannot hold one, a
setting that is not a value."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import footfall, free_port


def one_line(result: subprocess.CompletedProcess) -> str:
    """The one line the command line printed on refusing, checked to hold no traceback."""
    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize("target, fix", [
    ("postgresql://footfall@127.0.0.1:{port}/no_such_database",
     "; create the database first (createdb, or CREATE DATABASE): Footfall makes its tables, not the database"),
    ("postgresql://footfall@127.0.0.1:{closed_port}/footfall",
     "; check the host and port in the URL, and that the server is running and reachable from here"),
    ("postgresql://nobody:pw@127.0.0.1:{port}/postgres",
     "; check the user name and password in the URL (special characters percent-encoded) and the server's pg_hba.conf"),
], ids=["missing database", "closed port", "unknown user"])
def test_copy_to_a_server_it_cannot_use_says_what_to_fix(pg_cluster, tmp_path, target, fix):
    source = tmp_path / "footfall.db"
    footfall("apis", "add", "Shop", "--api-key", "shop-key", db=source)
    url = target.format(port=pg_cluster.port, closed_port=free_port())
    line = one_line(footfall("copy", "--to", url, db=source, check=False))
    assert line.startswith("footfall: cannot reach PostgreSQL at postgresql://") and line.endswith(f"{fix}\n")
    assert ":pw@" not in line


def test_a_file_that_is_not_a_database_is_named(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    assert one_line(footfall("customers", db=notes, check=False)) == (
        f"footfall: database error: file is not a database; {notes} is not a SQLite database: check --db (or FOOTFALL_DB)\n")


def test_a_path_that_cannot_hold_a_database_is_named(tmp_path):
    (tmp_path / "a-file").write_text("")
    line = one_line(footfall("customers", db=tmp_path / "a-file" / "footfall.db", check=False))
    assert line.startswith(f"footfall: {tmp_path / 'a-file'}: ") and line.endswith("; check --db (or FOOTFALL_DB)\n")


def test_a_setting_that_is_not_a_value_is_one_line(tmp_path):
    env = {**os.environ, "FOOTFALL_RETENTION_DAYS": "a week"}
    line = one_line(footfall("customers", db=tmp_path / "footfall.db", env=env, check=False))
    assert line == ("footfall: a setting in the environment is wrong: FOOTFALL_RETENTION_DAYS must be a whole number"
                    " of days, 1 or more, not 'a week'\n")
