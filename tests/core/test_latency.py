"""Percentiles from the load-time histogram are within the bucket resolution."""

import random

from core.latency import latency_bucket, percentile_ms


def test_p50_and_p95_from_buckets_are_within_five_percent_of_the_exact_values():
    rng = random.Random(3)
    times = [rng.lognormvariate(3, 1) for _ in range(20000)]
    counts: dict[int, int] = {}
    for t in times:
        counts[latency_bucket(t)] = counts.get(latency_bucket(t), 0) + 1
    exact = sorted(times)
    for q in (50, 95):
        true = exact[int(len(exact) * q / 100) - 1]
        estimate = percentile_ms(list(counts), list(counts.values()), q)
        assert abs(estimate - true) / true < 0.05


def test_empty_histogram_has_no_percentile():
    assert percentile_ms([], [], 50) is None
