"""Learn the scorecard from outcomes, with the analyst's model as the prior.

``pscore fit`` keeps everything a person reads in a scorecard -- metrics, layers, stages, points,
weights, segment adjustments -- and lets past cohorts move the numbers:

1. **Points** (:mod:`scoring.calibration.binning`): per category of an ordinal metric, and monotone
   bins for numeric ones, shrunk toward the analyst's map.
2. **Weights across layers**: at the maturity stage the cohort was scored at (the stage that holds
   the calibration window), the layer weights of that stage and every metric's weight within its
   layer are fitted together, for both outcomes at once (they share the stage's layer weights):
   engagement by logistic likelihood, revenue by squared error on log(1 + revenue). Weights stay
   non-negative (a softmax per layer), a metric keeps the outcomes the analyst said it informs,
   and a ridge penalty worth ``prior_partners`` partners pulls every effective weight toward the
   analyst's, so 50-300 partners move a weight only as far as they clearly show.
3. **Segment effects**: one adjustment factor per outcome and value of each segmentation
   dimension (partner type, region) with at least :data:`MIN_SEGMENT` partners, inside the model's
   ``adjustment_bounds`` and shrunk toward the analyst's factor. Segment *weight* overrides are
   replaced by the fitted weights, and segment normalisation overrides of refitted metrics by the
   fitted map: one scorecard learnt from all partners, with the segments' differences in the factors.

Metrics without usable values among the partners with outcomes take no part and keep the analyst's
numbers (:mod:`scoring.calibration.observed`). The other stages keep their layer weights.

The fit only proposes numbers; everything reported about the fitted scorecard comes from scoring
partners with the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from scoring.calibration.backtest import auc, normalized_gini
from scoring.calibration.binning import MetricMap, fit_maps
from scoring.calibration.errors import step
from scoring.calibration.observed import Observed, observe
from scoring.compiled import OUTCOMES, Compiled, compile_model
from scoring.engine import stage_index
from scoring.model.edit import with_overrides
from scoring.model.load import ScoringModel
from scoring.snapshots import score_at_months

__all__ = ["PRIOR_GRID", "Fitted", "PriorChoice", "choose_prior", "fit_scorecard", "held_out_scores"]

#: Candidate strengths of the analyst's prior, in partners' worth of evidence; :func:`choose_prior`
#: picks one by cross-validation, so a good prior is kept and a wrong one is let go.
PRIOR_GRID = (10.0, 40.0, 160.0, 640.0)
PRIOR_FOLDS = 3
MIN_SEGMENT = 20  # partners with a segment value before its factor is fitted
STEP = 0.1  # fitted metric weights are rounded to this
MIN_WEIGHT = 0.1  # a metric keeps a positive weight for every outcome it informs
LAYER_STEP = 0.01
_ADVICE = "too few or too alike partners with outcomes; add cohorts or use pscore calibrate, which keeps the scorecard"


@dataclass(frozen=True)
class Fitted:
    """A fitted scorecard (no calibration yet) and what the data changed."""

    model: ScoringModel
    maps: list[MetricMap]
    observed: Observed
    weights: pd.DataFrame  # outcome, metric, label, layer, analyst, fitted (model-file weights)
    layers: pd.DataFrame  # stage, layer, analyst, fitted (layer weights of the fitted stage)
    segments: pd.DataFrame  # dimension, value, outcome, n, analyst, fitted (adjustment factors)
    changes: list[str]  # for the changelog: what the data changed and by how much


def fit_scorecard(partners: pd.DataFrame, engaged: np.ndarray, revenue: np.ndarray, base: ScoringModel, *,
                  window_months: int, prior_partners: float) -> Fitted:
    """Fit ``base`` (without calibration) to these partners' outcomes; see the module docstring."""
    partners = partners.reset_index(drop=True)
    c = compile_model(base)
    observed = observe(c, partners)
    maps = fit_maps(c, observed, engaged, revenue, prior_partners)
    model = _with_maps(base, maps)
    s = int(stage_index(c, np.array([float(window_months)]))[0])
    scored = score_at_months(partners, model, window_months)
    with step("fitting the weights", _ADVICE):
        weights, layer_weights = _fit_weights(compile_model(model), scored, observed.usable, s, engaged, revenue,
                                              prior_partners)
    model = with_overrides(model, {"weights": weights, f"stages[{s}].layer_weights": layer_weights},
                           source="fitted scorecard").model
    with step("fitting the segment adjustments", _ADVICE):
        model, segments = _fit_segments(model, partners, observed.segments, window_months, engaged, revenue,
                                         prior_partners)
    weights_table = _weights_table(base, model)
    layers_table = pd.DataFrame([
        {"stage": base.spec.stages[s].id, "layer": layer, "analyst": base.spec.stages[s].layer_weights[layer],
         "fitted": layer_weights[layer]} for layer in layer_weights])
    changes = _changes(maps, weights_table, layers_table, segments, observed, c)
    return Fitted(model, maps, observed, weights_table, layers_table, segments, changes)


@dataclass(frozen=True)
class PriorChoice:
    """The chosen prior strength, the cross-validation table, and the held-out scores it gave."""

    prior_partners: float
    table: pd.DataFrame  # prior_partners, auc, normalized_gini, criterion
    held_out: dict[str, np.ndarray]  # outcome -> (n,) each partner's score from a fit without it


def choose_prior(partners: pd.DataFrame, engaged: np.ndarray, revenue: np.ndarray, base: ScoringModel, *,
                 window_months: int, seed: int = 0, grid: tuple[float, ...] = PRIOR_GRID) -> PriorChoice:
    """The prior strength from ``grid`` whose fits rank held-out partners best.

    :data:`PRIOR_FOLDS`-fold cross-validation on these partners; the criterion is held-out
    engagement AUC plus revenue normalised Gini (rankings: the maps are fitted afterwards). Ties
    go to the stronger prior, the analyst's. The held-out scores of the chosen strength are what
    the maps from scores to outcomes are fitted on (:func:`held_out_scores`).
    """
    rows, scores = [], {}
    for prior in grid:
        held = held_out_scores(partners, engaged, revenue, base, window_months=window_months, prior_partners=prior,
                               seed=seed)
        scores[prior] = held
        a, g = auc(held["engagement"], engaged), normalized_gini(held["revenue"], revenue)
        rows.append({"prior_partners": prior, "auc": a, "normalized_gini": g, "criterion": a + g})
    table = pd.DataFrame(rows)
    best = table.criterion.max()
    chosen = float(table[table.criterion >= best - 1e-9].prior_partners.max())
    return PriorChoice(chosen, table, scores[chosen])


def held_out_scores(partners: pd.DataFrame, engaged: np.ndarray, revenue: np.ndarray, base: ScoringModel, *,
                    window_months: int, prior_partners: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Each partner's revenue and engagement score from a scorecard fitted without its fold.

    Maps fitted on these are honest about how far new partners fall from the fit; maps fitted on
    the fit's own partners would be too confident (the fit has seen their outcomes).
    """
    partners = partners.reset_index(drop=True)
    fold = np.random.default_rng(seed).permutation(len(partners)) % PRIOR_FOLDS
    out = {o: np.full(len(partners), np.nan) for o in OUTCOMES}
    for k in range(PRIOR_FOLDS):
        rows, held = fold != k, fold == k
        fitted = fit_scorecard(partners[rows], engaged[rows], revenue[rows], base, window_months=window_months,
                               prior_partners=prior_partners)
        scored = score_at_months(partners[held], fitted.model, window_months)
        for o in OUTCOMES:
            out[o][held] = scored.scores[o]
    return out


# ------------------------------------------------------------------ points


def _with_maps(model: ScoringModel, maps: list[MetricMap]) -> ScoringModel:
    """``model`` with the fitted maps, segment weight overrides dropped and segment normalisation
    overrides of refitted metrics dropped (module docstring)."""
    spec = model.spec
    index = {m.id: j for j, m in enumerate(spec.metrics)}
    refitted = {m.metric for m in maps if m.normalization is not None}
    changes: dict = {f"metrics[{index[m.metric]}].normalization": m.normalization
                     for m in maps if m.normalization is not None}
    for k, segment in enumerate(spec.segments):
        if segment.weights:
            changes[f"segments[{k}].weights"] = {}
        if set(segment.normalization) & refitted:
            changes[f"segments[{k}].normalization"] = {
                mid: o.model_dump() for mid, o in segment.normalization.items() if mid not in refitted}
    return with_overrides(model, changes, source="fitted scorecard").model if changes else model


# ------------------------------------------------------------------ weights


def _fit_weights(c: Compiled, scored, usable: np.ndarray, s: int, engaged: np.ndarray, revenue: np.ndarray,
                 prior_partners: float) -> tuple[dict, dict]:
    """Fitted base weights ``{outcome: {metric: weight}}`` and layer weights of stage ``s``."""
    spec = c.spec
    n_layers = len(c.layer_ids)
    lam0 = c.stage_weights[s] / c.stage_weights[s].sum()
    parts = []
    for outcome, target, binary in (("revenue", np.log1p(revenue), False), ("engagement", engaged, True)):
        current = c.base_weights[outcome]
        idx = np.flatnonzero((current > 0) & usable)
        parts.append(_Part(outcome, idx, _filled(c, scored, outcome, idx), np.asarray(target, float), binary,
                           current, c.metric_layer))
    active = np.zeros(n_layers, dtype=bool)
    for part in parts:
        active[c.metric_layer[part.idx]] = True
    fit = _Joint(parts, lam0, active, prior_partners)
    lam, shares = fit.solve()
    layer_weights = {layer: round(float(lam0[k]), 2) for k, layer in enumerate(c.layer_ids)}
    for k in np.flatnonzero(active):
        layer_weights[c.layer_ids[k]] = round(max(round(float(lam[k]) / LAYER_STEP) * LAYER_STEP, LAYER_STEP), 2)
    weights = {o: dict(spec.weights[o]) for o in OUTCOMES}
    for part, pi in zip(parts, shares):
        for g in np.unique(c.metric_layer[part.idx]):
            members = part.idx[c.metric_layer[part.idx] == g]
            total = part.current[members].sum()
            for j, share in zip(members, pi[c.metric_layer[part.idx] == g]):
                weights[part.outcome][c.metric_ids[j]] = round(max(round(share * total / STEP) * STEP, MIN_WEIGHT), 1)
    return weights, layer_weights


def _filled(c: Compiled, scored, outcome: str, idx: np.ndarray) -> np.ndarray:
    """Sub-scores on 0-1, a missing one replaced by the partner's layer score (or outcome score when
    the whole layer is missing): what the engine's re-normalisation amounts to."""
    layers = scored.layers[outcome]
    layer = c.metric_layer[idx]
    overall = np.nan_to_num(scored.scores[outcome], nan=50.0)[:, None]
    fill = np.where(np.isnan(layers[:, layer]), overall, layers[:, layer])
    sub = scored.subscores[:, idx]
    return np.where(np.isnan(sub), fill, sub) / 100.0


@dataclass
class _Part:
    """One outcome's share of the joint fit."""

    outcome: str
    idx: np.ndarray  # metric indices taking part
    x: np.ndarray  # (n, len(idx)) filled sub-scores on 0-1
    y: np.ndarray
    binary: bool
    current: np.ndarray  # (M,) analyst's base weights
    metric_layer: np.ndarray


class _Joint:
    """``link(outcome_o) ~ a_o + b_o * sum_j lambda_layer(j) * pi_oj * x_j`` for both outcomes, with
    ``lambda`` a softmax over the active layers (shared), ``pi_o`` a softmax within each layer, and a
    ridge pull of every coefficient ``b_o * lambda * pi_o`` toward the analyst's."""

    def __init__(self, parts: list[_Part], lam0: np.ndarray, active: np.ndarray, prior_partners: float):
        self.parts, self.active = parts, np.flatnonzero(active)
        self.lam0 = lam0
        self.free = 1.0 - lam0[~active].sum()  # layer share left to the active layers
        self.layer_of = [np.searchsorted(self.active, p.metric_layer[p.idx]) for p in parts]
        self.groups = [[np.flatnonzero(lo == g) for g in np.unique(lo)] for lo in self.layer_of]
        lam_active = lam0[self.active] / max(lam0[self.active].sum(), 1e-12)
        starts, self.anchor, self.tau, self.scale = [np.log(np.maximum(lam_active, 1e-6))], [], [], []
        for part, lo, groups in zip(parts, self.layer_of, self.groups):
            pi0 = np.empty(len(part.idx))
            for g in groups:
                w = part.current[part.idx[g]]
                pi0[g] = w / w.sum()
            c0 = lam_active[lo] * pi0
            a0, b0, curvature = _scale(part.x @ c0, part.y, part.binary)
            self.scale.append(1.0 if part.binary else curvature)  # squared error as a Gaussian likelihood
            self.anchor.append(b0 * c0)
            variance = float(np.var(part.x, axis=0).mean()) if part.x.size else 0.0
            self.tau.append(prior_partners * curvature * max(variance, 1e-6))
            starts.append(np.concatenate([[a0, b0], np.log(np.maximum(pi0, 1e-6))]))
        self.sizes = [len(self.active)] + [2 + len(p.idx) for p in parts]
        self.start = np.concatenate(starts)

    @staticmethod
    def _softmax(u: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
        out = np.empty_like(u)
        for g in groups:
            e = np.exp(u[g] - u[g].max())
            out[g] = e / e.sum()
        return out

    def _split(self, params: np.ndarray) -> list[np.ndarray]:
        return np.split(params, np.cumsum(self.sizes)[:-1])

    def objective(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        pieces = self._split(params)
        u = pieces[0]
        lam = self._softmax(u, [np.arange(len(u))])
        loss, d_lam, grads = 0.0, np.zeros_like(lam), []
        for part, lo, groups, piece, anchor, tau, scale in zip(self.parts, self.layer_of, self.groups, pieces[1:],
                                                              self.anchor, self.tau, self.scale):
            a, b, v = piece[0], piece[1], piece[2:]
            pi = self._softmax(v, groups)
            coef = lam[lo] * pi
            s = part.x @ coef
            z = a + b * s
            if part.binary:
                loss += float(np.sum(np.logaddexp(0.0, z) - part.y * z))
                r = 1.0 / (1.0 + np.exp(-z)) - part.y
            else:
                loss += 0.5 * scale * float(np.sum((z - part.y) ** 2))
                r = scale * (z - part.y)
            gap = b * coef - anchor
            loss += 0.5 * tau * float(gap @ gap)
            d_coef = b * (part.x.T @ r) + tau * gap * b
            d_b = float(r @ s) + tau * float(gap @ coef)
            d_pi = d_coef * lam[lo]
            np.add.at(d_lam, lo, d_coef * pi)
            d_v = np.empty_like(v)
            for g in groups:
                d_v[g] = pi[g] * (d_pi[g] - pi[g] @ d_pi[g])
            grads.append(np.concatenate([[float(r.sum()), d_b], d_v]))
        d_u = lam * (d_lam - lam @ d_lam)
        return loss, np.concatenate([d_u, *grads])

    def solve(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Layer weights of the fitted stage (all layers, summing to 1) and each part's within-layer shares."""
        bounds = [(-30.0, 30.0)] * self.sizes[0]
        for size in self.sizes[1:]:
            bounds += [(None, None), (0.0, None)] + [(-30.0, 30.0)] * (size - 2)
        found = minimize(self.objective, self.start, jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": 1000})
        if not np.all(np.isfinite(found.x)):
            raise FloatingPointError("weights did not converge")
        pieces = self._split(found.x)
        lam = np.array(self.lam0, dtype=float)
        lam[self.active] = self._softmax(pieces[0], [np.arange(len(pieces[0]))]) * self.free
        shares = [self._softmax(piece[2:], groups) for piece, groups in zip(pieces[1:], self.groups)]
        return lam, shares


def _scale(s: np.ndarray, y: np.ndarray, binary: bool) -> tuple[float, float, float]:
    """Intercept and non-negative slope of the outcome on a score, and the loss's curvature per partner."""
    if binary:
        p = float(y.mean())
        if y.min() == y.max() or np.ptp(s) == 0:
            return float(np.log((p + 1e-3) / (1 - p + 1e-3))), 0.0, max(p * (1 - p), 1e-3)
        model = LogisticRegression(C=1e6, max_iter=1000).fit(s[:, None], y)
        return float(model.intercept_[0]), max(float(model.coef_[0, 0]), 0.0), max(p * (1 - p), 1e-3)
    if np.ptp(s) == 0:
        return float(y.mean()), 0.0, 1.0 / max(float(y.var()), 1e-9)
    slope, intercept = np.polyfit(s, y, 1)
    residual = y - (intercept + slope * s)
    return float(intercept), max(float(slope), 0.0), 1.0 / max(float(residual.var()), 1e-9)


# ------------------------------------------------------------------ segments


def _fit_segments(model: ScoringModel, partners: pd.DataFrame, values: dict[str, np.ndarray], window_months: int,
                  engaged: np.ndarray, revenue: np.ndarray,
                  prior_partners: float) -> tuple[ScoringModel, pd.DataFrame]:
    """Adjustment factors per outcome and value of each segmentation dimension (``values``: the
    partners' values as the scorecard reads them), written as single-dimension segments."""
    spec = model.spec
    plain = with_overrides(model, {f"segments[{k}].adjustment": {} for k in range(len(spec.segments))},
                           source="fitted scorecard").model if spec.segments else model
    scored = score_at_months(partners, plain, window_months)
    groups = [(dim, v) for dim, known in spec.segmentation.dimensions.items() for v in known
              if int((values[dim] == v).sum()) >= MIN_SEGMENT]
    bounds = spec.adjustment_bounds
    prior = {(dim, v, o): _analyst_factor(spec, dim, v, o) for dim, v in groups for o in OUTCOMES}
    member = np.array([values[dim] == v for dim, v in groups], dtype=float).reshape(len(groups), -1)
    rows, fitted = [], {}
    for outcome, target, binary in (("revenue", np.log1p(revenue), False), ("engagement", engaged, True)):
        score = np.nan_to_num(scored.scores[outcome], nan=50.0) / 100.0
        theta0 = np.log([prior[(dim, v, outcome)] for dim, v in groups]) if groups else np.zeros(0)
        theta = _factor_fit(score, np.asarray(target, float), binary, member, theta0,
                            (np.log(bounds.min), np.log(bounds.max)), prior_partners)
        for (dim, v), t, t0, m in zip(groups, theta, theta0, member):
            factor = round(float(np.exp(t)), 2)
            fitted[(dim, v, outcome)] = factor
            rows.append({"dimension": dim, "value": v, "outcome": outcome, "n": int(m.sum()),
                         "analyst": round(float(np.exp(t0)), 2), "fitted": factor})
    return _write_segments(model, fitted), pd.DataFrame(rows, columns=["dimension", "value", "outcome", "n",
                                                                        "analyst", "fitted"])


def _analyst_factor(spec, dim: str, value: str, outcome: str) -> float:
    """The analyst's factor for partners with ``dim == value``: that of the segment defined by it alone."""
    for segment in spec.segments:
        if segment.when == {dim: value}:
            return float(segment.adjustment.get(outcome, 1.0))
    return 1.0


def _factor_fit(score: np.ndarray, y: np.ndarray, binary: bool, member: np.ndarray, theta0: np.ndarray,
                limits: tuple[float, float], prior_partners: float) -> np.ndarray:
    """Log factors ``theta`` in ``link(y) ~ a + b * score * exp(member.T @ theta)``, ridge toward ``theta0``."""
    if not len(theta0):
        return theta0
    a0, b0, curvature = _scale(score, y, binary)
    if b0 <= 0:  # the score does not rank this outcome: factors cannot be told from the data
        return theta0
    tau = prior_partners * curvature * float(np.mean((b0 * score) ** 2))
    scale = 1.0 if binary else curvature

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, theta = params[0], params[1], params[2:]
        factor = np.exp(member.T @ theta)
        s = np.minimum(score * factor, 1.0)
        z = a + b * s
        if binary:
            loss = float(np.sum(np.logaddexp(0.0, z) - y * z))
            r = 1.0 / (1.0 + np.exp(-z)) - y
        else:
            loss = 0.5 * scale * float(np.sum((z - y) ** 2))
            r = scale * (z - y)
        gap = theta - theta0
        loss += 0.5 * tau * float(gap @ gap)
        ds = np.where(score * factor < 1.0, score * factor, 0.0)
        d_theta = member @ (r * b * ds) + tau * gap
        return loss, np.concatenate([[float(r.sum()), float(r @ s)], d_theta])

    start = np.concatenate([[a0, b0], theta0])
    bounds = [(None, None), (0.0, None)] + [limits] * len(theta0)
    found = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    return found.x[2:]


def _write_segments(model: ScoringModel, fitted: dict[tuple[str, str, str], float]) -> ScoringModel:
    """Fitted factors into segments defined by one value; other segments' adjustments are dropped
    (they would count twice)."""
    data = [s.model_dump(mode="json") for s in model.spec.segments]
    for segment in data:
        if len(segment["when"]) != 1:
            segment["adjustment"] = {}
    by_value = {next(iter(s["when"].items())): s for s in data if len(s["when"]) == 1}
    for (dim, value, outcome), factor in fitted.items():
        segment = by_value.get((dim, value))
        if segment is None:
            if abs(factor - 1.0) < 0.01:
                continue
            segment = {"id": _segment_id(dim, value, {s["id"] for s in data}), "label": f"{dim}: {value}",
                       "when": {dim: value}, "weights": {}, "normalization": {}, "adjustment": {}}
            data.append(segment)
            by_value[(dim, value)] = segment
        if abs(factor - 1.0) < 0.005:
            segment["adjustment"].pop(outcome, None)
        else:
            segment["adjustment"][outcome] = factor
    return with_overrides(model, {"segments": data}, source="fitted scorecard").model


def _segment_id(dim: str, value: str, taken: set[str]) -> str:
    base = "fit_" + "".join(ch if ch.isalnum() else "_" for ch in f"{dim}_{value}".lower()).strip("_")
    found, k = base, 2
    while found in taken:
        found, k = f"{base}_{k}", k + 1
    return found


# ------------------------------------------------------------------ reporting


def _weights_table(base: ScoringModel, fitted: ScoringModel) -> pd.DataFrame:
    metrics = {m.id: m for m in base.spec.metrics}
    rows = []
    for outcome in OUTCOMES:
        for metric_id, analyst in base.spec.weights[outcome].items():
            rows.append({"outcome": outcome, "metric": metric_id, "label": metrics[metric_id].label,
                         "layer": metrics[metric_id].layer, "analyst": analyst,
                         "fitted": fitted.spec.weights[outcome].get(metric_id, 0.0)})
    return pd.DataFrame(rows)


def _changes(maps: list[MetricMap], weights: pd.DataFrame, layers: pd.DataFrame, segments: pd.DataFrame,
             observed: Observed, c: Compiled) -> list[str]:
    """What the data changed, largest first, in words for the changelog."""
    out = []
    for found in maps:
        if found.normalization is None:
            continue
        if found.normalization["kind"] == "ordinal":
            moves = sorted(((abs(r.fitted - r.analyst), r) for r in found.rows), key=lambda t: -t[0])[:4]
            said = ", ".join(f"{r.group} {r.analyst:g}->{r.fitted:g}" for _, r in moves)
            out.append(f"{found.metric} points: {said}")
        else:
            out.append(f"{found.metric}: {found.note}")
    moved = weights.assign(change=(weights.fitted - weights.analyst).abs()).sort_values("change", ascending=False)
    said = ", ".join(f"{r.outcome} {r.metric} {r.analyst:g}->{r.fitted:g}" for r in moved.head(5).itertuples()
                     if r.change > 0)
    if said:
        out.append(f"weights: {said}")
    if len(layers):
        out.append(f"{layers.stage.iloc[0]} layer weights: " + ", ".join(
            f"{r.layer} {r.analyst:g}->{r.fitted:g}" for r in layers.itertuples()))
    changed = segments[(segments.fitted - segments.analyst).abs() >= 0.01] if len(segments) else segments
    if len(changed):
        out.append("segment adjustments: " + ", ".join(
            f"{r.dimension} {r.value} {r.outcome} x{r.analyst:g}->x{r.fitted:g}" for r in changed.itertuples()))
    left = [c.metric_ids[j] for j in np.flatnonzero(~observed.usable)]
    if left:
        out.append("not fitted (no usable values): " + ", ".join(left))
    return out
