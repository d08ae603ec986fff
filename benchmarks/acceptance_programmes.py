"""Acceptance of fitting the scorecard (``pscore fit``) on programmes the analyst's model gets wrong.

Run: ``python benchmarks/acceptance_programmes.py [--cases NAME ...] [--seeds 0 1 2] [--n-boot 500]``.

For each case of :mod:`scoring.synthetic.programmes` (sign-up data only, a monthly History, wrong
category order, a partner-type effect, metrics recorded only for the latest cohorts, a small programme,
heavy-tailed revenue, and all of them at once), it builds the cohort of sellers with outcomes (scored at
sign-up, or 6 months in when there is a History), fits the analyst's model to it with the library, and
compares the back-test -- measured on the later cohorts of the time-based split -- with the truth that
generated the data and with the honest baselines:

=================================  ===========================================================
check                              target
=================================  ===========================================================
engagement AUC vs the truth        within 0.02 of the AUC of the true probabilities (same test sellers)
engagement AUC vs one-hot          at least the one-hot logistic regression's minus 0.01
calibration error (ECE)            at most 0.05
revenue normalised Gini vs GB      at least gradient boosting's minus 0.03
80% interval coverage              0.75-0.85
category points vs true effects    Spearman >= 0.8 per categorical metric with a true effect
=================================  ===========================================================

Each line says PASS or MISS with the figures behind it; a case that fails to run prints its error as a
MISS. The script reports and always exits 0: the figures are for people to read, not a gate. The
back-test figures have bootstrap intervals in the report (``run.report.peers``); with a few hundred
sellers they are wide, so a single seed's PASS or MISS is weak evidence -- ``--seeds`` repeats each
case on other draws.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from scoring.calibration.cohort import build_cohort
from scoring.calibration.run import BOOSTED, FITTED, ONE_HOT, Settings, calibrate
from scoring.synthetic.programmes import PRESETS, Programme, generate_programme, preset

HORIZON = 12
AUC_VS_TRUTH = 0.02
AUC_VS_ONE_HOT = 0.01
MAX_ECE = 0.05
GINI_VS_BOOSTED = 0.03
COVERAGE = (0.75, 0.85)
MIN_SPEARMAN = 0.8
#: Categorical metrics whose categories have true effects (average_stock has none: no order to recover).
ORDERED = ("lead_type", "lead_behaviour_profile", "business_segment")


@dataclass(frozen=True)
class Check:
    """One line of a case's table."""

    check: str
    found: str
    target: str
    passed: bool


def window_for(programme: Programme) -> int:
    """Score at sign-up (window 0) without History, 6 months in with it."""
    return 6 if programme.history is not None else 0


def later_cohorts(cohort_partners: pd.DataFrame, test_from) -> np.ndarray:
    """The later cohorts of the back-test: onboarding start on or after the split date."""
    return (pd.to_datetime(cohort_partners["onboarding_start"]).dt.date >= test_from).to_numpy()


def true_auc(programme: Programme, cohort_partners: pd.DataFrame, engaged: np.ndarray, test: np.ndarray) -> float:
    """AUC of the true engagement probabilities on the test sellers: the best any model can rank them."""
    truth = programme.truth.set_index("partner_id")["p_engaged"]
    return float(roc_auc_score(engaged[test], truth.loc[cohort_partners["partner_id"][test]].to_numpy()))


def category_spearman(categories: pd.DataFrame, effects: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Rank correlation with the true effects, per ordered metric the fit reported, of the fitted
    engagement points per category (the analyst's where the fit kept them) and of the observed
    engagement rates: the second says how much order the sample itself holds."""
    found = {}
    rows = categories[categories["outcome"] == "engagement"] if "outcome" in categories else categories
    for metric in ORDERED:
        fitted = rows[rows["metric"] == metric]
        if fitted.empty:
            continue
        points = fitted["fitted"].where(fitted["fitted"].notna(), fitted["analyst"])
        truth = effects[effects["metric"] == metric].set_index("category")["effect"]
        joined = pd.DataFrame({"points": points.to_numpy(), "observed": fitted["observed"].to_numpy(),
                               "truth": truth.loc[fitted["group"]].to_numpy()})
        found[metric] = (float(joined["points"].rank().corr(joined["truth"].rank())),
                         float(joined["observed"].rank().corr(joined["truth"].rank())))
    return found


def figure(peers: pd.DataFrame, model: str, label: str) -> float:
    """One model's figure from the report's peer table (NaN if the report has none)."""
    row = peers[(peers["model"] == model) & (peers["figure"] == label)]
    return float(row["value"].iloc[0]) if len(row) else np.nan


def run_case(name: str, seed: int, n_boot: int, n_partners: int | None = None) -> tuple[list[Check], list[str]]:
    """Draw, fit and check one case (``n_partners`` sellers signed instead of the preset's); returns its
    checks and notes (sizes, metrics left out, time)."""
    sizes = {} if n_partners is None else {"n_partners": n_partners}
    programme = generate_programme(preset(name, seed=seed, **sizes))
    window = window_for(programme)
    started = time.perf_counter()
    data = build_cohort(programme.partners, programme.history, programme.outcomes, programme.model,
                        window_months=window, horizon_months=HORIZON)
    cohort = data.cohort
    run = calibrate(cohort, programme.model, Settings(date=programme.as_of, horizon_months=HORIZON,
                                                      window_months=window, n_boot=n_boot, seed=seed, fit=True))
    seconds = time.perf_counter() - started
    cal = run.spec.calibration
    test = later_cohorts(cohort.partners, cal.backtest.test_from)
    peers = run.report.peers
    fitted_auc, one_hot_auc = figure(peers, FITTED, "AUC"), figure(peers, ONE_HOT, "AUC")
    truth_auc = true_auc(programme, cohort.partners, np.asarray(cohort.engaged), test)
    ece = figure(peers, FITTED, "Calibration error (ECE)")
    gini, boosted_gini = figure(peers, FITTED, "Normalised Gini"), figure(peers, BOOSTED, "Normalised Gini")
    coverage = figure(peers, FITTED, "80% interval coverage")
    checks = [
        Check("engagement AUC vs the truth", f"{fitted_auc:.3f} vs {truth_auc:.3f} ({fitted_auc - truth_auc:+.3f})",
              f">= truth - {AUC_VS_TRUTH}", fitted_auc >= truth_auc - AUC_VS_TRUTH),
        Check("engagement AUC vs one-hot", f"{fitted_auc:.3f} vs {one_hot_auc:.3f} ({fitted_auc - one_hot_auc:+.3f})",
              f">= one-hot - {AUC_VS_ONE_HOT}", fitted_auc >= one_hot_auc - AUC_VS_ONE_HOT),
        Check("calibration error (ECE)", f"{ece:.3f}", f"<= {MAX_ECE}", ece <= MAX_ECE),
        Check("revenue Gini vs gradient boosting", f"{gini:.3f} vs {boosted_gini:.3f} ({gini - boosted_gini:+.3f})",
              f">= GB - {GINI_VS_BOOSTED}", gini >= boosted_gini - GINI_VS_BOOSTED),
        Check("80% interval coverage", f"{coverage:.3f}", f"{COVERAGE[0]}-{COVERAGE[1]}",
              COVERAGE[0] <= coverage <= COVERAGE[1]),
    ]
    for metric, (rho, observed) in category_spearman(run.report.categories, programme.effects).items():
        checks.append(Check(f"category points: {metric}", f"Spearman {rho:.2f} (observed rates {observed:.2f})",
                            f">= {MIN_SPEARMAN}", rho >= MIN_SPEARMAN))
    notes = [f"{len(cohort.engaged)} sellers with outcomes ({int(np.sum(cohort.engaged))} engaged), window {window}; "
             f"trained on {cal.backtest.n_train}, tested on {cal.backtest.n_test} signed from {cal.backtest.test_from}; "
             f"{seconds:.1f} s"]
    if cal.not_calibrated:
        notes.append("not calibrated: " + ", ".join(cal.not_calibrated))
    notes += [f"skipped {s}" for s in data.skipped]
    return checks, notes


def print_case(name: str, seed: int, checks: list[Check], notes: list[str]) -> None:
    """One case's table: check, figures, target, PASS/MISS."""
    print(f"\n== {name} (seed {seed}) ==")
    for note in notes:
        print(f"   {note}")
    width = max(len(c.check) for c in checks)
    found = max(len(c.found) for c in checks)
    for c in checks:
        print(f"   {c.check:<{width}}  {c.found:<{found}}  {c.target:<18}  {'PASS' if c.passed else 'MISS'}")


def main() -> None:
    """Run every requested case and seed, print the tables and a PASS count per case; always exit 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(PRESETS), choices=list(PRESETS), metavar="CASE",
                        help=f"cases to run (default: all of {', '.join(PRESETS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds to draw each case with (default 0)")
    parser.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples of the back-test (default 500)")
    parser.add_argument("--partners", type=int, help="sellers signed per programme (default: each preset's own)")
    args = parser.parse_args()

    tally: dict[str, list[int]] = {}
    for name in args.cases:
        for seed in args.seeds:
            try:
                checks, notes = run_case(name, seed, args.n_boot, args.partners)
            except Exception as exc:  # a crash is a finding to report, not a reason to stop the others
                checks, notes = [Check("runs without error", f"{type(exc).__name__}: {exc}".splitlines()[0], "no error",
                                       False)], []
            print_case(name, seed, checks, notes)
            passed, total = tally.setdefault(name, [0, 0])
            tally[name] = [passed + sum(c.passed for c in checks), total + len(checks)]
    print("\n== summary ==")
    for name, (passed, total) in tally.items():
        print(f"   {name:<14} {passed}/{total} checks pass")


if __name__ == "__main__":
    main()
