"""Alerts: the rules, when each kind holds, episodes, and the message sent to the webhook.

A rule watches one customer of an API, or (no customer) every customer of it. Its kind and
threshold say when it holds for a customer, judged by a check at a moment `now`; every figure comes
from the rollups (db/reads/alerts.py reads them):

- spike: the last complete hour's requests >= threshold x the customer's hourly baseline: their
  mean requests per hour over the 7 days (168 hours) before that hour. A baseline under 1 request
  an hour counts as 1, so a customer new or nearly silent needs at least `threshold` requests in
  the hour to spike. The value is the hour's requests over that baseline (5.0: five times usual).
- drop: the customer is flagged by gone quiet (core/quiet.py) with `min_drop` = threshold: their
  recent week fell by at least that share of their usual week, or they have been silent far longer
  than their usual gap. The value is the share of their usual traffic lost (0.75: down 75%).
- error_rate: errors (4xx and 5xx) / requests in the last complete hour >= threshold (a fraction,
  0.2 = 20%), judged only with at least MIN_REQUESTS requests in that hour. The value is the rate.
- p95: the p95 load time (ms) over the 24 hours before the start of the current hour >= threshold,
  judged only with at least MIN_REQUESTS requests in those hours. The percentile comes from the
  daily load-time histograms of the days those hours touch (as on the profile). The value is the ms.

Episodes: a check opens a firing (rule, customer, value, time) when the rule holds and that rule
and customer have no open firing; while it keeps holding nothing new is written; once it stops
holding, the open firing is resolved. So one firing per rule and customer per episode.

Delivery: each firing is POSTed to the webhook (FOOTFALL_ALERT_WEBHOOK) as Slack-compatible JSON:
{"text": one readable line, "mrkdwn": false, "blocks": [that line as Slack plain_text], "footfall":
the fields}; names in it are literal text by Slack's rules (FiringMessage.body).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from core.periods import DAY, HOUR

BASELINE_HOURS = 7 * DAY // HOUR  # spike: the hours of the baseline before the hour judged
BASELINE_FLOOR = 1.0  # spike: a baseline under one request an hour counts as one
MIN_REQUESTS = 20  # error_rate and p95: fewer requests than this in the window are not judged
P95_HOURS = 24  # p95: the hours judged


@dataclass(frozen=True)
class Kind:
    """What a kind of rule watches, its threshold's unit, default and range."""

    name: str
    label: str  # "Traffic spike"
    default: float
    low: float  # the threshold must be above this ...
    high: float  # ... and at most this
    help: str


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("spike", "Traffic spike", 3.0, 1.0, 1000.0,
         "Times the customer's usual requests per hour (their mean over the 7 days before): 3 fires when the last "
         "complete hour had three times as many requests. A usual rate under 1 an hour counts as 1."),
    Kind("drop", "Traffic drop / gone quiet", 0.5, 0.0, 1.0,
         "The share of their usual week's traffic lost, 0 to 1: 0.5 fires when the last 7 days had half their "
         "median week or less, or when they have been silent far longer than usual (gone quiet)."),
    Kind("error_rate", "Error rate", 0.2, 0.0, 1.0,
         f"Errors (4xx and 5xx) over requests in the last complete hour, 0 to 1: 0.2 fires at 20% errors. "
         f"Judged only with at least {MIN_REQUESTS} requests that hour."),
    Kind("p95", "Slow responses (p95)", 1000.0, 0.0, 600_000.0,
         f"Milliseconds: fires when the p95 load time of the last 24 hours is at least this. Judged only with "
         f"at least {MIN_REQUESTS} requests in those hours."),
)}


def check_rule(kind: str, threshold: float) -> float:
    """The threshold, once the kind is known and the threshold within its range; else ValueError."""
    if kind not in KINDS:
        raise ValueError(f"no alert kind {kind!r}; choose one of {', '.join(KINDS)}")
    rule = KINDS[kind]
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold) or not rule.low < threshold <= rule.high:
        raise ValueError(f"the {kind} threshold must be above {rule.low:g} and at most {rule.high:g}, not {threshold!r}")
    return float(threshold)


# --- When a rule holds -------------------------------------------------------------------------


def last_complete_hour(now: float) -> int:
    """The start of the last complete hour before `now` (spike and error_rate judge it)."""
    return int(now) - int(now) % HOUR - HOUR


def p95_window(now: float) -> tuple[int, int]:
    """[start, end) of the hours p95 judges: the 24 before the start of the current hour."""
    end = int(now) - int(now) % HOUR
    return end - P95_HOURS * HOUR, end


def spike_value(hour_requests: int, baseline_week_requests: int) -> float:
    """The hour's requests over the hourly baseline (the 168 hours before it), floored at 1 an hour."""
    return hour_requests / max(baseline_week_requests / BASELINE_HOURS, BASELINE_FLOOR)


def error_rate_value(requests: int, errors: int) -> float | None:
    """errors / requests, or None (not judged) under MIN_REQUESTS requests."""
    return errors / requests if requests >= MIN_REQUESTS else None


def p95_value(requests: int, p95_ms: float | None) -> float | None:
    """The p95 in ms, or None (not judged) under MIN_REQUESTS requests or without a histogram."""
    return p95_ms if requests >= MIN_REQUESTS and p95_ms is not None else None


def drop_value(change: float) -> float:
    """The share of the usual week lost, from gone quiet's change (-0.75 -> 0.75; 0 when it grew)."""
    return max(0.0, -change)


def holds(kind: str, threshold: float, value: float | None) -> bool:
    """Whether the rule holds for a customer with this value (None: not judged). For drop, the
    values come only for customers gone quiet flagged with min_drop = threshold, all of whom hold,
    silent ones included whatever their drop."""
    if value is None:
        return False
    if kind == "drop":
        return True
    return value >= threshold


@dataclass(frozen=True)
class EpisodeChanges:
    """What one check writes for one rule."""

    opened: dict[int, float]  # customer (database id) -> value: new firings
    resolved: list[int]  # firing ids: episodes that ended


def episode_changes(holding: dict[int, float], open_firings: dict[int, int]) -> EpisodeChanges:
    """Firings to open (holding, none open) and to resolve (open, no longer holding); `holding`
    maps customers to their values, `open_firings` customers to their open firing's id."""
    return EpisodeChanges(
        opened={cid: value for cid, value in holding.items() if cid not in open_firings},
        resolved=sorted(firing for cid, firing in open_firings.items() if cid not in holding),
    )


# --- Words -------------------------------------------------------------------------------------


def threshold_text(kind: str, threshold: float) -> str:
    """The threshold as a person reads it: "3× hourly baseline", "20% errors", "1,000 ms"."""
    if kind == "spike":
        return f"≥ {threshold:g}× hourly baseline"
    if kind == "drop":
        return f"down ≥ {threshold:.0%} or silent"
    if kind == "error_rate":
        return f"≥ {threshold:.0%} errors"
    return f"≥ {threshold:,.0f} ms"


def value_text(kind: str, value: float) -> str:
    """A firing's value as a person reads it."""
    if kind == "spike":
        return f"{value:.1f}× their hourly baseline"
    if kind == "drop":
        return f"traffic down {value:.0%} on their usual week"
    if kind == "error_rate":
        return f"{value:.0%} errors in the hour"
    return f"p95 {value:,.0f} ms over 24 hours"


def rule_text(kind: str, threshold: float, api: str, customer: str | None) -> str:
    """A rule in words: "Traffic spike ≥ 3× hourly baseline · acme on Shop API"."""
    who = customer if customer else "every customer"
    return f"{KINDS[kind].label} {threshold_text(kind, threshold)} · {who} on {api}"


def utc_text(ts: int) -> str:
    """An epoch time as "2026-11-20 13:05 UTC"."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class FiringMessage:
    """Everything a firing's message says."""

    firing_id: int
    rule_id: int
    kind: str
    threshold: float
    api: str
    customer_id: str  # the ID shown
    display_name: str
    value: float
    fired_at: int

    def line(self) -> str:
        """One readable line: what, who, how much, where, when."""
        who = customer_named(self.customer_id, self.display_name)
        return (f"Footfall alert: {KINDS[self.kind].label} for {who} on {self.api}: "
                f"{value_text(self.kind, self.value)} (rule {self.rule_id}: {threshold_text(self.kind, self.threshold)}),"
                f" {utc_text(self.fired_at)}")

    def body(self) -> dict:
        """The webhook's JSON body, Slack-compatible, every name in it literal text: "text" (what
        other receivers and Slack's notifications show), "blocks" (what Slack shows), and a
        "footfall" object with the fields for machines. By Slack's documented rules (docs.slack.dev:
        "Formatting message text", the text object): &, < and > are its control characters, escaped
        everywhere, so no <url|label>, <!channel> or <@user> can be made; the block is plain_text,
        never formatted (no *bold*) and spared mrkdwn's preprocessing, which makes URLs and channel
        names links (the text object's `verbatim`, a mrkdwn field), emoji codes kept as typed;
        "mrkdwn": false leaves the top-level text unformatted."""
        return webhook_body(self.line(), {
            "firing_id": self.firing_id,
            "rule_id": self.rule_id,
            "kind": self.kind,
            "threshold": self.threshold,
            "api": self.api,
            "customer_id": self.customer_id,
            "display_name": self.display_name,
            "value": self.value,
            "fired_at": iso_utc(self.fired_at),
        })


def webhook_body(line: str, fields: dict) -> dict:
    """A firing's webhook JSON (FiringMessage.body says why each part is as it is): the line as
    Slack-escaped plain text, top level and in one plain_text block, and `fields` for machines."""
    text = slack_escape(line)
    return {
        "text": text,
        "mrkdwn": False,
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}],
        "footfall": fields,
    }


def customer_named(customer_id: str, display_name: str) -> str:
    """A customer in a firing's line: the ID, with the name before it when they differ."""
    return customer_id if display_name == customer_id else f"{display_name} ({customer_id})"


def iso_utc(ts: int) -> str:
    """An epoch time as ISO 8601 UTC with a Z, as the webhook's fields give it."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def slack_escape(text: str) -> str:
    """Text with Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def delivery_text(delivered_at: int | None, attempts: int, last_error: str | None, webhook_set: bool = True) -> str:
    """Where a firing's delivery stands: delivered when, failing with what, not sent yet, or (with
    no webhook set) not sent at all."""
    if delivered_at is not None:
        return f"delivered {utc_text(delivered_at)}"
    if last_error:
        return f"not delivered after {attempts} attempt{'s' if attempts != 1 else ''}: {last_error}"
    return "not sent yet" if webhook_set else "not sent: no webhook is set"
