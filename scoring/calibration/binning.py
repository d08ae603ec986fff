"""Sub-score maps learnt from outcomes: points per category, monotone bins for numbers.

This is the scorecard step that credit scoring calls binning and weight of evidence, done with the
analyst's own map as the prior, so that a small programme cannot swing it wildly:

* Each category of an ordinal metric (or each bin of a numeric one) has an observed outcome rate.
  The analyst's map gives a prior rate for it: a one-metric logistic fit of the outcome on the
  analyst's sub-score, read at that category's sub-score. The fitted rate is the observed one
  shrunk toward the prior by :data:`PRIOR_COUNT` partners' worth of evidence.
* Categories held by fewer than :data:`MIN_CATEGORY` partners are pooled and share the pool's
  evidence; a pool that is itself too small leaves them at their prior.
* Numbers are cut into at most :data:`MAX_BINS` bins of at least :data:`MIN_BIN` partners each, and
  the bins' log-odds are made monotone in the metric's stated direction (weighted isotonic
  regression): the analyst decides *which way* a number counts, the data decides *how much* where.
  The result is a ``piecewise`` normalisation through the bins' medians.
* Log-odds are scaled to sub-scores 0-100 (worst to best); how much the metric matters is the
  weights' job (:mod:`scoring.calibration.fit`).

The outcome a metric's map is fitted to is engagement if the metric informs engagement, otherwise
whether the partner had any revenue. Booleans keep their map (yes and no are already the two
ends); a map the data cannot tell from flat keeps the analyst's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from scoring.calibration.backtest import wilson
from scoring.calibration.errors import step
from scoring.calibration.observed import Observed
from scoring.compiled import KIND_LINEAR, KIND_LOG, KIND_ORDINAL, Compiled
from scoring.normalize import linear, log_transform

__all__ = ["MapRow", "MetricMap", "fit_maps"]

PRIOR_COUNT = 10.0  # partners' worth of evidence in the analyst's map, per category or bin
MIN_CATEGORY = 20  # partners per category before it is judged on its own
MAX_BINS = 8
MIN_BIN = 25  # partners per numeric bin
MIN_SHAPE = 0.5  # points: a fitted map spanning less than this (of 100) is flat, and the analyst's is kept


@dataclass(frozen=True)
class MapRow:
    """One category or bin: what the analyst gave it, what partners showed, what the fit gives it."""

    metric: str
    outcome: str  # the outcome the map was fitted to
    group: str  # category name, or the bin's value range
    analyst: float  # the analyst's sub-score (a bin: at its median value)
    n: int
    observed: float  # outcome rate among those partners
    low: float  # 95% Wilson interval of the rate
    high: float
    fitted: float  # the fitted sub-score (NaN when the analyst's map is kept)


@dataclass(frozen=True)
class MetricMap:
    """A metric's fitted normalisation (model-file form), or None to keep the analyst's, and its rows."""

    metric: str
    normalization: dict | None
    rows: list[MapRow]
    note: str  # what happened, in words


def fit_maps(c: Compiled, observed: Observed, engaged: np.ndarray, revenue: np.ndarray) -> list[MetricMap]:
    """A fitted map per usable ordinal or numeric metric (booleans and unusable metrics are not refitted)."""
    out = []
    for j, metric in enumerate(c.spec.metrics):
        if not observed.usable[j] or c.kind[j] not in (KIND_ORDINAL, KIND_LINEAR, KIND_LOG):
            continue
        informs_engagement = "engagement" in metric.informs
        target = engaged if informs_engagement else (revenue > 0).astype(float)
        outcome = "engagement" if informs_engagement else "revenue above zero"
        with step(f"{metric.id}: fitting its {'category points' if c.kind[j] == KIND_ORDINAL else 'bins'}",
                  "check that its values vary among partners with outcomes, or remove the metric from the model"):
            if c.kind[j] == KIND_ORDINAL:
                out.append(_categories(c, j, observed, target, outcome))
            else:
                out.append(_bins(c, j, observed.values[j], target, outcome))
    return out


def _prior(analyst: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Intercept and (non-negative) slope of a one-metric logistic fit of ``y`` on the analyst's sub-score / 100."""
    if y.min() == y.max() or np.ptp(analyst) == 0:
        rate = (y.sum() + 0.5) / (len(y) + 1.0)
        return float(np.log(rate / (1 - rate))), 0.0
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(analyst[:, None] / 100.0, y)
    slope = float(fit.coef_[0, 0])
    if slope <= 0:  # the analyst's order is not borne out at all: the prior says only the base rate
        rate = (y.sum() + 0.5) / (len(y) + 1.0)
        return float(np.log(rate / (1 - rate))), 0.0
    return float(fit.intercept_[0]), slope


def _shrunk_logit(k: np.ndarray, n: np.ndarray, prior_logit: np.ndarray) -> np.ndarray:
    prior = 1.0 / (1.0 + np.exp(-prior_logit))
    rate = (k + PRIOR_COUNT * prior) / (n + PRIOR_COUNT)
    return np.log(rate / (1.0 - rate))


def _to_points(logit: np.ndarray) -> np.ndarray:
    span = np.ptp(logit)
    return np.round(100.0 * (logit - logit.min()) / span, 1) if span > 0 else np.full(len(logit), 50.0)


def _row(metric: str, outcome: str, group: str, analyst: float, y: np.ndarray, fitted: float) -> MapRow:
    n = len(y)
    rate = float(y.mean()) if n else np.nan
    low, high = wilson(rate, n) if n else (np.nan, np.nan)
    return MapRow(metric, outcome, group, float(analyst), n, rate, low, high, float(fitted))


def _categories(c: Compiled, j: int, observed: Observed, y: np.ndarray, outcome: str) -> MetricMap:
    metric = c.spec.metrics[j]
    names = observed.categories[j]
    analyst = np.array([metric.normalization.map[name] for name in names], dtype=float)
    position = observed.values[j]
    has = ~np.isnan(position)
    code = position[has].astype(int)
    yy = y[has]
    a0, b0 = _prior(analyst[code], yy)
    n = np.bincount(code, minlength=len(names)).astype(float)
    k = np.bincount(code, weights=yy, minlength=len(names))
    rare = n < MIN_CATEGORY
    pooled_n, pooled_k = n.copy(), k.copy()
    if rare.any() and n[rare].sum() >= MIN_CATEGORY:  # rare categories share the pool's evidence
        pooled_n[rare], pooled_k[rare] = n[rare].sum(), k[rare].sum()
    elif rare.any():  # too few even together: they stay at their prior
        pooled_n[rare], pooled_k[rare] = 0.0, 0.0
    logit = _shrunk_logit(pooled_k, pooled_n, a0 + b0 * analyst / 100.0)
    points = _to_points(logit)
    keep = np.ptp(points) < MIN_SHAPE or np.ptp(logit) < 1e-9
    rows = [_row(metric.id, outcome, name, analyst[i], yy[code == i], np.nan if keep else points[i])
            for i, name in enumerate(names)]
    if keep:
        return MetricMap(metric.id, None, rows, "the data cannot tell its categories apart; the analyst's points kept")
    moved = int(np.sum(np.abs(points - analyst) >= 10))
    return MetricMap(metric.id, {"kind": "ordinal", "map": dict(zip(names, points.tolist()))}, rows,
                     f"category points fitted ({moved} of {len(names)} moved by 10 points or more)")


def _analyst_subscore(c: Compiled, j: int, x: np.ndarray) -> np.ndarray:
    scale = log_transform(x[None, :].copy(), np.array([c.kind[j] == KIND_LOG]))[0]
    return linear(scale, c.floor[j], c.target[j])


def _bins(c: Compiled, j: int, values: np.ndarray, y: np.ndarray, outcome: str) -> MetricMap:
    metric = c.spec.metrics[j]
    has = ~np.isnan(values)
    x, yy = values[has], y[has]
    order = np.argsort(x, kind="stable")
    x, yy = x[order], yy[order]
    edges = _edges(x)
    a0, b0 = _prior(_analyst_subscore(c, j, x), yy)
    groups = np.searchsorted(edges, x, side="left")  # x <= edges[0] is bin 0
    count = len(edges) + 1
    n = np.bincount(groups, minlength=count).astype(float)
    k = np.bincount(groups, weights=yy, minlength=count)
    medians = np.array([np.median(x[groups == g]) for g in range(count)])
    analyst = _analyst_subscore(c, j, medians)
    logit = _shrunk_logit(k, n, a0 + b0 * analyst / 100.0)
    increasing = metric.direction == "higher"
    if count > 1:
        logit = IsotonicRegression(increasing=increasing).fit(medians, logit, sample_weight=n).predict(medians)
    points = _to_points(logit)
    lows = [x[groups == g].min() for g in range(count)]
    highs = [x[groups == g].max() for g in range(count)]
    keep = count < 2 or np.ptp(points) < MIN_SHAPE
    rows = [_row(metric.id, outcome, _range(lows[g], highs[g]), analyst[g], yy[groups == g],
                 np.nan if keep else points[g]) for g in range(count)]
    if keep:
        why = "too few partners to cut into bins" if count < 2 else "no monotone relation with the outcome"
        return MetricMap(metric.id, None, rows, f"{why}; the analyst's normalisation kept")
    knots = _knots(medians, points)
    return MetricMap(metric.id, {"kind": "piecewise", "points": knots}, rows,
                     f"monotone bins fitted ({count} bins, {len(knots)} points)")


def _edges(x: np.ndarray) -> np.ndarray:
    """Upper edges of bins over sorted ``x``: at most MAX_BINS, each at least MIN_BIN partners, cut only
    between distinct values (a value never straddles two bins)."""
    count = max(1, min(MAX_BINS, len(x) // MIN_BIN))
    edges = []
    for q in range(1, count):
        at = int(round(q * len(x) / count))
        edge = x[at - 1]
        if edges and edge <= edges[-1]:
            continue
        below = np.searchsorted(x, edge, side="right")
        if below - (np.searchsorted(x, edges[-1], side="right") if edges else 0) >= MIN_BIN \
                and len(x) - below >= MIN_BIN:
            edges.append(edge)
    return np.array(edges, dtype=float)


def _knots(medians: np.ndarray, points: np.ndarray) -> list[list[float]]:
    """``[[value, sub-score], ...]`` through the bin medians, a plateau kept by its two ends only."""
    keep = [0]
    for g in range(1, len(points) - 1):
        if not (points[g] == points[g - 1] and points[g] == points[g + 1]):
            keep.append(g)
    keep.append(len(points) - 1)
    return [[float(f"{medians[g]:.6g}"), float(points[g])] for g in keep]


def _range(low: float, high: float) -> str:
    return f"{low:.6g}" if low == high else f"{low:.6g} to {high:.6g}"
