"""core/otlp.py's mapping of a span to a Treblle payload, on what the collector tests do not reach
through a database: how a URL is put together from a span's parts, and which resource's spans
belong to which API."""

import pytest

from core.otlp import decode_traces, payloads_from_spans
from core.payload import parse_payload
from factories import CLIENT_SPAN, STABLE, otlp_json, otlp_protobuf, resource, span

KNOWN = {"key-a", "key-b"}


def mapped(*resources, header_key="key-a", encode=otlp_protobuf):
    return payloads_from_spans(decode_traces(encode(*resources), json=encode is otlp_json),
                               header_key=header_key, known_api=KNOWN.__contains__)


def call_of(attributes: dict):
    """The call the Treblle path reads from the payload of a span with these attributes."""
    (_, payload), = mapped(resource(span(attributes))).payloads
    return parse_payload(payload, received_at=1_795_176_000)


@pytest.mark.parametrize(("attributes", "scheme", "host", "path", "query"), [
    ({"server.address": "::1", "server.port": 8080, "url.scheme": "http"}, "http", "[::1]:8080", "/api/items/42", ""),
    ({"server.address": "api.example.com", "server.port": 443}, "https", "api.example.com", "/api/items/42", ""),
    ({"server.address": "api.example.com", "server.port": 8443}, "https", "api.example.com:8443", "/api/items/42", ""),
    ({"server.address": "bad host/with?parts", "url.path": "/x"}, None, None, "/x", ""),
    ({"server.address": "[not-an-address", "url.path": "/x"}, None, None, "/x", ""),
    ({"server.address": None, "url.path": "//evil.example.com/x"}, None, None, "//evil.example.com/x", ""),
    ({"server.address": None, "url.path": "relative", "url.query": "a=1"}, None, None, "/relative", "a=1"),
    ({"url.path": "/a#b", "url.query": "c=1"}, "https", "api.example.com", "/a%23b", "c=1"),
    ({"url.path": "/from-path", "http.target": "/from-target?t=1"}, "https", "api.example.com", "/from-path", "t=1"),
], ids=["ipv6 with port", "default port", "other port", "a host with a path in it", "a broken bracket",
        "a path that looks like a host", "a path without its slash", "a # in the path", "url.path before http.target"])
def test_a_url_is_put_together_so_that_the_treblle_path_reads_back_each_part(attributes, scheme, host, path, query):
    call = call_of(attributes)
    assert (call.scheme, call.host, call.path, call.query) == (scheme, host, path, query)


def test_several_values_of_a_captured_header_are_kept_as_a_list_and_one_as_text():
    call = call_of({"http.request.header.accept": ["a", "b"], "http.request.header.x_one": ["1"],
                    "http.request.header.x_number": 7})
    assert call.request_headers == {"accept": ["a", "b"], "x-one": "1", "x-number": "7"}


def test_each_resource_s_spans_go_to_the_api_its_key_names_checked_once_before_its_spans_are_read():
    asked = []
    traces = decode_traces(otlp_json(resource(span(), span()), resource(span(), api_key="key-b"),
                                     resource(span(), span(kind=CLIENT_SPAN), api_key="key-x")), json=True)
    result = payloads_from_spans(traces, header_key="key-a", known_api=lambda key: asked.append(key) or key in KNOWN)
    assert [p["project_id"] for _, p in result.payloads] == ["key-a", "key-a", "key-b"]
    assert [(r.where, r.for_key) for r in result.refused] == [("span 3", True)]
    assert result.skipped == 1 and result.named_api
    assert asked == ["key-a", "key-b", "key-x"]


@pytest.mark.parametrize(("resources", "header_key", "named"), [
    ([], None, False),
    ([], "key-a", True),
    ([resource(span())], None, False),
    ([resource(span(), api_key="key-x")], None, False),
    ([resource(span(), api_key="key-x"), resource(span(kind=CLIENT_SPAN), api_key="key-b")], None, True),
], ids=["nothing", "the header alone", "no key", "an unknown key", "one known key among others"])
def test_a_request_names_an_api_by_its_header_or_any_resource_s_registered_key(resources, header_key, named):
    assert mapped(*resources, header_key=header_key).named_api is named


def test_a_server_span_of_another_protocol_is_skipped():
    result = mapped(resource(span({"http.request.method": None, "rpc.system": "grpc"}, names=STABLE)))
    assert (result.payloads, result.refused, result.skipped) == ([], [], 1)
