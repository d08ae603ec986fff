"""A stored calibration applied to scores: engagement probability and expected revenue with an interval.

This is the only place those numbers are computed; the score table, UDFs and reports read them from
:class:`scoring.result.ScoreResult`. Applying a calibration is a few vectorised operations on
arrays prepared once per model content (as :mod:`scoring.compiled` does for the scorecard), so a
one-partner UDF call stays cheap.

A calibration maps *one* scorecard's scores to outcomes. If the parts of the model that decide the
scores change after calibrating (a weight, a normalisation target, a stage), the maps no longer
apply, and using them would print confident but wrong predictions; so that is an error, named.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np

from scoring.model.calibration_schema import Calibration, EngagementMap, Logistic, RevenueMap
from scoring.model.load import ModelError, ScoringModel
from scoring.model.schema import ModelSpec

#: Columns a calibrated model adds to the score table, in order.
COLUMNS = ("engagement_probability", "expected_revenue", "expected_revenue_low", "expected_revenue_high")

#: The parts of a model that decide the revenue and engagement scores, hence what a calibration fits.
SCORECARD_FIELDS = ("layers", "metrics", "weights", "stages", "segmentation", "segments", "adjustment_bounds")

#: A metric's words and bookkeeping, which no score reads: editing them (or dating when the programme
#: started recording a metric with ``since``, which only decides who is expected to have a value)
#: keeps a stored calibration.
DESCRIPTIVE_METRIC_FIELDS = ("label", "definition", "unit", "source", "owner", "rationale", "since")


def scorecard_hash(spec: ModelSpec) -> str:
    """Short hash of what decides the scores: unchanged by a new version number, changelog, tiers,
    playbook, a metric's descriptive fields or the calibration itself, changed by any weight,
    normalisation, metric, stage or segment, and by the stale rule or anomaly settings once they
    change values (decay or drop; leave_out): a model that keeps every value hashes as before."""
    data = spec.model_dump(mode="json", include=set(SCORECARD_FIELDS))
    for metric in data["metrics"]:
        for field in DESCRIPTIVE_METRIC_FIELDS:
            metric.pop(field, None)
    if spec.stability.stale != "keep":  # a stale value moved toward the baseline or left out
        data["stale"] = [spec.stability.stale, spec.stability.decay_half_life_days]
    if spec.anomalies.action == "leave_out":  # which values are left out follows every threshold
        data["anomalies"] = spec.anomalies.model_dump(mode="json")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Predictor:
    """A calibration as arrays, ready to apply to any number of partners."""

    engagement: EngagementMap
    revenue: RevenueMap
    band_uppers: np.ndarray  # (B,) revenue score at the top of each band
    band_low: np.ndarray  # (B,) low end of the interval as a multiple of expected revenue
    band_high: np.ndarray  # (B,)
    knot_scores: np.ndarray  # isotonic knots (empty for a logistic map)
    knot_probabilities: np.ndarray

    def engagement_probability(self, engagement_score: np.ndarray) -> np.ndarray:
        """Probability of being engaged at the horizon, unrounded; NaN where the score is missing."""
        m = self.engagement
        if m.method == "logistic":
            return _sigmoid(m.intercept + m.slope * engagement_score)
        out = np.interp(engagement_score, self.knot_scores, self.knot_probabilities)
        out[np.isnan(engagement_score)] = np.nan
        return out

    def expected_revenue(self, revenue_score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected revenue at the horizon and its interval, unrounded; NaN where the score is missing."""
        r = self.revenue
        expected = hurdle_mean(r.positive, r.log_intercept, r.log_slope, r.smearing, revenue_score)
        band = np.minimum(np.searchsorted(self.band_uppers, np.nan_to_num(revenue_score), side="left"),
                          len(self.band_uppers) - 1)
        return expected, expected * self.band_low[band], expected * self.band_high[band]

    def columns(self, revenue_score: np.ndarray, engagement_score: np.ndarray) -> dict[str, np.ndarray]:
        """The public prediction columns, rounded as shown: probability to 0.001, revenue to whole units."""
        expected, low, high = self.expected_revenue(revenue_score)
        return {
            "engagement_probability": np.round(self.engagement_probability(engagement_score), 3),
            "expected_revenue": np.round(expected),
            "expected_revenue_low": np.round(low),
            "expected_revenue_high": np.round(high),
        }


def hurdle_mean(positive: Logistic, log_intercept: float, log_slope: float, smearing: float,
                score: np.ndarray) -> np.ndarray:
    """``P(revenue > 0) * E[revenue | revenue > 0]`` at each revenue score (see RevenueMap)."""
    p = _sigmoid(positive.intercept + positive.slope * score)
    return p * smearing * np.exp(log_intercept + log_slope * score)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


_CACHE: dict[str, Predictor] = {}


def lazy_columns(model: ScoringModel, scores_at: Callable[[float], dict[str, np.ndarray]]
                 ) -> dict[str, Callable[[], np.ndarray]]:
    """The prediction columns, computed together on first use from unrecorded ``scores_at(months)``:
    the revenue and engagement scores the partners' data gets with every partner ``months`` into
    onboarding (:attr:`scoring.result.Core.at_months`).

    The maps were fitted on scores taken ``window_months`` in, so they are applied to the scores of
    that stage, whatever stage the scoring date puts a partner in: the same data gets the same
    prediction on any date. The calibration is checked now (see :func:`predictor`), so a stale one
    fails when scoring starts.
    """
    found = predictor(model)
    months = model.spec.calibration.window_months

    @cache
    def computed() -> dict[str, np.ndarray]:
        scores = scores_at(months)
        return found.columns(scores["revenue"], scores["engagement"])

    return {name: (lambda name=name: computed()[name]) for name in COLUMNS}


def predictor(model: ScoringModel) -> Predictor:
    """The model's calibration ready to apply, cached by content hash.

    Raises :class:`ModelError` if the model has no calibration or if its scorecard changed since
    the calibration was fitted.
    """
    found = _CACHE.get(model.hash)
    if found is None:
        found = _CACHE[model.hash] = _build(model)
    return found


def _build(model: ScoringModel) -> Predictor:
    cal: Calibration | None = model.spec.calibration
    if cal is None:
        raise ModelError(model.source, ["calibration: this model has no calibration (run pscore calibrate)"])
    current = scorecard_hash(model.spec)
    if cal.scorecard != current:
        raise ModelError(model.source, [
            f"calibration: fitted to scorecard {cal.scorecard}, but the weights, metrics, stages or segments "
            f"have changed since (now {current}); run pscore calibrate again or delete the calibration section"
        ])
    return from_maps(cal.engagement, cal.revenue)


def from_maps(engagement: EngagementMap, revenue: RevenueMap) -> Predictor:
    """A predictor for maps not (yet) stored in a model, e.g. while back-testing."""
    bands = revenue.bands
    return Predictor(
        engagement=engagement,
        revenue=revenue,
        band_uppers=np.array([b.upper for b in bands], dtype=float),
        band_low=np.array([b.low for b in bands], dtype=float),
        band_high=np.array([b.high for b in bands], dtype=float),
        knot_scores=np.array(engagement.scores, dtype=float),
        knot_probabilities=np.array(engagement.probabilities, dtype=float),
    )
