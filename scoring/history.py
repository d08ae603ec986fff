"""Scores over time: every monthly snapshot in ``History`` scored as of its own period.

Trends, trajectories and the workbook dashboard all need the same thing -- what the scorecard said
about each partner at each month -- so it is computed here once, by the same engine as today's
scores. Segment columns and onboarding start come from the partner sheet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine import to_date
from .model import ScoringModel, load_model
from .snapshots import score_snapshots

STATIC_COLUMNS = ("partner_type", "region", "onboarding_start", "partner_name")


def score_history(history: pd.DataFrame, partners: pd.DataFrame, model: "ScoringModel | str" = "default") -> pd.DataFrame:
    """One row per (partner, period) with the scores as of that period, in the input's row order.

    Rows without a readable period or partner ID are skipped (the reader reports them).
    """
    model = load_model(model)
    columns = ["partner_id", "period", "months_since_start", "revenue_score", "engagement_score", "composite_score",
               "tier"]
    if history is None or history.empty or "period" not in history.columns:
        return pd.DataFrame(columns=columns)
    static = [c for c in STATIC_COLUMNS if c in partners.columns]
    lookup = partners.dropna(subset=["partner_id"]).drop_duplicates("partner_id").set_index("partner_id")[static]
    snapshots = history.dropna(subset=["partner_id", "period"])
    if snapshots.empty:
        return pd.DataFrame(columns=columns)
    snapshots = snapshots.drop(columns=[c for c in static if c in snapshots.columns]).join(lookup, on="partner_id")
    periods = [to_date(p) for p in snapshots["period"]]
    scored = score_snapshots(snapshots, model, np.array(periods, dtype=object)).frame
    scored.insert(1, "period", periods)
    return scored[columns]


TREND_SCORES = ("revenue_score", "engagement_score", "composite_score")


def trend(history_scores: pd.DataFrame, partner_ids, current: pd.DataFrame, as_of, min_days: int = 28) -> pd.DataFrame:
    """Change in each score since the latest snapshot at least ``min_days`` before ``as_of``.

    A snapshot taken the day before the scoring date says nothing about direction, hence the gap.
    ``current`` holds today's scores in the order of ``partner_ids``; the result has one row per
    partner in that order: ``trend_period`` (date or None), and per score ``<score>_previous`` and
    ``<score>_change`` (NaN without an earlier snapshot).
    """
    ids = pd.Index(partner_ids)
    cutoff = to_date(as_of) - pd.Timedelta(days=min_days)
    out = pd.DataFrame(index=range(len(ids)))
    out["trend_period"] = None
    for column in TREND_SCORES:
        out[f"{column}_previous"] = np.nan
        out[f"{column}_change"] = np.nan
    if history_scores.empty:
        return out
    earlier = history_scores[[p <= cutoff for p in history_scores["period"]]]
    latest = earlier.sort_values("period", kind="stable").drop_duplicates("partner_id", keep="last").set_index("partner_id")
    where = latest.index.get_indexer(ids)
    found = where >= 0
    out.loc[found, "trend_period"] = latest["period"].to_numpy(dtype=object)[where[found]]
    for column in TREND_SCORES:
        previous = np.full(len(ids), np.nan)
        previous[found] = latest[column].to_numpy(dtype=float)[where[found]]
        out[f"{column}_previous"] = previous
        out[f"{column}_change"] = np.round(np.asarray(current[column], dtype=float) - previous, 1)
    return out
