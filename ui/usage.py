"""The Usage page's downloads: a month's usage as CSV (formula-safe, core/spreadsheet.py) and as
Parquet, both written by polars from db/reads/usage.monthly_usage, built when the analyst clicks."""

from __future__ import annotations

import io

import polars as pl

from core.spreadsheet import safe_frame
from db.reads.usage import monthly_usage
from ui import data


def usage_csv(frame: pl.DataFrame) -> str:
    """The month's rows as CSV, every cell that would run as a formula escaped."""
    return safe_frame(frame).write_csv()


def usage_parquet(frame: pl.DataFrame) -> bytes:
    """The month's rows as a Parquet file."""
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


def file_stem(api_name: str | None, month: str) -> str:
    """The downloads' name: usage-2026-12 or usage-Shop_API-2026-12."""
    if api_name is None:
        return f"usage-{month}"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in api_name).strip("_")[:60] or "api"
    return f"usage-{safe}-{month}"


def usage_file(path: str, api_id: int | None, month: int, kind: str) -> str | bytes:
    """The month's usage of the API (None: every API) as "csv" or "parquet", read on click."""
    with data.connection(path) as conn:
        frame = monthly_usage(conn, api_id, month)
    return usage_csv(frame) if kind == "csv" else usage_parquet(frame)
