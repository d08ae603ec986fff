"""Scores over time: every monthly snapshot in ``History`` scored as of its own period.

Trends, trajectories and the workbook dashboard all need the same thing -- what the scorecard said
about each partner at each month -- so it is computed here once, by the same engine as today's
scores. Segment columns and onboarding start come from the partner sheet.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.engine import to_date
from scoring.model.load import ScoringModel, load_model
from scoring.snapshots import score_snapshots
from scoring import staleness
from scoring.ledger import State, change_ledger
from scoring.timeline import HistoryView, history_view, snapshots

__all__ = ["TREND_SCORES", "HistoryView", "history_view", "score_history", "since_snapshot", "trend"]

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
TREND_MIN_DAYS = 28  # a snapshot taken the day before the scoring date says nothing about direction
STALE_DAYS = 62  # a latest monthly snapshot older than two months makes the trend out of date


def trend(history_scores: pd.DataFrame, partner_ids, current: pd.DataFrame, as_of) -> pd.DataFrame:
    """Change in each score since the latest snapshot at least :data:`TREND_MIN_DAYS` before ``as_of``,
    and whether the history is stale.

    ``current`` holds today's scores in the order of ``partner_ids``; the result has one row per
    partner in that order: ``trend_period`` (date or None), per score ``<score>_previous`` and
    ``<score>_change`` (NaN without an earlier snapshot), ``latest_period`` (the newest snapshot,
    or None) and ``stale`` (that snapshot is more than :data:`STALE_DAYS` old).
    """
    ids = pd.Index(partner_ids)
    as_of = to_date(as_of)
    out = pd.DataFrame(index=range(len(ids)))
    out["trend_period"] = out["latest_period"] = None
    out["stale"] = False
    for column in TREND_SCORES:
        out[f"{column}_previous"] = np.nan
        out[f"{column}_change"] = np.nan
    if history_scores.empty:
        return out
    ordered = history_scores.sort_values("period", kind="stable")
    newest = ordered.drop_duplicates("partner_id", keep="last").set_index("partner_id")["period"]
    where = newest.index.get_indexer(ids)
    found = where >= 0
    latest = newest.to_numpy(dtype=object)[where[found]]
    out.loc[found, "latest_period"] = latest
    out.loc[found, "stale"] = [(as_of - p).days > STALE_DAYS for p in latest]
    cutoff = as_of - dt.timedelta(days=TREND_MIN_DAYS)
    earlier = ordered[[p <= cutoff for p in ordered["period"]]].drop_duplicates("partner_id", keep="last")
    earlier = earlier.set_index("partner_id")
    where = earlier.index.get_indexer(ids)
    found = where >= 0
    out.loc[found, "trend_period"] = earlier["period"].to_numpy(dtype=object)[where[found]]
    for column in TREND_SCORES:
        previous = np.full(len(ids), np.nan)
        previous[found] = earlier[column].to_numpy(dtype=float)[where[found]]
        out[f"{column}_previous"] = previous
        out[f"{column}_change"] = np.round(np.asarray(current[column], dtype=float) - previous, 1)
    return out


def since_snapshot(history: pd.DataFrame, partners: pd.DataFrame, model: "ScoringModel | str", as_of,
                   before: "dt.date | None" = None) -> pd.DataFrame:
    """Why each partner's score moved since the snapshot :func:`trend` compares with: the change
    ledger (:func:`scoring.ledger.change_ledger`) from its latest History snapshot on or before
    ``before`` (default: :data:`TREND_MIN_DAYS` before ``as_of``; a QBR gives the last quarter's end)
    to its row in ``partners`` scored as of ``as_of``, with ``from_period`` and ``to_period``.
    Partners without such a snapshot (or with a repeated ID) are left out; staleness is judged on
    each side as ``pscore history`` and ``pscore score`` judge it.
    """
    model = load_model(model)
    as_of = to_date(as_of)
    cutoff = to_date(before) if before is not None else as_of - dt.timedelta(days=TREND_MIN_DAYS)
    snaps, periods = snapshots(history, partners, cutoff)
    ids = partners["partner_id"].astype(str) if "partner_id" in partners.columns else pd.Series(dtype=str)
    unique = ids[~ids.duplicated(keep=False) & partners["partner_id"].notna().to_numpy()]
    if snaps.empty or unique.empty:
        return change_ledger(State(partners.iloc[:0], as_of, model), State(partners.iloc[:0], as_of, model)).assign(
            from_period=None, to_period=None)
    latest = pd.Series(np.arange(len(snaps)), index=snaps["partner_id"].astype(str).to_numpy())
    latest = latest[~latest.index.duplicated(keep="last")]  # rows are sorted by partner, then period
    found = unique[unique.isin(latest.index)]
    rows = latest.loc[found.to_numpy()].to_numpy()
    before = snaps.iloc[rows].reset_index(drop=True)
    after = partners.loc[found.index].reset_index(drop=True)
    was = staleness.assess(model, staleness.history_observed(before, model, periods[rows]), periods[rows])
    now = staleness.at_scoring_date(after, model, history, as_of)
    ledger = change_ledger(State(before, list(periods[rows].astype(dt.date)), model, was.retain),
                           State(after, as_of, model, now.retain))
    ledger["from_period"] = periods[rows][ledger["row"].to_numpy()].astype(dt.date)
    ledger["to_period"] = as_of
    return ledger
