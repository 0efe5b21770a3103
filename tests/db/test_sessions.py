"""Sign-in sessions and analysts, stored: the cookie key is the database's own (beside a SQLite file,
in a PostgreSQL database's settings), or FOOTFALL_COOKIE_SECRET; a signed-out session stays ended,
and rotating the key ends every session so far; analysts are kept by issuer and subject, and take
over what was kept under their address once."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from core.access import analyst_key, session_of
from core.periods import Period
from core.record import record_from_payload
from core.scope import Scope
from db.connection import connect
from db.reads.home import widget_choices_saved
from db.reads.profile import customer_profile
from db.reads.sidebar import favorites
from db.writes.analysts import record_sign_in
from db.writes.edits import save_description, save_favorite, save_widget_choices
from db.writes.links import signing_key
from db.writes.sessions import (
    COOKIE_KEY_SETTING,
    COOKIE_KEY_SUFFIX,
    ENDED_KEPT_SECONDS,
    cookie_key,
    end_session,
    is_ended,
    rotate_cookie_key,
)
from factories import payload

NOW = 1_800_000_000
ISSUER = "https://id.corp.example"
ANA = analyst_key(ISSUER, "ana")
TWIN = analyst_key(ISSUER, "someone-who-typed-ana-s-address")


def sign_in(subject: str = "ana", at: int = NOW, nonce: str = "n"):
    return session_of({"iss": ISSUER, "sub": subject, "iat": at, "nonce": nonce})


def stored_cookie_key(db_path) -> str | None:
    """The key as the database keeps it: the file beside SQLite's, the settings row on PostgreSQL."""
    if isinstance(db_path, Path):
        path = Path(f"{db_path}{COOKIE_KEY_SUFFIX}")
        return path.read_text().strip() if path.exists() else None
    with connect(db_path) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (COOKIE_KEY_SETTING,)).fetchone()
    return None if row is None else row[0]


def test_the_cookie_key_is_made_once_kept_with_the_database_for_its_owner_only_and_is_not_the_link_key(db_path):
    assert stored_cookie_key(db_path) is None
    key = cookie_key(db_path)
    assert len(key) >= 40 and cookie_key(db_path) == key == stored_cookie_key(db_path)
    assert key.encode() != signing_key(db_path)
    if isinstance(db_path, Path):
        assert stat.S_IMODE(Path(f"{db_path}{COOKIE_KEY_SUFFIX}").stat().st_mode) == 0o600


def test_with_footfall_cookie_secret_that_is_the_key_and_none_is_stored(db_path):
    assert cookie_key(db_path, "a team-wide secret") == "a team-wide secret"
    assert stored_cookie_key(db_path) is None


def test_a_signed_out_session_is_ended_for_good_and_no_other_is(db_path):
    conn = connect(db_path)
    ended, again, other = sign_in(), sign_in(), sign_in(nonce="the next sign-in")
    end_session(conn, ended.key, now=NOW)
    end_session(conn, ended.key, now=NOW + 1)  # signing out twice is signing out
    assert is_ended(conn, again.key, again.issued_at)  # a copy of its cookie
    assert not is_ended(conn, other.key, other.issued_at)
    conn.close()


def test_an_ended_session_is_remembered_as_long_as_it_could_be_current_and_no_longer(db_path):
    conn = connect(db_path)
    old, recent = sign_in(nonce="old"), sign_in(nonce="recent")
    end_session(conn, old.key, now=NOW)
    end_session(conn, recent.key, now=NOW + ENDED_KEPT_SECONDS)
    assert is_ended(conn, old.key, old.issued_at)
    end_session(conn, recent.key, now=NOW + ENDED_KEPT_SECONDS + 1)
    assert not is_ended(conn, old.key, old.issued_at) and is_ended(conn, recent.key, recent.issued_at)
    conn.close()


def test_rotating_the_key_makes_a_new_one_and_ends_every_session_issued_so_far(db_path):
    conn = connect(db_path)
    before = cookie_key(db_path)
    earlier, same_second, later = sign_in(at=NOW - 3600), sign_in(at=NOW, nonce="2"), sign_in(at=NOW + 1, nonce="3")
    rotate_cookie_key(db_path, conn, now=NOW + 0.5)
    assert cookie_key(db_path) != before and len(cookie_key(db_path)) >= 40
    assert is_ended(conn, earlier.key, earlier.issued_at) and is_ended(conn, same_second.key, same_second.issued_at)
    assert not is_ended(conn, later.key, later.issued_at)
    if isinstance(db_path, Path):
        assert stat.S_IMODE(Path(f"{db_path}{COOKIE_KEY_SUFFIX}").stat().st_mode) == 0o600
    conn.close()


def starred(conn, analyst: str) -> list[str]:
    return favorites(conn, analyst)["customer_id"].to_list()


def test_at_their_first_sign_in_an_analyst_takes_over_what_was_kept_under_their_address_once(conn, writer):
    writer.write([record_from_payload(payload(user_id="acme"), received_at=time.time())])
    save_favorite(conn, "ana@corp.example", "acme", True)  # kept by address, as before analysts had keys
    save_widget_choices(conn, "ana@corp.example", {"top_customer": False})

    assert record_sign_in(conn, ANA, ISSUER, "ana", "Ana@Corp.Example", "Ana Analyst")
    assert starred(conn, ANA) == ["acme"] and widget_choices_saved(conn, ANA)["top_customer"] is False
    assert starred(conn, "ana@corp.example") == [] and widget_choices_saved(conn, "ana@corp.example")["top_customer"]
    assert not record_sign_in(conn, ANA, ISSUER, "ana", "ana@corp.example", "Ana Analyst")  # already hers
    assert not record_sign_in(conn, TWIN, ISSUER, "twin", "ana@corp.example", "Ana?")  # nothing left to take
    assert starred(conn, TWIN) == [] and widget_choices_saved(conn, TWIN)["top_customer"]


def test_a_description_shows_the_address_its_editor_last_signed_in_with(conn, writer):
    writer.write([record_from_payload(payload(user_id=c), received_at=time.time()) for c in ("acme", "globex")])
    record_sign_in(conn, ANA, ISSUER, "ana", "ana@corp.example", "Ana")
    save_description(conn, "acme", "Renewal in March", ANA)
    save_description(conn, "globex", "Kept by address before", "ben@corp.example")
    everything = Scope(None, Period(None, None))
    assert customer_profile(conn, "acme", everything).description_by == "ana@corp.example"
    record_sign_in(conn, ANA, ISSUER, "ana", "ana.analyst@corp.example", "Ana")  # her address changed
    assert customer_profile(conn, "acme", everything).description_by == "ana.analyst@corp.example"
    assert customer_profile(conn, "globex", everything).description_by == "ben@corp.example"
