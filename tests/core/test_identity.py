"""Identity rules (core/identity.py): who made a call that names no customer itself, from a header,
a bearer JWT's claim, an API key (mapped, else fingerprinted) or a query parameter; tried in order,
the call's own user id first; read before masking, the key rules' names masked after."""

import orjson
import pytest

from core.identity import (
    ApiIdentity, KeyMapError, MappedCustomer, RuleError, key_digest, parse_rule, parse_rules, read_key_map,
)
from core.payload import MAX_CUSTOMER_ID
from core.record import record_from_payload
from factories import bearer_jwt, keyed, payload

SECRET = b"s" * 32
NOW = 1_795_176_000.0


def identified(rules: list[str], mapped: dict[str, tuple] | None = None, *, user_id: str | None = None,
               url: str = "https://api.example.com/api/items/42", **headers):
    """The record of a call with these headers (underscores in the keyword as dashes), for an API
    with these rules; (customer_id, customer_name, name_by_caller)."""
    identity = ApiIdentity(parse_rules(rules), SECRET,
                           {key_digest(SECRET, k): MappedCustomer(*v) for k, v in (mapped or {}).items()})
    call = payload(user_id=user_id, url=url, request_headers={k.replace("_", "-"): v for k, v in headers.items()})
    return record_from_payload(call, received_at=NOW, identity=identity)


def customer(rules: list[str], mapped: dict[str, tuple] | None = None, **kwargs) -> str | None:
    return identified(rules, mapped, **kwargs).customer_id


# --- The rules, one by one ----------------------------------------------------------------------


def test_a_header_rule_names_the_customer_of_a_call_that_names_none():
    assert customer(["header:X-Customer-Id"], x_customer_id="acme") == "acme"


def test_a_header_rule_finds_its_header_written_with_dashes_or_underscores():
    assert customer(["header:x_customer_id"], x_customer_id="acme") == "acme"  # sent as x-customer-id
    assert customer(["header:x-tenant"], **{"x_tenant": "t1"}) == "t1"


def test_a_query_rule_takes_the_parameter_s_decoded_value():
    assert customer(["query:tenant"], url="https://api.example.com/v1/items?page=2&tenant=acme%20corp") == "acme corp"


def test_a_jwt_rule_reads_a_claim_of_the_bearer_token_without_verifying_it():
    token = bearer_jwt({"sub": "user-1", "org_id": "org-9", "name": "Ann Lee", "email": "ann@example.com"})
    record = identified(["jwt:org_id"], authorization=token)
    assert (record.customer_id, record.customer_name) == ("org-9", "Ann Lee")
    assert record.customer_name_by_caller  # unverified: the caller's to choose, it renames no one


def test_a_jwt_rule_takes_the_name_from_email_when_the_token_has_no_name():
    record = identified(["jwt:sub"], authorization=bearer_jwt({"sub": "user-1", "email": "ann@example.com"}))
    assert (record.customer_id, record.customer_name) == ("user-1", "ann@example.com")


def test_a_numeric_claim_is_the_customer_named_by_its_digits():
    assert customer(["jwt:tenant"], authorization=bearer_jwt({"tenant": 4711})) == "4711"


def test_a_key_rule_counts_a_mapped_key_under_its_customer_with_the_map_s_name():
    record = identified(["key:x-client"], {"ck_live_1": ("acme", "Acme Corp")}, x_client="ck_live_1")
    assert (record.customer_id, record.customer_name, record.customer_name_by_caller) == ("acme", "Acme Corp", False)


def test_a_key_mapped_to_no_customer_counts_under_a_keyed_fingerprint_never_the_key():
    record = identified(["key:x-client"], {"ck_live_1": ("acme", None)}, x_client="ck_other_2")
    assert record.customer_id == keyed(SECRET, "ck_other_2") and "ck_other_2" not in record.customer_id
    assert keyed(b"another database's key" * 2, "ck_other_2") != record.customer_id


def test_a_key_sent_as_a_bearer_credential_is_the_key_after_the_word():
    assert customer(["key:authorization"], {"ck_live_1": ("acme", None)}, authorization="Bearer ck_live_1") == "acme"


def test_a_key_in_the_query_is_read_by_key_query_rules_as_a_key_and_by_query_rules_as_an_id():
    url = "https://api.example.com/v1/items?client=ck_live_1"
    assert customer(["key:query:client"], {"ck_live_1": ("acme", None)}, url=url) == "acme"
    assert customer(["query:client"], url=url) == "ck_live_1"


def test_the_key_rules_headers_and_parameters_are_masked_where_their_names_give_nothing_away():
    record = identified(["key:x-client", "key:query:client"], x_client="ck_live_1", x_note="kept",
                        url="https://api.example.com/v1/items?client=ck_live_2&page=2")
    assert orjson.loads(record.request_headers)["x-client"] == "*****"
    assert orjson.loads(record.request_headers)["x-note"] == "kept"
    assert record.query == "client=*****&page=2"
    assert "ck_live" not in "".join(str(v) for v in record)


# --- Order, and what hands over to the next rule -----------------------------------------------------


def test_the_call_s_own_user_id_wins_over_every_rule():
    assert customer(["header:x-customer-id"], user_id="explicit", x_customer_id="acme") == "explicit"


def test_rules_are_tried_in_order_and_the_first_that_finds_a_customer_wins():
    rules = ["header:x-customer-id", "query:tenant"]
    url = "https://api.example.com/v1/items?tenant=t1"
    assert customer(rules, url=url, x_customer_id="acme") == "acme"
    assert customer(rules, url=url) == "t1"
    assert customer(list(reversed(rules)), url=url, x_customer_id="acme") == "t1"


def test_a_call_no_rule_finds_a_customer_in_is_unattributed():
    assert customer(["header:x-customer-id", "query:tenant", "jwt:sub", "key:x-client"]) is None


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b", "Bearer eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    "Bearer eyJhbGciOiJIUzI1NiJ9.WzEsMl0.c2ln",  # claims that are an array
    "Bearer eyJhbGciOiJub25lIn0.eyJvcmciOnsiaWQiOjF9fQ.",  # the claim is an object
    "Bearer eyJhbGciOiJub25lIn0.eyJvcmciOnRydWV9.",  # the claim is a boolean
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",  # no such claim
    "",
], ids=["opaque", "basic", "two parts", "not json", "array", "object claim", "boolean claim", "no claim", "empty"])
def test_a_token_that_gives_no_claim_to_use_means_the_next_rule(authorization):
    url = "https://api.example.com/v1/items?tenant=t1"
    assert customer(["jwt:org", "query:tenant"], url=url, authorization=authorization) == "t1"


def test_an_absent_or_empty_value_means_the_next_rule():
    url = "https://api.example.com/v1/items?tenant=&x=1"
    assert customer(["header:x-customer-id", "query:tenant", "header:x-team"], url=url, x_customer_id=" ",
                    x_team="team-1") == "team-1"


def test_an_id_over_its_cap_means_the_next_rule_not_a_refusal():
    long_id = "c" * (MAX_CUSTOMER_ID + 1)
    assert customer(["header:x-customer-id", "header:x-team"], x_customer_id=long_id, x_team="team-1") == "team-1"


def test_invisible_characters_leave_a_rule_s_customer_id_as_they_leave_any_other():
    assert customer(["header:x-customer-id"], x_customer_id="cust\u200bA\u0000") == "custA"


# --- Writing rules ---------------------------------------------------------------------------------


def test_each_kind_of_rule_reads_back_as_written():
    texts = ["header:x-customer-id", "jwt:https://example.com/org_id", "key:x-api-key", "key:query:api_key",
             "query:tenant"]
    assert [str(rule) for rule in parse_rules(texts)] == texts


def test_header_names_are_lower_cased_and_key_header_is_read_as_key():
    assert str(parse_rule("Header:X-Customer-Id")) == "header:x-customer-id"
    assert str(parse_rule("key:header:X-Client")) == "key:x-client"
    assert parse_rule("key:query:Client").name == "Client"  # a query parameter's name keeps its case


@pytest.mark.parametrize("text, says", [
    ("cookie:session", "is not a rule"), ("header", "is not a rule"), ("header:", "names nothing"),
    ("header:x customer", "is not a header name"), ("query:a=b", "no spaces, '&', '=' or '#'"),
    ("key:query:", "names nothing"), ("jwt: sub", "no spaces around it"), ("header:" + "x" * 300, "at most 256"),
])
def test_a_rule_footfall_does_not_read_is_refused_saying_why(text, says):
    with pytest.raises(RuleError, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(text)


def test_the_same_rule_twice_is_refused():
    with pytest.raises(RuleError, match="header:x-a is given twice"):
        parse_rules(["header:X-A", "header:x-a"])


# --- The key map's file ----------------------------------------------------------------------------


def test_a_key_map_takes_key_customer_and_name_and_a_later_row_for_a_key_wins():
    rows = read_key_map("\ufeffkey,customer_id,name\nck_1,acme,Acme Corp\nck_2,beta\n\nck_1,acme-2,\n")
    assert [(r.key, r.customer_id, r.name, r.line) for r in rows] == [("ck_2", "beta", None, 3),
                                                                       ("ck_1", "acme-2", None, 5)]


def test_a_key_map_with_bad_rows_is_refused_whole_naming_each_line_and_never_a_key():
    with pytest.raises(KeyMapError) as refused:
        read_key_map('ck_good,acme,Acme\nck_secret_1,,Nobody\n,beta\nck_secret_2\nck_secret_3,"' + "c" * 300 + '"\n')
    assert refused.value.problems == [
        "line 2: no customer_id in the second column", "line 3: no key in the first column",
        "line 4: 1 columns; write key,customer_id,name (name may be empty)",
        "line 5: the customer_id is 300 characters; a customer ID may have at most 256"]
    assert "ck_secret" not in str(refused.value)


def test_an_empty_key_map_is_refused():
    with pytest.raises(KeyMapError, match="holds no rows"):
        read_key_map("key,customer_id,name\n")
