"""Batches of records land with their rollups, in one transaction."""

import json
import time

import pytest

from core.periods import Period
from core.record import record_from_payload
from core.scope import Scope
from db.queries.figures import api_totals
from db.reads.customers import customer_list
from db.reads.history import customer_requests, request_detail
from db.writes.edits import save_display_name
from db.writes.records import UnknownApiKey
from factories import payload

NOW = time.time()


def records(*payloads):
    return [record_from_payload(p, received_at=NOW) for p in payloads]


def test_a_written_request_is_read_back_with_its_enrichment(conn, writer):
    writer.write(records(payload(user_id="cus_1", url="https://api.example.com/api/items/42?q=1", status=201)))
    row = customer_requests(conn, "cus_1", Scope(None, Period(None, None))).row(0, named=True)
    assert (row["method"], row["status"], row["path"], row["endpoint"]) == ("GET", 201, "/api/items/42", "/api/items/{id}")
    assert row["country"] == "GB"


def test_rollups_count_every_request_and_customer_counts_only_identified_ones(conn, writer):
    writer.write(records(payload(user_id="a"), payload(user_id="a"), payload(user_id="b"), payload(user_id=None)))
    scope = Scope(None, Period(None, None))
    assert api_totals(conn, scope).requests == 4
    customers = customer_list(conn, scope)
    assert dict(zip(customers["customer_id"], customers["requests"])) == {"a": 2, "b": 1}
    assert customers.filter(customers["customer_id"] == "a")["share"][0] == pytest.approx(50.0)


def test_rollups_match_raw_rows_over_periods_that_cut_through_days(conn, writer):
    stamps = ["2026-11-01 23:10:00", "2026-11-02 00:05:00", "2026-11-02 13:00:00", "2026-11-03 01:59:59", "2026-11-03 02:00:00"]
    writer.write(records(*(payload(user_id="a", timestamp=t) for t in stamps)))
    scope = Scope(None, Period(_ts("2026-11-01 23:00"), _ts("2026-11-03 02:00")))
    assert customer_list(conn, scope)["requests"].to_list() == [4]
    assert api_totals(conn, scope).requests == 4


def test_first_and_last_seen_hold_whatever_order_calls_arrive_in(conn, writer):
    writer.write(records(payload(user_id="a", timestamp="2026-11-05 10:00:00")))
    writer.write(records(payload(user_id="a", timestamp="2026-11-01 10:00:00")))
    row = customer_list(conn, Scope(None, Period(None, None))).row(0, named=True)
    assert (row["first_seen"], row["last_active"]) == (_ts("2026-11-01 10:00"), _ts("2026-11-05 10:00"))


def test_display_name_from_metadata_is_kept(conn, writer):
    p = payload(user_id=None, request_headers={"treblle-metadata": '{"user-id": "u9", "user-name": "Globex"}'})
    writer.write(records(p))
    assert customer_list(conn, Scope(None, Period(None, None)))["display_name"].to_list() == ["Globex"]


def test_an_unknown_api_key_writes_nothing_of_the_batch(conn, writer):
    with pytest.raises(UnknownApiKey):
        writer.write(records(payload(user_id="a"), payload(user_id="b", api_key="nobody")))
    assert conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == 0


def test_a_failed_batch_rolls_back_raw_rows_and_rollups(conn, writer):
    bad = records(payload(user_id="a"), payload(user_id="b"))
    bad[1] = bad[1]._replace(threat_level="extreme")  # violates the CHECK constraint
    with pytest.raises(Exception):
        writer.write(bad)
    counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("requests", "customers", "api_hourly")]
    assert counts == [0, 0, 0]
    writer.write(records(payload(user_id="a")))  # the writer still works afterwards
    assert customer_list(conn, Scope(None, Period(None, None)))["requests"].to_list() == [1]


def test_secrets_are_masked_in_stored_details(conn, writer):
    writer.write(records(payload(request_headers={"cookie": "session=SECRET-c"}, body={"password": "SECRET-p"})))
    details = request_detail(conn, 1, 1)
    assert "SECRET" not in details["request_headers"] + details["request_body"]


def _ts(text):
    from core.periods import parse_time

    return parse_time(text.replace(" ", "T") + ("Z" if len(text) > 10 else ""))


# --- Customer names: what a caller controls cannot rename a customer -----------------------------


def server_named(customer: str, name: str) -> dict:
    """A call the server names: its own response header says who and what (the caller sent no id)."""
    meta = json.dumps({"user-id": customer, "user-name": name})
    return payload(user_id=None, response_headers={"treblle-metadata": meta})


def caller_named(customer: str, name: str) -> dict:
    """The red team's call: the client's own request headers say who and what, over the server's
    response header naming someone else."""
    meta = json.dumps({"user-id": customer, "user-name": name})
    return payload(user_id=customer, request_headers={"treblle-metadata": meta}, response_headers={"treblle-user-id": "cust-A"})


def shown_names(conn) -> dict[str, str]:
    customers = customer_list(conn, Scope(None, Period(None, None)))
    return dict(zip(customers["customer_id"], customers["display_name"]))


def test_a_callers_request_never_renames_a_customer_the_server_named(conn, writer):
    writer.write(records(server_named("cust-B", "B Corp")))
    writer.write(records(caller_named("cust-B", "<b>Pwned</b> Corp")))
    writer.write(records(caller_named("cust-B", "Pwned again"), server_named("cust-B", "B Corporation"),
                         caller_named("cust-B", "Pwned in the same batch")))
    assert shown_names(conn) == {"cust-B": "B Corporation"}  # the server renames it; the caller never


def test_a_name_from_the_callers_request_names_a_customer_nothing_else_named_and_only_once(conn, writer):
    writer.write(records(caller_named("cust-B", "B Corp")))
    assert shown_names(conn) == {"cust-B": "B Corp"}
    writer.write(records(caller_named("cust-B", "<b>Pwned</b> Corp")))
    assert shown_names(conn) == {"cust-B": "B Corp"}
    writer.write(records(server_named("cust-B", "B Corporation")))
    assert shown_names(conn) == {"cust-B": "B Corporation"}


def test_an_analysts_name_wins_over_every_name_from_traffic(conn, writer):
    writer.write(records(server_named("cust-B", "B Corp")))
    save_display_name(conn, "cust-B", "Our friends at B")
    writer.write(records(server_named("cust-B", "B Corporation"), caller_named("cust-B", "<b>Pwned</b> Corp")))
    assert shown_names(conn) == {"cust-B": "Our friends at B"}
    save_display_name(conn, "cust-B", "")  # cleared: the name from traffic again, the server's
    assert shown_names(conn) == {"cust-B": "B Corporation"}


# --- Invisible characters: one rule on both servers ----------------------------------------------


def test_ids_lose_control_and_format_characters_alike_on_both_servers(conn, writer):
    writer.write(records(*(payload(user_id=sent) for sent in ("nul\0id", "nulid", "nul\ufffdid", "cust\u200bA", "custA",
                                                              "\ufeffcustA\u202e"))))
    customers = customer_list(conn, Scope(None, Period(None, None)))
    assert dict(zip(customers["customer_id"], customers["requests"])) == {"nulid": 2, "nul\ufffdid": 1, "custA": 3}


def test_a_nul_in_any_other_text_is_stored_as_the_replacement_character_on_both_servers(conn, writer):
    writer.write(records(payload(user_id="a", url="https://api.example.com/a\0b?q=c\0d", user_agent="curl\0/8")))
    assert conn.execute("SELECT path, query, user_agent FROM requests").fetchall() == [
        ("/a\ufffdb", "q=c\ufffdd", "curl\ufffd/8")]
