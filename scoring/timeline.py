"""Every partner at every History period: raw, smoothed and published scores, and why they moved.

``pscore history`` and the workbook's Changes sheet need, per partner and period, what the
scorecard said (raw: the engine on that snapshot, as of its period, with the model's rule for stale
values), what the model's ``stability`` section makes of the sequence (:mod:`scoring.stability`),
and the change ledger between two periods (:mod:`scoring.ledger`). Segment columns, onboarding start
and the partner's name come from the partner sheet, as for :func:`scoring.history.score_history`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import staleness
from scoring.cells import truth
from scoring.compiled import OUTCOMES, compile_model
from scoring.engine import _quadrants, _tiers, score, to_date  # the engine's own tier and quadrant rules
from scoring.ledger import LEDGER_COLUMNS, PART_LABELS, SCORES, State, change_ledger, top_reasons
from scoring.model.load import ScoringModel, load_model
from scoring.stability import stabilise

__all__ = ["CORRECTION", "HistoryView", "TABLE_COLUMNS", "history_view", "provisional_tier", "snapshots"]

#: A History column whose true value ("yes", 1, TRUE, x) marks a corrected record: the guardrail lets it through.
CORRECTION = "data_correction"
STATIC = ("partner_type", "region", "onboarding_start", "partner_name")
#: Default distance between the two periods a ledger compares: a quarter.
LEDGER_MONTHS = 3
TABLE_COLUMNS = (
    "partner_id", "partner_name", "period", "months_since_start", "stage", "segment", "coverage",
    "revenue_raw", "revenue_smoothed", "revenue_published",
    "engagement_raw", "engagement_smoothed", "engagement_published",
    "composite_raw", "composite_smoothed", "composite_published",
    "tier", "quadrant", "provisional", "tier_shown", "observations", "guardrail", "guardrail_held_back",
    CORRECTION, "stale",
)


@dataclass(frozen=True)
class HistoryView:
    """``table``: one row per partner and period (:data:`TABLE_COLUMNS`), oldest period first per
    partner; ``changes``: the ledger between each partner's two compared periods (published change,
    with the part smoothing and the guardrail added); ``reasons``: its top three composite parts
    per partner in plain words."""

    table: pd.DataFrame
    changes: pd.DataFrame
    reasons: pd.DataFrame
    model: ScoringModel


def provisional_tier(tier: np.ndarray, provisional: np.ndarray) -> np.ndarray:
    """The tier as shown: ``B (provisional)`` while the score is provisional."""
    tier = np.asarray(tier, dtype=object)
    flag = np.asarray(provisional, dtype=bool)
    return np.where(flag, np.array([f"{t} (provisional)" for t in tier], dtype=object), tier)


def history_view(history: pd.DataFrame, partners: pd.DataFrame, model: "ScoringModel | str" = "default", *,
                 as_of=None, start=None, end=None) -> HistoryView:
    """Score, smooth and bound every snapshot up to ``as_of`` (default: all), and explain each partner's
    change between the snapshot at or before ``end`` (default: its latest) and the one at or before
    ``start`` (default: a quarter before that snapshot)."""
    model = load_model(model)
    snaps, periods = snapshots(history, partners, as_of)
    table, raw, stale = _score(snaps, periods, model)
    end = to_date(end) if end is not None else None
    start = to_date(start) if start is not None else None
    changes = _changes(snaps, periods, raw, stale, table, model, start, end)
    return HistoryView(table, changes, top_reasons(changes), model)


def snapshots(history: pd.DataFrame, partners: pd.DataFrame, as_of) -> tuple[pd.DataFrame, np.ndarray]:
    """History rows with a partner ID and a readable period up to ``as_of`` (None: all), the partner
    sheet's segment columns, onboarding start and name joined on, sorted by partner then period;
    and their periods (``datetime64[D]``)."""
    if history is None or history.empty or not {"partner_id", "period"} <= set(history.columns):
        return pd.DataFrame(columns=["partner_id", "period"]), np.array([], dtype="datetime64[D]")
    static = [c for c in STATIC if c in partners.columns]
    lookup = partners.dropna(subset=["partner_id"]).drop_duplicates("partner_id").set_index("partner_id")[static]
    snaps = history.dropna(subset=["partner_id", "period"])
    snaps = snaps.drop(columns=[c for c in static if c in snaps.columns]).join(lookup, on="partner_id")
    periods = staleness.day_column(snaps["period"])
    snaps, periods = snaps[~np.isnat(periods)], periods[~np.isnat(periods)]
    if as_of is not None:
        keep = periods <= np.datetime64(to_date(as_of), "D")
        snaps, periods = snaps[keep], periods[keep]
    order = np.lexsort((periods, snaps["partner_id"].astype(str).to_numpy()))
    return snaps.iloc[order].reset_index(drop=True), periods[order]


def _score(snaps: pd.DataFrame, periods: np.ndarray, model: ScoringModel):
    """The table, the raw (unrounded) scores per row and the staleness factors per row."""
    n = len(snaps)
    c = compile_model(model)
    stale = staleness.assess(model, staleness.history_observed(snaps, model, periods), periods)
    raw = {s: np.full(n, np.nan) for s in SCORES}
    eager = {k: np.empty(n, dtype=object) for k in ("stage", "segment", "provisional", "partner_name")}
    months, coverage = np.full(n, np.nan), np.full(n, np.nan)
    for day in np.unique(periods):
        rows = np.flatnonzero(periods == day)
        result = score(snaps.iloc[rows], model, as_of=day.astype(dt.date),
                       stale=None if stale.retain is None else {m: f[rows] for m, f in stale.retain.items()})
        for s in SCORES:
            raw[s][rows] = result.raw_scores[s].to_numpy()
        for k in eager:
            eager[k][rows] = result[k]
        months[rows], coverage[rows] = result["months_since_start"], result["coverage"]
    corrected = (np.array([truth(v) == 1.0 for v in snaps[CORRECTION]], dtype=bool) if CORRECTION in snaps.columns
                 else np.zeros(n, dtype=bool))
    ids = snaps["partner_id"].to_numpy(dtype=object)
    stable = stabilise(ids, periods.astype(np.int64), raw, corrected, model.spec)
    smoothed = {s: np.round(stable.smoothed[s], 1) for s in SCORES}
    provisional = eager["provisional"].astype(bool) | stable.too_few
    tier = _tiers(c, smoothed["composite"])
    table = pd.DataFrame({
        "partner_id": ids, "partner_name": eager["partner_name"], "period": periods.astype(dt.date),
        "months_since_start": months, "stage": eager["stage"], "segment": eager["segment"], "coverage": coverage,
        **{f"{s}_{kind}": np.round(values[s], 1) for s in SCORES
           for kind, values in (("raw", raw), ("smoothed", stable.smoothed), ("published", stable.published))},
        "tier": tier, "quadrant": _quadrants(c, smoothed["revenue"], smoothed["engagement"]),
        "provisional": provisional, "tier_shown": provisional_tier(tier, provisional),
        "observations": stable.observations, "guardrail": stable.guardrail,
        "guardrail_held_back": np.round(stable.held_back["composite"], 1), CORRECTION: corrected,
        "stale": stale.describe(),
    })
    published = {s: stable.published[s] for s in SCORES}
    return table[list(TABLE_COLUMNS)], (raw, published), stale


def _pairs(ids: np.ndarray, periods: np.ndarray, start: dt.date | None, end: dt.date | None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (from, to) of each partner's compared snapshots; rows are sorted by partner, period."""
    frame = pd.DataFrame({"id": ids.astype(str), "day": periods, "pos": np.arange(len(ids))})
    if end is not None:
        frame = frame[frame["day"] <= pd.Timestamp(end)]
    last = frame.groupby("id", sort=False).tail(1).set_index("id")
    if start is not None:
        cutoff = pd.Series(pd.Timestamp(start), index=last.index)
    else:
        cutoff = last["day"] - pd.DateOffset(months=LEDGER_MONTHS)
        ends = last["day"].dt.is_month_end  # a quarter before 30 Nov is 31 Aug, not 30 Aug
        cutoff = cutoff.where(~ends, cutoff + pd.offsets.MonthEnd(0))
    frame = frame.join(cutoff.rename("cut"), on="id")
    earlier = frame[(frame["day"] <= frame["cut"]) & (frame["day"] < frame["id"].map(last["day"]))]
    first = earlier.groupby("id", sort=False).tail(1).set_index("id")["pos"]
    both = last.index.intersection(first.index, sort=False)
    return first.loc[both].to_numpy(dtype=np.int64), last.loc[both, "pos"].to_numpy(dtype=np.int64)


def _changes(snaps, periods, raw_published, stale, table, model, start, end) -> pd.DataFrame:
    raw, published = raw_published
    columns = [*LEDGER_COLUMNS, "from_period", "to_period"]
    if not len(snaps):
        return pd.DataFrame(columns=columns)
    before, after = _pairs(snaps["partner_id"].to_numpy(dtype=object), periods, start, end)
    if not len(before):
        return pd.DataFrame(columns=columns)

    def state(rows: np.ndarray) -> State:
        factors = None if stale.retain is None else {m: f[rows] for m, f in stale.retain.items()}
        return State(snaps.iloc[rows].reset_index(drop=True), list(periods[rows].astype(dt.date)), model, factors)

    ledger = change_ledger(state(before), state(after))
    pairs = ledger["row"].to_numpy()
    smoothing = []
    for s in SCORES:
        change = published[s][after] - published[s][before]
        smoothing.append(pd.DataFrame({
            "row": np.arange(len(before)), "partner_id": snaps["partner_id"].to_numpy(dtype=object)[after],
            "score": s, "part": "smoothing", "metric": None, "label": PART_LABELS["smoothing"],
            "points": change - (raw[s][after] - raw[s][before]), "before": published[s][before],
            "after": published[s][after], "change": change}))
    for s in SCORES:  # the ledger explains the published change: its ends are the published scores
        at = (ledger["score"] == s).to_numpy()
        ledger.loc[at, "before"] = published[s][before][pairs[at]]
        ledger.loc[at, "after"] = published[s][after][pairs[at]]
        ledger.loc[at, "change"] = published[s][after][pairs[at]] - published[s][before][pairs[at]]
    out = pd.concat([ledger, *smoothing], ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    out["from_period"] = periods[before][out["row"].to_numpy()].astype(dt.date)
    out["to_period"] = periods[after][out["row"].to_numpy()].astype(dt.date)
    return out[columns]
