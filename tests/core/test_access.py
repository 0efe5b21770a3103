"""Who may enter, and where the dashboard may listen."""

import pytest

from core.access import exposure_refusal, is_allowed, is_loopback


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
    assert is_allowed(email, ("@corp.example", "lee@partner.example")) is allowed


def test_an_unverified_address_or_an_empty_list_lets_no_one_in():
    assert not is_allowed("ana@corp.example", ("@corp.example",), email_verified=False)
    assert not is_allowed("ana@corp.example", ())
