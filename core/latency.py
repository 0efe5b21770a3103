"""Load times as log-spaced histogram buckets, so p50/p95 come from rollups, not raw rows."""

from __future__ import annotations

import math
from collections.abc import Sequence

GROWTH = 1.1  # each bucket is 10% wider than the one before: percentiles within about 5%
_LOG_GROWTH = math.log(GROWTH)
MIN_MS = 0.01


def latency_bucket(load_time_ms: float) -> int:
    """The histogram bucket a load time (ms) falls in."""
    return round(math.log(max(load_time_ms, MIN_MS)) / _LOG_GROWTH)


def bucket_ms(bucket: int) -> float:
    """The load time a bucket stands for (its geometric middle)."""
    return GROWTH**bucket


def percentile_ms(buckets: Sequence[int], counts: Sequence[int], q: float) -> float | None:
    """The q-th percentile (0-100) of a histogram; None when it is empty."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(total * q / 100))
    seen = 0
    for bucket, count in sorted(zip(buckets, counts)):
        seen += count
        if seen >= rank:
            return bucket_ms(bucket)
    return bucket_ms(max(buckets))
