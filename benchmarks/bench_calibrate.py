"""Calibration speed: 10,000 partners with outcomes, from past cohorts to model file and report.

Run: ``python benchmarks/bench_calibrate.py``. Draws a synthetic population from the demo's latent
process, keeps the first 10,000 partners whose 12-month outcome is known, then times what
``pscore calibrate`` does after reading the workbook: taking each partner's snapshot at the end of
its onboarding window, scoring, the back-test with bootstrap intervals, the peers (equal weights,
suggested weights, gradient boosting), the final maps, and writing the model file and the report.
``--fit`` times ``pscore fit`` instead: the scorecard learnt from the outcomes (points, bins,
weights, segment factors, the prior chosen by cross-validation, maps on held-out scores), back-tested
against the same peers plus the base rate and a one-hot logistic regression.
Target on a 2-core machine: <= 20 s either way.

Reading the workbook itself is bound by openpyxl; ``--workbook PATH`` also times reading one (for
example a ``pscore demo`` workbook).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2026, 11, 24)
TARGET_S = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000, help="partners with outcomes (default 10,000)")
    parser.add_argument("--workbook", type=Path, help="also time reading the past cohorts of this workbook")
    parser.add_argument("--fit", action="store_true", help="time pscore fit (learn the scorecard) instead")
    args = parser.parse_args()

    from scoring import load_model
    from scoring.calibration.run import Settings, calibrate
    from scoring.model.dump import dump_model
    from scoring.calibration.cohort import build_cohort
    from scoring.synthetic import generate
    from xlplugin.workbook.calibration import read_cohort, write_report

    if args.workbook:
        start = time.perf_counter()
        found = read_cohort(args.workbook, load_model("default"))
        print(f"read {args.workbook}: {len(found.cohort.engaged):,} partners with outcomes and a snapshot "
              f"in {time.perf_counter() - start:.2f} s")

    # About half the population started 12+ months ago (outcome known); draw enough, keep the first N.
    demo = generate(n_partners=int(args.partners * 2.2), seed=0, as_of=AS_OF)
    keep = demo.outcomes.partner_id.head(args.partners)
    outcomes = demo.outcomes[demo.outcomes.partner_id.isin(keep)]
    model = load_model("default")

    times: dict[str, float] = {}
    start = time.perf_counter()
    cohort = build_cohort(demo.partners, demo.history, outcomes, model)
    times["snapshots"] = time.perf_counter() - start
    run = calibrate(cohort.cohort, model, Settings(date=AS_OF, fit=args.fit))
    times["fit" if args.fit else "calibrate"] = time.perf_counter() - start - sum(times.values())
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "calibrated.yaml").write_text(dump_model(run.spec), encoding="utf-8")
        write_report(run, Path(folder, "calibration.xlsx"), model.label, "synthetic")
    times["write"] = time.perf_counter() - start - sum(times.values())
    total = sum(times.values())

    cal = run.spec.calibration
    b = cal.backtest
    print(f"partners with outcomes: {len(outcomes):,}; calibrated on {cal.n:,} "
          f"({len(outcomes) - cal.n} without a History row {cal.window_months} months in)")
    print(f"back-test: trained on {b.n_train:,}, tested on {b.n_test:,} onboarded from {b.test_from}")
    for name in ("auc", "brier", "ece", "normalized_gini", "spearman", "top_decile_capture"):
        e = getattr(b, name)
        print(f"  {name:<20} {e.value:.3f}  (95% CI {e.low:.3f}-{e.high:.3f})")
    peers = run.report.peers
    for model_name, rows in peers[peers.figure.isin(["AUC", "Normalised Gini"])].groupby("model", sort=False):
        figures = ", ".join(f"{r.figure} {r.value:.3f}" + (f" ({r.verdict})" if r.verdict else "")
                            for r in rows.itertuples())
        print(f"  {model_name:<20} {figures}")
    print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
          + f"; total {total:.2f} s (target <= {TARGET_S:.0f} s): {'ok' if total <= TARGET_S else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
