"""A connection knows its backend, and a database error is Footfall's own (db/errors.py) on either
engine, never the driver's (which stays as its cause): callers catch one family."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import psycopg
import pytest

from db.connection import backend_for, connect, connect_readonly
from db.errors import CannotConnect, DatabaseError, IntegrityError, OperationalError, ProgrammingError
from services.processes import free_port


def test_a_connection_and_a_setting_know_their_backend(conn, db_path, backend):
    with closing(connect_readonly(db_path)) as reader:
        assert conn.backend.name == reader.backend.name == backend_for(db_path).name == backend


@pytest.mark.parametrize("statement, parameters, error", [
    ("INSERT INTO apis (name, key_prefix, created_at) VALUES ('Test API', 'k', 0)", (), IntegrityError),  # its name taken
    ("SELECT name FROM apis WHERE id = ?", (), ProgrammingError),  # a parameter missing
])
def test_a_failing_statement_raises_footfalls_error_with_the_drivers_as_its_cause(conn, statement, parameters, error):
    with pytest.raises(error) as raised:
        conn.execute(statement, parameters)
    assert not isinstance(raised.value, sqlite3.Error | psycopg.Error)
    assert isinstance(raised.value.__cause__, sqlite3.Error | psycopg.Error)


def test_a_write_through_a_read_only_connection_is_an_operational_error(conn, db_path):
    with closing(connect_readonly(db_path)) as reader, pytest.raises(OperationalError, match="read-?only") as raised:
        reader.execute("DELETE FROM apis")
    assert not isinstance(raised.value, sqlite3.Error | psycopg.Error)
    assert conn.execute("SELECT COUNT(*) FROM apis").fetchone()[0] == 1


def test_a_server_that_does_not_answer_is_an_operational_error_of_footfalls():
    with pytest.raises(CannotConnect, match="cannot reach PostgreSQL") as raised:
        connect(f"postgresql://footfall@127.0.0.1:{free_port()}/footfall")
    assert isinstance(raised.value, OperationalError) and isinstance(raised.value, DatabaseError)
    assert not isinstance(raised.value, sqlite3.Error)
