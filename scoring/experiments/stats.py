"""The estimators of an experiment read-out, on plain arrays: Welch and bootstrap intervals,
randomisation inference, CUPED, difference-in-differences and the minimum detectable effect.

Every function takes the outcome of the treated and the control partners (and, where it needs
them, a pre-period covariate or strata) and returns numbers, so each is tested on its own and the
same code serves the CLI, the report and the QBR pack.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["EXACT_LIMIT", "Estimate", "bootstrap", "cuped", "mde", "randomisation_p", "smd", "welch"]

#: Randomisation inference enumerates every possible assignment up to this many; beyond, it draws
#: :data:`PERMUTATIONS` at random.
EXACT_LIMIT = 20_000
PERMUTATIONS = 10_000


@dataclass(frozen=True)
class Estimate:
    """A difference treated - control with its 95% interval."""

    effect: float
    low: float
    high: float
    se: float = float("nan")

    @property
    def width(self) -> float:
        return self.high - self.low


def welch(treated: np.ndarray, control: np.ndarray, level: float = 0.95) -> Estimate:
    """Difference in means with Welch's t interval (unequal variances)."""
    t, c = np.asarray(treated, float), np.asarray(control, float)
    if len(t) < 2 or len(c) < 2:
        return Estimate(float("nan"), float("nan"), float("nan"))
    vt, vc = t.var(ddof=1) / len(t), c.var(ddof=1) / len(c)
    se = math.sqrt(vt + vc)
    effect = float(t.mean() - c.mean())
    if se == 0:
        return Estimate(effect, effect, effect, 0.0)
    df = (vt + vc) ** 2 / (vt ** 2 / (len(t) - 1) + vc ** 2 / (len(c) - 1))
    q = float(stats.t.ppf(0.5 + level / 2, df))
    return Estimate(effect, effect - q * se, effect + q * se, se)


def bootstrap(treated: np.ndarray, control: np.ndarray, resamples: int = 10_000, seed: int = 0,
              level: float = 0.95) -> Estimate:
    """Difference in means with a percentile bootstrap interval, each arm resampled on its own."""
    t, c = np.asarray(treated, float), np.asarray(control, float)
    if len(t) < 2 or len(c) < 2 or resamples < 1:
        return Estimate(float("nan"), float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    chunk = max(1, 2_000_000 // max(len(t), len(c)))
    for start in range(0, resamples, chunk):
        k = min(chunk, resamples - start)
        mean_t = t[rng.integers(0, len(t), size=(k, len(t)))].mean(axis=1)
        mean_c = c[rng.integers(0, len(c), size=(k, len(c)))].mean(axis=1)
        diffs[start:start + k] = mean_t - mean_c
    low, high = np.quantile(diffs, [0.5 - level / 2, 0.5 + level / 2])
    return Estimate(float(t.mean() - c.mean()), float(low), float(high), float(diffs.std(ddof=1)))


def randomisation_p(values: np.ndarray, treated: np.ndarray, strata: np.ndarray | None = None,
                    permutations: int = PERMUTATIONS, seed: int = 0) -> tuple[float, bool]:
    """Two-sided p-value of the difference in means under re-randomisation of the arms (within
    strata when given), and whether it is exact (every possible assignment enumerated)."""
    y = np.asarray(values, float)
    arm = np.asarray(treated, bool)
    codes = np.zeros(len(y), int) if strata is None else np.unique(np.asarray(strata, dtype=str), return_inverse=True)[1]
    groups = [np.flatnonzero(codes == k) for k in range(codes.max() + 1 if len(codes) else 0)]
    groups = [g for g in groups if 0 < arm[g].sum() < len(g)]  # strata with both arms carry information
    n_t, n_c = arm.sum(), (~arm).sum()
    if n_t == 0 or n_c == 0:
        return float("nan"), False
    total = y.sum()

    def diff(treated_sum: np.ndarray) -> np.ndarray:
        return treated_sum / n_t - (total - treated_sum) / n_c

    fixed = y[arm].sum() - sum(y[g][arm[g]].sum() for g in groups)  # treated outside mixed strata never move
    observed = diff(np.array([y[arm].sum()]))[0]
    count = 1
    for g in groups:
        count *= math.comb(len(g), int(arm[g].sum()))
        if count > EXACT_LIMIT:
            break
    if count <= EXACT_LIMIT:
        sums = np.array([fixed])
        for g in groups:
            k = int(arm[g].sum())
            options = np.array([y[g][list(idx)].sum() for idx in itertools.combinations(range(len(g)), k)])
            sums = (sums[:, None] + options[None, :]).ravel()
        stats_ = diff(sums)
        exact = True
    else:
        rng = np.random.default_rng(seed)
        sums = np.full(permutations, fixed)
        for g in groups:
            k = int(arm[g].sum())
            picks = rng.random((permutations, len(g))).argpartition(k - 1, axis=1)[:, :k] if k < len(g) else None
            sums += y[g][picks].sum(axis=1) if picks is not None else y[g].sum()
        stats_ = diff(sums)
        exact = False
    tolerance = 1e-12 * max(1.0, abs(observed))
    extreme = np.count_nonzero(np.abs(stats_) >= abs(observed) - tolerance)
    p = extreme / len(stats_) if exact else (extreme + 1) / (len(stats_) + 1)
    return float(min(p, 1.0)), exact


def cuped(y_treated: np.ndarray, y_control: np.ndarray, x_treated: np.ndarray, x_control: np.ndarray,
          level: float = 0.95) -> tuple[Estimate, float]:
    """CUPED: each outcome less ``theta`` times its pre-period covariate's distance from the pooled
    mean (``theta`` the pooled regression slope), then Welch. Returns the estimate and ``theta``.
    A partner without a covariate counts at the mean (no adjustment)."""
    yt, yc = np.asarray(y_treated, float), np.asarray(y_control, float)
    x = np.concatenate([x_treated, x_control]).astype(float)
    y = np.concatenate([yt, yc])
    known = ~np.isnan(x)
    if known.sum() < 3 or np.var(x[known]) == 0:
        return welch(yt, yc, level), 0.0
    mean = x[known].mean()
    x = np.where(known, x, mean)
    theta = float(np.cov(y[known], x[known])[0, 1] / np.var(x[known], ddof=1))
    adjusted = y - theta * (x - mean)
    return welch(adjusted[:len(yt)], adjusted[len(yt):], level), theta


def mde(treated: np.ndarray, control: np.ndarray, power: float = 0.8, alpha: float = 0.05) -> float:
    """Minimum detectable effect (absolute) at this sample size and the outcome's pooled spread."""
    t, c = np.asarray(treated, float), np.asarray(control, float)
    if len(t) < 2 or len(c) < 2:
        return float("nan")
    pooled = ((len(t) - 1) * t.var(ddof=1) + (len(c) - 1) * c.var(ddof=1)) / (len(t) + len(c) - 2)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * math.sqrt(pooled * (1 / len(t) + 1 / len(c))))


def smd(treated: np.ndarray, control: np.ndarray) -> float:
    """Standardised mean difference: difference in means over the average of the arms' standard
    deviations (|SMD| above 0.1 is the usual sign of imbalance)."""
    t, c = np.asarray(treated, float), np.asarray(control, float)
    t, c = t[~np.isnan(t)], c[~np.isnan(c)]
    if len(t) < 2 or len(c) < 2:
        return float("nan")
    spread = math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
    return float((t.mean() - c.mean()) / spread) if spread > 0 else 0.0
