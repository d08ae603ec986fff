"""Back-test measures for predictions against realised outcomes, each with a bootstrap interval.

Engagement (a probability against 1/0): AUC (ranking), Brier score (squared error), expected
calibration error over 10 equal-width probability bins, and the reliability table behind it.
Revenue (an expected amount against realised revenue): normalised Gini and Spearman (ranking),
top-decile capture (share of all revenue earned by the 10% predicted highest), and predicted
against observed totals per segment.

The split is by time, not at random: models are fitted on earlier onboarding cohorts and measured
on later ones, which is how they are used (fitted on the past, applied to new partners) and catches
drift that a random split would hide. Intervals come from resampling the test partners; the same
resamples serve every model, so differences between models get intervals too.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import rankdata

ECE_BINS = 10
TOP_SHARE = 0.1
CONFIDENCE = 0.95


def auc(pred: np.ndarray, y: np.ndarray) -> float:
    """Probability that a random engaged partner is ranked above a random non-engaged one (ties count half)."""
    positives = y == 1
    n1 = int(positives.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return np.nan
    ranks = rankdata(pred)
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean squared difference between probability and outcome: 0 is perfect, 0.25 a coin toss."""
    return float(np.mean((pred - y) ** 2))


def _bins(pred: np.ndarray, bins: int = ECE_BINS) -> np.ndarray:
    return np.minimum((pred * bins).astype(np.int64), bins - 1)


def ece(pred: np.ndarray, y: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: partner-weighted mean |predicted - observed| over equal-width bins."""
    b = _bins(pred, bins)
    gap = np.bincount(b, weights=pred - y, minlength=bins)  # per bin: n * (mean predicted - observed)
    return float(np.abs(gap).sum() / len(pred))


def ece_by_chance(pred: np.ndarray, draws: int = 200, seed: int = 0, bins: int = ECE_BINS) -> tuple[float, float, float]:
    """ECE that a *perfectly* calibrated model shows on these partners through chance alone: mean and
    95% range over outcomes drawn with the predicted probabilities.

    ECE is never zero on a finite sample (a few hundred partners put tens of them in a bin), so an
    observed ECE is only a sign of miscalibration when it is above this range.
    """
    rng = np.random.default_rng(seed)
    found = np.array([ece(pred, (rng.random(len(pred)) < pred).astype(float), bins) for _ in range(draws)])
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(found, [tail, 100 - tail])
    return float(found.mean()), float(low), float(high)


def reliability(pred: np.ndarray, y: np.ndarray, score: np.ndarray, bins: int = ECE_BINS) -> pd.DataFrame:
    """Predicted against observed engagement per probability bin, with the engagement scores that
    fall in it and a 95% Wilson interval on the observed rate. Empty bins are left out."""
    b = _bins(pred, bins)
    rows = []
    for k in range(bins):
        m = b == k
        n = int(m.sum())
        if not n:
            continue
        observed = float(y[m].mean())
        low, high = wilson(observed, n)
        rows.append({
            "probability_band": f"{k / bins:.1f}-{(k + 1) / bins:.1f}",
            "score_from": float(np.min(score[m])), "score_to": float(np.max(score[m])), "n": n,
            "predicted": float(pred[m].mean()), "observed": observed, "observed_low": low, "observed_high": high,
        })
    return pd.DataFrame(rows)


def wilson(rate: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion: sensible even at 0% or 100% and small n."""
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def _order(pred: np.ndarray) -> np.ndarray:
    """Highest prediction first; ties keep input order (a stable sort), so results are reproducible."""
    return np.argsort(-pred, kind="stable")


def _gini(actual: np.ndarray, order: np.ndarray, pred: np.ndarray | None = None) -> float:
    """Gini of ``actual`` taken in ``order``; partners with equal ``pred`` count with their mean
    (the expected Gini over every way of breaking the tie), so a constant prediction scores 0."""
    taken = actual[order]
    if pred is not None:
        ranked = pred[order]
        starts = np.r_[0, np.flatnonzero(ranked[1:] != ranked[:-1]) + 1]
        counts = np.diff(np.r_[starts, len(taken)])
        taken = np.repeat(np.add.reduceat(taken, starts) / counts, counts)
    cumulative = np.cumsum(taken) / actual.sum()
    n = len(actual)
    return float(cumulative.sum() / n - (n + 1) / (2 * n))


def normalized_gini(pred: np.ndarray, actual: np.ndarray) -> float:
    """Gini of realised revenue ordered by prediction, over the Gini of the perfect order: 1 is a
    perfect ranking, 0 no better than random."""
    if actual.sum() <= 0:
        return np.nan
    return _gini(actual, _order(pred), pred) / _gini(actual, _order(actual))


def spearman(pred: np.ndarray, actual: np.ndarray) -> float:
    """Rank correlation between prediction and realised revenue."""
    a, b = rankdata(pred), rankdata(actual)
    if a.std() == 0 or b.std() == 0:
        return np.nan
    return float(np.corrcoef(a, b)[0, 1])


def top_decile_capture(pred: np.ndarray, actual: np.ndarray, share: float = TOP_SHARE) -> float:
    """Share of all realised revenue earned by the ``share`` of partners predicted highest."""
    total = actual.sum()
    if total <= 0:
        return np.nan
    k = max(1, int(np.ceil(share * len(pred))))
    return float(actual[_order(pred)[:k]].sum() / total)


def segment_totals(pred: np.ndarray, actual: np.ndarray, segment: np.ndarray) -> pd.DataFrame:
    """Predicted and observed revenue totals per segment, plus all partners: is revenue over- or
    under-forecast for some kind of partner?"""
    frame = pd.DataFrame({"segment": pd.Series(segment, dtype=object).fillna("(blank)"),
                          "predicted": pred, "observed": actual})
    out = frame.groupby("segment", sort=True).agg(n=("observed", "size"), predicted=("predicted", "sum"),
                                                   observed=("observed", "sum")).reset_index()
    total = pd.DataFrame([{"segment": "All partners", "n": len(frame), "predicted": frame.predicted.sum(),
                           "observed": frame.observed.sum()}])
    out = pd.concat([out, total], ignore_index=True)
    out["ratio"] = out.predicted / out.observed.where(out.observed > 0)
    return out


def time_split(start: np.ndarray, test_share: float) -> dt.date:
    """First day of the onboarding month from which partners form the test cohorts: the month
    boundary that puts closest to ``test_share`` of partners in the test set (at least one month each side).

    Raises ValueError when every partner started in the same month (no earlier cohort to learn from).
    """
    months = np.asarray(start, dtype="datetime64[D]").astype("datetime64[M]")
    candidates = np.unique(months)[1:]
    if not len(candidates):
        raise ValueError("every partner with outcomes started in the same month: a time-based back-test "
                         "needs earlier and later onboarding cohorts")
    shares = np.array([(months >= c).mean() for c in candidates])
    best = candidates[int(np.argmin(np.abs(shares - test_share)))]
    return best.astype("datetime64[D]").astype(dt.date)


Statistic = Callable[[np.ndarray], dict[str, float]]


def bootstrap(statistic: Statistic, n: int, n_boot: int, seed: int) -> dict[str, tuple[float, float, float]]:
    """``statistic`` on all ``n`` rows, with a percentile interval from ``n_boot`` resamples.

    ``statistic`` takes row indices and returns named figures; every figure is computed on the same
    resamples, so figures of different models (and their differences) are paired. Returns
    ``name -> (value, low, high)``. A resample where a figure is undefined (e.g. one class only) is
    skipped for that figure.
    """
    point = statistic(np.arange(n))
    rng = np.random.default_rng(seed)
    draws = {name: np.empty(n_boot) for name in point}
    for b in range(n_boot):
        found = statistic(rng.integers(0, n, n))
        for name in point:
            draws[name][b] = found[name]
    tail = (1 - CONFIDENCE) / 2 * 100
    out = {}
    for name, value in point.items():
        values = draws[name][~np.isnan(draws[name])]
        low, high = np.percentile(values, [tail, 100 - tail]) if len(values) else (np.nan, np.nan)
        out[name] = (float(value), float(low), float(high))
    return out
