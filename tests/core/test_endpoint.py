"""Endpoint names group calls by route template: identifiers in paths become {id}, secrets {token}."""

import pytest

from core.endpoint import endpoint_name

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
       ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")


def test_a_numeric_id_becomes_a_placeholder():
    assert endpoint_name("/api/items/1") == "/api/items/{id}"


def test_calls_to_the_same_route_share_one_name():
    assert endpoint_name("/api/users/42/orders") == endpoint_name("/api/users/7/orders") == "/api/users/{id}/orders"


@pytest.mark.parametrize(
    "segment",
    [
        "550e8400-e29b-41d4-a716-446655440000",  # UUID
        "550e8400e29b41d4a716446655440000",  # UUID without dashes
        "507f1f77bcf86cd799439011",  # Mongo ObjectId (hex)
        "3f786850e387550fdab836ed7e6dc881de23001b",  # sha1
        "a1b2c3d4",  # short hex id with a digit
        "01ARZ3NDEKTSV4RRFFQ69G5FAV",  # ULID
        "aGVsbG8gd29ybGQxMjM0NTY3OA==",  # base64
        "Xy9-abcdefGHIJ12kl_Q",  # base64url token
        "cus_NffrFeUfNV2Hib",  # Stripe-style prefixed id
        "usr_8f7a6s5d",
        "jane.doe@example.com",  # e-mail
        "jane.doe%40example.com",  # e-mail, percent-encoded
    ],
)
def test_identifiers_become_placeholders(segment):
    assert endpoint_name(f"/api/things/{segment}/details") == "/api/things/{id}/details"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders",
        "/api/v2/users/me",
        "/docs/getting-started-2024",
        "/authenticationv2/user_profile2",
        "/deadbeef/feed",  # hex letters without a digit: a word
        "/reports/2024-01-15",  # dates are kept
        "/api/1.0/status",  # a version, not an id
    ],
)
def test_ordinary_words_versions_and_slugs_are_kept(path):
    assert endpoint_name(path) == path


def test_the_query_string_and_fragment_are_dropped():
    assert endpoint_name("/api/items/5?expand=true#top") == "/api/items/{id}"


def test_a_trailing_slash_is_dropped():
    assert endpoint_name("/api/items/") == "/api/items"


def test_the_root_stays_a_slash():
    assert endpoint_name("/") == "/"


def test_an_empty_path_is_the_root():
    assert endpoint_name("") == "/"


def test_repeated_slashes_collapse_and_a_leading_slash_is_added():
    assert endpoint_name("api//items//7") == "/api/items/{id}"


def test_a_full_url_is_reduced_to_its_path():
    assert endpoint_name("https://api.example.com/api/items/9?x=1") == "/api/items/{id}"


def test_an_identifier_with_a_format_suffix_keeps_the_suffix():
    assert endpoint_name("/api/items/42.json") == "/api/items/{id}.json"


def test_the_sdk_route_path_wins_with_a_leading_slash():
    assert endpoint_name("/api/users/5/orders", "api/users/{user_id}/orders") == "/api/users/{user_id}/orders"


def test_a_route_path_keeps_a_single_leading_slash_and_drops_a_trailing_one():
    assert endpoint_name("/x", "/api/users/{user_id}/") == "/api/users/{user_id}"


def test_django_and_express_route_syntax_becomes_braces():
    assert endpoint_name("/x", "api/users/<int:user_id>/orders/<slug>") == "/api/users/{user_id}/orders/{slug}"
    assert endpoint_name("/x", "/users/:id") == "/users/{id}"


def test_a_blank_route_path_falls_back_to_the_path():
    assert endpoint_name("/api/items/3", "  ") == "/api/items/{id}"
    assert endpoint_name("/api/items/3", None) == "/api/items/{id}"


def test_names_are_cached():
    endpoint_name.cache_clear()
    endpoint_name("/api/items/1")
    endpoint_name("/api/items/1")
    assert endpoint_name.cache_info().hits == 1


@pytest.mark.parametrize("token", [JWT, "Xk29sLpQmZ8rTvB4nWcY", "c2z3l1-3e1f3b1c6b2f0e9b8a7d",
                                   "550e8400-e29b-41d4-a716-446655440000"])
def test_every_token_after_a_secret_word_gives_one_endpoint_with_a_token_placeholder(token):
    assert endpoint_name(f"/v1/verify/{token}") == "/v1/verify/{token}"
    assert endpoint_name(f"/v1/password/reset/{token}?lang=en") == "/v1/password/reset/{token}"


def test_a_secret_anywhere_in_a_path_becomes_a_token_placeholder_keeping_a_format_suffix():
    assert endpoint_name(f"/v1/sessions/{JWT}/refresh") == "/v1/sessions/{token}/refresh"
    assert endpoint_name("/files/q7Rt2KpX9vLm4NbZ8wYc3HsJ6dFg1Ue5Wa0Ti.pdf") == "/files/{token}.pdf"
    assert endpoint_name("/cards/4111111111111111/charges") == "/cards/{token}/charges"


def test_a_path_stored_masked_names_the_same_endpoint_as_the_path_sent():
    assert endpoint_name("/v1/verify/*****") == endpoint_name(f"/v1/verify/{JWT}") == "/v1/verify/{token}"
    assert endpoint_name("/files/*****.pdf") == "/files/{token}.pdf"


def test_a_route_path_holding_a_token_is_masked_too():
    assert endpoint_name("/x", f"/v1/verify/{JWT}") == "/v1/verify/{token}"
    assert endpoint_name("/x", "api/verify/<str:token>") == "/api/verify/{token}"
