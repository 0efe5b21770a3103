"""The collector's processes end with the one that started them (Linux), so that a collector killed
hard (kill -9) leaves no worker holding its port and no writer holding its database; and they
carry names (footfall-writer, footfall-http) that ps shows. On a team server, a collector says
which of the leases on work done for all (db/operations/leases.py) it has taken on."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from db.backends.base import Lease

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_SET_NAME = 15


def _prctl(option: int, value) -> bool:
    """Linux's prctl(2); False where there is none."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value)
    except (OSError, AttributeError):  # not Linux
        return False
    return True


def name_process(name: str) -> None:
    """The name `ps -o comm` and /proc/<pid>/comm show for this process (15 bytes at most), so
    that an operator (or a test) can tell the writer from the HTTP workers."""
    _prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]))


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Have the kernel send this process `signum` when its parent dies; exit at once if the parent
    is already gone (it died before this could be asked)."""
    parent = os.getppid()
    if not _prctl(PR_SET_PDEATHSIG, signum):  # not Linux: the writer still polls getppid
        return
    if os.getppid() != parent:
        os._exit(1)


class StopRequest:
    """A request to stop: SIGTERM or SIGINT, noted for a main loop to see (`if stop: ...`). The
    handler only appends to a list: setting a threading.Event there can deadlock the process for
    good, since the main thread may hold the Event's lock when the signal lands, and a second
    SIGTERM may land inside the first handler (a collector stopping sends its writer several)."""

    def __init__(self) -> None:
        self._seen: list[int] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, _frame: self._seen.append(signum))

    def __bool__(self) -> bool:
        return bool(self._seen)


class LeaseLog:
    """A lease that says on stderr when this collector takes it on, or stands by for another."""

    def __init__(self, lease: Lease, work: str):
        self.lease, self.work, self.was = lease, work, None

    def held(self) -> bool:
        held = self.lease.held()
        if held != self.was and self.lease.contended:
            print(f"footfall collector: {'this collector' if held else 'another collector'} {self.work}"
                  f"{'' if held else '; this one stands by'}", file=sys.stderr, flush=True)
        self.was = held
        return held

    def close(self) -> None:
        self.lease.close()
