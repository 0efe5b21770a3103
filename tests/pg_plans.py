"""What PostgreSQL plans for the statements a read runs (the counterpart of SQLite's trace callback
and EXPLAIN QUERY PLAN in the tests): the statements recorded as the read runs them on a real
PgConnection, and the nodes of EXPLAIN (FORMAT JSON) for each, with the parameters it ran with.

Raw requests are partitioned by day: a plan reads partitions and their indexes, each the child of
a parent table or index (pg_inherits); `children` names them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager


def statements(conn, read: Callable[[], object]) -> list[tuple[str, tuple]]:
    """Every query (SELECT or WITH) `read` runs on conn, with its parameters."""
    seen: list[tuple[str, tuple]] = []
    run = conn.execute

    def recording(sql, params=()):
        seen.append((sql, tuple(params)))
        return run(sql, params)

    conn.execute = recording  # the connection's own execute, with a note of each statement
    try:
        read()
    finally:
        del conn.execute
    return [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def plan_nodes(conn, sql: str, params: tuple = ()) -> list[dict]:
    """Every node of the statement's plan, outermost first."""
    [(explained,)] = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchall()
    nodes, todo = [], [explained[0]["Plan"]]
    while todo:
        node = todo.pop(0)
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def children(conn, parent: str) -> set[str]:
    """The parent (a partitioned table or index) and its partitions, by name."""
    rows = conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ?", (parent,)).fetchall()
    return {parent, *(name for (name,) in rows)}


@contextmanager
def index_wherever_possible(conn, in_order: bool = False):
    """Sequential scans priced out (enable_seqscan off) while the block runs: on test-sized tables
    the planner scans whole tables, as it should; what must hold at any size is that an index
    can serve each read, and with sequential scans priced out the planner takes one if one can.
    in_order: sorts priced out too (enable_sort off), for reads an index must give in order."""
    settings = ("enable_seqscan", "enable_sort") if in_order else ("enable_seqscan",)
    for setting in settings:
        conn.execute(f"SET {setting} = off")
    try:
        yield
    finally:
        for setting in settings:
            conn.execute(f"RESET {setting}")
