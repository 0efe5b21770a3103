"""python -m bench.ingest at a tiny size: it imports and posts everything (OpenTelemetry spans too),
loses nothing, and ends with its figures as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ingest_bench_ends_with_its_figures_and_loses_nothing():
    run = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--import-payloads", "400", "--collector-payloads", "300",
         "--profile-payloads", "200", "--enrich-payloads", "250", "--write-payloads", "300",
         "--clients", "4", "--otlp-spans", "300", "--spans-per-body", "64"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["import_stored"] == 400
    assert figures["import_payloads_per_s"] > 0
    assert figures["collector_acknowledged"] == 300
    assert figures["collector_failures"] == 0
    assert figures["collector_acknowledged_missing"] == 0
    assert 0 < figures["collector_ack_p50_ms"] <= figures["collector_ack_p99_ms"]
    assert "profile: 200 payloads" in run.stdout
    assert figures["enrich_stage_payloads"] == 250 and figures["enrich_stage_payloads_per_s"] > 0
    assert figures["write_stage_stored"] == 300 and figures["write_stage_payloads_per_s"] > 0
    assert 0 < figures["import_ceiling_payloads_per_s"] <= min(figures["enrich_stage_payloads_per_s"],
                                                               figures["write_stage_payloads_per_s"])
    assert figures["otlp_acknowledged"] == 300 and figures["otlp_spans_per_s"] > 0
    assert figures["otlp_failures"] == 0 and figures["otlp_acknowledged_missing"] == 0
    assert "spans/s (64 a body) against" in run.stdout
    cpu = figures["collector_cpu_us_per_payload"]  # each role found among the collector's processes
    assert cpu["http workers"] > 0 and cpu["writer"] > 0
