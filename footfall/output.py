"""What the command line's reports share: the scope from --api/--since/--until, the times and
numbers options take, and a frame rendered as a plain text table, JSON or CSV (cells a spreadsheet
would run as formulas escaped)."""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections.abc import Iterable

import orjson
import polars as pl
from tabulate import tabulate

from core.periods import hour_period, parse_time
from core.scope import Scope
from core.spreadsheet import safe_cell
from db.backends.base import Connection
from db.writes.apis import api_id_by_name
from footfall.errors import UserError
from ui.format import format_percent, format_time

FORMATS = ["table", "json", "csv"]
DATE_EXAMPLE = "a date like 2026-12-01 or 2026-12-01T08:00"


def moment(option: str, text: str) -> int:
    """An option's ISO 8601 date or time (UTC without a zone) in epoch seconds; a UserError naming
    the option and the form expected otherwise."""
    try:
        return parse_time(text)
    except ValueError:
        raise UserError(f"{option}: expected {DATE_EXAMPLE}, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse's type for counts and limits: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}")
    return value


def scope_of(conn: Connection, api: str | None, since: str | None = None, until: str | None = None) -> Scope:
    """The scope the options name: the API (by name or key; None: every API) and the whole hours
    from since to until (ISO 8601; open when not given). An unknown API, a time that is none, or
    an --until not after --since is a UserError."""
    api_id = None
    if api:
        api_id = api_id_by_name(conn, api)
        if api_id is None:
            raise UserError(f"no API named {api!r}; see `footfall apis list`")
    start = moment("--since", since) if since else None
    end = moment("--until", until) if until else None
    if start is not None and end is not None and end <= start:
        raise UserError(f"--until ({format_time(end)}) must come after --since ({format_time(start)})")
    return Scope(api_id, hour_period(start, end))


def iso(column: str) -> pl.Expr:
    """An epoch-seconds column as ISO 8601 UTC text."""
    return pl.from_epoch(pl.col(column), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(column)


def render(frame: pl.DataFrame, fmt: str, *, times: Iterable[str] = (), percents: Iterable[str] = (),
           fractions: Iterable[str] = (), load_times: Iterable[str] = ()) -> str:
    """The frame as a text table, JSON (a list of objects) or CSV. `times` are epoch-second
    columns (ISO 8601 UTC text in JSON and CSV); `percents` hold percentages and `fractions`
    fractions, `load_times` milliseconds: JSON and CSV keep their numbers, the table writes them
    as the pages do."""
    times = tuple(times)
    if fmt == "table":
        return text_table(frame, times, tuple(percents), tuple(fractions), tuple(load_times))
    frame = frame.with_columns(iso(column) for column in times)
    if fmt == "json":
        return orjson.dumps(frame.to_dicts(), option=orjson.OPT_INDENT_2).decode()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(frame.columns)
    for row in frame.iter_rows():
        writer.writerow([safe_cell("; ".join(v) if isinstance(v, list) else v) for v in row])
    return out.getvalue().rstrip("\n")


NONE = "–"
# Identifiers and codes: digits as they are typed back (`links revoke 1234`), no thousands separators.
PLAIN_NUMBERS = re.compile(r"(^|_)id$|^status$")
# Control characters (a line break, a terminal's escape sequences) from traffic, written as escapes.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text_table(frame: pl.DataFrame, times: tuple[str, ...], percents: tuple[str, ...], fractions: tuple[str, ...],
               load_times: tuple[str, ...]) -> str:
    """A plain aligned table: a header, a rule, a line per row; numbers right-aligned with
    thousands separators, a missing value as –."""
    def cell(name: str, value: object) -> str:
        if value is None:
            return NONE
        if name in times:
            return format_time(value)
        if name in percents:
            return format_percent(value)
        if name in fractions:
            return format_percent(value * 100)
        if name in load_times:
            return f"{value:,.1f} ms"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return str(value) if PLAIN_NUMBERS.search(name) else f"{value:,}"
        if isinstance(value, float):
            return f"{value:,.0f}" if value.is_integer() else f"{round(value, 4):,}"
        if isinstance(value, list):
            value = "; ".join(map(str, value))
        return CONTROL.sub(lambda control: repr(control[0])[1:-1], str(value))

    numeric = {name for name, dtype in frame.schema.items() if dtype.is_numeric()} - set(times)
    rows = [[cell(name, value) for name, value in zip(frame.columns, row)] for row in frame.iter_rows()]
    return tabulate(rows, headers=frame.columns, tablefmt="simple", disable_numparse=True,
                    colalign=["right" if name in numeric else "left" for name in frame.columns])
