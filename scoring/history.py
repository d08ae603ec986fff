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
    columns = ["partner_id", "period", "revenue_score", "engagement_score", "composite_score", "tier"]
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
