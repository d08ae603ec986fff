"""Anomaly checks and population stability on 100,000 partners with 12 monthly snapshots each.

Run: ``python benchmarks/bench_monitor.py [--partners 100000] [--periods 12]``. The partners are
bench_score's random partners in the default model's units; History holds one snapshot per partner
and month, each numeric metric drifting by a few percent a month (1.2 million rows). Timed, in one
process:

* ``anomalies.detect``: outliers, impossible combinations and duplicates among the partners, jumps
  and possible gaming between every partner's consecutive snapshots;
* ``monitoring.monitor`` between the first and the last month: both populations scored (the engine),
  PSI of every input and score with its chance threshold, tier shares;
* a stored baseline (what calibration keeps) against today's partners.

Target on a 2-core machine: all three together in at most 10 s. The floor printed beside them is the
engine scoring the 100,000 partners once, which every PSI of scores has to pay twice.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score import AS_OF, synthetic_partners  # noqa: E402  (the same random partners)

TARGET_SECONDS = 10.0


def history(partners: pd.DataFrame, periods: int, seed: int = 1) -> pd.DataFrame:
    """``periods`` month-end snapshots of every partner, the last one equal to ``partners``."""
    from scoring import load_model
    from scoring.model.schema import BooleanNorm, OrdinalNorm

    rng = np.random.default_rng(seed)
    spec = load_model("default").spec
    numeric = [m.id for m in spec.metrics if not isinstance(m.normalization, (BooleanNorm, OrdinalNorm))]
    months = pd.date_range(end=pd.Timestamp(AS_OF) + pd.offsets.MonthEnd(0), periods=periods, freq="ME")
    frames = []
    for k, month in enumerate(months):
        snap = partners.drop(columns=["partner_type", "region", "onboarding_start"]).copy()
        back = periods - 1 - k
        for metric in numeric:
            drift = np.exp(-0.03 * back + 0.05 * rng.standard_normal(len(snap))) if back else 1.0
            snap[metric] = snap[metric].to_numpy(dtype=float) * drift
        snap.insert(1, "period", month)
        frames.append(snap)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--periods", type=int, default=12)
    args = parser.parse_args()

    from scoring import load_model, score
    from scoring.anomalies import detect
    from scoring.drift import baseline, compare, population
    from scoring.monitoring import monitor

    model = load_model("default")
    partners = synthetic_partners(args.partners)
    hist = history(partners, args.periods)
    print(f"{args.partners:,} partners, {len(hist):,} History rows ({args.periods} months)")
    score(partners.head(1000), model, as_of=AS_OF)  # warm the compiled model

    start = time.perf_counter()
    score(partners, model, as_of=AS_OF)
    floor = time.perf_counter() - start

    start = time.perf_counter()
    found = detect(partners, model, hist, as_of=AS_OF)
    t_anomalies = time.perf_counter() - start

    first, last = (f"{p:%Y-%m}" for p in (hist["period"].min(), hist["period"].max()))
    start = time.perf_counter()
    periods = monitor(partners, model, hist, start=first, end=last, as_of=AS_OF)
    t_periods = time.perf_counter() - start

    stored = baseline(population(partners, model, AS_OF))  # as calibration stores it (not timed)
    start = time.perf_counter()
    since = compare(stored, population(partners, model, AS_OF))
    t_baseline = time.perf_counter() - start

    total = t_anomalies + t_periods + t_baseline
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"anomalies            {t_anomalies:6.2f} s  ({len(found):,} findings: "
          + ", ".join(f"{v:,} {k}" for k, v in found.counts().items()) + ")")
    print(f"PSI {first} -> {last} {t_periods:6.2f} s  ({len(periods.drift.table)} variables; "
          f"{int(periods.drift.table['shifted'].sum())} shifted)")
    print(f"PSI baseline -> today {t_baseline:6.2f} s")
    print(f"total                {total:6.2f} s  (target <= {TARGET_SECONDS:g} s: {'PASS' if total <= TARGET_SECONDS else 'MISS'})")
    print(f"floor: engine scoring {args.partners:,} partners once {floor:.2f} s; peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
