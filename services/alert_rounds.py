"""One round of checking the alert rules and delivering their firings, which the running collector
does on a schedule (collector/writer.py) and `footfall alerts check` once (for cron).

Quotas (db/operations/quota_checks.py) are checked in the same round, and their firings sent the
same way, after the rules'.

Delivery: each undelivered firing is POSTed to FOOTFALL_ALERT_WEBHOOK (services/webhook.py: three
attempts, 0.5 s then 1 s apart). Once a firing fails every attempt the webhook counts as down and
the other firings wait for the next round, so nothing is lost and a round stays short. Without a
webhook, firings are kept and shown, and sent once one is set (those of the last 7 days).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.alerts import FiringMessage
from core.quiet import QuietRule
from core.usage import QuotaFiringMessage
from db.backends.base import Connection
from db.operations.alert_checks import (
    CheckReport,
    check_alerts,
    claim_attempt,
    mark_delivered,
    mark_failed,
    pending_firings,
)
from db.operations.quota_checks import check_quotas, pending_quota_firings
from services.webhook import BACKOFF_SECONDS, post_json, where


@dataclass
class AlertRound:
    """What one round of checking and delivering did."""

    report: CheckReport
    delivered: list[FiringMessage | QuotaFiringMessage] = field(default_factory=list)
    failed: list[tuple[FiringMessage | QuotaFiringMessage, str]] = field(default_factory=list)  # with the last error
    waiting: int = 0  # undelivered firings left for the next round (the webhook was down)
    quota_fired: list[QuotaFiringMessage] = field(default_factory=list)


def run_alert_check(conn: Connection, now: float, webhook: str | None, quiet_rule: QuietRule = QuietRule(),
                    backoff: tuple[float, ...] = BACKOFF_SECONDS) -> AlertRound:
    """Judge every rule as of `now` (db/operations/alert_checks.py), then POST every undelivered firing to the
    webhook, if there is one."""
    outcome = AlertRound(check_alerts(conn, now, quiet_rule), quota_fired=check_quotas(conn, now))
    if not webhook:
        return outcome
    pending = [(message, attempts, "alert_firings") for message, attempts in pending_firings(conn, now)]
    pending += [(message, attempts, "quota_firings") for message, attempts in pending_quota_firings(conn, now)]
    for index, (message, attempts, table) in enumerate(pending):
        counted = [attempts]

        def claim(firing_id: int = message.firing_id, table: str = table) -> bool:
            claimed = claim_attempt(conn, firing_id, counted[0], table)
            counted[0] += claimed
            return claimed

        sent = post_json(webhook, message.body(), claim, backoff)
        if sent.delivered:
            mark_delivered(conn, message.firing_id, now, table)
            outcome.delivered.append(message)
        elif sent.attempts:  # tried, and the webhook would not take it
            mark_failed(conn, message.firing_id, sent.error or "not delivered", table)
            outcome.failed.append((message, sent.error or "not delivered"))
            outcome.waiting = len(pending) - index - 1
            break
    return outcome


def round_lines(outcome: AlertRound, webhook: str | None) -> list[str]:
    """A round in words, a line each: fired, resolved, delivered, failed, and what waits."""
    lines = [f"fired: {m.line()}" for m in [*outcome.report.opened, *outcome.quota_fired]]
    lines += [f"resolved: rule {m.rule_id} for {m.customer_id} (fired {iso_text(m.fired_at)})"
              for m in outcome.report.resolved]
    if webhook:
        lines += [f"delivered: {_firing_name(m)} to {where(webhook)}" for m in outcome.delivered]
        lines += [f"not delivered: {_firing_name(m, short=True)} ({error}); retried at the next check"
                  for m, error in outcome.failed]
        if outcome.waiting:
            lines.append(f"{outcome.waiting} more firings wait for the next check")
    elif outcome.report.opened or outcome.quota_fired:
        lines.append("no webhook set (FOOTFALL_ALERT_WEBHOOK): firings are kept, not sent")
    return lines or ["nothing fired or resolved"]


def _firing_name(message: FiringMessage | QuotaFiringMessage, short: bool = False) -> str:
    """A firing as the round's lines name it: "firing 3 (rule 1, acme)", "quota firing 2 (acme)"."""
    if isinstance(message, QuotaFiringMessage):
        return f"quota firing {message.firing_id}" + ("" if short else f" ({message.customer_id})")
    return f"firing {message.firing_id}" + ("" if short else f" (rule {message.rule_id}, {message.customer_id})")


def iso_text(ts: int) -> str:
    """An epoch time as ISO 8601 UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
