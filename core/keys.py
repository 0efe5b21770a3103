"""API keys: new ones are random; only their hash and a short prefix are ever stored."""

from __future__ import annotations

import hashlib
import secrets

PREFIX_LENGTH = 6  # shown by `apis list`, enough to tell keys apart, too little to guess one


def new_key() -> str:
    """A new random API key (32 URL-safe characters, about 192 bits) that never starts with '-',
    which a command line would take for an option (`--api -eDmn...`)."""
    while (key := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return key


def key_hash(key: str) -> str:
    """What is stored for a key: its SHA-256, hex. Keys are long random tokens, so a fast hash is
    enough (no salt or stretching: nothing to guess from it)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_prefix(key: str) -> str:
    """The start of a key, shown so that an operator can tell which key a service holds."""
    return key[:PREFIX_LENGTH]
