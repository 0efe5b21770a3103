"""Peer standing: a customer's p95 load time and error rate against the API's other customers in
the same period, as the share of those customers it does worse than.

Peers are the customers with at least MIN_PEER_REQUESTS requests in the period: a customer with a
handful of calls has no meaningful p95 or error rate, and would crowd the ranks with noise. Each
peer's p95 comes from their load-time histogram (core/latency.py) over the days the period
touches, as on the profile.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import polars as pl

from core.latency import GROWTH

MIN_PEER_REQUESTS = 20


def peer_p95(histograms: pl.DataFrame) -> pl.DataFrame:
    """(cid, p95_ms) from histogram rows (cid, bucket, requests), as core.latency.percentile_ms
    computes one customer's: the bucket where the running count reaches ceil(95% of the total)."""
    return (
        histograms.sort(["cid", "bucket"])
        .with_columns(seen=pl.col("requests").cum_sum().over("cid"), total=pl.col("requests").sum().over("cid"))
        .filter(pl.col("seen") >= (pl.col("total") * 0.95).ceil().clip(lower_bound=1))
        .group_by("cid").agg(pl.col("bucket").first())
        .select("cid", p95_ms=pl.lit(GROWTH) ** pl.col("bucket"))
    )


def peer_figures(totals: pl.DataFrame, p95: pl.DataFrame) -> pl.DataFrame:
    """The peers: (cid, requests, error_rate, p95_ms) of the customers with at least
    MIN_PEER_REQUESTS requests, from their totals (cid, requests, errors) and p95s."""
    return (
        totals.filter(pl.col("requests") >= MIN_PEER_REQUESTS)
        .join(p95, on="cid", how="left")
        .select("cid", "requests", error_rate=pl.col("errors") / pl.col("requests"), p95_ms="p95_ms")
    )


@dataclass(frozen=True)
class Standing:
    """Where one customer stands among its peers."""

    peers: int  # customers compared with (the customer included, when it is one)
    p95_ms: float | None
    slower_than: float | None  # the share of peers with a lower p95 (0-1); None without a p95
    error_rate: float | None
    more_errors_than: float | None  # the share of peers with a lower error rate (0-1)
    as_of: int | None  # when the peers' figures were computed (None: just now)


def share_below(value: float | None, values: list[float]) -> float | None:
    """The share of `values` (sorted ascending) strictly below `value`; None without either."""
    if value is None or not values:
        return None
    return bisect_left(values, value) / len(values)


def standing(peers: pl.DataFrame, p95_ms: float | None, error_rate: float | None, as_of: int | None) -> Standing:
    """The customer's standing against the peers (from peer_figures)."""
    p95s = sorted(v for v in peers["p95_ms"].to_list() if v is not None)
    rates = sorted(v for v in peers["error_rate"].to_list() if v is not None)
    return Standing(peers.height, p95_ms, share_below(p95_ms, p95s), error_rate, share_below(error_rate, rates), as_of)
