"""A partner's quarter in plain sentences: where it stands, what changed since last quarter and why,
and what it takes to reach the next tier.

The quarterly review's executive summary is read aloud in the meeting, so its sentences are built
here, in the core, from the engine's figures: a report prints them as they are. "Last quarter" is
the History sheet scored at the previous quarter's end (its latest snapshot on or before that day,
if not older than :data:`scoring.history.STALE_DAYS`). "Why" is the change ledger's top reasons
when a caller has them; otherwise the trend of the monthly History scores.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from scoring.history import STALE_DAYS, TREND_SCORES
from scoring.next_tier import MAX_STEPS, Path

__all__ = ["FLAT_SLOPE", "TREND_MONTHS", "Previous", "Standing", "monthly_trend", "ordinal", "scores_at", "summary"]

#: Months of History (up to the scoring date) the trend line is fitted over.
TREND_MONTHS = 6
#: A trend within this many composite points a month either way is called flat.
FLAT_SLOPE = 0.5


@dataclass(frozen=True)
class Standing:
    """Where a partner stands now, as the scorecard shows it."""

    name: str
    tier: str  # tier id, or "Unscored"
    tier_label: str
    composite: float | None
    revenue: float | None
    engagement: float | None
    quadrant: str
    segment: str
    segment_percentile: float | None  # None when the segment is too small to compare


@dataclass(frozen=True)
class Previous:
    """The partner at the end of the previous quarter (from History), or what is known of it."""

    label: str  # "Q2 2026"
    day: dt.date  # that quarter's last day
    period: dt.date | None  # the snapshot used; None: none recent enough
    composite: float | None = None
    tier: str | None = None


def scores_at(history_scores: pd.DataFrame, partner_ids: Sequence, day: dt.date,
              max_age_days: int = STALE_DAYS) -> pd.DataFrame:
    """Per partner (in the order of ``partner_ids``): its latest scored snapshot on or before ``day``
    and not older than ``max_age_days``, from :func:`scoring.history.score_history`; ``period`` None
    and NaN scores where there is none."""
    ids = pd.Index([str(p) for p in partner_ids])
    out = pd.DataFrame({"partner_id": pd.Series(list(ids), dtype=object),
                        "period": pd.Series([None] * len(ids), dtype=object)})
    for column in TREND_SCORES:
        out[column] = np.nan
    out["tier"] = pd.Series([None] * len(ids), dtype=object)
    if history_scores is None or history_scores.empty:
        return out
    periods = history_scores["period"]
    keep = [(p is not None) and p <= day and (day - p).days <= max_age_days for p in periods]
    found = history_scores[keep].sort_values("period", kind="stable")
    found = found.assign(partner_id=found["partner_id"].astype(str)).drop_duplicates("partner_id", keep="last")
    found = found.set_index("partner_id")
    where = found.index.get_indexer(ids)
    hit = where >= 0
    periods = out["period"].to_numpy(dtype=object, copy=True)
    periods[hit] = found["period"].to_numpy(dtype=object)[where[hit]]
    out["period"] = pd.Series(periods, index=out.index, dtype=object)
    for column in (*TREND_SCORES, "tier"):
        values = out[column].to_numpy(dtype=object if column == "tier" else float, copy=True)
        values[hit] = found[column].to_numpy()[where[hit]]
        out[column] = pd.Series(values, index=out.index, dtype=values.dtype)
    return out


def monthly_trend(points: Sequence[tuple[float, float | None]], months_now: float | None,
                  window: float = TREND_MONTHS) -> tuple[float, int] | None:
    """Least-squares slope (composite points a month) of ``points`` (months since start, composite)
    over the last ``window`` months up to ``months_now``, with the number of points used; None
    with fewer than three scored points."""
    if months_now is None or (isinstance(months_now, float) and math.isnan(months_now)):
        return None
    used = [(m, v) for m, v in points if v is not None and not math.isnan(v) and months_now - window - 1e-9 <= m <= months_now + 1e-9]
    if len(used) < 3:
        return None
    x = np.array([m for m, _ in used], dtype=float)
    y = np.array([v for _, v in used], dtype=float)
    if np.ptp(x) <= 0:
        return None
    slope = float(np.polyfit(x, y, 1)[0])
    return slope, len(used)


def ordinal(value: float) -> str:
    """``1st``, ``22nd``, ``73rd``, ``11th``."""
    n = int(round(value))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def summary(standing: Standing, previous: Previous | None, path: Path | None, *,
            reasons: Sequence[tuple[str, float]] | None = None, trend: tuple[float, int] | None = None,
            top_tier: bool = False) -> list[str]:
    """The executive summary's sentences, in reading order."""
    out = [_where(standing)]
    if previous is not None and standing.composite is not None:
        out.append(_change(standing, previous))
    if reasons:
        out.append("The main reasons: " + "; ".join(f"{label} {points:+.1f}" for label, points in reasons) + ".")
    elif trend is not None and standing.composite is not None:
        out.append(_trend(trend))
    if standing.composite is not None:
        out.append(_next(standing, path, top_tier))
    return out


def _where(s: Standing) -> str:
    if s.composite is None:
        return f"{s.name} could not be scored this quarter: too little usable data."
    text = (f"{s.name} is in tier {s.tier} ({s.tier_label}) with a composite score of {s.composite:.1f} "
            f"(revenue {_score(s.revenue)}, engagement {_score(s.engagement)}){'; ' + s.quadrant if s.quadrant else ''}.")
    if s.segment_percentile is not None and s.segment:
        text += f" That is the {ordinal(s.segment_percentile)} percentile of {s.segment} partners."
    return text


def _change(s: Standing, p: Previous) -> str:
    if p.period is None or p.composite is None or math.isnan(p.composite):
        return f"There is no score for the end of {p.label}: History has no recent snapshot from then."
    change = round(s.composite - round(p.composite, 1), 1)
    if change > 0:
        moved = f"rose {change:.1f} points from {p.composite:.1f}"
    elif change < 0:
        moved = f"fell {-change:.1f} points from {p.composite:.1f}"
    else:
        moved = f"held at {p.composite:.1f}"
    if p.tier == s.tier:
        tier = f", staying in tier {s.tier}"
    elif p.tier:
        tier = f", moving {'up' if change > 0 else 'down'} from tier {p.tier} to tier {s.tier}"
    else:
        tier = ""
    return f"Since the end of {p.label} the composite score {moved}{tier}."


def _trend(trend: tuple[float, int]) -> str:
    slope, n = trend
    if abs(slope) < FLAT_SLOPE:
        return f"Over the last {n} monthly scores the composite has been flat (within {FLAT_SLOPE:g} points a month)."
    return (f"Over the last {n} monthly scores the composite has been {'rising' if slope > 0 else 'falling'} "
            f"by about {abs(slope):.1f} points a month.")


def _next(s: Standing, path: Path | None, top_tier: bool) -> str:
    if path is None:
        return f"Tier {s.tier} is the top tier; the aim is to keep it." if top_tier else ""
    by = f"{path.by.day} {path.by:%b %Y}"
    if not path.reachable:
        return (f"No combination of up to {MAX_STEPS} metric improvements reaches tier {path.next_tier} "
                f"({path.threshold:g}+) by {by}; the recommended actions build the base first.")
    if not path.steps:
        return (f"With no change the composite reaches tier {path.next_tier} ({path.threshold:g}+) by {by}, "
                "as the maturity stage moves on.")
    count = len(path.steps)
    return (f"Reaching tier {path.next_tier} ({path.threshold:g}+) by {by} takes {count} "
            f"improvement{'s' if count > 1 else ''}: " + "; ".join(step.sentence for step in path.steps) + ".")


def _score(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"
