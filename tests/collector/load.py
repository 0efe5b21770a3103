"""Traffic for the collector's kill -9 tests: clients that keep posting payloads, each with a path
of its own, and remember which ones the collector acknowledged."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
import orjson

from factories import payload


@dataclass
class Load:
    """Clients posting until stopped; `acked` holds the paths answered 200, `refused` the others."""

    url: str
    clients: int = 4
    acked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each 200
    refused_at: list[float] = field(default_factory=list)  # and of each refusal
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        for client in range(self.clients):
            thread = threading.Thread(target=self._post, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def first_ack_after(self, moment: float) -> float | None:
        """Seconds from `moment` to the first acknowledgement after it, None if none came."""
        later = [t for t in list(self.acked_at) if t > moment]
        return min(later) - moment if later else None

    def recovered_after(self, moment: float) -> float | None:
        """Seconds from `moment` until the collector took payloads again for good: the first
        acknowledgement after the last refusal that followed it (0 when nothing was refused)."""
        refusals = [t for t in list(self.refused_at) if t > moment]
        return self.first_ack_after(max(refusals)) + max(refusals) - moment if refusals else 0.0

    def _post(self, client: int) -> None:
        with httpx.Client(timeout=10) as http:
            n = 0
            while not self._stop.is_set():
                path = f"/api/load/{client}/{n}"
                n += 1
                body = orjson.dumps(payload(user_id=f"cus_{n % 50}", url=f"https://api.example.com{path}"))
                try:
                    status = http.post(self.url + "/", content=body, headers={"content-type": "application/json"}).status_code
                except httpx.HTTPError:
                    status = None
                if status == 200:
                    self.acked.append(path)
                    self.acked_at.append(time.monotonic())
                else:
                    self.refused.append(path)
                    self.refused_at.append(time.monotonic())
                    time.sleep(0.05)


def stored_paths(conn) -> dict[str, int]:
    """How many times each load path is stored."""
    return dict(conn.execute("SELECT path, COUNT(*) FROM requests WHERE path LIKE '/api/load/%' GROUP BY path"))
