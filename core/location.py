"""Location: the client's address, and its country (city where the data has it), offline.

The client is the first public address in `X-Forwarded-For`, else the address the SDK saw
(`request.ip`). The lookup uses geoip2fast's bundled data (IPv4 and IPv6 countries); its city
data file is not shipped, so `city` is None unless a city database is installed. Private,
loopback, reserved and invalid addresses have no location.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache

from core.payload import MAX_FORWARDED_FOR, MAX_IP

# geoip2fast's bundled files: countries for IPv4 and IPv6; the IPv4-only file as a fallback.
DATA_FILES = ("geoip2fast-ipv6.dat.gz", "geoip2fast.dat.gz")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a client IP is: country code and, where known, city."""

    country: str | None
    city: str | None


NOWHERE = Location(None, None)

_geoip = None
_geoip_data = None
_geoip_lock = threading.Lock()


def client_ip(request_ip: str | None, forwarded_for: str | None) -> str | None:
    """The first public address in X-Forwarded-For (entries may carry ports, IPv6 brackets or
    garbage), else request_ip. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) comes back as plain IPv4.
    Reads the first MAX_IP characters of request_ip and MAX_FORWARDED_FOR of X-Forwarded-For, so
    the address it gives has at most MAX_IP."""
    if request_ip is not None and len(request_ip) > MAX_IP:
        request_ip = request_ip[:MAX_IP]
    if forwarded_for is not None and len(forwarded_for) > MAX_FORWARDED_FOR:
        forwarded_for = forwarded_for[:MAX_FORWARDED_FOR]
    return _client_ip(request_ip, forwarded_for)


@lru_cache(maxsize=16384)  # the same clients and proxy chains repeat; keys of at most 64 + 512 characters
def _client_ip(request_ip: str | None, forwarded_for: str | None) -> str | None:
    if forwarded_for:
        for entry in forwarded_for.split(","):
            address = _parse_address(entry)
            if address is not None and address.is_global:
                return str(address)
    if not request_ip or not request_ip.strip():
        return None
    address = _parse_address(request_ip)
    return str(address) if address is not None else request_ip.strip()


client_ip.cache_info = _client_ip.cache_info  # the cache behind it
client_ip.cache_clear = _client_ip.cache_clear


def location_of(ip: str | None) -> Location:
    """The location of a public IP address (geoip2fast, offline); nothing for private ones (nor for
    text longer than MAX_IP, which is no address)."""
    if not ip or len(ip) > MAX_IP:
        return NOWHERE
    return _location_of(ip)


@lru_cache(maxsize=65536)  # keys of at most MAX_IP characters
def _location_of(ip: str) -> Location:
    address = _parse_address(ip)
    if address is None or not address.is_global:
        return NOWHERE
    result = _lookup(str(address))
    if result is None:
        return NOWHERE
    country = getattr(result, "country_code", None)
    country = country.upper() if isinstance(country, str) and len(country) == 2 and country.isalpha() else None
    city = getattr(getattr(result, "city", None), "name", None)
    city = city.strip() if isinstance(city, str) and city.strip() and not city.startswith("<") else None
    return Location(country, city)


location_of.cache_info = _location_of.cache_info  # the cache behind it
location_of.cache_clear = _location_of.cache_clear


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:443`, `2001:db8::1`, `::ffff:1.2.3.4`; None for
    anything else (`unknown`, hostnames, obfuscated `_hidden` identifiers)."""
    text = text.strip().strip('"').strip()
    if not text:
        return None
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]  # IPv6 zone id
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _lookup(ip: str):
    try:
        return _geoip_instance().lookup(ip)
    except Exception:  # noqa: BLE001 - a bad lookup means no location, never a failed ingest
        return None


def _geoip_instance():
    """The loaded GeoIP2Fast. geoip2fast keeps its data in module globals, shared by every
    instance: another GeoIP2Fast() in the process (say, with the IPv4-only default file) swaps
    the data under ours. So check that the loaded data is still ours, and reload it if not (the
    IPv6 file answers IPv4 exactly like the default one, so the other instance loses nothing)."""
    global _geoip, _geoip_data
    module = sys.modules.get("geoip2fast.geoip2fast")
    if _geoip is None or getattr(module, "mainListFirstIP", None) is not _geoip_data:
        with _geoip_lock:
            module = sys.modules.get("geoip2fast.geoip2fast")
            if _geoip is None or getattr(module, "mainListFirstIP", None) is not _geoip_data:
                _geoip = _load()
                _geoip_data = getattr(sys.modules.get("geoip2fast.geoip2fast"), "mainListFirstIP", None)
    return _geoip


def _load():
    from geoip2fast import GeoIP2Fast

    for data_file in DATA_FILES:
        try:
            return GeoIP2Fast(verbose=False, geoip2fast_data_file=data_file)
        except Exception:  # noqa: BLE001 - try the next bundled file
            continue
    return GeoIP2Fast(verbose=False)
