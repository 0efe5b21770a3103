"""Gone quiet: each customer's recent traffic against their own baseline.

The rule (every threshold settable, FOOTFALL_QUIET_* or the CLI's flags), on complete UTC days:
- recent: the customer's requests in the last `recent_days` (7) complete days (today is not
  complete, so it waits for tomorrow; silence below is timed to the second);
- baseline: the median of their weekly requests over the `baseline_weeks` (4) weeks before that,
  a week without requests counting as 0;
- change: recent / baseline - 1 (a fraction: -1 is nothing at all, 0 no change), the baseline
  scaled to `recent_days` when that is not 7;
- only customers whose baseline is at least `min_baseline` (50 requests a week) are judged, so a
  customer with a handful of calls is never flagged on noise;
- flagged "dropped" when change <= -`min_drop` (0.5: half their usual traffic or less), and
  "silent" when the time since their last request is over `silence_factor` (3) times their usual
  gap between requests (the baseline weeks' length over their requests in them), and at least a
  day. A silent customer is reported as silent, whatever the drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.periods import DAY

if TYPE_CHECKING:
    import polars as pl

WEEK = 7 * DAY


@dataclass(frozen=True)
class QuietRule:
    """The thresholds of gone quiet (see the module's docstring)."""

    recent_days: int = 7
    baseline_weeks: int = 4
    min_drop: float = 0.5
    silence_factor: float = 3.0
    min_baseline: int = 50

    def __post_init__(self) -> None:
        if self.recent_days < 1 or self.baseline_weeks < 1:
            raise ValueError("the recent days and baseline weeks must be at least 1")
        if not 0 < self.min_drop <= 1:
            raise ValueError("the drop must be a fraction above 0 and at most 1 (0.5: half the usual traffic)")
        if self.silence_factor <= 0 or self.min_baseline < 1:
            raise ValueError("the silence factor must be above 0 and the smallest baseline at least 1 request")

    def windows(self, now: int) -> tuple[int, int, int]:
        """(baseline start, recent start, end): the baseline weeks, then the recent days, both in
        complete UTC days, ending at the start of the day `now` falls in."""
        end = now - now % DAY
        recent_start = end - self.recent_days * DAY
        return recent_start - self.baseline_weeks * WEEK, recent_start, end


def quiet_verdicts(weeks: pl.DataFrame, rule: QuietRule, now: int) -> pl.DataFrame:
    """The flagged customers, largest drop first. `weeks` has one row per customer: cid, w0 ..
    w{baseline_weeks - 1} (each baseline week's requests, oldest first, zeros included), recent
    and last_active. Adds baseline_requests (the median week, scaled to recent_days), change,
    usual_gap (seconds) and reason ("silent" or "dropped"); customers not flagged are left out."""
    import polars as pl  # here, not above: the collector's HTTP workers read QuietRule (settings) without polars

    week_columns = [f"w{i}" for i in range(rule.baseline_weeks)]
    baseline = pl.concat_list(week_columns).list.median().fill_null(0.0)
    judged = weeks.with_columns(
        baseline_requests=baseline * (rule.recent_days / 7),
        median_week=baseline,
        usual_gap=rule.baseline_weeks * WEEK / pl.max_horizontal(pl.sum_horizontal(week_columns), pl.lit(1)),
    ).filter(pl.col("median_week") >= rule.min_baseline)
    judged = judged.with_columns(change=pl.col("recent") / pl.col("baseline_requests") - 1)
    silent = (now - pl.col("last_active")) > pl.max_horizontal(rule.silence_factor * pl.col("usual_gap"), pl.lit(DAY))
    reason = (pl.when(silent).then(pl.lit("silent"))
              .when(pl.col("change") <= -rule.min_drop).then(pl.lit("dropped")).otherwise(None))
    return (judged.with_columns(reason=reason).filter(pl.col("reason").is_not_null())
            .drop(["median_week", *week_columns]).sort(["change", "last_active"]))
