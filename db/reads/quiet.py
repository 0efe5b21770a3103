"""The home page's "Gone quiet" widget, the customers page's filter and the profile's line: gone
quiet's read model (core/quiet.py has the rule); the CLI's `quiet` and the drop alert read it too.

Reads customer_daily (each customer's complete days over the baseline weeks and the recent days),
api_customers or customers (the last request) and customers (names); the dashboard first looks
for the scheduled computation in signal_snapshots (db/queries/snapshots.py), as it changes once a day but
for silence.
"""

from __future__ import annotations

import json

import polars as pl

from core.periods import DAY, Period
from core.quiet import WEEK, QuietRule, quiet_verdicts
from core.scope import Scope
from db.backends.base import Connection
from db.queries.figures import DISPLAY_NAME, seen_sql
from db.queries.frames import frame
from db.queries.snapshots import snapshot

SIGNAL = "quiet"  # its snapshots' name (db/queries/snapshots.py)
SNAPSHOT_MAX_AGE = 2 * 3600  # seconds: an older snapshot is computed afresh
COLUMNS = ["cid", "customer_id", "display_name", "recent_requests", "baseline_requests", "change",
           "last_active", "usual_gap", "reason"]


def _weeks(conn: Connection, api_id: int | None, rule: QuietRule, now: int,
           customers: list[int] | None = None) -> pl.DataFrame:
    """cid, w0.., recent, last_active of the customers who may be judged: those whose baseline
    weeks can have a median of min_baseline (the upper half of the weeks at min_baseline or more,
    so at least that many requests of all time: a short index range, not every customer)."""
    start, recent_start, end = rule.windows(now)
    least = rule.min_baseline * (rule.baseline_weeks // 2 + 1)
    seen, params = seen_sql(Scope(api_id, Period(None, None)))
    candidates = f"SELECT customer_id, last_seen FROM ({seen}) AS seen WHERE requests >= ? AND +last_seen >= ?"
    params += [least, start]
    if customers is not None:
        candidates += " AND customer_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(customers))
    weeks = ", ".join(f"SUM(CASE WHEN d.day >= ? AND d.day < ? THEN d.requests ELSE 0 END) AS w{i}"
                      for i in range(rule.baseline_weeks))
    week_params = [p for i in range(rule.baseline_weeks) for p in (start + i * WEEK, start + (i + 1) * WEEK)]
    one_api = "" if api_id is None else " AND d.api_id = ?"
    sql = f"""
        WITH candidates AS MATERIALIZED ({candidates})
        SELECT d.customer_id AS cid, {weeks}, SUM(CASE WHEN d.day >= ? THEN d.requests ELSE 0 END) AS recent,
               MAX(c.last_seen) AS last_active
        FROM candidates c JOIN customer_daily d ON d.customer_id = c.customer_id AND d.day >= ? AND d.day < ?{one_api}
        GROUP BY d.customer_id HAVING SUM(CASE WHEN d.day < ? THEN d.requests ELSE 0 END) >= ?"""
    schema = {"cid": pl.Int64, **{f"w{i}": pl.Int64 for i in range(rule.baseline_weeks)},
              "recent": pl.Int64, "last_active": pl.Int64}
    return frame(conn, sql, [*params, *week_params, recent_start, start, end,
                             *([] if api_id is None else [api_id]), recent_start, least], schema=schema)


def quiet_key(rule: QuietRule) -> str:
    """The snapshot key of a rule: its thresholds (a snapshot of other thresholds is not used)."""
    return f"{rule.recent_days}:{rule.baseline_weeks}:{rule.min_drop}:{rule.silence_factor}:{rule.min_baseline}"


def quiet_verdict_frame(conn: Connection, api_id: int | None, now: int, rule: QuietRule,
                        customers: list[int] | None = None) -> pl.DataFrame:
    """The flagged customers (of these database ids, when given) without names
    (core.quiet.quiet_verdicts): what a snapshot keeps."""
    return quiet_verdicts(_weeks(conn, api_id, rule, now, customers), rule, now)


def quiet_customers(conn: Connection, api_id: int | None, now: int,
                    rule: QuietRule = QuietRule()) -> pl.DataFrame:
    """Every customer of the API (None: of any API, their traffic added up) gone quiet as of
    `now`, largest drop first: cid, customer_id (shown), display_name, recent_requests,
    baseline_requests, change, last_active, usual_gap (seconds), reason."""
    return _named(conn, quiet_verdict_frame(conn, api_id, now, rule))


def gone_quiet(conn: Connection, api_id: int | None, now: int, rule: QuietRule = QuietRule(),
               max_age: int = SNAPSHOT_MAX_AGE) -> pl.DataFrame:
    """quiet_customers as the dashboard reads it: from the scheduled snapshot when it was taken
    the same UTC day as `now` and at most max_age seconds ago, else computed now."""
    stored = snapshot(conn, SIGNAL, api_id, quiet_key(rule))
    if stored is not None and stored.computed_at // DAY == now // DAY and now - stored.computed_at <= max_age:
        return _named(conn, stored.frame)
    return quiet_customers(conn, api_id, now, rule)


def customer_quiet(conn: Connection, cid: int, api_id: int | None, now: int,
                   rule: QuietRule = QuietRule()) -> dict | None:
    """The profile's line: the customer's row of quiet_customers, or None when not flagged."""
    rows = _named(conn, quiet_verdict_frame(conn, api_id, now, rule, [cid])).to_dicts()
    return rows[0] if rows else None


def _named(conn: Connection, flagged: pl.DataFrame) -> pl.DataFrame:
    names = frame(conn, f"SELECT c.id AS cid, c.external_id AS customer_id, {DISPLAY_NAME} AS display_name"
                        " FROM customers c WHERE c.id IN (SELECT value FROM json_each(?))",
                  [json.dumps(flagged["cid"].to_list())],
                  schema={"cid": pl.Int64, "customer_id": pl.String, "display_name": pl.String})
    return (flagged.join(names, on="cid", how="inner").rename({"recent": "recent_requests"})
            .select(COLUMNS).sort(["change", "last_active"]))
