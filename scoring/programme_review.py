"""The programme's quarter in figures: tier distribution and migration, scores by segment, movers,
the partners that need a look, the forecast roll-up, model health and the changelog.

A programme review pack prints these tables as they are; each is computed here once from the
engine's result (and History scored at the previous quarter's end, see :mod:`scoring.review`), so
the figures in the pack are the figures of the Scores sheet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import cells
from scoring.compiled import OUTCOMES
from scoring.engine import UNSCORED
from scoring.percentiles import MIN_SEGMENT_SIZE
from scoring.result import ScoreResult

__all__ = ["NO_SCORE", "ModelHealth", "coaching", "forecast_rollup", "interventions_summary", "low_fit", "migration", "model_health",
           "movers", "quality_summary", "segment_scores", "tier_distribution", "watch_list"]

#: Row of the migration matrix for partners without a score at the previous quarter's end.
NO_SCORE = "No score"


def _tier_order(result: ScoreResult) -> list[str]:
    return [t.id for t in sorted(result.model.spec.tiers, key=lambda t: -t.min_score)]


def tier_distribution(result: ScoreResult) -> pd.DataFrame:
    """``tier``, ``label``, ``rule``, ``partners``, ``share`` (of all partners), best tier first, Unscored last if any."""
    tiers = np.asarray(result["tier"], dtype=object)
    rows = []
    spec_tiers = sorted(result.model.spec.tiers, key=lambda t: -t.min_score)
    for t in spec_tiers:
        rows.append((t.id, t.label, f"{t.min_score:g}+" if t.min_score > 0 else "below the rest", int((tiers == t.id).sum())))
    unscored = int((tiers == UNSCORED).sum())
    if unscored:
        rows.append((UNSCORED, "Not scored", "too little data", unscored))
    out = pd.DataFrame(rows, columns=["tier", "label", "rule", "partners"])
    out["share"] = out["partners"] / max(len(tiers), 1)
    return out


def migration(result: ScoreResult, previous_tiers: np.ndarray) -> pd.DataFrame:
    """Partners by tier at the previous quarter's end (rows; :data:`NO_SCORE` without a snapshot)
    and tier now (columns), with row and column totals."""
    order = _tier_order(result)
    now = np.asarray(result["tier"], dtype=object)
    before = np.array([t if isinstance(t, str) and t else NO_SCORE for t in previous_tiers], dtype=object)
    rows = [*order, *([UNSCORED] if (before == UNSCORED).any() else []), NO_SCORE]
    cols = [*order, *([UNSCORED] if (now == UNSCORED).any() else [])]
    table = pd.DataFrame(0, index=pd.Index(rows, name="before"), columns=pd.Index(cols, name="now"))
    for b, n in zip(before, now):
        if b in table.index and n in table.columns:
            table.loc[b, n] += 1
    table = table.loc[(table.sum(axis=1) > 0) | (table.index != NO_SCORE)]
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum(axis=0)
    return table


def movers(result: ScoreResult, previous_composite: np.ndarray, n: int = 10,
           reasons: "dict[str, str] | None" = None) -> dict[str, pd.DataFrame]:
    """Top ``n`` partners by composite change since the previous quarter's end, ``up`` and ``down``:
    ``partner_id``, ``partner_name``, ``segment``, ``before``, ``now``, ``change``, tiers, and
    ``reason`` when the caller has reasons (the change ledger's) by partner ID."""
    now = np.asarray(result["composite_score"], dtype=float)
    before = np.round(np.asarray(previous_composite, dtype=float), 1)
    frame = pd.DataFrame({
        "partner_id": result["partner_id"], "partner_name": result["partner_name"], "segment": result["segment"],
        "before": before, "now": now, "change": np.round(now - before, 1), "tier": result["tier"],
    })
    frame = frame[~np.isnan(frame["change"].to_numpy(dtype=float))]
    if reasons is not None:
        frame["reason"] = [reasons.get(str(p), "") for p in frame["partner_id"]]
    up = frame[frame["change"] > 0].sort_values(["change", "partner_id"], ascending=[False, True], kind="stable")
    down = frame[frame["change"] < 0].sort_values(["change", "partner_id"], ascending=[True, True], kind="stable")
    return {"up": up.head(n).reset_index(drop=True), "down": down.head(n).reset_index(drop=True)}


def segment_scores(result: ScoreResult, min_size: int = MIN_SEGMENT_SIZE) -> pd.DataFrame:
    """Per segment (the model's primary segmentation), the scored partners and their median
    revenue, engagement and composite, with the composite's middle half; the last row is the whole
    programme, the benchmark each segment is read against. A segment of fewer than ``min_size``
    scored partners shows its count only."""
    frame = pd.DataFrame({"segment": [s if isinstance(s, str) and s else "(none)" for s in result["segment"]],
                          "revenue": result["revenue_score"], "engagement": result["engagement_score"],
                          "composite": result["composite_score"]})
    frame = frame[~np.isnan(frame["composite"].to_numpy(dtype=float))]
    rows = []
    for segment, group in [*sorted(frame.groupby("segment"), key=lambda g: str(g[0])), ("All partners", frame)]:
        small = len(group) < min_size
        stat = (lambda col, q: np.nan if small else round(float(group[col].quantile(q)), 1))
        rows.append({"segment": segment, "partners": len(group), "revenue": stat("revenue", 0.5),
                     "engagement": stat("engagement", 0.5), "composite": stat("composite", 0.5),
                     "p25": stat("composite", 0.25), "p75": stat("composite", 0.75)})
    return pd.DataFrame(rows)


def _listed(result: ScoreResult, mask: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    base = {"partner_id": result["partner_id"], "partner_name": result["partner_name"], "segment": result["segment"],
            "tier": result["tier"], "composite": result["composite_score"], **columns}
    frame = pd.DataFrame(base)[mask]
    return frame.sort_values(["composite", "partner_id"], ascending=[False, True], kind="stable").reset_index(drop=True)


def coaching(result: ScoreResult) -> tuple[str, pd.DataFrame]:
    """High revenue potential with low engagement (the model's quadrant for it), the partners the
    coaching rule is written for: the rule in words and the partners, highest composite first."""
    q = result.model.spec.quadrants
    mask = (np.asarray(result["revenue_score"], dtype=float) >= q.revenue_threshold) & (
        np.asarray(result["engagement_score"], dtype=float) < q.engagement_threshold)
    rule = (f"revenue score {q.revenue_threshold:g}+ and engagement score below {q.engagement_threshold:g} "
            f"({q.labels.high_revenue_low_engagement})")
    return rule, _listed(result, mask, {"revenue": result["revenue_score"], "engagement": result["engagement_score"]})


def low_fit(result: ScoreResult) -> tuple[str, pd.DataFrame]:
    """Partners whose first layer (strategic fit in the default model), mixed across outcomes with
    the composite weights, scores below the lowest tier threshold above zero: the rule in words and
    the partners."""
    spec = result.model.spec
    layer = spec.layers[0]
    weights = np.array([spec.composite_weights[o] for o in OUTCOMES], dtype=float)
    weights = weights / weights.sum()
    values = [np.asarray(result[f"{o}_{layer.id}"], dtype=float) for o in OUTCOMES]
    fit = np.round(weights[0] * values[0] + weights[1] * values[1], 1)
    floor = min((t.min_score for t in spec.tiers if t.min_score > 0), default=50.0)
    with np.errstate(invalid="ignore"):
        mask = fit < floor
    return f"{layer.label} below {floor:g}", _listed(result, mask, {"fit": fit})


def watch_list(result: ScoreResult, stale: np.ndarray) -> pd.DataFrame:
    """Partners whose score is provisional (early in onboarding) or whose History is stale, with why."""
    provisional = np.asarray(result["provisional"], dtype=bool)
    stale = np.asarray(stale, dtype=bool)
    why = np.array([", ".join(w for w, on in (("provisional", p), ("stale history", s)) if on)
                    for p, s in zip(provisional, stale)], dtype=object)
    return _listed(result, provisional | stale, {"months": result["months_since_start"], "why": why})


def forecast_rollup(result: ScoreResult) -> tuple[bool, pd.DataFrame]:
    """Per segment and for the programme: with a calibrated model ``(True, ...)`` partners, summed
    expected revenue and the sums of the partners' 80% ranges, mean engagement probability; without
    one ``(False, ...)`` partners, mean revenue score and the share at or above the quadrant's
    revenue threshold -- score-based, no currency."""
    segment = np.array([s if isinstance(s, str) and s else "(none)" for s in result["segment"]], dtype=object)
    composite = np.asarray(result["composite_score"], dtype=float)
    scored = ~np.isnan(composite)
    calibrated = result.model.spec.calibration is not None
    frame = pd.DataFrame({"segment": segment[scored]})
    if calibrated:
        for column in ("expected_revenue", "expected_revenue_low", "expected_revenue_high", "engagement_probability"):
            frame[column] = np.asarray(result[column], dtype=float)[scored]
    else:
        frame["revenue"] = np.asarray(result["revenue_score"], dtype=float)[scored]
    threshold = result.model.spec.quadrants.revenue_threshold
    rows = []
    for name, group in [*sorted(frame.groupby("segment"), key=lambda g: str(g[0])), ("All partners", frame)]:
        if calibrated:
            rows.append({"segment": name, "partners": len(group),
                         "expected": round(float(group["expected_revenue"].sum()), 0),
                         "low": round(float(group["expected_revenue_low"].sum()), 0),
                         "high": round(float(group["expected_revenue_high"].sum()), 0),
                         "probability": round(float(group["engagement_probability"].mean()), 3)})
        else:
            rows.append({"segment": name, "partners": len(group), "revenue": round(float(group["revenue"].mean()), 1),
                         "high_share": round(float((group["revenue"] >= threshold).mean()), 3)})
    return calibrated, pd.DataFrame(rows)


@dataclass(frozen=True)
class ModelHealth:
    """What the model file says about how well it predicts."""

    date: object  # calibration date
    n: int
    horizon_months: int
    figures: list[tuple[str, float, float, float]]  # (name, value, low, high) of the back-test


_FIGURES = (("auc", "AUC (engagement)"), ("brier", "Brier score"), ("ece", "Calibration error"),
            ("normalized_gini", "Revenue Gini (normalised)"), ("spearman", "Revenue rank correlation"),
            ("top_decile_capture", "Top-decile revenue capture"))


def model_health(result: ScoreResult) -> ModelHealth | None:
    """The calibration's date, size and back-test figures with their intervals; None when uncalibrated."""
    cal = result.model.spec.calibration
    if cal is None:
        return None
    test = cal.backtest
    figures = []
    for key, label in _FIGURES:
        found = getattr(test, key, None) if test is not None else None
        if found is not None:
            figures.append((label, float(found.value), float(found.low), float(found.high)))
    return ModelHealth(cal.date, int(cal.n), int(cal.horizon_months), figures)


def quality_summary(result: ScoreResult) -> pd.DataFrame:
    """Per data-quality flag of the scorecard: its name in words, the records and how many partners have it."""
    flags = result.flags
    if flags.empty:
        return pd.DataFrame(columns=["flag", "records", "partners"])
    grouped = flags.groupby("flag", sort=True)
    return pd.DataFrame({"flag": [str(f).replace("_", " ") for f in grouped.groups],
                         "records": [len(g) for _, g in grouped],
                         "partners": [int(g["row"].nunique()) for _, g in grouped]}).sort_values(
        ["partners", "flag"], ascending=[False, True], kind="stable").reset_index(drop=True)


def interventions_summary(interventions: pd.DataFrame | None, since, until) -> pd.DataFrame | None:
    """Actions recorded on the Interventions sheet from ``since`` to ``until``: per action, how many
    partners and records, and how many are done; None without the sheet or such records."""
    if interventions is None or interventions.empty or "action" not in interventions or "date" not in interventions:
        return None
    days = [_day(d) for d in interventions["date"]]
    keep = np.array([d is not None and since <= d <= until for d in days], dtype=bool)
    found = interventions[keep]
    if found.empty:
        return None
    action = found["action"].map(lambda a: "" if cells.is_null(a) else str(a).strip())
    status = (found["status"] if "status" in found else pd.Series([""] * len(found), index=found.index))
    done = status.map(lambda s: "" if cells.is_null(s) else str(s).strip().casefold()) == "done"
    table = pd.DataFrame({"action": action, "partner_id": found["partner_id"].astype(str), "done": done})
    table = table[table["action"] != ""]
    if table.empty:
        return None
    grouped = table.groupby("action", sort=True)
    return pd.DataFrame({"action": list(grouped.groups), "records": [len(g) for _, g in grouped],
                         "partners": [g["partner_id"].nunique() for _, g in grouped],
                         "done": [int(g["done"].sum()) for _, g in grouped]}).sort_values(
        ["records", "action"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _day(value):
    found = cells.date(value)[0]
    return found if isinstance(found, dt.date) else None
