"""Calibrate a model on past cohorts: back-test, compare with peers, suggest weights, write the maps.

The procedure, on partners whose outcomes are known, each scored as it looked at the end of its
onboarding window:

1. Split by time: the latest onboarding cohorts (about ``test_share`` of the partners) are the test
   set; everything is fitted on the earlier ones.
2. Back-test the current scorecard (maps fitted on the earlier cohorts, measured on the later ones)
   and, on the same split, its peers: equal weights, suggested weights (searched on the earlier
   cohorts only) and gradient boosting on the same inputs.
3. Fit the maps that are stored on all partners, and suggest weights from all partners.
4. Return the new model version (the input model is never changed) and the report tables.

Everything is deterministic: fixed seeds for resampling, cross-fitting and the reference model.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from scoring.calibration import backtest as bt
from scoring.calibration import maps as calibration
from scoring.calibration import peers
from scoring.calibration import predict
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS, Backtest, Calibration, Estimate
from scoring.compiled import OUTCOMES, compile_model
from scoring.model.load import ScoringModel, from_dict
from scoring.model.schema import ModelSpec
from scoring.snapshots import ScoredSnapshots, score_snapshots
from scoring.calibration.weights import PRIOR_PARTNERS, equal_weights, suggest
from scoring.model.edit import release, with_weights, without_calibration

__all__ = ["CURRENT", "SUGGESTED", "CalibrationRun", "Cohort", "NotEnoughData", "Report", "Settings", "calibrate"]

MIN_PARTNERS = 50  # with outcomes and a score
MIN_PER_CLASS = 10  # engaged and not engaged
MIN_POSITIVE_REVENUE = 10
MIN_PER_CLASS_IN_SPLIT = 5  # engaged and not engaged, in the earlier and in the later cohorts
AUTHOR = "pscore calibrate"

CURRENT, EQUAL, SUGGESTED, BOOSTED = "Current scorecard", "Equal weights", "Suggested weights", "Gradient boosting"
ENGAGEMENT_FIGURES = {"auc": "AUC", "brier": "Brier score", "ece": "Calibration error (ECE)"}
REVENUE_FIGURES = {"normalized_gini": "Normalised Gini", "spearman": "Spearman",
                   "top_decile_capture": "Top-decile revenue capture"}
COVERAGE = "interval_coverage"
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
    prior_partners: float = PRIOR_PARTNERS


@dataclass(frozen=True)
class Report:
    """Tables for people: every figure with its 95% interval where one exists."""

    summary: list[str]
    backtest: pd.DataFrame  # the current scorecard: outcome, figure, value, low, high
    reliability: pd.DataFrame
    segments: pd.DataFrame
    peers: pd.DataFrame  # model, figure, value, low, high, difference vs current (+ interval)
    weights: pd.DataFrame  # outcome, metric, label, layer, current, suggested, change


@dataclass(frozen=True)
class CalibrationRun:
    spec: ModelSpec  # the new model version, calibration included
    report: Report
    excluded: int  # partners with outcomes that could not be scored (no usable data)


def calibrate(cohort: Cohort, model: ScoringModel, settings: Settings) -> CalibrationRun:
    """Back-test, compare and calibrate ``model`` on ``cohort``; see the module docstring.

    Runs single-threaded: the matrices are small, so threads save little, and on a busy machine
    OpenMP's waiting threads made the gradient-boosting fits ten times slower.
    """
    with threadpool_limits(limits=1):
        return _calibrate(cohort, model, settings)


def _calibrate(cohort: Cohort, model: ScoringModel, settings: Settings) -> CalibrationRun:
    base = without_calibration(model)  # a calibration being replaced must not take part in fitting its successor
    c = compile_model(base)
    scored = score_snapshots(cohort.partners, base, cohort.snapshot_date)
    usable = ~np.isnan(scored.scores["revenue"]) & ~np.isnan(scored.scores["engagement"])
    engaged = np.asarray(cohort.engaged, dtype=float)[usable]
    revenue = np.asarray(cohort.revenue, dtype=float)[usable]
    _check_enough(engaged, revenue, settings.method)
    partners = cohort.partners.reset_index(drop=True)[usable].reset_index(drop=True)
    scored = _subset(scored, usable)
    dates = np.asarray(cohort.snapshot_date, dtype="datetime64[D]")[usable]
    start = pd.to_datetime(partners["onboarding_start"]).to_numpy().astype("datetime64[D]")

    test_from = bt.time_split(start, settings.test_share)
    test = start >= np.datetime64(test_from)
    _check_split(engaged, test)
    train = ~test

    suggested_train = suggest(c, _subset(scored, train), engaged[train], revenue[train], settings.prior_partners)
    variants = {
        CURRENT: scored,
        EQUAL: score_snapshots(partners, equal_weights(base), dates),
        SUGGESTED: score_snapshots(partners, with_weights(base, suggested_train, source="suggested").model, dates),
    }
    predictions = {name: _scorecard_predictions(s, train, engaged, revenue, settings) for name, s in variants.items()}
    x, categorical = peers.features(c, partners)
    probability, expected = peers.fit_predict(x, categorical, train, engaged, revenue)
    predictions[BOOSTED] = (probability, expected, None, None)  # a reference for ranking: no interval

    y_test, r_test = engaged[test], revenue[test]
    figures = bt.bootstrap(_statistic(predictions, y_test, r_test), int(test.sum()), settings.n_boot, settings.seed)
    figures[CHANCE] = bt.ece_by_chance(predictions[CURRENT][0], seed=settings.seed)
    p_current, e_current = predictions[CURRENT][0], predictions[CURRENT][1]

    final_engagement = calibration.fit_engagement(scored.scores["engagement"], engaged, settings.method)
    final_revenue = calibration.fit_revenue(scored.scores["revenue"], revenue, settings.seed)
    headline = Backtest(
        test_from=test_from, n_train=int(train.sum()), n_test=int(test.sum()),
        **{name: _estimate(figures[f"{CURRENT}|{name}"]) for name in HIGHER_IS_BETTER},
    )
    cal = Calibration(
        date=settings.date, horizon_months=settings.horizon_months, window_months=settings.window_months,
        n=len(engaged), n_engaged=int(engaged.sum()), scorecard=predict.scorecard_hash(base.spec),
        engagement=final_engagement, revenue=final_revenue, backtest=headline,
    )
    suggested_all = suggest(c, scored, engaged, revenue, settings.prior_partners)
    report = Report(
        summary=_summary(cal, figures, settings),
        backtest=_backtest_table(figures),
        reliability=bt.reliability(p_current, y_test, scored.scores["engagement"][test]),
        segments=bt.segment_totals(e_current, r_test, scored.segment[test]),
        peers=_peer_table(figures, list(predictions)),
        weights=_weights_table(base, suggested_all),
    )
    return CalibrationRun(spec=new_version(model.spec, cal), report=report, excluded=int((~usable).sum()))


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


#: Per model, on the test partners: P(engaged), expected revenue and its interval (low, high) if it has one.
Predictions = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]


def _scorecard_predictions(scored: ScoredSnapshots, train: np.ndarray, engaged: np.ndarray, revenue: np.ndarray,
                           settings: Settings) -> Predictions:
    """Maps fitted on the earlier cohorts, applied to the later ones: probability, expected revenue, interval."""
    applied = predict.from_maps(
        calibration.fit_engagement(scored.scores["engagement"][train], engaged[train], settings.method),
        calibration.fit_revenue(scored.scores["revenue"][train], revenue[train], settings.seed),
    )
    expected, low, high = applied.expected_revenue(scored.scores["revenue"][~train])
    return applied.engagement_probability(scored.scores["engagement"][~train]), expected, low, high


def _statistic(predictions: dict[str, Predictions], y: np.ndarray, revenue: np.ndarray) -> bt.Statistic:
    """Every figure of every model on one resample, plus each model's difference from the current scorecard."""

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
            if name != CURRENT:
                for figure in HIGHER_IS_BETTER:
                    out[f"{name}|{figure}|diff"] = out[f"{name}|{figure}"] - out[f"{CURRENT}|{figure}"]
        return out

    return figures


def _estimate(found: tuple[float, float, float]) -> Estimate:
    value, low, high = found
    return Estimate(value=round(value, 4), low=round(low, 4), high=round(high, 4))


def _backtest_table(figures: dict) -> pd.DataFrame:
    """The current scorecard's figures, with the ECE that chance alone gives next to its ECE."""
    rows = [("engagement", label, figures[f"{CURRENT}|{key}"]) for key, label in ENGAGEMENT_FIGURES.items()]
    rows.append(("engagement", "ECE of a perfectly calibrated model, by chance", figures[CHANCE]))
    revenue = {**REVENUE_FIGURES, COVERAGE: "80% interval coverage"}
    rows += [("revenue", label, figures[f"{CURRENT}|{key}"]) for key, label in revenue.items()]
    return pd.DataFrame([{"outcome": o, "figure": f, "value": v, "low": lo, "high": hi} for o, f, (v, lo, hi) in rows])


def _peer_table(figures: dict, names: list[str]) -> pd.DataFrame:
    rows = []
    for name in names:
        for key, label in {**ENGAGEMENT_FIGURES, **REVENUE_FIGURES}.items():
            value, low, high = figures[f"{name}|{key}"]
            diff = figures.get(f"{name}|{key}|diff", (np.nan, np.nan, np.nan))
            rows.append({"model": name, "figure": label, "value": value, "low": low, "high": high,
                         "vs_current": diff[0], "vs_current_low": diff[1], "vs_current_high": diff[2],
                         "verdict": _verdict(key, diff) if name != CURRENT else ""})
    return pd.DataFrame(rows)


def _verdict(key: str, diff: tuple[float, float, float]) -> str:
    """Plain words for a difference from the current scorecard, honest about its uncertainty."""
    _, low, high = diff
    better = HIGHER_IS_BETTER[key]
    if low > 0 or high < 0:
        return "better than current" if (low > 0) == better else "worse than current"
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


def _summary(cal: Calibration, figures: dict, settings: Settings) -> list[str]:
    b = cal.backtest
    lines = [
        f"Calibrated on {cal.n:,} partners with {cal.horizon_months}-month outcomes ({cal.n_engaged:,} engaged), "
        f"scored {cal.window_months} months after onboarding start.",
        f"Back-test: fitted on {b.n_train:,} partners onboarded before {b.test_from}, measured on {b.n_test:,} "
        f"onboarded from then on; 95% intervals from {settings.n_boot} bootstrap resamples.",
        f"Engagement: AUC {_fmt(figures, CURRENT, 'auc')}, calibration error (ECE) {_fmt(figures, CURRENT, 'ece')} "
        f"(a perfectly calibrated model would show {figures[CHANCE][0]:.3f} on these partners by chance, 95% range "
        f"{figures[CHANCE][1]:.3f}-{figures[CHANCE][2]:.3f}), Brier {_fmt(figures, CURRENT, 'brier')}.",
        f"Revenue: normalised Gini {_fmt(figures, CURRENT, 'normalized_gini')}, top-decile capture "
        f"{_fmt(figures, CURRENT, 'top_decile_capture')}, 80% interval coverage {_fmt(figures, CURRENT, COVERAGE)}.",
    ]
    for peer in (BOOSTED, EQUAL, SUGGESTED):
        lines.append(f"{peer} vs the current scorecard: " + "; ".join(
            f"{label} {_fmt(figures, peer, key)} ({_verdict(key, figures[f'{peer}|{key}|diff'])}, "
            f"difference {_signed(figures[f'{peer}|{key}|diff'])})"
            for key, label in (("auc", "engagement AUC"), ("normalized_gini", "revenue Gini"))))
    return lines


def _fmt(figures: dict, name: str, key: str) -> str:
    value, low, high = figures[f"{name}|{key}"]
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
                f"{cal.window_months} months after onboarding start."),
        rationale=(f"Back-test on {b.n_test:,} partners onboarded from {b.test_from} (fitted on {b.n_train:,} "
                   f"earlier): engagement AUC {b.auc.value:.3f} ({b.auc.low:.3f}-{b.auc.high:.3f}), calibration "
                   f"error {b.ece.value:.3f}, Brier {b.brier.value:.3f}; revenue normalised Gini "
                   f"{b.normalized_gini.value:.3f}, top-decile capture {b.top_decile_capture.value:.3f}."),
    ).spec
