"""Scores over time: 10,000 partners x 24 monthly periods with smoothing, guardrails, staleness and ledgers.

Run: ``python benchmarks/bench_history.py`` (or ``make bench``). Each measurement runs in a fresh
child process so its peak memory (max RSS) is its own. Target on a 2-core machine: the whole
history -- every snapshot scored, smoothed (EWMA), bounded (guardrail), stale values decayed, and a
change ledger for every partner -- in <= 10 s with peak memory <= 2 GB. Printed beside it, measured
in the same run on the same data: today's per-period scoring (``scoring.history.score_history``).

The data come from the synthetic demo generator (``scoring.synthetic.generate``). It keeps at most
18 months of History per partner, for partners onboarded in the last two years; to reach 24 periods
for every partner, each partner's History is laid on the 24 month-ends up to the as-of month, a
month without a snapshot taking the partner's nearest one (its first before it, its last after).
Every snapshot is then a real generated record, and each costs the same work as any other. The
manager's assessments (market alignment, adoption potential, partner feedback, manager assessment)
carry an ``_updated`` date, the onboarding start: assessed at sign-up and not since, so they go
stale after their interval and the decay rule has work to do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

AS_OF = dt.date(2026, 11, 24)
PERIODS = 24
ASSESSED = ("market_alignment", "product_adoption_potential", "partner_feedback", "manager_assessment")
STABILITY = {"smoothing": {"method": "ewma", "alpha": 0.5}, "min_periods": 3, "max_change": 5.0, "stale": "decay"}


def panel(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Partners and a History of ``PERIODS`` month-ends for each of them, from the demo generator."""
    from scoring.synthetic import generate

    data = generate(n, seed=seed, as_of=AS_OF)
    history = data.history.sort_values(["partner_id", "period"], kind="stable").reset_index(drop=True)
    ends = pd.date_range(end=pd.Timestamp(AS_OF) + pd.offsets.MonthEnd(0), periods=PERIODS, freq="ME")
    ids = history["partner_id"].to_numpy(dtype=object)
    first = np.r_[True, ids[1:] != ids[:-1]]
    owner = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(ids)])
    when = history["period"].to_numpy(dtype="datetime64[D]")
    grid_ids = np.repeat(ids[starts], PERIODS)
    grid_days = np.tile(ends.to_numpy(dtype="datetime64[D]"), len(starts))
    partner = np.repeat(np.arange(len(starts)), PERIODS)
    # the partner's last snapshot on or before each month-end, else its first
    key = owner.astype(np.int64) * 10**6 + (when - when.min()).astype(np.int64)
    wanted = partner.astype(np.int64) * 10**6 + (grid_days - when.min()).astype(np.int64)
    at = np.searchsorted(key, wanted, side="right") - 1
    at = np.clip(at, starts[partner], starts[partner] + counts[partner] - 1)
    padded = history.iloc[at].reset_index(drop=True)
    padded["partner_id"], padded["period"] = grid_ids, grid_days
    start = data.partners.set_index("partner_id")["onboarding_start"].reindex(grid_ids).to_numpy()
    for metric in ASSESSED:
        padded[f"{metric}_updated"] = start
    return data.partners, padded


def run(kind: str, n: int) -> dict:
    from scoring import load_model
    from scoring.history import history_view, score_history
    from scoring.model.load import from_dict

    partners, history = panel(n)
    model = load_model("default")
    stable = from_dict({**model.spec.model_dump(mode="json"), "stability": STABILITY}, "bench")
    start = time.perf_counter()
    if kind == "current":
        out = score_history(history, partners, model)
        seconds = time.perf_counter() - start
        extra = {"snapshots": len(out)}
    else:
        view = history_view(history, partners, stable)
        seconds = time.perf_counter() - start
        sums = view.changes.groupby(["row", "score"]).agg(parts=("points", "sum"), change=("change", "first"))
        extra = {"snapshots": len(view.table), "ledgers": int(view.changes["partner_id"].nunique()),
                 "guardrail": int(view.table["guardrail"].sum()), "stale": int((view.table["stale"] != "").sum()),
                 "max_gap": float((sums["parts"] - sums["change"]).abs().max())}
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}


def child(kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--partners", str(n)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--child", choices=["current", "stable"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.partners)))
        return
    current, stable = child("current", args.partners), child("stable", args.partners)
    print(f"{args.partners:,} partners x {PERIODS} monthly periods = {stable['snapshots']:,} snapshots")
    print(f"smoothing + guardrail + staleness + ledgers: {stable['seconds']:.2f} s (target <= 10 s), "
          f"peak {stable['peak_mb']:.0f} MB (target <= 2048 MB); {stable['ledgers']:,} partners' changes explained, "
          f"largest |parts - change| {stable['max_gap']:.1e} points; {stable['guardrail']:,} guardrail flags, "
          f"{stable['stale']:,} snapshots with stale values")
    print(f"today's per-period scoring of the same data (score_history): {current['seconds']:.2f} s, "
          f"peak {current['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
