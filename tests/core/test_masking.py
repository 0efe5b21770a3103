"""Secrets are masked before anything is stored."""

from core.masking import MASK, mask_body, mask_headers, mask_query


def test_secret_headers_are_masked():
    masked = mask_headers({"authorization": "Bearer s", "cookie": "a=b", "set-cookie": "c", "x-api-key": "k", "accept": "*/*"})
    assert masked == {"authorization": MASK, "cookie": MASK, "set-cookie": MASK, "x-api-key": MASK, "accept": "*/*"}


def test_secret_fields_are_masked_at_any_depth_in_bodies():
    body = {"user": {"email": "a@b.c", "password": "hunter2", "cards": [{"card_number": "4111", "brand": "visa"}]}}
    assert mask_body(body) == {"user": {"email": "a@b.c", "password": MASK, "cards": [{"card_number": MASK, "brand": "visa"}]}}


def test_camel_case_secret_fields_are_masked():
    assert mask_body({"cardNumber": "4111", "apiKey": "k", "clientSecret": "s", "name": "x"}) == {
        "cardNumber": MASK, "apiKey": MASK, "clientSecret": MASK, "name": "x"
    }


def test_secret_query_parameters_are_masked():
    assert mask_query("q=shoes&api_key=abc&token=t") == f"q=shoes&api_key={MASK}&token={MASK}"


def test_ordinary_fields_are_left_alone():
    assert mask_body({"passenger": "Ann", "description": "secretly fine"}) == {"passenger": "Ann", "description": "secretly fine"}
