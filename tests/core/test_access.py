"""Who may enter, and where the dashboard may listen; a sign-in's session and whose it is."""

import pytest

from core.access import (
    CLOCK_SKEW_SECONDS,
    analyst_key,
    exposure_refusal,
    is_allowed,
    is_current,
    is_loopback,
    session_of,
)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), (None, False), ("10.0.0.5", False), ("dash.corp.example", False),
])
def test_only_loopback_addresses_are_private(host, loopback):
    assert is_loopback(host) is loopback


def test_off_loopback_the_dashboard_needs_a_sign_in_or_a_proxy_that_signs_in():
    assert exposure_refusal("127.0.0.1", sign_in=False, auth_proxy=False) is None
    refusal = exposure_refusal("0.0.0.0", sign_in=False, auth_proxy=False)
    assert "every interface" in refusal and "FOOTFALL_AUTH_PROXY=1" in refusal
    assert exposure_refusal("0.0.0.0", sign_in=True, auth_proxy=False) is None
    assert exposure_refusal("10.0.0.5", sign_in=False, auth_proxy=True) is None


@pytest.mark.parametrize(("email", "allowed"), [
    ("ana@corp.example", True), ("ANA@Corp.Example", True), ("bo@corp.example", True),
    ("eve@evil.example", False), ("ana@corp.example.evil", False), ("x@sub.corp.example", False),
    ("lee@partner.example", True), ("lea@partner.example", False), ("", False), (None, False), ("no-at-sign", False),
])
def test_an_analyst_enters_by_address_or_domain(email, allowed):
    assert is_allowed(email, ("@corp.example", "lee@partner.example"), email_verified=True) is allowed


def test_an_unverified_address_or_an_empty_list_lets_no_one_in():
    assert not is_allowed("ana@corp.example", ("@corp.example",), email_verified=False)
    assert not is_allowed("ana@corp.example", ())


@pytest.mark.parametrize(("email_verified", "admitted"), [
    (True, True), ("true", True), ("TRUE", True),
    (None, False), (False, False), ("false", False), ("False", False), ("yes", False), (1, False), ("", False),
])
def test_only_an_address_the_provider_verified_enters(email_verified, admitted):
    assert is_allowed("ana@corp.example", ("@corp.example",), email_verified) is admitted


@pytest.mark.parametrize(("email_verified", "admitted"), [(None, True), (True, True), (False, False), ("false", False)])
def test_a_provider_that_never_sends_email_verified_can_be_trusted_for_a_missing_claim_only(email_verified, admitted):
    assert is_allowed("ana@corp.example", ("@corp.example",), email_verified, assume_verified=True) is admitted


@pytest.mark.parametrize("email", [
    "eve@evil.example@corp.example", "a@b@c", "@corp.example", "ana@", "ana @corp.example", "ana@corp.example\n",
])
def test_anything_but_one_plain_address_is_refused(email):
    assert not is_allowed(email, ("@corp.example", "@c", "@corp.example\n"), email_verified=True)


CLAIMS = {"iss": "https://id.corp.example", "sub": "248289761001", "iat": 1_800_000_000, "nonce": "n-1",
          "email": "ana@corp.example", "email_verified": True}


def test_a_session_is_who_signed_in_and_when_and_each_sign_in_is_its_own():
    session = session_of(CLAIMS)
    assert (session.issuer, session.subject, session.issued_at) == ("https://id.corp.example", "248289761001", 1_800_000_000)
    assert session_of(dict(CLAIMS)).key == session.key  # every copy of the cookie: one session
    assert session_of({**CLAIMS, "nonce": "n-2"}).key != session.key  # the next sign-in
    assert session_of({**CLAIMS, "iat": CLAIMS["iat"] + 1}).key != session.key
    for missing in ("iss", "sub", "iat"):
        assert session_of({k: v for k, v in CLAIMS.items() if k != missing}) is None
    assert session_of({**CLAIMS, "iat": "1800000000"}) is None and session_of({**CLAIMS, "iat": float("inf")}) is None


def test_an_analyst_is_who_the_provider_says_not_the_address_typed():
    ana, twin = session_of(CLAIMS), session_of({**CLAIMS, "sub": "someone-else"})
    assert ana.analyst == analyst_key("https://id.corp.example", "248289761001") != twin.analyst
    assert session_of({**CLAIMS, "iss": "https://other.example"}).analyst != ana.analyst
    assert "ana@corp.example" not in ana.analyst


def test_a_session_lasts_its_lifetime_and_no_longer():
    session, hours = session_of(CLAIMS), 12 * 3600
    assert is_current(session, hours, now=CLAIMS["iat"])
    assert is_current(session, hours, now=CLAIMS["iat"] + hours - 1)
    assert not is_current(session, hours, now=CLAIMS["iat"] + hours)
    assert is_current(session, hours, now=CLAIMS["iat"] - CLOCK_SKEW_SECONDS)  # the provider's clock a little ahead
    assert not is_current(session, hours, now=CLAIMS["iat"] - CLOCK_SKEW_SECONDS - 1)
