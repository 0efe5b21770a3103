"""Deleting raw requests with their details: what pruning and erasing share."""

from __future__ import annotations

from db.backends.base import Connection



def delete_requests(conn: Connection, where: str, param: object) -> int:
    """Delete the raw requests matching `where` (one bound parameter) and their details; returns
    how many requests went."""
    conn.execute(f"DELETE FROM request_details WHERE request_id IN (SELECT id FROM request_log WHERE {where})", (param,))
    return conn.execute(f"DELETE FROM request_log WHERE {where}", (param,)).rowcount
