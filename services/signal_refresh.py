"""The scheduled signals, computed and kept: gone quiet, the peer figures and each endpoint's busiest
callers, which the collector's signals process refreshes every FOOTFALL_SIGNALS_INTERVAL seconds
(collector/signals.py) and `footfall signals` once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.periods import preset_period
from core.quiet import QuietRule
from core.scope import Scope
from db.connection import connect, transaction
from db.queries.snapshots import period_key
from db.reads.endpoints import TOP_CALLERS, TOP_CALLERS_SIGNAL, endpoint_counts, endpoint_ids, top_callers_key
from db.reads.quiet import quiet_key, quiet_verdict_frame
from db.reads.standing import peers
from db.writes.apis import api_list
from db.writes.snapshots import forget_snapshots, save_snapshot

# The periods whose peer figures and endpoints' busiest callers are kept ready (the sidebar's
# presets; custom periods are computed when asked for).
PRESETS = ("24h", "7d", "30d", "90d", "all")


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh computed."""

    scopes: int  # APIs, "All APIs" included
    quiet: int  # customers gone quiet, over every scope
    seconds: float


def refresh_signals(db_path: Path, now: int, rule: QuietRule) -> RefreshReport:
    """Compute gone quiet and the peer figures of every preset period, for every API and for all
    APIs, and each endpoint's busiest callers in every preset period, and keep them
    (db/writes/snapshots.py). The reads go first, on their own; the writes then take one short
    transaction, so ingest waits only for that."""
    started = time.perf_counter()
    conn = connect(db_path)
    try:
        scopes = [None, *sorted(api["id"] for api in api_list(conn))]
        frames = []
        for api_id in scopes:
            frames.append(("quiet", api_id, quiet_key(rule), quiet_verdict_frame(conn, api_id, now, rule)))
            for preset in PRESETS:
                scope = Scope(api_id, preset_period(preset, now))
                frames.append(("peers", api_id, period_key(scope), peers(conn, scope)))
        for endpoint_id in endpoint_ids(conn):
            for preset in PRESETS:
                scope = Scope(None, preset_period(preset, now))
                frames.append((TOP_CALLERS_SIGNAL, None, top_callers_key(endpoint_id, scope),
                               endpoint_counts(conn, endpoint_id, scope, TOP_CALLERS)))
        with transaction(conn):
            for signal, api_id, key, frame in frames:
                save_snapshot(conn, signal, api_id, key, frame, now)
            for signal in ("quiet", "peers", TOP_CALLERS_SIGNAL):
                forget_snapshots(conn, signal, older_than=now)  # keys of other periods and rules
    finally:
        conn.close()
    quiet = sum(frame.height for signal, *_, frame in frames if signal == "quiet")
    return RefreshReport(len(scopes), quiet, time.perf_counter() - started)
