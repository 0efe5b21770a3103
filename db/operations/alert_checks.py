"""Checking the alert rules (core/alerts.py has the rules and episodes) and recording delivery.

check_alerts judges every rule of every API still taking traffic at a moment `now`, from the
rollups only, and writes the episodes: a firing opened where a rule starts holding, resolved where
it stopped. A rule on every customer of an API reads only the customers that can hold, by index:
those with requests in the hour judged (customer_hourly's (api_id, hour) index) for spike and
error_rate, in the 24 hours judged for p95, and those gone quiet flags (db/reads/quiet.py) for drop.
Spike baselines come from db/queries/figures.period_requests, p95 from the customers' daily load-time
histograms (as db/queries/figures.latency_percentiles reads them).

Delivery (services/alert_rounds.py sends): pending_firings lists the firings of the last DELIVERY_DAYS
not delivered yet; each attempt is claimed first (claim_attempt), so that two checks running at
once (the collector's and a cron's `alerts check`) never both send one firing.

Each write commits with a bump of the dashboard's edit counter, so the alerts page shows it.
Reads alert_rules, alert_firings, apis, customers, customer_hourly, customer_daily,
customer_latency_daily; writes alert_firings and settings (the counter).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass

from core.alerts import (
    MIN_REQUESTS,
    FiringMessage,
    drop_value,
    episode_changes,
    error_rate_value,
    holds,
    last_complete_hour,
    p95_value,
    p95_window,
    spike_value,
)
from core.latency import percentile_ms
from core.periods import DAY, Period
from core.quiet import QuietRule
from core.scope import Scope
from db.backends.base import Connection
from db.connection import transaction
from db.queries.figures import DISPLAY_NAME, period_requests
from db.reads.quiet import customer_quiet, quiet_customers
from db.writes.counters import EDITS_KEY, bump_counter

DELIVERY_DAYS = 7  # firings older than this are no longer sent (they stay on the page)


@dataclass(frozen=True)
class Rule:
    """One alert rule, as a check reads it."""

    id: int
    api_id: int
    customer: int | None  # the customer's database id; None: every customer of the API
    kind: str
    threshold: float


@dataclass(frozen=True)
class CheckReport:
    """What a check changed: the firings it opened and the ones it resolved."""

    opened: list[FiringMessage]
    resolved: list[FiringMessage]


def active_rules(conn: Connection) -> list[Rule]:
    """The rules of the APIs still taking traffic (a removed API's customers are all quiet by now)."""
    rows = conn.execute("SELECT r.id, r.api_id, r.customer_id, r.kind, r.threshold FROM alert_rules r"
                        " JOIN apis a ON a.id = r.api_id WHERE a.removed_at IS NULL ORDER BY r.id")
    return [Rule(*row) for row in rows]


def check_alerts(conn: Connection, now: float, quiet_rule: QuietRule = QuietRule()) -> CheckReport:
    """Judge every rule as of `now` and write its episodes; `quiet_rule` gives drop's windows and
    sizes (its min_drop is each rule's threshold)."""
    opened: list[int] = []
    resolved: list[int] = []
    for rule in active_rules(conn):
        holding = {cid: value for cid, value in readings(conn, rule, now, quiet_rule).items()
                   if holds(rule.kind, rule.threshold, value)}
        new, ended = _write_episodes(conn, rule, holding, int(now))
        opened += new
        resolved += ended
    return CheckReport(firing_messages(conn, opened), firing_messages(conn, resolved))


def readings(conn: Connection, rule: Rule, now: float, quiet_rule: QuietRule = QuietRule()) -> dict[int, float | None]:
    """The rule's value for each customer that could hold as of `now` (core/alerts.py says how
    each kind is valued; None: too few requests to judge)."""
    customers = None if rule.customer is None else [rule.customer]
    if rule.kind in ("spike", "error_rate"):
        hour = last_complete_hour(now)
        rows = _hour_rows(conn, rule.api_id, hour, customers)
        if rule.kind == "error_rate":
            return {cid: error_rate_value(requests, errors) for cid, requests, errors in rows}
        # A baseline counts at least one request an hour, so fewer than `threshold` requests cannot spike.
        candidates = [cid for cid, requests, _ in rows if requests >= rule.threshold]
        week = period_requests(conn, Scope(rule.api_id, Period(hour - 7 * DAY, hour)), candidates)
        return {cid: spike_value(requests, week.get(cid, 0)) for cid, requests, _ in rows if requests >= rule.threshold}
    if rule.kind == "p95":
        return _p95_readings(conn, rule.api_id, now, customers)
    quiet = dataclasses.replace(quiet_rule, min_drop=rule.threshold)
    if rule.customer is not None:
        row = customer_quiet(conn, rule.customer, rule.api_id, int(now), quiet)
        return {} if row is None else {rule.customer: drop_value(row["change"])}
    flagged = quiet_customers(conn, rule.api_id, int(now), quiet)
    return {cid: drop_value(change) for cid, change in zip(flagged["cid"], flagged["change"])}


def _hour_rows(conn: Connection, api_id: int, hour: int, customers: list[int] | None) -> list[tuple]:
    """(customer, requests, errors) of each customer with requests in the hour."""
    sql = "SELECT customer_id, requests, s4xx + s5xx FROM customer_hourly WHERE api_id = ? AND hour = ?"
    params: list = [api_id, hour]
    if customers is not None:
        sql += " AND customer_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(customers))
    return conn.execute(sql, params).fetchall()


def _p95_readings(conn: Connection, api_id: int, now: float, customers: list[int] | None) -> dict[int, float | None]:
    """p95 over the hours p95_window judges, for the customers with at least MIN_REQUESTS in them."""
    start, end = p95_window(now)
    sql = "SELECT customer_id, SUM(requests) FROM customer_hourly WHERE api_id = ? AND hour >= ? AND hour < ?"
    params: list = [api_id, start, end]
    if customers is not None:
        sql += " AND customer_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(customers))
    counts = dict(conn.execute(sql + " GROUP BY customer_id HAVING SUM(requests) >= ?", [*params, MIN_REQUESTS]))
    if not counts:
        return {}
    first_day, last_day = Period(start, end).touched_days()
    histograms: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for cid, bucket, requests in conn.execute(
            "SELECT customer_id, bucket, SUM(requests) FROM customer_latency_daily WHERE api_id = ?"
            " AND customer_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ? GROUP BY customer_id, bucket",
            [api_id, json.dumps(sorted(counts)), first_day, last_day]):
        histograms[cid][0].append(bucket)
        histograms[cid][1].append(requests)
    return {cid: p95_value(requests, percentile_ms(*histograms[cid], 95) if cid in histograms else None)
            for cid, requests in counts.items()}


def _write_episodes(conn: Connection, rule: Rule, holding: dict[int, float], now: int) -> tuple[list, list]:
    """Open and resolve the rule's firings; the open ones are read under the write lock (on
    PostgreSQL: the rule's row locked, FOR UPDATE), so two checks at once (two collectors) cannot
    both open one. A rule removed meanwhile changes nothing. Returns (opened ids, resolved ids)."""
    with transaction(conn):
        if conn.execute(conn.backend.for_update("SELECT id FROM alert_rules WHERE id = ?"), (rule.id,)).fetchone() is None:
            return [], []
        open_firings = dict(conn.execute(
            "SELECT customer_id, id FROM alert_firings WHERE rule_id = ? AND resolved_at IS NULL", (rule.id,)))
        changes = episode_changes(holding, open_firings)
        opened = [conn.execute("INSERT INTO alert_firings (rule_id, customer_id, value, fired_at) VALUES (?, ?, ?, ?)"
                               " RETURNING id", (rule.id, cid, value, now)).fetchone()[0]
                  for cid, value in changes.opened.items()]
        if changes.resolved:
            conn.execute("UPDATE alert_firings SET resolved_at = ? WHERE id IN (SELECT value FROM json_each(?))",
                         (now, json.dumps(changes.resolved)))
        if opened or changes.resolved:
            bump_counter(conn, EDITS_KEY)
    return opened, changes.resolved


def firing_messages(conn: Connection, firing_ids: list[int]) -> list[FiringMessage]:
    """The firings' messages (what the webhook is sent), in the order of the ids."""
    if not firing_ids:
        return []
    rows = conn.execute(
        f"SELECT f.id, f.rule_id, r.kind, r.threshold, a.name, c.external_id, {DISPLAY_NAME}, f.value, f.fired_at"
        " FROM alert_firings f JOIN alert_rules r ON r.id = f.rule_id JOIN apis a ON a.id = r.api_id"
        " JOIN customers c ON c.id = f.customer_id WHERE f.id IN (SELECT value FROM json_each(?))",
        (json.dumps(firing_ids),))
    found = {row[0]: FiringMessage(*row) for row in rows}
    return [found[i] for i in firing_ids if i in found]


# --- Delivery ----------------------------------------------------------------------------------


def pending_firings(conn: Connection, now: float) -> list[tuple[FiringMessage, int]]:
    """The firings of the last DELIVERY_DAYS not delivered yet, oldest first, each with its
    attempts so far."""
    rows = conn.execute("SELECT id, attempts FROM alert_firings WHERE fired_at >= ? AND delivered_at IS NULL"
                        " ORDER BY fired_at, id", (int(now) - DELIVERY_DAYS * DAY,)).fetchall()
    attempts = dict(rows)
    return [(message, attempts[message.firing_id]) for message in firing_messages(conn, [i for i, _ in rows])]


# The tables of firings delivered this way: the rules' and the quotas' (db/operations/quota_checks.py).
FIRING_TABLES = ("alert_firings", "quota_firings")


def _firings(table: str) -> str:
    if table not in FIRING_TABLES:
        raise ValueError(f"no firings table {table!r}")
    return table


def claim_attempt(conn: Connection, firing_id: int, attempts: int, table: str = "alert_firings") -> bool:
    """Count one more delivery attempt, if no one else attempted since `attempts` were counted and
    it is still undelivered: True means this check may send it now."""
    with transaction(conn):
        return conn.execute(f"UPDATE {_firings(table)} SET attempts = attempts + 1 WHERE id = ? AND attempts = ?"
                            " AND delivered_at IS NULL", (firing_id, attempts)).rowcount == 1


def mark_delivered(conn: Connection, firing_id: int, at: float, table: str = "alert_firings") -> None:
    """The webhook took the firing."""
    with transaction(conn):
        conn.execute(f"UPDATE {_firings(table)} SET delivered_at = ?, last_error = NULL WHERE id = ?",
                     (int(at), firing_id))
        bump_counter(conn, EDITS_KEY)


def mark_failed(conn: Connection, firing_id: int, error: str, table: str = "alert_firings") -> None:
    """Why the webhook did not take the firing (never the webhook's address: it is a secret)."""
    with transaction(conn):
        conn.execute(f"UPDATE {_firings(table)} SET last_error = ? WHERE id = ?", (error, firing_id))
        bump_counter(conn, EDITS_KEY)

