"""The collector's signals process (footfall-signals): computes gone quiet and peer standing
(services.signal_refresh.refresh_signals) at start and every FOOTFALL_SIGNALS_INTERVAL seconds, in
a process of its own so that the passes over every customer never hold up ingest's CPU. It dies
with the collector; a refresh that fails is reported and tried again at the next interval. On a
team server only the collector holding the signals lease (db/operations/leases.py) computes them;
the others stand by and take over when it goes.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from collector.processes import LeaseLog, die_with_parent, name_process
from db.operations.leases import SIGNALS_LEASE, lease
from services.processes import leave_interrupts_to_parent
from services.settings import settings
from services.signal_refresh import refresh_signals


def run_signals(db_path: str | Path, interval: float) -> None:
    """Refresh the signals until the collector stops."""
    leave_interrupts_to_parent()
    die_with_parent(signal.SIGKILL)
    name_process("footfall-signal")
    rule = settings().quiet_rule
    lease_log = LeaseLog(lease(db_path, SIGNALS_LEASE), "computes the signals")
    while True:
        started = time.monotonic()
        try:
            if lease_log.held():
                refresh_signals(db_path, int(time.time()), rule)
        except Exception as error:  # noqa: BLE001 - reported, and tried again next time
            print(f"footfall collector: computing signals failed: {error!r}", file=sys.stderr, flush=True)
        time.sleep(max(1.0, interval - (time.monotonic() - started)))
