"""What the command line's reports share: the scope from --api/--since/--until, and a frame
rendered as a table, JSON or CSV (cells a spreadsheet would run as formulas escaped)."""

from __future__ import annotations

import csv
import io

import orjson
import polars as pl

from core.periods import hour_period, parse_time
from core.scope import Scope
from core.spreadsheet import safe_cell
from db.backends.base import Connection
from db.writes.apis import api_id_by_name
from footfall.errors import UserError

FORMATS = ["table", "json", "csv"]


def scope_of(conn: Connection, api: str | None, since: str | None = None, until: str | None = None) -> Scope:
    """The scope the options name: the API (by name or key; None: every API) and the whole hours
    from since to until (ISO 8601; open when not given). An unknown API is a UserError."""
    api_id = None
    if api:
        api_id = api_id_by_name(conn, api)
        if api_id is None:
            raise UserError(f"no API named {api!r}; see `footfall apis list`")
    try:
        start = parse_time(since) if since else None
        end = parse_time(until) if until else None
    except ValueError as error:
        raise UserError(f"not an ISO 8601 time: {error}") from None
    return Scope(api_id, hour_period(start, end))


def iso(column: str) -> pl.Expr:
    """An epoch-seconds column as ISO 8601 UTC text."""
    return pl.from_epoch(pl.col(column), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(column)


def render(frame: pl.DataFrame, fmt: str) -> str:
    """The frame as a table, JSON (a list of objects) or CSV."""
    if fmt == "json":
        return orjson.dumps(frame.to_dicts(), option=orjson.OPT_INDENT_2).decode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(frame.columns)
        for row in frame.iter_rows():
            writer.writerow([safe_cell("; ".join(v) if isinstance(v, list) else v) for v in row])
        return out.getvalue().rstrip("\n")
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        return str(frame)
