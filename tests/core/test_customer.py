"""Who the customer is: first found wins, in the design's order."""

import orjson

from core.customer import Customer, identify_customer


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
    assert found == Customer("u3", "Acme Corp")
