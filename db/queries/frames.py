"""Query results as polars DataFrames: what every named read returns."""

from __future__ import annotations

import polars as pl

from db.backends.base import Connection


def frame(conn: Connection, sql: str, params: list | tuple = (), schema: dict | None = None) -> pl.DataFrame:
    """The rows of `sql` as a DataFrame. Columns named in `schema` get that type, the others text;
    without a schema the types are inferred from every row."""
    cursor = conn.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    rows = cursor.fetchall()
    if schema is None:
        return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)
    return pl.DataFrame(rows, schema={c: schema.get(c, pl.Utf8) for c in columns}, orient="row")
