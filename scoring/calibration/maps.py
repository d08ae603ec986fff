"""Fitting the maps from scores to outcomes that a calibration stores.

Engagement: a monotone map from engagement score to the probability of being engaged at the
horizon. Logistic (Platt) scaling by default: two parameters, stable on a few hundred partners.
Isotonic regression follows any monotone shape but needs many partners not to overfit; callers
offer it from :data:`MIN_ISOTONIC` partners.

Revenue: a hurdle model (see :class:`scoring.calibration_schema.RevenueMap`), with an 80% interval
per revenue-score band taken from *out-of-sample* residuals (cross-fitted), because in-sample
residuals of a fitted curve understate how far new partners fall from it.

Applying a fitted map is :mod:`scoring.predict`'s job, so back-tests and stored calibrations use
the same code.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression, LogisticRegression

from scoring.calibration import predict
from scoring.model.calibration_schema import EngagementMap, Logistic, RevenueBand, RevenueMap

MIN_ISOTONIC = 1000  # partners with outcomes before an isotonic engagement map is allowed
INTERVAL = 0.8  # coverage of the revenue interval
MAX_BANDS = 5  # revenue-score bands for the interval
MIN_PER_BAND = 20  # partners per band, at least
FOLDS = 5  # cross-fitting folds for out-of-sample residuals
_UNPENALISED = 1e6  # LogisticRegression's C: plain maximum likelihood, as Platt scaling is defined


def fit_engagement(score: np.ndarray, engaged: np.ndarray, method: str = "logistic") -> EngagementMap:
    """Monotone map from engagement score to P(engaged); ``method`` is ``logistic`` or ``isotonic``.

    A logistic fit that comes out decreasing (a scorecard that ranks engagement backwards) is
    replaced by the flat base rate: the best non-decreasing logistic map.
    """
    y = np.asarray(engaged, dtype=float)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(score, y)
        knots, probabilities = iso.X_thresholds_, iso.y_thresholds_
        if len(knots) < 2:  # every partner had the same score: a flat map over the whole range
            knots, probabilities = np.array([0.0, 100.0]), np.repeat(probabilities[:1], 2)
        return EngagementMap(method="isotonic", scores=knots.tolist(), probabilities=probabilities.tolist())
    if method != "logistic":
        raise ValueError(f"unknown engagement map '{method}' (use logistic or isotonic)")
    fit = _logistic(score, y)
    if fit.slope < 0:
        fit = _constant(y)
    return EngagementMap(method="logistic", intercept=fit.intercept, slope=fit.slope)


def _logistic(score: np.ndarray, y: np.ndarray) -> Logistic:
    """``logit P = intercept + slope * score``; a constant if only one outcome occurs."""
    if y.min() == y.max():
        return _constant(y)
    model = LogisticRegression(C=_UNPENALISED, max_iter=1000).fit(score[:, None] / 100.0, y)
    return Logistic(intercept=float(model.intercept_[0]), slope=float(model.coef_[0, 0]) / 100.0)


def _constant(y: np.ndarray) -> Logistic:
    """The base rate as a flat map, shrunk half a partner toward 50% so it is never exactly 0 or 1."""
    rate = (y.sum() + 0.5) / (len(y) + 1.0)
    return Logistic(intercept=float(np.log(rate / (1 - rate))), slope=0.0)


def fit_revenue(score: np.ndarray, revenue: np.ndarray, seed: int = 0) -> RevenueMap:
    """Hurdle map from revenue score to expected revenue, with interval bands from cross-fitted residuals.

    Needs at least two partners with positive revenue (callers refuse far earlier, at ten).
    """
    revenue = np.asarray(revenue, dtype=float)
    positive, log_intercept, log_slope, smearing = _hurdle(score, revenue)
    held_out = _cross_fitted(score, revenue, seed)
    ratio = revenue / held_out
    return RevenueMap(
        method="hurdle", positive=positive, log_intercept=log_intercept, log_slope=log_slope,
        smearing=smearing, interval=INTERVAL, bands=_bands(score, ratio),
    )


def _hurdle(score: np.ndarray, revenue: np.ndarray) -> tuple[Logistic, float, float, float]:
    """The hurdle's parts: P(revenue > 0), and the log-linear fit to positive revenue with Duan's
    smearing factor (mean of exp(residual)), which makes exp(fitted log) a mean, not a median."""
    has = revenue > 0
    positive = _logistic(score, has.astype(float))
    x, logs = score[has][:, None], np.log(revenue[has])
    fit = LinearRegression().fit(x, logs)
    smearing = float(np.mean(np.exp(logs - fit.predict(x))))
    return positive, float(fit.intercept_), float(fit.coef_[0]), smearing


def _cross_fitted(score: np.ndarray, revenue: np.ndarray, seed: int) -> np.ndarray:
    """Expected revenue for each partner from a hurdle fitted without that partner's fold."""
    fold = np.random.default_rng(seed).permutation(len(score)) % FOLDS
    out = np.empty(len(score))
    for k in range(FOLDS):
        test = fold == k
        out[test] = predict.hurdle_mean(*_hurdle(score[~test], revenue[~test]), score[test])
    return out


def _bands(score: np.ndarray, ratio: np.ndarray) -> list[RevenueBand]:
    """Score bands of similar size (at least :data:`MIN_PER_BAND` partners) with the central
    :data:`INTERVAL` of actual / expected revenue in each.

    Where many in a band had no revenue the interval starts at zero and ends at the INTERVAL
    quantile, so it still holds INTERVAL of partners. Its top can then lie below the expected
    revenue: most such partners earn little and a few earn a lot, which is what the mean reflects.
    """
    count = max(1, min(MAX_BANDS, len(score) // MIN_PER_BAND))
    edges = np.quantile(score, np.arange(1, count) / count, method="lower")
    uppers = [*np.unique(edges[edges < 100]).tolist(), 100.0]
    band = np.searchsorted(uppers, score, side="left")
    counts = np.bincount(band, minlength=len(uppers))
    keep = [k for k in range(len(uppers) - 1) if counts[k] > 0]  # an empty band merges into the next
    if counts[-1] == 0 and keep:  # an empty top band takes the band below it
        keep.pop()
    uppers = [uppers[k] for k in keep] + [100.0]
    band = np.searchsorted(uppers, score, side="left")
    tail = (1 - INTERVAL) / 2
    out = []
    for k, upper in enumerate(uppers):
        r = ratio[band == k]
        low, high = np.quantile(r, [tail, 1 - tail])
        if low == 0:  # many had no revenue: [0, 80th percentile] holds 80%; [0, 90th] would hold 90%
            high = np.quantile(r, INTERVAL)
        out.append(RevenueBand(upper=float(upper), low=float(low), high=float(high), n=int(len(r))))
    return out
