"""Suggested metric weights: a better back-test while staying a transparent, points-based scorecard.

The search keeps everything a user reads in a scorecard -- the metrics, their layers, the stage
weights of the layers, non-negative weights -- and only moves how much each metric counts within
its layer. It fits the outcome (engagement: logistic likelihood; revenue: squared error on
log(1 + revenue), which rewards ranking partners right without letting a few large ones decide)
with a penalty that pulls every weight toward the current one. The penalty is worth
:data:`PRIOR_PARTNERS` partners of evidence, so on small data the suggestion stays close to the
current weights and only a clear signal in many partners moves it far.

Within a stage the engine's score is ``sum over layers of stage weight x (weighted mean of the
layer's metrics with data)``. The search works on that form directly: a missing sub-score takes the
partner's own layer score (which is what re-normalising the weights does), and segment weight
overrides are left as they are. It only *proposes* weights; every figure reported for them comes
from scoring the partners again with the engine.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from scoring.compiled import OUTCOMES, Compiled
from scoring.model.edit import with_weights
from scoring.model.load import ScoringModel
from scoring.snapshots import ScoredSnapshots

PRIOR_PARTNERS = 500
STEP = 0.1  # suggested weights are rounded to this
MIN_WEIGHT = 0.1  # every metric that informs an outcome keeps a positive weight (the model requires it)


def suggest(c: Compiled, scored: ScoredSnapshots, engaged: np.ndarray, revenue: np.ndarray,
            prior_partners: float = PRIOR_PARTNERS) -> dict[str, dict[str, float]]:
    """Suggested base weights per outcome (``{outcome: {metric: weight}}``, the current metrics)."""
    targets = {"engagement": (np.asarray(engaged, dtype=float), True),
               "revenue": (np.log1p(np.asarray(revenue, dtype=float)), False)}
    return {o: _suggest_outcome(c, scored, o, *targets[o], prior_partners) for o in OUTCOMES}


def _suggest_outcome(c: Compiled, scored: ScoredSnapshots, outcome: str, target: np.ndarray, binary: bool,
                     prior_partners: float) -> dict[str, float]:
    current = c.base_weights[outcome]
    idx = np.flatnonzero(current > 0)
    layer = c.metric_layer[idx]
    layer_total = np.array([current[idx][layer == g].sum() for g in layer])  # per metric: its layer's total
    x, share = _features(c, scored, outcome, idx)
    fit = _Fit(x * share, target, binary, layer, share.mean(axis=0), current[idx] / layer_total, prior_partners,
               np.var(x, axis=0).mean())
    proportions = fit.solve()
    weights = np.maximum(np.round(proportions * layer_total / STEP) * STEP, MIN_WEIGHT)
    return {c.metric_ids[j]: round(float(w), 1) for j, w in zip(idx, weights)}


def _features(c: Compiled, scored: ScoredSnapshots, outcome: str, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-scores on 0-1 (a missing one replaced by the partner's layer score, or outcome score if the
    whole layer is missing) and each metric's layer share of the partner's score (stage weight of
    its layer over the stage weights of the layers with data)."""
    layers = scored.layers[outcome]  # (n, L)
    layer = c.metric_layer[idx]
    overall = scored.scores[outcome][:, None]
    fill = np.where(np.isnan(layers[:, layer]), overall, layers[:, layer])
    sub = scored.subscores[:, idx]
    x = np.where(np.isnan(sub), fill, sub) / 100.0
    weights = c.stage_weights[_stage_index(c, scored.stage)] * ~np.isnan(layers)  # (n, L)
    weights /= weights.sum(axis=1, keepdims=True)
    return x, weights[:, layer]


def _stage_index(c: Compiled, stage: np.ndarray) -> np.ndarray:
    lookup = {s: k for k, s in enumerate(c.stage_ids)}
    return np.array([lookup[s] for s in stage], dtype=np.int64)


class _Fit:
    """Penalised fit of ``link(outcome) ~ alpha + gamma * sum_j pi_j * x_j`` with ``pi`` a share of
    its layer (softmax per layer) and a ridge pull of ``gamma * pi`` toward the current weights."""

    def __init__(self, x: np.ndarray, y: np.ndarray, binary: bool, layer: np.ndarray, mean_share: np.ndarray,
                 pi0: np.ndarray, prior_partners: float, x_variance: float):
        self.x, self.y, self.binary, self.layer = x, y, binary, layer
        self.groups = [np.flatnonzero(layer == g) for g in np.unique(layer)]
        self.mean_share, self.pi0 = mean_share, pi0
        alpha0, gamma0, curvature = self._fit_scale(x @ pi0)
        self.variance = 1.0 / curvature  # of the outcome around the fit (squared-error loss only)
        self.start = np.concatenate([[alpha0, gamma0], np.log(pi0)])
        self.anchor = gamma0 * mean_share * pi0  # the current weights as coefficients on sub-scores
        self.tau = prior_partners * curvature * x_variance

    def _fit_scale(self, s: np.ndarray) -> tuple[float, float, float]:
        """Intercept and slope of the outcome on the current score, and the loss's curvature per
        partner -- how much one partner's outcome tells about a coefficient: ``p(1 - p)`` for 1/0
        outcomes, one over the residual variance for squared error."""
        if self.binary:
            model = LogisticRegression(C=1e6, max_iter=1000).fit(s[:, None], self.y)
            p = float(self.y.mean())
            return float(model.intercept_[0]), max(float(model.coef_[0, 0]), 0.0), max(p * (1 - p), 1e-9)
        slope, intercept = np.polyfit(s, self.y, 1)
        residual = self.y - (intercept + slope * s)
        return float(intercept), max(float(slope), 0.0), 1.0 / max(float(residual.var()), 1e-9)

    def _pi(self, u: np.ndarray) -> np.ndarray:
        pi = np.empty_like(u)
        for g in self.groups:
            e = np.exp(u[g] - u[g].max())
            pi[g] = e / e.sum()
        return pi

    def objective(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, gamma, u = params[0], params[1], params[2:]
        pi = self._pi(u)
        s = self.x @ pi
        z = alpha + gamma * s
        if self.binary:
            loss = float(np.sum(np.logaddexp(0.0, z) - self.y * z))
            r = 1.0 / (1.0 + np.exp(-z)) - self.y
        else:
            loss = float(np.sum((z - self.y) ** 2) / (2 * self.variance))
            r = (z - self.y) / self.variance
        gap = gamma * self.mean_share * pi - self.anchor
        loss += 0.5 * self.tau * float(gap @ gap)
        d_gamma = float(r @ s) + self.tau * float(gap @ (self.mean_share * pi))
        d_pi = gamma * (self.x.T @ r) + self.tau * gap * gamma * self.mean_share
        d_u = np.empty_like(u)
        for g in self.groups:
            d_u[g] = pi[g] * (d_pi[g] - pi[g] @ d_pi[g])
        return loss, np.concatenate([[float(r.sum()), d_gamma], d_u])

    def solve(self) -> np.ndarray:
        """Fitted within-layer shares ``pi`` (deterministic: fixed start, no randomness)."""
        bounds = [(None, None), (0.0, None), *[(-30.0, 30.0)] * (len(self.start) - 2)]
        found = minimize(self.objective, self.start, jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": 500})
        return self._pi(found.x[2:])


def equal_weights(model: ScoringModel) -> ScoringModel:
    """The naive peer: every metric counts the same within its layer, no segment weight overrides."""
    spec = model.spec
    weights = {o: {m: 1.0 for m, w in spec.weights[o].items() if w > 0} for o in OUTCOMES}
    return with_weights(model, weights, segment_weights=False, source="equal weights").model
