"""A request's masked details (headers, bodies, errors) as one small zstd frame.

The five texts are joined by NUL (none holds one: stored text never does, db/ turns NUL into
U+FFFD) and compressed with the API's dictionary: zstd trained on the API's recent details, which
takes a typical request from about 200 bytes to under 30.

A dictionary holds pieces of the traffic it was trained on, and it stays as long as the details
packed with it. So it is trained on the details with every value and key that fewer than
MIN_CALLERS callers sent blanked out: what one customer alone sent never enters it, and erasing a
customer leaves nothing of theirs in one.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
import zstandard

PARTS = ("request_headers", "request_body", "response_headers", "response_body", "errors")
MIN_CALLERS = 3            # callers (customers) that must have sent a key or value for a dictionary to hold it
DICTIONARY_BYTES = 32_768
TRAINING_REQUESTS = 10_000  # the newest requests of an API a dictionary is trained on (fewer make a smaller one)
UNIDENTIFIED = object()    # every unidentified request counts as this one caller
_SEPARATOR = "\x00"
_LEVEL = 3
_BLANK = "_"


class Packer:
    """Packs details with one dictionary (or none). Not for several threads at once."""

    def __init__(self, dictionary: bytes | None = None):
        self._compressor = zstandard.ZstdCompressor(dict_data=_dictionary(dictionary),
                                                    compression_params=_params())

    def pack(self, parts: Sequence[str]) -> bytes:
        """The frame of the five texts, in PARTS' order."""
        return self._compressor.compress(_SEPARATOR.join(p.replace(_SEPARATOR, "\ufffd") for p in parts).encode())


def unpack(frame: bytes, dictionary: bytes | None = None) -> dict[str, str]:
    """The five texts of a frame packed with this dictionary, by their PARTS names."""
    decompressor = zstandard.ZstdDecompressor(dict_data=_dictionary(dictionary),
                                              format=zstandard.FORMAT_ZSTD1_MAGICLESS)
    texts = decompressor.decompressobj().decompress(bytes(frame)).decode().split(_SEPARATOR)
    if len(texts) != len(PARTS):
        raise ValueError(f"a packed detail holds {len(texts)} parts, not {len(PARTS)}")
    return dict(zip(PARTS, texts))


def train(details: Iterable[tuple[Any, Sequence[str]]]) -> bytes | None:
    """A dictionary for an API from its recent details, each with its caller (a customer's id, or
    UNIDENTIFIED); None when there is too little to train on."""
    details = list(details)
    callers: dict[tuple, set] = defaultdict(set)
    parsed = []
    for caller, parts in details:
        values = [_parsed(text) for text in parts]
        parsed.append(values)
        for value in values:
            for leaf in _leaves(value, ""):
                callers[leaf].add(caller)

    def shared(leaf: tuple) -> bool:
        return len(callers[leaf]) >= MIN_CALLERS

    samples = [_SEPARATOR.join(_text(_blanked(value, "", shared)) for value in values).encode() for values in parsed]
    try:
        return zstandard.train_dictionary(DICTIONARY_BYTES, samples, level=_LEVEL).as_bytes()
    except zstandard.ZstdError:
        return None  # too few samples, or too alike


def _parsed(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _Text(text)


class _Text(str):
    """A part that is not JSON: one value as a whole."""


def _leaves(value: Any, path: str) -> Iterator[tuple[str, bytes]]:
    """Every key and every scalar value, by where it sits."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + "{}", key.encode()
            yield from _leaves(item, f"{path}/{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path + "[]")
    else:
        yield path, _scalar(value)


def _blanked(value: Any, path: str, shared) -> Any:
    if isinstance(value, dict):
        return {(key if shared((path + "{}", key.encode())) else _BLANK): _blanked(item, f"{path}/{key}", shared)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_blanked(item, path + "[]", shared) for item in value]
    if shared((path, _scalar(value))):
        return value
    return _Text("") if isinstance(value, _Text) else None


def _scalar(value: Any) -> bytes:
    return b"t:" + value.encode() if isinstance(value, _Text) else orjson.dumps(value)


def _text(value: Any) -> str:
    return value if isinstance(value, _Text) else orjson.dumps(value).decode()


def _params() -> zstandard.ZstdCompressionParameters:
    # No magic number, checksum, size or dictionary id in the frame: 9 bytes less per request.
    return zstandard.ZstdCompressionParameters.from_level(
        _LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_checksum=False, write_content_size=False,
        write_dict_id=False)


@functools.lru_cache(maxsize=64)
def _dictionary(content: bytes | None) -> zstandard.ZstdCompressionDict | None:
    """A dictionary ready for use, kept by its content (a dictionary never changes)."""
    if content is None:
        return None
    dictionary = zstandard.ZstdCompressionDict(content)
    dictionary.precompute_compress(compression_params=_params())
    return dictionary
