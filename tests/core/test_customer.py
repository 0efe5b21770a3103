"""Who the customer is: first found wins, in the design's order."""

import orjson
import pytest

from core.customer import Customer, identify_customer
from core.payload import PayloadError


def test_metadata_user_id_wins_over_every_header():
    found = identify_customer(
        {"user-id": "meta"},
        {"treblle-metadata": orjson.dumps({"user-id": "req-meta"}).decode(), "treblle-user-id": "req"},
        {"treblle-user-id": "resp"},
    )
    assert found.customer_id == "meta"


def test_treblle_metadata_header_in_the_request_comes_before_the_response():
    found = identify_customer(
        {},
        {"treblle-metadata": '{"user-id": "req-meta"}'},
        {"treblle-metadata": '{"user-id": "resp-meta"}'},
    )
    assert found.customer_id == "req-meta"


def test_treblle_metadata_header_comes_before_treblle_user_id():
    found = identify_customer({}, {"treblle-user-id": "plain"}, {"treblle-metadata": '{"user-id": "resp-meta"}'})
    assert found.customer_id == "resp-meta"


def test_request_user_id_header_comes_before_the_response_one():
    assert identify_customer({}, {"treblle-user-id": "req"}, {"treblle-user-id": "resp"}).customer_id == "req"


def test_response_header_alone_identifies_the_customer():
    assert identify_customer({}, {}, {"treblle-user-id": "resp"}) == Customer("resp", None)


def test_a_call_with_no_id_is_unidentified():
    assert identify_customer({}, {"user-agent": "curl/8"}, {}) is None


def test_broken_metadata_header_is_skipped_not_fatal():
    assert identify_customer({}, {"treblle-metadata": "{not json", "treblle-user-id": "u1"}, {}).customer_id == "u1"


def test_blank_ids_do_not_count():
    assert identify_customer({"user-id": "  "}, {"treblle-user-id": ""}, {"treblle-user-id": "u2"}).customer_id == "u2"


def test_numeric_ids_become_text():
    assert identify_customer({"user-id": 1234}, {}, {}).customer_id == "1234"


def test_display_name_comes_from_metadata_user_name():
    found = identify_customer({}, {"treblle-metadata": '{"user-id": "u3", "user-name": "Acme Corp"}'}, {})
    assert found == Customer("u3", "Acme Corp", name_by_caller=True)  # the request's header: the caller's to say


# --- What the caller controls --------------------------------------------------------------------


def test_a_name_the_server_sets_comes_before_the_one_in_the_request():
    found = identify_customer({}, {"treblle-metadata": '{"user-id": "u4", "user-name": "<b>Pwned</b> Corp"}'},
                              {"treblle-metadata": '{"user-id": "u4", "user-name": "Acme Corp"}'})
    assert found == Customer("u4", "Acme Corp", name_by_caller=False)


def test_the_request_s_id_still_wins_but_the_name_beside_it_is_the_caller_s():
    found = identify_customer({}, {"treblle-user-id": "cust-B",
                                   "treblle-metadata": '{"user-id": "cust-B", "user-name": "<b>Pwned</b> Corp"}'},
                              {"treblle-user-id": "cust-A"})
    assert found == Customer("cust-B", "<b>Pwned</b> Corp", name_by_caller=True)


def test_a_server_name_for_another_user_id_names_nobody_else():
    found = identify_customer({}, {"treblle-metadata": '{"user-id": "cust-B"}'},
                              {"treblle-metadata": '{"user-id": "cust-A", "user-name": "Alice Corp"}'})
    assert found == Customer("cust-B", None)


def test_a_server_name_beside_an_id_the_caller_chose_is_the_caller_s():
    found = identify_customer({"user-name": "Alice Corp"}, {"treblle-user-id": "cust-B"}, {})
    assert found == Customer("cust-B", "Alice Corp", name_by_caller=True)


def test_a_server_id_with_a_server_name_is_the_server_s():
    found = identify_customer({"user-id": "cust-A", "user-name": "Alice Corp"}, {"treblle-user-id": "cust-B"}, {})
    assert found == Customer("cust-A", "Alice Corp", name_by_caller=False)


# --- Invisible characters ------------------------------------------------------------------------


@pytest.mark.parametrize("sent, kept", [
    ("nul\0id", "nulid"),
    ("cust\u200bA", "custA"),  # zero-width space
    ("\ufeffcust\u200dA\u202e", "custA"),  # byte order mark, zero-width joiner, right-to-left override
    ("cust\tA\n", "custA"),
    ("nul\ufffdid", "nul\ufffdid"),  # the replacement character is a visible one
    ("Zoë Café", "Zoë Café"),
])
def test_ids_and_names_lose_control_and_format_characters(sent, kept):
    found = identify_customer({"user-id": sent, "user-name": sent}, {}, {})
    assert (found.customer_id, found.name) == (kept, kept)


def test_an_id_of_invisible_characters_alone_is_no_id():
    assert identify_customer({"user-id": "\u200b\u200c\x00"}, {}, {"treblle-user-id": "u5"}).customer_id == "u5"


def test_a_long_id_is_refused_without_being_searched_character_by_character():
    with pytest.raises(PayloadError, match="at most 256"):
        identify_customer({"user-id": "\u200b" * 100_000 + "x"}, {}, {})
