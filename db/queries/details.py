"""Reading packed request details back (db/writes/details.py packs them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.detail_codec import unpack
from db.backends.base import Connection


def dictionaries_by_id(conn: Connection, ids: Iterable[int | None]) -> dict[int, bytes]:
    """The content of these dictionaries (None, packed without one, is left out)."""
    wanted = sorted(i for i in set(ids) if i is not None)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    return {i: bytes(content) for i, content in
            conn.execute(f"SELECT id, content FROM detail_dictionaries WHERE id IN ({marks})", wanted)}


def unpacked(conn: Connection, rows: Sequence[tuple[int | None, bytes]]) -> list[dict[str, str]]:
    """The details of these (dictionary_id, details) rows, by PARTS name."""
    dictionaries = dictionaries_by_id(conn, (dictionary_id for dictionary_id, _ in rows))
    return [unpack(details, dictionaries.get(dictionary_id)) for dictionary_id, details in rows]
