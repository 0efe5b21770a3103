"""The exact payloads the real SDKs sent (tests/sdk/samples/, see its README) import correctly.

A fast, Node-free check of the same facts as test_sdk_compat.py, on frozen bytes: the times
(UTC from the Node SDKs whatever timezone they report; New York wall clock from Django), the
load-time units (microseconds from Node, milliseconds from Django), customers from request or
response headers, and the secret headers the SDKs pass through unmasked.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.harness import Footfall

pytestmark = pytest.mark.sdk

SAMPLES = Path(__file__).resolve().parent / "samples"
SDKS = ["treblle-express", "treblle-node", "treblle-django"]
SECRETS = ["SECRET-auth-123", "SECRET-cookie-456", "SECRET-apikey-789", "SECRET-pw-000", "SECRET-set-cookie-from-app"]

# What Footfall must make of each sample: (POST /api/orders by cust-alice, GET profile by cust-bob).
EXPECTED = {
    "treblle-express": [
        {"time": "2026-11-25T06:33:18Z", "load_time_ms": 18.118, "endpoint": "/api/orders"},
        {"time": "2026-11-25T06:33:19Z", "load_time_ms": 2.420, "endpoint": "/api/users/{id}/profile"},
    ],
    "treblle-node": [
        {"time": "2026-11-25T06:33:20Z", "load_time_ms": 34.436, "endpoint": "/api/orders"},
        {"time": "2026-11-25T06:33:21Z", "load_time_ms": 2.127, "endpoint": "/api/users/{id}/profile"},
    ],
    # Django's "2026-11-25 01:33:23" is New York time (server.timezone), i.e. 06:33:23 UTC.
    "treblle-django": [
        {"time": "2026-11-25T06:33:23Z", "load_time_ms": 0.98, "endpoint": "/api/orders"},
        {"time": "2026-11-25T06:33:24Z", "load_time_ms": 0.46, "endpoint": "/api/users/{user_id}/profile"},
    ],
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Footfall:
    workdir = tmp_path_factory.mktemp("samples")
    footfall = Footfall(workdir / "footfall.db")
    lines = []
    for sdk in SDKS:
        for name in (f"{sdk}.json", f"{sdk}-response-user-id.json"):
            payload = json.loads((SAMPLES / name).read_text())
            lines.append(json.dumps(payload))
        footfall.run("apis", "add", f"{sdk} samples", "--api-key", payload["project_id"])
    (workdir / "samples.jsonl").write_text("\n".join(lines) + "\n")
    footfall.run("import", str(workdir / "samples.jsonl"))
    return footfall


def api_key(sdk: str) -> str:
    return json.loads((SAMPLES / f"{sdk}.json").read_text())["project_id"]


def test_customer_from_request_header_and_from_response_header(imported):
    counts = {row["customer_id"]: row["requests"] for row in imported.customers()}
    assert counts == {"cust-alice": 3, "cust-bob": 3}


@pytest.mark.parametrize("sdk", SDKS)
def test_time_load_time_and_endpoint(imported, sdk):
    [order] = imported.json("requests", "--customer", "cust-alice", "--api", api_key(sdk))
    [profile] = imported.json("requests", "--customer", "cust-bob", "--api", api_key(sdk))
    for row, expected in zip((order, profile), EXPECTED[sdk]):
        assert row["time"] == expected["time"], row
        assert row["load_time_ms"] == pytest.approx(expected["load_time_ms"], abs=0.002), row
        assert row["endpoint"] == expected["endpoint"], row


@pytest.mark.parametrize("sdk", SDKS)
def test_enrichment(imported, sdk):
    [order] = imported.json("requests", "--customer", "cust-alice", "--api", api_key(sdk))
    [profile] = imported.json("requests", "--customer", "cust-bob", "--api", api_key(sdk))
    assert (order["method"], order["status"], order["device"], order["country"]) == ("POST", 201, "mobile", "GB")
    assert order["threat_level"] == "low" and order["ai_agent"] is None
    assert (profile["method"], profile["status"], profile["country"], profile["ai_agent"]) == ("GET", 200, "US", "GPTBot")
    assert profile["threat_level"] == "medium", profile  # no Authorization header


def test_no_secret_from_the_samples_is_stored(imported):
    for path in imported.db.parent.glob("footfall.db*"):
        raw = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in raw, f"{secret} stored in {path.name}"
