"""Scoring speed and memory: 100k and 1M synthetic partners, and the single-partner path.

Run: ``python benchmarks/bench_score.py`` (or ``make bench``). Each size runs in a fresh child
process so its peak memory (max RSS) is measured on its own. Targets on a 2-core machine:
100k <= 1 s, 1M <= 10 s with peak memory <= 2 GB, single partner <= 1 ms median.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

AS_OF = "2026-11-01"


def synthetic_partners(n: int, seed: int = 0) -> pd.DataFrame:
    """Random partners in the default model's natural units, with ~5% missing cells."""
    from scoring import load_model
    from scoring.model.schema import BooleanNorm, OrdinalNorm, PiecewiseNorm

    rng = np.random.default_rng(seed)
    spec = load_model("default").spec
    data: dict[str, object] = {
        "partner_id": np.char.add("P", np.arange(n).astype(str)),
        "partner_type": rng.choice(["reseller", "integrator", "referral", "marketplace"], n),
        "region": rng.choice(["NA", "EMEA", "APAC", "LATAM"], n),
        "onboarding_start": pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 730, n), unit="D"),
    }
    for metric in spec.metrics:
        norm = metric.normalization
        if isinstance(norm, BooleanNorm):
            values = rng.choice(np.array(["Yes", "No"], dtype=object), n)
        elif isinstance(norm, OrdinalNorm):
            values = rng.choice(np.array(list(norm.map), dtype=object), n)
        else:
            ends = (norm.points[0][0], norm.points[-1][0]) if isinstance(norm, PiecewiseNorm) else (norm.floor, norm.target)
            lo, hi = sorted(ends)
            values = rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), n)
            if metric.valid_range:
                values = np.clip(values, *metric.valid_range)
        missing = rng.random(n) < 0.05
        if values.dtype == object:
            values[missing] = None
        else:
            values[missing] = np.nan
        data[metric.id] = values
    return pd.DataFrame(data)


def run_size(n: int, repeats: int) -> dict:
    from scoring import load_model, score

    model = load_model("default")
    partners = synthetic_partners(n)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        score(partners, model, as_of=AS_OF).frame  # every public column, as the CLI writes them
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "median_s": statistics.median(times), "best_s": min(times), "peak_mb": peak_mb}


def run_single(calls: int) -> dict:
    from scoring import load_model, score

    model = load_model("default")
    one = synthetic_partners(1)

    def row_udf_values():  # what the per-row Excel functions read
        result = score(one, model, as_of=AS_OF)
        return [result[c][0] for c in ("revenue_score", "engagement_score", "tier", "quadrant", "drivers_up", "actions")]

    def whole_row():
        return score(one, model, as_of=AS_OF).frame

    out = {"n": 1}
    for name, fn in (("row", row_udf_values), ("frame", whole_row)):
        fn()  # warm-up: imports, caches
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out[f"{name}_median_ms"] = statistics.median(times) * 1e3
        out[f"{name}_p95_ms"] = float(np.percentile(times, 95)) * 1e3
    return out


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    if args.child_size:
        print(json.dumps(run_size(args.child_size, 3 if args.child_size <= 100_000 else 1)))
        return
    if args.child_single:
        print(json.dumps(run_single(300)))
        return
    sizes = [(10_000, 1.0, None), (100_000, 10.0, None)] if args.quick else [(100_000, 1.0, None), (1_000_000, 10.0, 2048)]
    print(f"{'partners':>10} {'median s':>9} {'target s':>9} {'peak MB':>8} {'target MB':>9}")
    for n, target, mem in sizes:
        r = child(["--child-size", str(n)])
        print(f"{n:>10,} {r['median_s']:>9.3f} {target:>9.1f} {r['peak_mb']:>8.0f} {mem or '-':>9}")
    r = child(["--child-single"])
    print(f"single partner, scores + tier + drivers + actions: median {r['row_median_ms']:.3f} ms, "
          f"p95 {r['row_p95_ms']:.3f} ms (target median <= 1 ms)")
    print(f"single partner, every column as a DataFrame row: median {r['frame_median_ms']:.3f} ms, "
          f"p95 {r['frame_p95_ms']:.3f} ms")


if __name__ == "__main__":
    main()
