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

from scoring import cells
from scoring.history import STALE_DAYS, TREND_SCORES
from scoring.next_tier import MAX_STEPS, Path
from scoring.percentiles import MIN_SEGMENT_SIZE

__all__ = ["FLAT_SLOPE", "TREND_MONTHS", "Previous", "Standing", "Trend", "after_actions", "metric_benchmarks", "metric_value",
           "monthly_trend", "ordinal", "partners_at", "scores_at", "summary", "value_at"]

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


@dataclass(frozen=True)
class Trend:
    """A least-squares line through monthly scores: its slope (points a month), the number of
    points it was fitted on, and its ends (month, fitted value) for drawing."""

    slope: float
    n: int
    start: tuple[float, float]
    end: tuple[float, float]


def monthly_trend(points: Sequence[tuple[float, float | None]], months_now: float | None,
                  window: float = TREND_MONTHS) -> Trend | None:
    """The least-squares line of ``points`` (months since start, value) over the last ``window``
    months up to ``months_now``; None with fewer than three values."""
    if months_now is None or (isinstance(months_now, float) and math.isnan(months_now)):
        return None
    used = [(m, v) for m, v in points if v is not None and not math.isnan(v) and months_now - window - 1e-9 <= m <= months_now + 1e-9]
    if len(used) < 3:
        return None
    x = np.array([m for m, _ in used], dtype=float)
    y = np.array([v for _, v in used], dtype=float)
    if np.ptp(x) <= 0:
        return None
    slope, intercept = (float(v) for v in np.polyfit(x, y, 1))
    lo, hi = float(x.min()), float(x.max())
    return Trend(slope, len(used), (lo, intercept + slope * lo), (hi, intercept + slope * hi))


def ordinal(value: float) -> str:
    """``1st``, ``22nd``, ``73rd``, ``11th``."""
    n = int(round(value))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def summary(standing: Standing, previous: Previous | None, path: Path | None, *,
            reasons: Sequence[tuple[str, float]] | None = None, trend: Trend | None = None,
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


def _trend(trend: Trend) -> str:
    slope, n = trend.slope, trend.n
    if abs(slope) < FLAT_SLOPE:
        return (f"Over the last {TREND_MONTHS} months ({n} scores) the composite has been flat "
                f"(within {FLAT_SLOPE:g} points a month).")
    return (f"Over the last {TREND_MONTHS} months ({n} scores) the composite has been "
            f"{'rising' if slope > 0 else 'falling'} by about {abs(slope):.1f} points a month.")


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


def metric_benchmarks(partners: pd.DataFrame, segments: Sequence, metric_ids: Sequence[str],
                      min_size: int = MIN_SEGMENT_SIZE) -> dict[str, dict[str, tuple[float, int]]]:
    """Per metric, per segment: the median of the metric's readable values and how many partners
    have one; a segment with fewer than ``min_size`` values is left out (its median would give a
    partner's figure away)."""
    segment = np.array([s if isinstance(s, str) else "" for s in segments], dtype=object)
    out: dict[str, dict[str, tuple[float, int]]] = {}
    for metric_id in metric_ids:
        if metric_id not in partners.columns:
            continue
        values = np.array([_number(v) for v in partners[metric_id]], dtype=float)
        found: dict[str, tuple[float, int]] = {}
        for name in sorted(set(segment) - {""}):
            mine = values[(segment == name) & ~np.isnan(values)]
            if len(mine) >= min_size:
                found[name] = (float(np.median(mine)), int(len(mine)))
        out[metric_id] = found
    return out


def metric_value(value) -> float | None:
    """A metric cell as a number (see :func:`scoring.cells.number`), None when it is not one."""
    found = _number(value)
    return None if math.isnan(found) else found


def _number(value) -> float:
    found = cells.number(value)[0]
    return float(found) if type(found) is float else math.nan


def after_actions(points: Sequence[tuple[dt.date, float | None]], dates: Sequence[dt.date | None],
                  composite_now: float | None) -> list[tuple[float | None, float | None]]:
    """For each action date: the composite at the latest scored snapshot on or before it (from
    ``points``, (period, composite)) and the change from there to ``composite_now``; (None, None)
    without such a snapshot."""
    ordered = sorted((p, v) for p, v in points if p is not None and v is not None and not math.isnan(v))
    out = []
    for day in dates:
        before = [v for p, v in ordered if day is not None and p <= day]
        if not before or composite_now is None:
            out.append((None, None))
            continue
        out.append((round(before[-1], 1), round(composite_now - round(before[-1], 1), 1)))
    return out


def value_at(points: Sequence[tuple[dt.date | None, float | None]], day: dt.date,
             max_age_days: int = STALE_DAYS) -> float | None:
    """The value of the latest (period, value) on or before ``day`` and not older than
    ``max_age_days``, as :func:`scores_at` picks a quarter-end snapshot; None without one."""
    found = [(p, v) for p, v in points if p is not None and p <= day and (day - p).days <= max_age_days]
    if not found:
        return None
    value = max(found, key=lambda f: f[0])[1]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def partners_at(partners: pd.DataFrame, history: pd.DataFrame | None, day: dt.date, metric_ids: Sequence[str],
                max_age_days: int = STALE_DAYS) -> tuple[pd.DataFrame, np.ndarray]:
    """The partner sheet as it stood on ``day``, for a review of a quarter that has ended: each
    partner's metric values from its latest History snapshot on or before ``day`` (not older than
    ``max_age_days``), its sheet values where it has none. Same rows and index as ``partners``;
    with which rows were taken from History."""
    out = partners.copy()
    taken = np.zeros(len(partners), dtype=bool)
    if history is None or history.empty or "period" not in history or "partner_id" not in partners:
        return out, taken
    periods = [_day(p) for p in history["period"]]
    keep = [p is not None and p <= day and (day - p).days <= max_age_days for p in periods]
    found = history[keep].assign(_period=[p for p, k in zip(periods, keep) if k])
    found = found.assign(_id=found["partner_id"].astype(str)).sort_values("_period", kind="stable")
    found = found.drop_duplicates("_id", keep="last").set_index("_id")
    ids = [cells.text(p)[0] or "" for p in partners["partner_id"]]
    where = found.index.get_indexer(ids)
    taken = where >= 0
    for metric_id in metric_ids:
        if metric_id not in found.columns:
            continue
        values = (out[metric_id].to_numpy(dtype=object, copy=True) if metric_id in out
                  else np.full(len(out), None, dtype=object))
        values[taken] = found[metric_id].to_numpy(dtype=object)[where[taken]]
        out[metric_id] = pd.Series(values, index=out.index, dtype=object).infer_objects()
    return out, taken


def _day(value) -> dt.date | None:
    found = cells.date(value)[0]
    return found if isinstance(found, dt.date) else None
