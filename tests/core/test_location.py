"""The client address and its location, looked up offline."""

import pytest

from core.location import Location, client_ip, location_of


def test_the_first_public_address_in_x_forwarded_for_is_the_client():
    assert client_ip("10.0.0.5", "10.1.1.1, 192.168.1.1, 81.2.69.160, 8.8.8.8") == "81.2.69.160"


def test_forwarded_entries_may_carry_ports_brackets_and_garbage():
    assert client_ip("10.0.0.5", "unknown, _hidden, 81.2.69.160:4711") == "81.2.69.160"
    assert client_ip("10.0.0.5", " [2a03:2880:f10c:83:face:b00c:0:25de]:443 ") == "2a03:2880:f10c:83:face:b00c:0:25de"
    assert client_ip("10.0.0.5", "2001:4860:4860::8888") == "2001:4860:4860::8888"


def test_without_a_public_forwarded_address_the_request_ip_is_the_client():
    assert client_ip("81.2.69.160", "10.0.0.1, 127.0.0.1") == "81.2.69.160"
    assert client_ip("81.2.69.160", None) == "81.2.69.160"
    assert client_ip("81.2.69.160", "") == "81.2.69.160"


def test_a_private_request_ip_is_still_the_client_when_nothing_better_is_known():
    assert client_ip("192.168.1.20", None) == "192.168.1.20"


def test_ipv4_mapped_ipv6_addresses_become_plain_ipv4():
    assert client_ip("::ffff:81.2.69.160", None) == "81.2.69.160"
    assert client_ip("10.0.0.1", "::ffff:8.8.8.8") == "8.8.8.8"


def test_no_address_at_all_is_none():
    assert client_ip(None, None) is None
    assert client_ip("  ", "") is None


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),
        ("81.2.69.160", "GB"),
        ("200.147.67.142", "BR"),
        ("2001:4860:4860::8888", "US"),  # IPv6 too
        ("::ffff:81.2.69.160", "GB"),
    ],
)
def test_public_addresses_get_their_iso_country(ip, country):
    assert location_of(ip).country == country


def test_the_city_is_none_without_a_city_database():
    assert location_of("8.8.8.8") == Location("US", None)


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "::1", "10.1.2.3", "172.16.5.4", "192.168.0.10", "169.254.1.1", "100.64.0.1", "fd00::1", "0.0.0.0"],
)
def test_private_loopback_and_reserved_addresses_have_no_location(ip):
    assert location_of(ip) == Location(None, None)


@pytest.mark.parametrize("ip", [None, "", "not-an-ip", "999.1.1.1"])
def test_missing_or_invalid_addresses_have_no_location(ip):
    assert location_of(ip) == Location(None, None)


def test_documentation_and_reserved_ranges_have_no_location():
    assert location_of("203.0.113.5") == Location(None, None)  # TEST-NET-3
    assert location_of("240.0.0.1") == Location(None, None)


def test_a_global_address_the_data_does_not_cover_has_no_country():
    # unallocated global unicast: geoip2fast answers "--", which is no country
    assert location_of("2d00::1") == Location(None, None)


def test_lookups_are_cached():
    location_of.cache_clear()
    location_of("8.8.8.8")
    location_of("8.8.8.8")
    assert location_of.cache_info().hits == 1


def test_another_geoip2fast_instance_in_the_process_does_not_break_ipv6_lookups():
    from geoip2fast import GeoIP2Fast

    location_of.cache_clear()
    assert location_of("2001:4860:4860::8888").country == "US"
    GeoIP2Fast(verbose=False)  # loads the IPv4-only default file into geoip2fast's globals
    location_of.cache_clear()
    assert location_of("2001:4860:4860::8888").country == "US"
    assert location_of("81.2.69.160").country == "GB"
