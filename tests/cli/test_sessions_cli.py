"""`footfall sessions rotate-key` on the real command line: a new cookie key for the dashboard, and
every session signed in so far ended at once, on a SQLite file or a PostgreSQL database."""

import time
from contextlib import closing

import pytest

from conftest import footfall
from core.access import session_of
from db.connection import connect
from db.writes.sessions import cookie_key, is_ended


@pytest.mark.both_backends  # the key is kept beside the file, or in the server's database
def test_rotate_key_makes_a_new_cookie_key_and_ends_every_session_so_far(db_path):
    before = cookie_key(db_path)
    signed_in = session_of({"iss": "https://id.corp.example", "sub": "ana", "iat": int(time.time()) - 60})
    with closing(connect(db_path)) as conn:
        assert not is_ended(conn, signed_in.key, signed_in.issued_at)

    rotated = footfall("sessions", "rotate-key", db=db_path)

    assert "Every session is ended" in rotated.stdout and "Restart the dashboard" in rotated.stdout
    assert cookie_key(db_path) != before
    with closing(connect(db_path)) as conn:
        assert is_ended(conn, signed_in.key, signed_in.issued_at)
