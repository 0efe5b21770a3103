"""Traffic for the signal tests: calls placed at chosen times, stored through the collector's ingest
path (tests/loading.py), and the same calls kept in the test to count from independently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from factories import API_KEY, payload
from loading import load

DAY = 86400
HOUR = 3600


@dataclass(frozen=True)
class Sent:
    """One call as sent: who, when, which endpoint, with what status."""

    user: str | None
    ts: int
    method: str = "GET"
    path: str = "/api/items/42"
    status: int = 200
    load_ms: float = 20.0

    def endpoint(self) -> str:
        """How the dashboard names its endpoint (numbers become {id})."""
        return f"{self.method} " + "/".join("{id}" if part.isdigit() else part for part in self.path.split("/"))

    def payload(self, api_key: str = API_KEY) -> dict:
        stamp = datetime.fromtimestamp(self.ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return payload(user_id=self.user, timestamp=stamp, method=self.method, status=self.status,
                       url=f"https://api.example.com{self.path}", load_time=self.load_ms, api_key=api_key)


def store(db, calls: list[Sent], api_key: str = API_KEY) -> None:
    """Store the calls through the collector's ingest path; every one must be accepted."""
    load(db, [c.payload(api_key) for c in calls])


def daily(user: str, per_day: int, first_day: int, last_day: int, **fields) -> list[Sent]:
    """`per_day` calls a day at evenly spread hours, on the days [first_day, last_day) (midnights)."""
    return [Sent(user, day + (i * 24 * HOUR) // per_day + 60, **fields)
            for day in range(first_day, last_day, DAY) for i in range(per_day)]
