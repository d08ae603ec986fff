"""The scorecard: partners in, scores, tiers, drivers, actions and flags out.

Everything is computed on whole columns (numpy arrays of every partner) so that one partner and a
million partners go through the same code. The chain is:

metric value -> sub-score (0-100) -> layer score (weighted mean of present metrics in the layer)
-> outcome score (stage-weighted mean of layers present) -> segment adjustment -> composite.

Because each step is a weighted mean, an outcome score equals ``sum(effective_weight * sub_score)``
with effective weights summing to 1. That identity gives exact drivers: a metric's contribution is
``effective_weight * (sub_score - baseline)`` and a partner's contributions (plus the segment
adjustment) add up to its score minus the baseline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import flags
from scoring import segments
from scoring import staleness
from scoring.compiled import OUTCOMES, Compiled, compile_model
from scoring.model.load import ScoringModel, load_model
from scoring.cells import dates, plausible_dates
from scoring.normalize import extract, linear, log_transform, piecewise
from scoring.result import Core, ScoreResult
from scoring.table import PartnerTable

__all__ = ["UNSCORED", "months_between", "score", "stage_index", "to_date"]

UNSCORED = "Unscored"
DAYS_PER_MONTH = 365.25 / 12

def to_date(value: "dt.date | str | pd.Timestamp | None") -> dt.date:
    """Normalise an ``as_of`` argument; ``None`` means today."""
    if value is None:
        return dt.date.today()
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"as_of: {value!r} is not a date (use YYYY-MM-DD)")


def score(
    partners: pd.DataFrame,
    model: "ScoringModel | str" = "default",
    as_of: "dt.date | str | None" = None,
    stale: "dict[str, np.ndarray] | None" = None,
    observations: "np.ndarray | None" = None,
) -> ScoreResult:
    """Score every partner in ``partners`` (one row each, metric columns named by metric id).

    Missing metric columns or cells are tolerated: weights re-normalise over what is present and the
    partner is flagged. ``as_of`` (default today) fixes each partner's maturity stage. ``stale``
    (metric id -> per-partner factor, from :func:`scoring.staleness.assess`) applies the model's
    rule for values older than their interval. ``observations`` (History snapshots per partner up to
    ``as_of``, from :func:`scoring.stability.snapshots_at`) applies the model's minimum observation
    period to the ``provisional`` flag.
    """
    if not isinstance(partners, pd.DataFrame):
        raise TypeError("partners must be a pandas DataFrame with one row per partner")
    model = load_model(model)
    c = compile_model(model)
    as_of = to_date(as_of)
    table = PartnerTable(partners)

    member = segments.membership(c, table)
    sub, status = _subscores(c, table, member)
    if stale is not None:
        staleness.apply(c.metric_ids, c.spec.drivers.baseline, sub, stale)
    starts, months = _starts(table, as_of)
    unrecorded = flags.unrecorded(c, starts, status["missing"])
    stage_idx = stage_index(c, months)
    out = _outcomes(c, member, sub, c.stage_weights[stage_idx].T, unrecorded)
    scores, layers, contrib, coverage = {}, {}, {}, {}
    for k, outcome in enumerate(OUTCOMES):
        adjusted = _adjusted(out.score[k], out.factors[k])
        out.contributions[k, -1] = np.nan_to_num(adjusted - out.score[k])
        scores[outcome], scores[f"{outcome}_unadjusted"] = adjusted, out.score[k]
        layers[outcome], coverage[outcome], contrib[outcome] = out.layers[k], out.coverage[k], out.contributions[k]
    cw_r, cw_e = c.composite
    scores["composite"] = cw_r * scores["revenue"] + cw_e * scores["engagement"]
    total_coverage = cw_r * coverage["revenue"] + cw_e * coverage["engagement"]

    def at_months(fixed: float) -> dict[str, np.ndarray]:
        """Revenue and engagement scores of the same data with every partner ``fixed`` months in.

        Layer scores do not depend on the stage, so only their stage-weighted mean is taken again."""
        stage = stage_index(c, np.array([fixed], dtype=float))[0]
        if (stage_idx == stage).all():  # already there: the very same numbers
            return {o: scores[o] for o in OUTCOMES}
        has_layer = ~np.isnan(out.layers)
        again, _ = _stage_mean(c.stage_weights[stage][:, None], has_layer, np.where(has_layer, out.layers, 0.0))
        adjusted = _adjusted(again, out.factors)
        return {o: adjusted[k] for k, o in enumerate(OUTCOMES)}

    shown = {o: np.round(scores[o], 1) for o in (*OUTCOMES, "composite")}
    row_flags = flags.row_flags(
        c.spec, coverage=total_coverage, no_data=np.isnan(scores["composite"]),
        unknown_segment=np.logical_or.reduce(list(member.unknown.values())), months=months,
        observations=observations,
    )
    columns = {
        "partner_id": _column(table, "partner_id"),
        "partner_name": _column(table, "partner_name"),
        "segment": member.values[c.spec.segmentation.primary],
        "stage": c.stage_ids[stage_idx],
        "months_since_start": np.round(months, 1),
        "revenue_score": shown["revenue"],
        "engagement_score": shown["engagement"],
        "composite_score": shown["composite"],
        "tier": _tiers(c, shown["composite"]),
        "quadrant": _quadrants(c, shown["revenue"], shown["engagement"]),
        "coverage": np.round(total_coverage, 3),
        "provisional": row_flags["provisional"],
    }
    core = Core(partners, sub, status, row_flags, scores, layers, contrib, columns, member.unknown, member.values,
                {c.metric_ids[u.index]: u.blank for u in unrecorded}, at_months)
    return ScoreResult(model, c, as_of, core)


def _column(table: PartnerTable, name: str) -> np.ndarray:
    return table.objects(name) if name in table else np.full(table.n, None, dtype=object)


def _subscores(c: Compiled, table: PartnerTable, member: segments.Membership):
    """Sub-scores ``(M, n)`` (NaN where unusable) and the per-metric flag masks."""
    values, missing, invalid = extract(table, c.metric_ids, c.lookups)
    with np.errstate(invalid="ignore"):
        out_of_range = (values < c.valid_lo[:, None]) | (values > c.valid_hi[:, None])
    scale = log_transform(values, c.log_columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        overrides = [
            (rows, j, linear(scale[j, rows], floor, target))
            for s, j, floor, target in c.norm_overrides
            if (rows := member.matrix[:, s]).any()
        ]
        interpolated = [(j, piecewise(scale[j], points)) for j, points in c.piecewise.items()]
        sub = linear(scale, c.floor[:, None], c.target[:, None], out=scale)
    for j, found in interpolated:
        sub[j] = found
    for rows, j, override in overrides:
        sub[j, rows] = override
    sub[out_of_range] = np.nan
    return sub, {"missing": missing, "invalid_value": invalid, "out_of_range": out_of_range}


def _starts(table: PartnerTable, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Onboarding start per partner (``datetime64[D]``) and the months from it to ``as_of`` (see
    :func:`months_between`); NaT / NaN where the start is blank, unreadable or implausibly early
    (see :func:`scoring.cells.date`)."""
    if "onboarding_start" not in table:
        return np.full(table.n, np.datetime64("NaT"), dtype="datetime64[D]"), np.full(table.n, np.nan)
    starts = plausible_dates(table.dates("onboarding_start", dates))
    return starts, months_between(starts, np.datetime64(as_of, "D"))


def stage_index(c: Compiled, months: np.ndarray) -> np.ndarray:
    """Maturity stage of each months-since-start: the first stage whose ``max_months`` lies above it
    (the stage applies up to, not including, its own bound); no or a future start is the first stage."""
    return np.searchsorted(c.stage_bounds, np.nan_to_num(np.maximum(months, 0.0)), side="right")


def _adjusted(score: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """An outcome's score with its segment adjustment, clipped to 0-100."""
    return np.clip(score * factors, 0.0, 100.0)


def months_between(starts: np.ndarray, ends: "np.ndarray | np.datetime64") -> np.ndarray:
    """Calendar months from ``starts`` to ``ends`` (1 Aug -> 1 Nov is 3.0), plus the day difference
    as a fraction of an average month; NaN where a date is missing. Maturity stages, trajectories
    and milestone positions all use this one definition of "months into onboarding"."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    ends = np.asarray(ends, dtype="datetime64[D]")
    start_month, end_month = starts.astype("datetime64[M]"), ends.astype("datetime64[M]")
    whole = (end_month - start_month).astype(float)
    start_day = (starts - start_month.astype("datetime64[D]")).astype(float)
    end_day = (ends - end_month.astype("datetime64[D]")).astype(float)
    months = whole + (end_day - start_day) / DAYS_PER_MONTH
    return np.where(np.isnat(starts) | np.isnat(ends), np.nan, months)


@dataclass
class _Outcomes:
    """Per-outcome arrays, stacked on a leading axis in ``OUTCOMES`` order."""

    score: np.ndarray  # (2, n) before segment adjustment
    layers: np.ndarray  # (2, L, n) layer scores, NaN where a layer has no data
    contributions: np.ndarray  # (2, M + 1, n) points per metric; last row reserved for the adjustment
    coverage: np.ndarray  # (2, n) share of the stage-weighted scorecard backed by data
    factors: np.ndarray  # (2, n) segment adjustment factor


def _ordered_sum(rows) -> np.ndarray:
    """Sum of arrays in a fixed order. numpy's reductions pick a summation order by array shape,
    which would let a one-partner call differ from a batch in the last bit; this never does."""
    rows = iter(rows)
    total = np.array(next(rows), dtype=float, copy=True)
    for row in rows:
        total += row
    return total


def _outcomes(c: Compiled, member: segments.Membership, sub: np.ndarray, stage_weights: np.ndarray,
              unrecorded: list[flags.Unrecorded]) -> _Outcomes:
    """Layer scores, outcome scores, contributions and coverage for both outcomes at once.

    ``sub`` is ``(M, n)`` (NaN where unusable), ``stage_weights`` the layer weights of each partner's
    stage ``(L, n)``, ``unrecorded`` what :func:`scoring.flags.unrecorded` found.
    """
    m, n = sub.shape
    present = ~np.isnan(sub)
    # Sub-scores with 0 for missing, plus a zero row that pads layers to equal length in
    # ``c.layer_index`` so all layers are summed together, in a fixed order.
    sub0 = np.zeros((m + 1, n))
    np.copyto(sub0[:-1], sub, where=present)
    n_layers = len(c.layer_ids)
    tables = segments.combo_tables(c, member)
    contributions = np.empty((2, m + 1, n))
    contributions[:, m] = 0.0
    wp = contributions[:, :m]
    np.take(tables.weights.transpose(0, 2, 1), member.group, axis=2, out=wp, mode="clip")  # unbuffered
    layer_total = tables.layer_total[:, :, member.group]
    if unrecorded:  # not expected and not there: left out of the partner's coverage
        _expected_totals(c, contributions, layer_total, {u.index: u.before & ~present[u.index] for u in unrecorded})
    wp *= present  # weights of the metrics present
    del present
    layer_w = _ordered_sum(contributions[:, col] for col in c.layer_index.T)  # (2, L, n)
    layer_sum = _ordered_sum(contributions[:, col] * sub0[col] for col in c.layer_index.T)
    has_layer = layer_w > 0
    # Coverage: share of each layer's (expected) weight backed by data, weighted by the stage's layer weights.
    in_use = stage_weights * (layer_total > 0)
    share = np.divide(layer_w, layer_total, out=np.zeros_like(layer_w), where=layer_total > 0)
    del layer_total
    coverage = _ordered_sum(in_use[:, k] * share[:, k] for k in range(n_layers))
    expected = _ordered_sum(in_use[:, k] for k in range(n_layers))
    if unrecorded:  # a partner expected to have no metric at all has no data either: coverage 0
        np.divide(coverage, expected, out=coverage, where=expected > 0)
    else:
        coverage /= expected
    del in_use, share, expected
    # Layer scores, then the stage-weighted mean over the layers that have data (arrays reused in place).
    layer_w[~has_layer] = 1.0
    filled = np.divide(layer_sum, layer_w, out=layer_sum)  # 0 where a layer has no data (its sum is 0 too)
    score, lw = _stage_mean(stage_weights, has_layer, filled)
    scale = np.divide(lw, layer_w, out=lw)  # (2, L, n): effective weight per unit of within-layer weight
    del layer_w
    baseline = c.spec.drivers.baseline
    for j in range(m):  # weights -> effective weights -> points above the baseline, in place
        wp[:, j] *= scale[:, c.metric_layer[j]]
        wp[:, j] *= sub0[j] - baseline
    factors = tables.factors[:, member.group]
    filled[~has_layer] = np.nan
    return _Outcomes(score, filled, contributions, coverage, factors)


def _stage_mean(stage_weights: np.ndarray, has_layer: np.ndarray, filled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outcome scores ``(2, n)``: the stage-weighted mean of the layer scores ``filled`` (2, L, n; 0
    where ``has_layer`` is False) over the layers with data, NaN where none has; and the layer
    weights used, normalised to sum to 1 per partner ``(2, L, n)``."""
    n_layers = has_layer.shape[1]
    lw = stage_weights * has_layer
    lw_sum = _ordered_sum(lw[:, k] for k in range(n_layers))[:, None]
    np.divide(lw, lw_sum, out=lw, where=lw_sum > 0)
    score = _ordered_sum(lw[:, k] * filled[:, k] for k in range(n_layers))
    score[~has_layer.any(axis=1)] = np.nan
    return score, lw


def _expected_totals(c: Compiled, weights: np.ndarray, layer_total: np.ndarray, left_out: dict[int, np.ndarray]) -> None:
    """In place: each partner's ``layer_total`` (2, L, n) without the weight of the metrics
    ``left_out`` for it (metric index -> (n,) mask), from its metric weights ``weights`` (2, M + 1, n).

    Only the layers of such metrics are summed again, and only partners who lack one take the new
    total, so everyone else keeps exactly the segment combination's total.
    """
    for k in sorted({int(c.metric_layer[j]) for j in left_out}):
        lacking = np.logical_or.reduce([mask for j, mask in left_out.items() if c.metric_layer[j] == k])
        if not lacking.any():
            continue
        total = _ordered_sum(weights[:, j] * ~left_out[j] if j in left_out else weights[:, j] for j in c.layer_index[k])
        np.copyto(layer_total[:, k], total, where=lacking)


def _tiers(c: Compiled, composite: np.ndarray) -> np.ndarray:
    """Tier id for each (rounded) composite score."""
    idx = np.searchsorted(c.tier_mins, np.nan_to_num(composite), side="right") - 1
    return np.where(np.isnan(composite), UNSCORED, c.tier_ids[np.clip(idx, 0, len(c.tier_ids) - 1)])


def _quadrants(c: Compiled, revenue: np.ndarray, engagement: np.ndarray) -> np.ndarray:
    q = c.spec.quadrants
    high_r = revenue >= q.revenue_threshold
    high_e = engagement >= q.engagement_threshold
    labels = np.array(
        [q.labels.low_revenue_low_engagement, q.labels.low_revenue_high_engagement,
         q.labels.high_revenue_low_engagement, q.labels.high_revenue_high_engagement, UNSCORED],
        dtype=object,
    )
    code = high_r * 2 + high_e
    return labels[np.where(np.isnan(revenue) | np.isnan(engagement), 4, code)]
