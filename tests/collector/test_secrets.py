"""No secret reaches the database file: payloads carrying one real-looking secret of each kind go
through the real collector over HTTP, then the raw bytes of the database (SQLite's files, or
PostgreSQL's table files and write-ahead log) are searched for every secret value, and for the
ordinary values sent alongside them (which must be there). The secrets are masked by their names
and by their shapes, in headers, query strings, bodies of every kind, errors and paths, and no
endpoint is named after one."""

from types import SimpleNamespace

import httpx
import orjson
import pytest

from conftest import start_collector, stop
from db.connection import connect, is_postgres
from db.queries.details import unpacked
from db.writes.apis import add_api
from factories import API_KEY, format_b, payload
from stored_bytes import stored_bytes

AWS_KEY_ID = "AKIAQX7ZSECRET9KEYID"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRET9aws"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjdXNfOTkifQ.Zq3sSECRET9jwtSig"
STRIPE_KEY = "sk_live_51NqSECRET9stripeKey"
CARD = "4242424242424242"
CVC = "7391"
OTP = "482913"
PIN = "5820"
SESSION_COOKIE = "sess_SECRET9cookieValue"
SESSION_TOKEN = "st_SECRET9sessionToken"
AMZ_SIGNATURE = "9c1f5e6d0b7a4c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"
AMZ_TOKEN = "FwoGZXIvYXdzSECRET9securityToken"
LOCATION_SIGNATURE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
REFERER_TOKEN = "rst_SECRET9resetToken"
FORM_PASSWORD = "correct-horse-SECRET9-battery"
FORM_CLIENT_SECRET = "cs_live_SECRET9clientSecret"
JSON_STRING_REFRESH = "rt_SECRET9refreshToken"
OAUTH_ACCESS = "at_SECRET9accessToken"
LINK_TOKEN = "lt_SECRET9linkToken"
NEW_PASSWORD = "N3w-SECRET9-password"
LOYALTY = "LOYAL-SECRET9-771204"  # masked only because the operator named loyalty_number
INTERNAL_REF = "IREF-SECRET9-55"  # the operator's header x-internal-ref
# Masked by where they are or by their shape, whatever their name
SUBSCRIPTION_KEY = "apimSECRET9subscriptionKey"  # Ocp-Apim-Subscription-Key
FUNCTIONS_KEY = "fnSECRET9functionsKey"  # x-functions-key
UPSTREAM_BEARER = "upSECRET9bearerToken"  # a header whose value is Bearer ...
REFERER_PASSWORD = "refSECRET9userinfoPw"  # https://user:password@host in a Referer
LOCATION_RESET = "locSECRET9resetToken"  # a reset token in a Location's path
FORM_SPACED = "formSECRET9 with a space"  # a form body whose values hold spaces
MULTIPART_PASSWORD = "mpSECRET9partPassword"
XML_PASSWORD = "xmlSECRET9password"
XML_ATTRIBUTE = "xmlattrSECRET9token"
QUERY_OBJECT_TOKEN = "qobjSECRET9accessToken"  # a query sent as an object
SEMICOLON_TOKEN = "semiSECRET9token"  # ?a=1;token=
QUERY_KEY = "AIzaSECRET9googleKey"  # ?key=
QUERY_BEARER = "qbearerSECRET9value"  # ?bearer=
QUERY_CODE = "qcodeSECRET9oauthCode"  # ?code=
PLAIN_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjdXNfNDIifQ.plainSECRET9jwtSignature"  # a JWT under a plain name
PLAIN_CARD = "5555555555554444"  # a card number under a plain name ({"number": ...})
PLAIN_TOKEN = "pR4xK9mQ2vN7bT3wSECRET9yZ6hJ1cL8fD5gA0e"  # a long random token under a plain name
PATH_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.pathSECRET9verifySig"  # /v1/verify/<JWT>
PATH_RESET = "rstSECRET9pathToken42"  # /v1/password/reset/<token>
ERROR_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlcnIifQ.errSECRET9jwtSig"  # in an error's message
ERROR_PASSWORD = "errSECRET9password"  # password=... in an error's message
ERROR_KEY = "errSECRET9apiKey"  # a secret-named key in an error's context
ERROR_DB_PASSWORD = "errSECRET9dbPassword"  # a connection URL's password in an error's context

SECRETS = [AWS_KEY_ID, AWS_SECRET, JWT, STRIPE_KEY, CARD, OTP, SESSION_COOKIE, SESSION_TOKEN, AMZ_SIGNATURE, AMZ_TOKEN,
           LOCATION_SIGNATURE, REFERER_TOKEN, FORM_PASSWORD, FORM_CLIENT_SECRET, JSON_STRING_REFRESH, OAUTH_ACCESS,
           LINK_TOKEN, NEW_PASSWORD, LOYALTY, INTERNAL_REF,
           SUBSCRIPTION_KEY, FUNCTIONS_KEY, UPSTREAM_BEARER, REFERER_PASSWORD, LOCATION_RESET, FORM_SPACED,
           MULTIPART_PASSWORD, XML_PASSWORD, XML_ATTRIBUTE, QUERY_OBJECT_TOKEN, SEMICOLON_TOKEN, QUERY_KEY, QUERY_BEARER,
           QUERY_CODE, PLAIN_JWT, PLAIN_CARD, PLAIN_TOKEN, PATH_JWT, PATH_RESET, ERROR_JWT, ERROR_PASSWORD, ERROR_KEY,
           ERROR_DB_PASSWORD]
SHORT_SECRETS = [CVC, PIN]  # too short to search bare: searched as the JSON strings they were sent as
MARKERS = ["MARKER-note-json", "MARKER-form-user", "MARKER-jsonstring-note", "X-Amz-Date=20261120T120000Z",
           "MARKER-query", "MARKER-header", "MARKER-location-file", "MARKER-customer-name", "MARKER-referer-step", "Bearer",
           "MARKER-form-spaced user", "MARKER-multipart-note", "MARKER-xml-user", "MARKER-error-type", "MARKER-query-semi",
           "app.example.com/MARKER-referer-page", "MARKER-query-object",
           # ids, timestamps and hashes that are not secrets, whatever their shape
           "550e8400-e29b-41d4-a716-446655440000", "507f1f77bcf86cd799439011", "1732104000002",
           "3f786850e387550fdab836ed7e6dc881de23001b"]
ENDPOINTS = ["/v1/verify/{token}", "/v1/password/reset/{token}"]  # the paths with tokens name these

PRESIGNED = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AWS_KEY_ID}%2F20261120%2Fus-east-1%2Fs3%2Faws4_request"
             f"&X-Amz-Date=20261120T120000Z&X-Amz-Expires=900&X-Amz-Security-Token={AMZ_TOKEN}"
             f"&X-Amz-SignedHeaders=host&X-Amz-Signature={AMZ_SIGNATURE}")


def payloads() -> list[dict]:
    """Calls in both wire formats, with each kind of secret in its usual place."""
    return [
        # JSON body: cloud keys, card data, a one-time code, nested camelCase, an operator's name
        payload(method="POST", url="https://api.example.com/api/accounts?MARKER-query=1",
                request_headers={"authorization": f"Bearer {JWT}", "x-api-key": STRIPE_KEY,
                                 "x-internal-ref": INTERNAL_REF, "x-note": "MARKER-header"},
                body={"aws_access_key_id": AWS_KEY_ID, "aws_secret_access_key": AWS_SECRET, "secret_key": STRIPE_KEY,
                      "card": {"cardNumber": CARD, "cvc": CVC, "brand": "visa"}, "otp": OTP, "pin": PIN,
                      "user": {"profile": {"newPassword": NEW_PASSWORD}}, "loyalty_number": LOYALTY,
                      "note": "MARKER-note-json"}),
        # a session cookie, a session token header, a reset link in the Referer
        payload(request_headers={"cookie": f"sessionid={SESSION_COOKIE}; theme=dark", "x-session-token": SESSION_TOKEN,
                                 "referer": f"https://app.example.com/reset?token={REFERER_TOKEN}&step=MARKER-referer-step"}),
        # a presigned S3 URL as the request's query, and in a Location response header
        payload(url=f"https://api.example.com/api/files/f.pdf?{PRESIGNED}", status=302,
                response_headers={"location": f"https://bucket.s3.amazonaws.com/MARKER-location-file.pdf?X-Amz-Expires=60"
                                              f"&X-Amz-Signature={LOCATION_SIGNATURE}",
                                  "link": f"<https://api.example.com/api/files?page=2&access_token={LINK_TOKEN}>; rel=next"}),
        # a form-encoded body sent as a string
        payload(method="POST", url="https://api.example.com/oauth/token",
                body=f"grant_type=password&username=MARKER-form-user&password={FORM_PASSWORD}"
                     f"&client_secret={FORM_CLIENT_SECRET}"),
        # a JSON body sent as a JSON string, and an OAuth token response
        format_b(metadata={"user-id": "cus_b", "user-name": "MARKER-customer-name"}, method="POST",
                 url="https://api.example.com/oauth/refresh",
                 body=orjson.dumps({"refresh_token": JSON_STRING_REFRESH, "note": "MARKER-jsonstring-note"}).decode()),
        with_response_body(
            payload(method="POST", url="https://api.example.com/oauth/token", body={"grant_type": "client_credentials"},
                    response_headers={"set-cookie": f"sessionid={SESSION_COOKIE}; HttpOnly"}),
            {"access_token": OAUTH_ACCESS, "token_type": "Bearer", "expires_in": 3600}),
        *secrets_by_place_and_shape(),
    ]


def secrets_by_place_and_shape() -> list[dict]:
    """Calls carrying secrets that no name gave away before: header names ending in key, bearer
    values, URLs with a password or a token path, every kind of text body, a query of every form,
    secret shapes under plain names, tokens in paths, and errors."""
    object_query = payload(url="https://api.example.com/api/search")
    object_query["data"]["request"]["query"] = {"q": "MARKER-query-object", "filter": {"access_token": QUERY_OBJECT_TOKEN}}
    multipart = (f'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nMARKER-multipart-note\r\n'
                 f'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\n{MULTIPART_PASSWORD}\r\n--b--\r\n')
    return [
        payload(url=f"https://api.example.com/api/search?a=1;token={SEMICOLON_TOKEN}&key={QUERY_KEY}"
                    f"&bearer={QUERY_BEARER}&code={QUERY_CODE}&q=MARKER-query-semi",
                request_headers={"ocp-apim-subscription-key": SUBSCRIPTION_KEY, "x-functions-key": FUNCTIONS_KEY,
                                 "x-upstream": f"Bearer {UPSTREAM_BEARER}",
                                 "referer": f"https://bob:{REFERER_PASSWORD}@app.example.com/MARKER-referer-page"},
                response_headers={"location": f"https://app.example.com/password/reset/{LOCATION_RESET}"}),
        object_query,
        payload(method="POST", url="https://api.example.com/oauth/login",
                body=f"username=MARKER-form-spaced user&password={FORM_SPACED}"),
        payload(method="POST", url="https://api.example.com/api/upload", body=multipart),
        payload(method="POST", url="https://api.example.com/soap/login",
                body=f'<login><user>MARKER-xml-user</user><password>{XML_PASSWORD}</password>'
                     f'<session token="{XML_ATTRIBUTE}"/></login>'),
        payload(method="POST", url="https://api.example.com/api/payments",
                body={"note": PLAIN_JWT, "card": {"number": PLAIN_CARD}, "value": PLAIN_TOKEN,
                      "order_id": "550e8400-e29b-41d4-a716-446655440000", "owner": "507f1f77bcf86cd799439011",
                      "created_ms": 1732104000002, "etag": "3f786850e387550fdab836ed7e6dc881de23001b"}),
        payload(url=f"https://api.example.com/v1/verify/{PATH_JWT}"),
        payload(url=f"https://api.example.com/v1/password/reset/{PATH_RESET}", status=500,
                errors=[{"message": f"invalid token {ERROR_JWT}; retried with password={ERROR_PASSWORD}",
                         "type": "MARKER-error-type", "file": "/app/src/Auth.php", "line": 42,
                         "context": {"api_key": ERROR_KEY, "db": f"postgres://app:{ERROR_DB_PASSWORD}@db:5432/app"}}]),
    ]


def with_response_body(call: dict, body) -> dict:
    call["data"]["response"]["body"] = body
    return call


def database_bytes(conn, db_path) -> bytes:
    """The raw bytes of the database and its WAL, after a checkpoint (on PostgreSQL: the
    database's files and the server's write-ahead log, tests/stored_bytes.py), with the texts its
    packed details hold."""
    if not is_postgres(db_path):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return stored_bytes(db_path)


def send(url: str, calls: list[dict]) -> None:
    reply = httpx.post(url + "/v1/log", content=orjson.dumps(calls), headers={"content-type": "application/json"},
                       timeout=10)
    assert reply.status_code == 200 and reply.json() == {"accepted": len(calls)}, reply.text


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def masking(request, tmp_path_factory):
    """The real collector, with names an operator added through FOOTFALL_MASKED_NAMES, on a database
    of the module's."""
    if request.param == "sqlite":
        db = tmp_path_factory.mktemp("secrets") / "footfall.db"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        db = cluster.create_database(template=cluster.template)
    conn = connect(db)
    add_api(conn, "Test API", API_KEY)
    process, url = start_collector(db, workers=1, FOOTFALL_MASKED_NAMES="loyalty_number, X-Internal-Ref")
    yield SimpleNamespace(url=url, conn=conn, db=db)
    stop(process)
    conn.close()
    if request.param == "postgresql":
        cluster.drop_database(db)


def test_no_secret_value_reaches_the_database_file(masking):
    calls = payloads()
    sent = orjson.dumps(calls)
    assert all(s.encode() in sent for s in SECRETS + MARKERS)  # the payloads do carry them
    before = masking.conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    send(masking.url, calls)
    assert masking.conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0] == before + len(calls)
    raw = database_bytes(masking.conn, masking.db)
    assert [m for m in MARKERS + ENDPOINTS if m.encode() not in raw] == []  # what is ordinary is stored
    assert [s for s in SECRETS if s.encode() in raw] == []
    assert [s for s in SHORT_SECRETS if f'"{s}"'.encode() in raw] == []
    assert raw.count(b"*****") >= len(SECRETS)


def test_stored_details_keep_their_shape_with_the_secrets_masked(masking):
    conn = masking.conn
    send(masking.url, payloads())
    stored = conn.execute("SELECT r.query, d.dictionary_id, d.details FROM requests r"
                          " JOIN request_details d ON d.request_id = r.id ORDER BY r.id").fetchall()
    details = unpacked(conn, [(dictionary_id, packed) for _, dictionary_id, packed in stored])
    rows = [(query, d["request_body"], d["response_headers"]) for (query, _, _), d in zip(stored, details)]
    by_body = {body: (query, headers) for query, body, headers in rows}
    form = orjson.dumps("grant_type=password&username=MARKER-form-user&password=*****&client_secret=*****").decode()
    assert form in by_body
    assert orjson.dumps({"refresh_token": "*****", "note": "MARKER-jsonstring-note"}).decode() in by_body
    query, headers = next((query, headers) for query, _, headers in rows if "X-Amz" in query)
    assert "X-Amz-Credential=*****" in query and "X-Amz-Signature=*****" in query and "X-Amz-Expires=900" in query
    assert orjson.loads(headers)["location"].endswith("?X-Amz-Expires=60&X-Amz-Signature=*****")
    xml = next(body for body in by_body if "MARKER-xml-user" in body)
    assert orjson.loads(xml) == '<login><user>MARKER-xml-user</user><password>*****</password><session token="*****"/></login>'
    paths = dict(conn.execute("SELECT path, endpoint FROM requests WHERE path LIKE '/v1/%'").fetchall())
    assert paths == {"/v1/verify/*****": "/v1/verify/{token}", "/v1/password/reset/*****": "/v1/password/reset/{token}"}


def test_an_operator_s_names_are_masked_only_when_the_operator_names_them(collector, conn, db_path):
    send(collector, payloads()[:1])
    raw = database_bytes(conn, db_path)
    assert LOYALTY.encode() in raw and INTERNAL_REF.encode() in raw
    assert [s for s in SECRETS if s.encode() in raw and s not in (LOYALTY, INTERNAL_REF)] == []
