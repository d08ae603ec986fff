"""What the anomaly checks and population stability find on synthetic data with known properties.

Run: ``python benchmarks/acceptance_monitor.py [--seeds 1 2 3] [--partners 1000] [--repeats 40]``.

* Anomalies: on each seed's demo population (``scoring.synthetic.generate``), first the findings on
  the data as drawn -- nothing planted, so every finding counts against the checks (the false
  positives; the generator's heavy tails make some of them values a person would question too) --
  then recall on 50 planted anomalies of each kind (:mod:`scoring.synthetic.planted`): found as
  that kind, and flagged at all (a unit slip on a small value may sit inside its segment's spread
  and be caught as a jump from the last snapshot instead).
* PSI: two independent draws of ``--partners`` from the same process, ``--repeats`` times: the share
  of (repeat, variable) pairs in the stable band and the largest PSI; the same with one metric's
  mean moved by one standard deviation; and samples of 30, which must carry the small-sample warning.

Targets: recall >= 0.9 for every kind; stable in >= 95% of unchanged repeats; the shifted metric
flagged in every repeat; the warning on every variable at n = 30. Prints figures; always exits 0.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np

AS_OF = dt.date(2026, 11, 24)


def anomalies(seeds: list[int], n: int) -> None:
    from scoring import load_model
    from scoring.anomalies import KINDS, detect
    from scoring.synthetic import generate
    from scoring.synthetic.planted import plant

    model = load_model("default")
    print(f"Anomalies, {n:,} synthetic partners per seed, as of {AS_OF}")
    pooled: dict[str, list[tuple[bool, bool]]] = {}
    for seed in seeds:
        data = generate(n, seed=seed, as_of=AS_OF)
        clean = detect(data.partners, model, data.history, as_of=AS_OF)
        counts = clean.counts()
        values = n * len(model.spec.metrics)
        print(f"  seed {seed}, as drawn: " + ", ".join(f"{counts[k]} {k}" for k in KINDS)
              + f"; {clean.table['partner_id'].nunique()} of {n:,} partners with any; outliers "
              f"{counts['outlier'] / values:.2%} of values, jumps {counts['jump'] / len(data.history):.2%} of "
              f"snapshots ({len(data.history):,})")
        planted = plant(data, 50, seed=seed)
        table = detect(planted.partners, model, planted.history, as_of=AS_OF).table
        exact = set(zip(table["kind"], table["sheet"], table["index"], table["metric"]))
        anywhere = set(zip(table["sheet"], table["index"], table["metric"]))
        parts = []
        for kind, truth in planted.truth.groupby("kind"):
            cells = list(zip(truth["sheet"], truth["index"], truth["metric"]))
            pooled.setdefault(kind, []).extend(((kind, *c) in exact, c in anywhere) for c in cells)
            recall = np.mean([(kind, *c) in exact for c in cells])
            flagged = np.mean([c in anywhere for c in cells])
            parts.append(f"{kind} {recall:.2f} (flagged {flagged:.2f}, n={len(cells)})")
        print(f"  seed {seed}, planted recall: " + "; ".join(parts))
    print("  all seeds, recall as that kind (flagged at all): " + "; ".join(
        f"{kind} {np.mean([e for e, _ in hits]):.2f} ({np.mean([a for _, a in hits]):.2f}, n={len(hits)})"
        for kind, hits in sorted(pooled.items())) + "  (target >= 0.90)")


def stability(n: int, repeats: int) -> None:
    from scoring import load_model
    from scoring.drift import compare, population
    from scoring.synthetic import generate

    model = load_model("default")
    stable = rows = shifted_other = flagged = 0
    largest = 0.0
    for r in range(repeats):
        then_frame = generate(n, seed=1000 + 2 * r, as_of=AS_OF).partners
        now_frame = generate(n, seed=1001 + 2 * r, as_of=AS_OF).partners
        then = population(then_frame, model, AS_OF)
        table = compare(then, population(now_frame, model, AS_OF)).table
        stable += int((table["band"] == "stable").sum())
        rows += len(table)
        largest = max(largest, float(table["psi"].max()))
        hours = now_frame["responsiveness_hours"].astype(float)
        now_frame["responsiveness_hours"] = hours + np.nanstd(then_frame["responsiveness_hours"].astype(float))
        moved = compare(then, population(now_frame, model, AS_OF)).table.set_index("variable")
        flagged += bool(moved.loc["responsiveness_hours", "shifted"])
        shifted_other += int(moved.drop(index="responsiveness_hours")["shifted"].sum())
    print(f"PSI, {repeats} repeats of two independent draws of {n:,} partners:")
    print(f"  unchanged: {stable / rows:.1%} of {rows} (repeat, variable) pairs stable (target >= 95%); largest PSI "
          f"{largest:.3f}")
    print(f"  responsiveness mean + 1 SD: flagged shifted in {flagged} of {repeats} repeats; other variables called "
          f"shifted {shifted_other} times (scores may follow the metric)")
    small = compare(population(generate(30, seed=7, as_of=AS_OF).partners, model, AS_OF),
                    population(generate(30, seed=8, as_of=AS_OF).partners, model, AS_OF)).table
    print(f"  n = 30: small-sample warning on {int(small['small_sample'].sum())} of {len(small)} rows; chance PSI "
          f"{small['chance_psi'].min():.2f}-{small['chance_psi'].max():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    anomalies(args.seeds, args.partners)
    stability(args.partners, args.repeats)


if __name__ == "__main__":
    main()
