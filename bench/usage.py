"""The Usage page's reads (issue 21), for the busiest API and for all APIs, timed cold: what the page
reads first (db/reads/usage.usage_page: its first page by billable requests, and the total), and the
whole month (monthly_usage: what `footfall usage` prints and the downloads hold); and the same
figures counted naively over the raw requests of the month (one cold run), compared row by row.

The month is the last whole UTC calendar month of the data (the one with the most rows)."""

from __future__ import annotations

import statistics
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import polars as pl

from bench.reads import READS_TARGET_MS, ColdCache, timed
from core.usage import month_start, month_text, next_month
from db.connection import connect
from db.reads.usage import monthly_usage, usage_page

COMPARED = ["api", "customer_id", "requests", "billable_requests", "errors"]
PAGE_ROWS = 50  # as pages/usage.py


def naive_usage(conn, api_id: int | None, month: int) -> pl.DataFrame:
    """The month's requests, billable requests (as each API bills) and errors per customer and API,
    by GROUP BY over the raw requests."""
    where, params = ("r.api_id = ?", [api_id]) if api_id is not None else ("TRUE", [])
    rows = conn.execute(
        "SELECT a.name, c.external_id, COUNT(*),"
        " SUM(CASE WHEN (a.exclude_5xx = 1 AND r.status >= 500) OR (a.exclude_429 = 1 AND r.status = 429) THEN 0"
        " ELSE 1 END), SUM(CASE WHEN r.status >= 400 THEN 1 ELSE 0 END)"
        " FROM requests r JOIN apis a ON a.id = r.api_id JOIN customers c ON c.id = r.customer_id"
        f" WHERE {where} AND r.ts >= ? AND r.ts < ? GROUP BY a.name, c.external_id",
        [*params, month, next_month(month)]).fetchall()
    return pl.DataFrame(rows, schema={"api": pl.String, "customer_id": pl.String, "requests": pl.Int64,
                                      "billable_requests": pl.Int64, "errors": pl.Int64}, orient="row")


def bench_usage(db: Path | str, end: int, cold: ColdCache, *, naive: bool, repeat: int) -> dict[str, Any]:
    """monthly_usage of the last whole month before `end`, for the busiest API and all APIs: the
    median of `repeat` cold runs; with naive, the naive figures too and whether they agree."""
    month = month_start(month_start(end) - 1)
    with closing(connect(db)) as conn:
        busiest = conn.execute("SELECT api_id FROM customer_monthly WHERE month = ? GROUP BY api_id"
                               " ORDER BY SUM(requests) DESC LIMIT 1", (month,)).fetchone()[0]
        rows = conn.execute("SELECT COUNT(*), SUM(requests) FROM customer_monthly WHERE month = ?", (month,)).fetchone()
        monthly_usage(conn, busiest, month)  # warm-up, not timed: imports and first calls
    out: dict[str, Any] = {"usage_month": month_text(month), "usage_rows": rows[0], "usage_requests": rows[1],
                           "usage_ms": {}, "usage_cold_runs_ms": {}, "usage_whole_month_ms": {},
                           "usage_whole_month_cold_runs_ms": {}, "usage_naive_ms": {}}
    problems: list[str] = []
    for name, api_id in (("one_api", busiest), ("all_apis", None)):
        page_runs = [timed(cold, db, lambda c, a=api_id: usage_page(c, a, month, page_size=PAGE_ROWS))
                     for _ in range(repeat)]
        out["usage_ms"][name] = round(statistics.median(t for t, _ in page_runs), 1)
        out["usage_cold_runs_ms"][name] = [round(t, 1) for t, _ in page_runs]
        runs = [timed(cold, db, lambda c, a=api_id: monthly_usage(c, a, month)) for _ in range(repeat)]
        out["usage_whole_month_ms"][name] = round(statistics.median(t for t, _ in runs), 1)
        out["usage_whole_month_cold_runs_ms"][name] = [round(t, 1) for t, _ in runs]
        usage = runs[0][1]
        (first_page, total) = page_runs[0][1]
        if total != usage.height or not first_page["billable_requests"].equals(usage["billable_requests"].head(
                first_page.height)):
            problems.append(f"usage, {name}: the page's {total} rows or its first page differ from the whole month's")
        line = (f"usage, {name}: {month_text(month)}, {usage.height:,} rows; the page {out['usage_ms'][name]:.1f} ms,"
                f" the whole month {out['usage_whole_month_ms'][name]:.1f} ms")
        if naive:
            ms, counted = timed(cold, db, lambda c, a=api_id: naive_usage(c, a, month))
            out["usage_naive_ms"][name] = round(ms, 1)
            line += f"  (naive {ms:,.0f} ms)"
            ours = (usage if api_id is None else usage.with_columns(api=pl.lit(None, pl.String))).select(COMPARED)
            theirs = counted if api_id is None else counted.with_columns(api=pl.lit(None, pl.String))
            ours, theirs = (f.select(COMPARED).sort(["api", "customer_id"]) for f in (ours, theirs))
            if not ours.equals(theirs):
                only_ours = ours.join(theirs, on=COMPARED, how="anti").head(3).rows()
                only_theirs = theirs.join(ours, on=COMPARED, how="anti").head(3).rows()
                problems.append(f"usage, {name}: the rollups' {ours.height} rows differ from the naive {theirs.height}:"
                                f" e.g. {only_ours} / {only_theirs}")
        print(line, flush=True)
    out["usage_within_target"] = all(ms <= READS_TARGET_MS for ms in out["usage_ms"].values())
    out["usage_consistency"] = "skipped" if not naive else "failed" if problems else "passed"
    if problems:
        out["usage_consistency_problems"] = problems
        for problem in problems:
            print(f"CONSISTENCY FAILED: {problem}", file=sys.stderr, flush=True)
    return out
