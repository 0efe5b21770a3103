"""What the pages share about the signals: the clock they are judged by, gone quiet's rule, and
how a drop or a standing reads."""

from __future__ import annotations

import time

import polars as pl
import streamlit as st

from core.quiet import QuietRule
from core.standing import MIN_PEER_REQUESTS, Standing
from db.reads.endpoints import TopCallers
from services.settings import settings
from ui.format import WHEN, ago, format_count, format_ms, format_percent, format_time, plain, plural

CLOCK_STEP = 60  # seconds: signals judged "now" are read again at most once a minute (the cache key)


def signals_now() -> int:
    """Now, to the minute: what gone quiet is judged at, so that reruns within it share a read."""
    return int(time.time()) // CLOCK_STEP * CLOCK_STEP


def quiet_rule() -> QuietRule:
    """Gone quiet's thresholds (FOOTFALL_QUIET_*)."""
    return settings().quiet_rule


def quiet_rule_text(rule: QuietRule) -> str:
    """The rule in a sentence, for help texts."""
    return (f"The last {plural(rule.recent_days, 'complete day')} against the median week of the "
            f"{plural(rule.baseline_weeks, 'week')} "
            f"before: flagged at a drop of {rule.min_drop:.0%} or more, or silent for over {rule.silence_factor:g}× "
            f"the usual gap between requests (a day at least). Customers under {rule.min_baseline} requests "
            f"in a usual week are not judged.")


def change_text(change: float) -> str:
    """A change as a signed percentage: −75%."""
    return f"{change:+.0%}".replace("-", "−")


def quiet_line(row: dict, now: float, rule: QuietRule) -> str:
    """The profile's line on a customer gone quiet."""
    what = "Silent" if row["reason"] == "silent" else "Dropped"
    return (f"**Gone quiet · {what}.** {plural(row['recent_requests'], 'request')} in the last "
            f"{plural(rule.recent_days, 'complete day')} against "
            f"{format_count(round(row['baseline_requests']))} usually ({change_text(row['change'])}); "
            f"last request {ago(row['last_active'], now)} ({format_time(row['last_active'])}).")


def standing_caption(standing: Standing, api_name: str | None) -> str:
    """Whom the peer figures compare with (the customers of the API named, or of every API with
    None), and as of when."""
    when = "just computed" if standing.as_of is None else f"as of {format_time(standing.as_of)}"
    of = "all APIs" if api_name is None else plain(api_name)
    return (f"Among {plural(standing.peers, 'customer')} of {of} with at least {MIN_PEER_REQUESTS} requests "
            f"in the period ({when}).")


def p95_standing(standing: Standing) -> tuple[str, str | None]:
    """The p95 and, under it, its rank: ("812 ms", "slower than 92% of customers")."""
    if standing.slower_than is None:
        return format_ms(standing.p95_ms), None
    return format_ms(standing.p95_ms), f"slower than {standing.slower_than:.0%} of customers"


def error_standing(standing: Standing) -> tuple[str, str | None]:
    """The error rate and its rank: ("4.2%", "more errors than 80% of customers")."""
    rate = None if standing.error_rate is None else 100 * standing.error_rate
    if standing.more_errors_than is None:
        return format_percent(rate), None
    return format_percent(rate), f"more errors than {standing.more_errors_than:.0%} of customers"


def quiet_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Gone quiet's rows as the tables show them: the change in percent, the last request a UTC time."""
    return frame.with_columns(
        (pl.col("change") * 100).alias("change_percent"),
        pl.from_epoch(pl.col("last_active"), time_unit="s").dt.replace_time_zone("UTC"),
        pl.col("reason").replace_strict({"silent": "Silent", "dropped": "Dropped"}, default=pl.col("reason")),
    )


QUIET_COLUMNS = {
    "change_percent": st.column_config.NumberColumn("Change", format="%+.0f%%", width="small",
                                                    help="Recent requests against the usual ones"),
    "recent_requests": st.column_config.NumberColumn("Recent", format="localized", width="small"),
    "baseline_requests": st.column_config.NumberColumn("Usual", format="%.0f", width="small",
                                                       help="The median week before, over the same number of days"),
    "last_active": st.column_config.DatetimeColumn("Last request", format=WHEN, help="UTC"),
    "reason": st.column_config.TextColumn(
        "Why", width="small", help="Dropped against the usual week, or silent for longer than the usual gap"),
}

# The home widget's half-width card: the change with its reason, as the Customers list shows them, and
# the last request.
HOME_QUIET_COLUMNS = {name: QUIET_COLUMNS[name] for name in ("change_percent", "reason", "last_active")}

def callers_caption(top: TopCallers, customers: int) -> str:
    """What the endpoint's callers table holds: all of them or the busiest, and as of when."""
    shown = (f"The {format_count(top.rows.height)} busiest of {format_count(customers)}; "
             "`footfall endpoints --endpoint ...` lists every one" if customers > top.rows.height
             else f"All {format_count(top.rows.height)}")
    when = "" if top.as_of is None else f", as of {format_time(top.as_of)}"
    return f"{shown}{when}. Select a row to open the profile."


def endpoint_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Endpoints (db.reads.endpoints.endpoint_list) with their error rate in percent."""
    return frame.with_columns(
        pl.when(pl.col("requests") > 0).then(100 * pl.col("errors") / pl.col("requests")).alias("error_rate"))


def adoption_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Customers of an endpoint, or endpoints of a customer: error rate in percent, calls as UTC times."""
    return endpoint_table(frame).with_columns(
        pl.from_epoch(pl.col(c), time_unit="s").dt.replace_time_zone("UTC") for c in ("first_call", "last_call"))


_CALLS = {
    "requests": st.column_config.NumberColumn("Requests", format="localized"),
    "errors": st.column_config.NumberColumn("Errors", format="localized"),
    "error_rate": st.column_config.NumberColumn("Error rate", format="%.1f%%"),
    "first_call": st.column_config.DatetimeColumn("First call", format=WHEN, help="UTC"),
    "last_call": st.column_config.DatetimeColumn("Last call", format=WHEN, help="UTC"),
}
ENDPOINT_COLUMNS = {
    "endpoint": st.column_config.TextColumn("Endpoint", width="large"),
    "api": st.column_config.TextColumn("API"),
    "customers": st.column_config.NumberColumn("Customers", format="localized",
                                               help="Customers who called it in the period"),
    **_CALLS,
}
ADOPTION_COLUMNS = {"display_name": st.column_config.TextColumn("Customer", width="medium"),
                    "customer_id": st.column_config.TextColumn("Customer ID"), **_CALLS}
MOVED_OFF_COLUMNS = {**ADOPTION_COLUMNS,
                     "requests": st.column_config.NumberColumn("Requests", format="localized", help="All time"),
                     "errors": st.column_config.NumberColumn("Errors", format="localized", help="All time")}
