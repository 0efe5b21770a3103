"""The scope: what every figure on every page is filtered by."""

from __future__ import annotations

from dataclasses import dataclass

from core.periods import Period


@dataclass(frozen=True)
class Scope:
    """One API (None: every API) and a period. Every read in db/ takes one."""

    api_id: int | None
    period: Period

    def previous(self) -> Scope | None:
        """The same API over the period of the same length just before; None for all time."""
        previous = self.period.previous()
        return None if previous is None else Scope(self.api_id, previous)
