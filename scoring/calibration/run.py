"""Calibrate a model on past cohorts: back-test, compare with baselines, fit, write the model.

Two ways, one procedure. ``pscore calibrate`` keeps the scorecard and fits the maps from its scores
to outcomes (and suggests within-layer weights); ``pscore fit`` (``Settings.fit``) first learns the
scorecard itself from the outcomes (:mod:`scoring.calibration.fit`), then fits the maps. On
partners whose outcomes are known, each scored as it looked at the end of its onboarding window
(at that window's maturity stage):

1. Metrics with no usable value among these partners are left out of every fit and named
   (:mod:`scoring.calibration.observed`).
2. Split by time: the latest onboarding cohorts (about ``test_share`` of the partners) are the test
   set; everything is fitted on the earlier ones.
3. Back-test the scorecard being reported (current, or fitted on the earlier cohorts), and on the
   same split its yardsticks: base rate, equal weights, suggested weights (calibrate only), one-hot
   logistic regression and gradient boosting, each difference with a paired bootstrap interval.
4. Fit what is stored on all partners and return the new model version (the input model is
   never changed) and the report tables.

A fitted scorecard's maps are fitted on *held-out* scores (each partner scored by a fit that did
not see it), because the fit's own partners look better to it than new ones will.

Everything is deterministic: fixed seeds for resampling, cross-fitting and the reference models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from scoring import drift
from scoring.calibration import backtest as bt
from scoring.calibration import maps as calibration
from scoring.calibration import peers
from scoring.calibration import predict
from scoring.calibration.errors import CalibrationError, step
from scoring.calibration.fit import Fitted, PriorChoice, choose_prior, fit_scorecard, held_out_scores
from scoring.calibration.observed import Observed, observe
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS, Backtest, Calibration, Estimate
from scoring.compiled import OUTCOMES, compile_model
from scoring.model.load import ScoringModel, from_dict
from scoring.model.schema import ModelSpec
from scoring.snapshots import ScoredSnapshots, score_at_months
from scoring.calibration.weights import PRIOR_PARTNERS, equal_weights, suggest
from scoring.model.edit import release, with_weights, without_calibration

__all__ = ["BASE_RATE", "BOOSTED", "CURRENT", "EQUAL", "FITTED", "ONE_HOT", "SUGGESTED", "CalibrationError",
           "CalibrationRun", "Cohort", "NotEnoughData", "Report", "Settings", "calibrate"]

MIN_PARTNERS = 50  # with outcomes and a score
MIN_PER_CLASS = 10  # engaged and not engaged
MIN_POSITIVE_REVENUE = 10
MIN_PER_CLASS_IN_SPLIT = 5  # engaged and not engaged, in the earlier and in the later cohorts
AUTHOR = "pscore calibrate"
FIT_AUTHOR = "pscore fit"

CURRENT, EQUAL, SUGGESTED, BOOSTED = "Current scorecard", "Equal weights", "Suggested weights", "Gradient boosting"
FITTED, BASE_RATE, ONE_HOT = "Fitted scorecard", "Base rate", "One-hot logistic"
ENGAGEMENT_FIGURES = {"auc": "AUC", "brier": "Brier score", "ece": "Calibration error (ECE)"}
REVENUE_FIGURES = {"normalized_gini": "Normalised Gini", "spearman": "Spearman",
                   "top_decile_capture": "Top-decile revenue capture"}
COVERAGE = "interval_coverage"
COVERAGE_LABEL = "80% interval coverage"
CHANCE = "ece_by_chance"
HIGHER_IS_BETTER = {"auc": True, "brier": False, "ece": False, "normalized_gini": True, "spearman": True,
                    "top_decile_capture": True}


class NotEnoughData(ValueError):
    """Too few partners with outcomes to calibrate honestly; the message says how many more."""


@dataclass(frozen=True)
class Cohort:
    """Partners with known outcomes, as they looked at the end of their onboarding window."""

    partners: pd.DataFrame  # one row each: partner_id, onboarding_start, segment and metric columns
    snapshot_date: np.ndarray  # scoring date of each row (the snapshot's date)
    engaged: np.ndarray  # 1/0 at the horizon
    revenue: np.ndarray  # revenue over the horizon, >= 0


@dataclass(frozen=True)
class Settings:
    date: dt.date  # recorded as the calibration date
    horizon_months: int = 12
    window_months: int = DEFAULT_WINDOW_MONTHS
    method: str = "logistic"  # engagement map: logistic or isotonic
    test_share: float = 0.3
    n_boot: int = 500
    seed: int = 0
    prior_partners: float = PRIOR_PARTNERS  # suggested weights (calibrate); a fit chooses its own
    fit: bool = False  # learn the scorecard from the outcomes (pscore fit), not only the maps


@dataclass(frozen=True)
class Report:
    """Tables for people: every figure with its 95% interval where one exists."""

    summary: list[str]
    backtest: pd.DataFrame  # the reported scorecard: outcome, figure, value, low, high
    reliability: pd.DataFrame
    segments: pd.DataFrame
    peers: pd.DataFrame  # model, figure, value, low, high, difference from the reported scorecard (+ interval)
    weights: pd.DataFrame  # outcome, metric, label, layer, current, suggested|fitted, change
    categories: pd.DataFrame = field(default_factory=pd.DataFrame)  # fit: per metric and category or bin
    layers: pd.DataFrame = field(default_factory=pd.DataFrame)  # fit: stage layer weights, analyst and fitted
    factors: pd.DataFrame = field(default_factory=pd.DataFrame)  # fit: segment adjustment factors
    priors: pd.DataFrame = field(default_factory=pd.DataFrame)  # fit: cross-validated prior strengths


@dataclass(frozen=True)
class CalibrationRun:
    spec: ModelSpec  # the new model version, calibration included
    report: Report
    excluded: int  # partners with outcomes that could not be scored (no usable data)


def calibrate(cohort: Cohort, model: ScoringModel, settings: Settings) -> CalibrationRun:
    """Back-test, compare and calibrate (or fit) ``model`` on ``cohort``; see the module docstring.

    Runs single-threaded: the matrices are small, so threads save little, and on a busy machine
    OpenMP's waiting threads made the gradient-boosting fits ten times slower.
    """
    with threadpool_limits(limits=1):
        return _calibrate(cohort, model, settings)


def _calibrate(cohort: Cohort, model: ScoringModel, settings: Settings) -> CalibrationRun:
    base = without_calibration(model)  # a calibration being replaced must not take part in fitting its successor
    c = compile_model(base)
    window = settings.window_months
    scored = score_at_months(cohort.partners, base, window)
    usable = ~np.isnan(scored.scores["revenue"]) & ~np.isnan(scored.scores["engagement"])
    engaged = np.asarray(cohort.engaged, dtype=float)[usable]
    revenue = np.asarray(cohort.revenue, dtype=float)[usable]
    _check_enough(engaged, revenue, settings.method)
    partners = cohort.partners.reset_index(drop=True)[usable].reset_index(drop=True)
    scored = _subset(scored, usable)
    observed = observe(c, partners)
    start = pd.to_datetime(partners["onboarding_start"]).to_numpy().astype("datetime64[D]")

    test_from = bt.time_split(start, settings.test_share)
    test = start >= np.datetime64(test_from)
    _check_split(engaged, test)
    train = ~test

    headline = FITTED if settings.fit else CURRENT
    predictions = {CURRENT: _scorecard_predictions(scored, train, engaged, revenue, settings)}
    if settings.fit:
        choice = choose_prior(partners[train], engaged[train], revenue[train], base, window_months=window,
                              seed=settings.seed)
        fitted_train = fit_scorecard(partners[train], engaged[train], revenue[train], base, window_months=window,
                                     prior_partners=choice.prior_partners)
        fitted_test = score_at_months(partners[test], fitted_train.model, window).scores
        predictions[FITTED] = _held_out_predictions(choice.held_out, fitted_test, engaged[train], revenue[train],
                                                    settings)
    with step("scoring the equal-weights peer", "check the model's weights"):
        predictions[EQUAL] = _scorecard_predictions(score_at_months(partners, equal_weights(base), window), train,
                                                    engaged, revenue, settings)
    if not settings.fit:
        suggested_train = suggest(c, _subset(scored, train), engaged[train], revenue[train], settings.prior_partners)
        variant = with_weights(base, suggested_train, source="suggested").model
        predictions[SUGGESTED] = _scorecard_predictions(score_at_months(partners, variant, window), train, engaged,
                                                        revenue, settings)
    x, categorical = peers.features(c, observed)
    predictions[BASE_RATE] = peers.base_rate(train, engaged, revenue)
    predictions[ONE_HOT] = peers.one_hot(x, categorical, train, engaged, revenue)
    predictions[BOOSTED] = peers.boosted(x, categorical, train, engaged, revenue)
    predictions = {headline: predictions.pop(headline), **predictions}

    y_test, r_test = engaged[test], revenue[test]
    with step("the back-test", "add partners with outcomes to the later cohorts"):
        figures = bt.bootstrap(_statistic(predictions, headline, y_test, r_test), int(test.sum()), settings.n_boot,
                               settings.seed)
        figures[CHANCE] = bt.ece_by_chance(predictions[headline][0], seed=settings.seed)
    p_head, e_head = predictions[headline][0], predictions[headline][1]

    if settings.fit:
        with step("fitting the scorecard on all partners", "add partners with outcomes"):
            final_fit = fit_scorecard(partners, engaged, revenue, base, window_months=window,
                                      prior_partners=choice.prior_partners)
            held = held_out_scores(partners, engaged, revenue, base, window_months=window,
                                   prior_partners=choice.prior_partners, seed=settings.seed)
        stored, map_scores = final_fit.model, held
    else:
        stored, map_scores = base, scored.scores
    with step("fitting the maps from scores to outcomes", "add partners with outcomes"):
        final_engagement = calibration.fit_engagement(map_scores["engagement"], engaged, settings.method)
        final_revenue = calibration.fit_revenue(map_scores["revenue"], revenue, settings.seed)
    backtest = Backtest(
        test_from=test_from, n_train=int(train.sum()), n_test=int(test.sum()),
        **{name: _estimate(figures[f"{headline}|{name}"]) for name in HIGHER_IS_BETTER},
    )
    left_out = [c.metric_ids[j] for j in np.flatnonzero(~observed.usable)]
    cal = Calibration(
        date=settings.date, horizon_months=settings.horizon_months, window_months=window,
        n=len(engaged), n_engaged=int(engaged.sum()), scorecard=predict.scorecard_hash(stored.spec),
        engagement=final_engagement, revenue=final_revenue, backtest=backtest, not_calibrated=left_out,
        baseline=drift.baseline(drift.population(partners, stored, months=window)),
    )
    head_engagement_scores = fitted_test["engagement"] if settings.fit else scored.scores["engagement"][test]
    report = Report(
        summary=_summary(cal, figures, settings, headline, list(predictions), observed, c),
        backtest=_backtest_table(figures, headline),
        reliability=bt.reliability(p_head, y_test, head_engagement_scores),
        segments=bt.segment_totals(e_head, r_test, scored.segment[test]),
        peers=_peer_table(figures, list(predictions), headline),
        **(_fit_tables(base, final_fit, choice) if settings.fit else
           {"weights": _weights_table(base, suggest(c, scored, engaged, revenue, settings.prior_partners))}),
    )
    spec = _fitted_version(model.spec, stored.spec, cal, final_fit) if settings.fit else new_version(model.spec, cal)
    return CalibrationRun(spec=spec, report=report, excluded=int((~usable).sum()))


def _held_out_predictions(held_out: dict[str, np.ndarray], scores: dict[str, np.ndarray], engaged: np.ndarray,
                          revenue: np.ndarray, settings: Settings) -> peers.Predictions:
    """Maps fitted on the earlier cohorts' held-out scores, applied to the later cohorts' ``scores``
    from the scorecard fitted on the earlier cohorts."""
    with step("back-testing the fitted scorecard", "add partners with outcomes"):
        applied = predict.from_maps(
            calibration.fit_engagement(held_out["engagement"], engaged, settings.method),
            calibration.fit_revenue(held_out["revenue"], revenue, settings.seed),
        )
        expected, low, high = applied.expected_revenue(scores["revenue"])
        return applied.engagement_probability(scores["engagement"]), expected, low, high


def _fit_tables(base: ScoringModel, fitted: Fitted, choice: PriorChoice) -> dict[str, pd.DataFrame]:
    """The fit's report tables: points per category or bin, weights, layer weights, factors, priors."""
    categories = pd.DataFrame([vars(r) for m in fitted.maps for r in m.rows],
                              columns=["metric", "outcome", "group", "analyst", "n", "observed", "low", "high",
                                       "fitted"])
    labels = {m.id: m.label for m in base.spec.metrics}
    categories.insert(1, "label", categories.metric.map(labels))
    weights = fitted.weights.rename(columns={"analyst": "current"})
    weights["change"] = (weights.fitted - weights.current).round(1)
    return {"weights": weights, "categories": categories, "layers": fitted.layers, "factors": fitted.segments,
            "priors": choice.table}


def _subset(scored: ScoredSnapshots, rows: np.ndarray) -> ScoredSnapshots:
    return ScoredSnapshots(
        scores={k: v[rows] for k, v in scored.scores.items()}, subscores=scored.subscores[rows],
        layers={k: v[rows] for k, v in scored.layers.items()}, stage=scored.stage[rows], segment=scored.segment[rows],
        frame=scored.frame[rows].reset_index(drop=True),
    )


def _check_enough(engaged: np.ndarray, revenue: np.ndarray, method: str) -> None:
    n, yes = len(engaged), int(engaged.sum())
    needs = [
        (n, MIN_PARTNERS, "partners with outcomes and a scorable History snapshot"),
        (yes, MIN_PER_CLASS, "engaged partners"),
        (n - yes, MIN_PER_CLASS, "partners not engaged"),
        (int((revenue > 0).sum()), MIN_POSITIVE_REVENUE, "partners with revenue above zero"),
    ]
    if method == "isotonic":
        needs.append((n, calibration.MIN_ISOTONIC, "partners with outcomes for an isotonic map (or use logistic)"))
    for have, need, what in needs:
        if have < need:
            raise NotEnoughData(f"too little data to calibrate: {have:,} {what}, need at least {need:,} "
                                f"({need - have:,} more)")


def _check_split(engaged: np.ndarray, test: np.ndarray) -> None:
    for side, rows in (("earlier (training)", ~test), ("later (test)", test)):
        yes = int(engaged[rows].sum())
        for have, what in ((yes, "engaged"), (int(rows.sum()) - yes, "not engaged")):
            if have < MIN_PER_CLASS_IN_SPLIT:
                raise NotEnoughData(
                    f"too little data to back-test: the {side} cohorts have {have} {what} partners, need at least "
                    f"{MIN_PER_CLASS_IN_SPLIT} ({MIN_PER_CLASS_IN_SPLIT - have} more); add outcomes of more cohorts")




def _scorecard_predictions(scored: ScoredSnapshots, train: np.ndarray, engaged: np.ndarray, revenue: np.ndarray,
                           settings: Settings) -> peers.Predictions:
    """Maps fitted on the earlier cohorts, applied to the later ones: probability, expected revenue, interval."""
    applied = predict.from_maps(
        calibration.fit_engagement(scored.scores["engagement"][train], engaged[train], settings.method),
        calibration.fit_revenue(scored.scores["revenue"][train], revenue[train], settings.seed),
    )
    expected, low, high = applied.expected_revenue(scored.scores["revenue"][~train])
    return applied.engagement_probability(scored.scores["engagement"][~train]), expected, low, high


def _statistic(predictions: dict[str, peers.Predictions], headline: str, y: np.ndarray,
               revenue: np.ndarray) -> bt.Statistic:
    """Every figure of every model on one resample, plus each model's difference from ``headline``."""

    def figures(idx: np.ndarray) -> dict[str, float]:
        yy, rr = y[idx], revenue[idx]
        out: dict[str, float] = {}
        for name, (p, expected, low, high) in predictions.items():
            pp, ee = p[idx], expected[idx]
            out |= {f"{name}|auc": bt.auc(pp, yy), f"{name}|brier": bt.brier(pp, yy), f"{name}|ece": bt.ece(pp, yy),
                    f"{name}|normalized_gini": bt.normalized_gini(ee, rr), f"{name}|spearman": bt.spearman(ee, rr),
                    f"{name}|top_decile_capture": bt.top_decile_capture(ee, rr)}
            if low is not None:
                out[f"{name}|{COVERAGE}"] = float(np.mean((rr >= low[idx]) & (rr <= high[idx])))
        for name in predictions:
            if name != headline:
                for figure in HIGHER_IS_BETTER:
                    out[f"{name}|{figure}|diff"] = out[f"{name}|{figure}"] - out[f"{headline}|{figure}"]
        return out

    return figures


def _estimate(found: tuple[float, float, float]) -> Estimate:
    value, low, high = found
    return Estimate(value=round(value, 4), low=round(low, 4), high=round(high, 4))


def _backtest_table(figures: dict, headline: str) -> pd.DataFrame:
    """The reported scorecard's figures, with the ECE that chance alone gives next to its ECE."""
    rows = [("engagement", label, figures[f"{headline}|{key}"]) for key, label in ENGAGEMENT_FIGURES.items()]
    rows.append(("engagement", "ECE of a perfectly calibrated model, by chance", figures[CHANCE]))
    revenue = {**REVENUE_FIGURES, COVERAGE: COVERAGE_LABEL}
    rows += [("revenue", label, figures[f"{headline}|{key}"]) for key, label in revenue.items()]
    return pd.DataFrame([{"outcome": o, "figure": f, "value": v, "low": lo, "high": hi} for o, f, (v, lo, hi) in rows])


def _peer_table(figures: dict, names: list[str], headline: str) -> pd.DataFrame:
    """Every model's figures; ``difference`` is the model's figure minus the reported scorecard's."""
    rows = []
    labels = {**ENGAGEMENT_FIGURES, **REVENUE_FIGURES, COVERAGE: COVERAGE_LABEL}
    for name in names:
        for key, label in labels.items():
            if f"{name}|{key}" not in figures:
                continue
            value, low, high = figures[f"{name}|{key}"]
            diff = figures.get(f"{name}|{key}|diff", (np.nan, np.nan, np.nan))
            rows.append({"model": name, "figure": label, "value": value, "low": low, "high": high,
                         "difference": diff[0], "difference_low": diff[1], "difference_high": diff[2],
                         "verdict": _verdict(key, diff, headline) if name != headline and key in HIGHER_IS_BETTER
                         else ""})
    return pd.DataFrame(rows)


def _verdict(key: str, diff: tuple[float, float, float], headline: str) -> str:
    """Plain words for a model's difference from the reported scorecard, honest about its uncertainty."""
    _, low, high = diff
    better = HIGHER_IS_BETTER[key]
    if low > 0 or high < 0:
        return f"better than the {headline.lower()}" if (low > 0) == better else f"worse than the {headline.lower()}"
    return "no clear difference"


def _weights_table(model: ScoringModel, suggested: dict[str, dict[str, float]]) -> pd.DataFrame:
    spec = model.spec
    metrics = {m.id: m for m in spec.metrics}
    rows = []
    for outcome in OUTCOMES:
        for metric_id, new in suggested[outcome].items():
            current = spec.weights[outcome][metric_id]
            rows.append({"outcome": outcome, "metric": metric_id, "label": metrics[metric_id].label,
                         "layer": metrics[metric_id].layer, "current": current, "suggested": new,
                         "change": round(new - current, 1)})
    return pd.DataFrame(rows)


def _summary(cal: Calibration, figures: dict, settings: Settings, headline: str, names: list[str],
             observed: Observed, c) -> list[str]:
    b = cal.backtest
    at = "at sign-up (onboarding start)" if cal.window_months == 0 else \
        f"{cal.window_months} months after onboarding start"
    lines = [
        f"{'Fitted' if settings.fit else 'Calibrated'} on {cal.n:,} partners with {cal.horizon_months}-month "
        f"outcomes ({cal.n_engaged:,} engaged), scored {at}.",
        f"Back-test: fitted on {b.n_train:,} partners onboarded before {b.test_from}, measured on {b.n_test:,} "
        f"onboarded from then on; 95% intervals from {settings.n_boot} bootstrap resamples.",
        f"{headline}: engagement AUC {_fmt(figures, headline, 'auc')}, calibration error (ECE) "
        f"{_fmt(figures, headline, 'ece')} (a perfectly calibrated model would show {figures[CHANCE][0]:.3f} on "
        f"these partners by chance, 95% range {figures[CHANCE][1]:.3f}-{figures[CHANCE][2]:.3f}), Brier "
        f"{_fmt(figures, headline, 'brier')}.",
        f"Revenue: normalised Gini {_fmt(figures, headline, 'normalized_gini')}, top-decile capture "
        f"{_fmt(figures, headline, 'top_decile_capture')}, 80% interval coverage "
        f"{_fmt(figures, headline, COVERAGE)}.",
    ]
    lines += [_comparison(figures, headline, peer) for peer in names if peer != headline]
    for j in np.flatnonzero(~observed.usable):
        lines.append(f"Not calibrated: {c.labels[j]} ({c.metric_ids[j]}): {observed.reason(j)}; it keeps the "
                     f"model's numbers and takes no part in any fit.")
    return lines


def _comparison(figures: dict, headline: str, peer: str) -> str:
    """One plain sentence: is the reported scorecard better, no different or worse than ``peer``?"""
    if peer == BASE_RATE:  # every partner gets the same probability: only its accuracy can be compared
        diff = figures[f"{peer}|brier|diff"]  # base rate minus scorecard: positive when the scorecard is better
        if diff[1] > 0:
            verdict = "is more accurate than"
        elif diff[2] < 0:
            verdict = "is less accurate than"
        else:
            verdict = "does not beat"
        return (f"The {headline.lower()} {verdict} the base rate (everyone given the average engagement rate): "
                f"Brier score {_fmt(figures, headline, 'brier')} against {figures[f'{peer}|brier'][0]:.3f} "
                f"(difference {_signed(_negated(diff))}).")
    parts = []
    for key, what in (("auc", "engagement"), ("normalized_gini", "revenue")):
        diff = _negated(figures[f"{peer}|{key}|diff"])  # scorecard minus peer
        word = "better than" if diff[1] > 0 else "worse than" if diff[2] < 0 else "no different from"
        parts.append(f"{word} it at ranking {what} ({'AUC' if key == 'auc' else 'normalised Gini'} "
                     f"{figures[f'{headline}|{key}'][0]:.3f} against {figures[f'{peer}|{key}'][0]:.3f}, "
                     f"difference {_signed(diff)})")
    return f"Against {peer.lower()}, the {headline.lower()} is {parts[0]}, and {parts[1]}."


def _negated(found: tuple[float, float, float]) -> tuple[float, float, float]:
    value, low, high = found
    return -value, -high, -low


def _fmt(figures: dict, name: str, key: str) -> str:
    value, low, high = figures.get(f"{name}|{key}", (np.nan, np.nan, np.nan))
    return f"{value:.3f} (95% CI {low:.3f}-{high:.3f})"


def _signed(found: tuple[float, float, float]) -> str:
    value, low, high = found
    return f"{value:+.3f}, 95% CI {low:+.3f} to {high:+.3f}"


def new_version(spec: ModelSpec, cal: Calibration) -> ModelSpec:
    """The calibrated model: same scorecard and name, next version, the calibration and a changelog entry."""
    b = cal.backtest
    data = spec.model_dump(mode="json")
    data.update(horizon_months=cal.horizon_months, calibration=cal.model_dump(mode="json"))
    return release(
        from_dict(data, "calibrated model"), date=cal.date, reason="cal", author=AUTHOR, source="calibrated model",
        change=(f"Calibrated engagement probability ({cal.engagement.method}) and expected revenue (hurdle, "
                f"80% interval) on {cal.n:,} partners with {cal.horizon_months}-month outcomes, scored "
                f"{cal.window_months} months after onboarding start" + _left_out(cal) + "."),
        rationale=(f"Back-test on {b.n_test:,} partners onboarded from {b.test_from} (fitted on {b.n_train:,} "
                   f"earlier): engagement AUC {b.auc.value:.3f} ({b.auc.low:.3f}-{b.auc.high:.3f}), calibration "
                   f"error {b.ece.value:.3f}, Brier {b.brier.value:.3f}; revenue normalised Gini "
                   f"{b.normalized_gini.value:.3f}, top-decile capture {b.top_decile_capture.value:.3f}."),
    ).spec


def _left_out(cal: Calibration) -> str:
    return f"; not calibrated (no usable values): {', '.join(cal.not_calibrated)}" if cal.not_calibrated else ""


def _fitted_version(original: ModelSpec, fitted: ModelSpec, cal: Calibration, found: Fitted) -> ModelSpec:
    """The fitted model: the fitted scorecard under the original's name, next version, the calibration
    and a changelog entry listing what the data changed and by how much."""
    b = cal.backtest
    data = fitted.model_dump(mode="json")
    data.update(name=original.name, version=original.version, changelog=original.model_dump(mode="json")["changelog"],
                horizon_months=cal.horizon_months, calibration=cal.model_dump(mode="json"))
    at = "at sign-up" if cal.window_months == 0 else f"{cal.window_months} months after onboarding start"
    return release(
        from_dict(data, "fitted model"), date=cal.date, reason="cal", author=FIT_AUTHOR, source="fitted model",
        change=(f"Scorecard fitted to {cal.horizon_months}-month outcomes of {cal.n:,} partners scored {at}, with "
                f"the previous version as the prior: " + "; ".join(found.changes) + "."),
        rationale=(f"Back-test on {b.n_test:,} partners onboarded from {b.test_from} (fitted on {b.n_train:,} "
                   f"earlier): engagement AUC {b.auc.value:.3f} ({b.auc.low:.3f}-{b.auc.high:.3f}), calibration "
                   f"error {b.ece.value:.3f}, Brier {b.brier.value:.3f}; revenue normalised Gini "
                   f"{b.normalized_gini.value:.3f}, top-decile capture {b.top_decile_capture.value:.3f}."),
    ).spec
