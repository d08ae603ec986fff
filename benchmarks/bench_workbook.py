"""Workbook round trip: read, score and write a 10,000-partner workbook with 12 months of history.

Run: ``python benchmarks/bench_workbook.py [--partners N]`` (or ``make bench``). Measured against
openpyxl alone loading and saving the same workbook in the same run. Target: at most 2x.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from scoring import load_model
from scoring.synthetic import generate
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.demo import write_workbook

AS_OF = dt.date(2026, 11, 1)


def build(path: Path, n: int) -> int:
    """Write the input workbook; returns its number of History rows."""
    data = generate(n_partners=n, seed=1, as_of=AS_OF)
    recent = pd.to_datetime(data.history["period"]) > pd.Timestamp(AS_OF) - pd.DateOffset(months=12)
    write_workbook(dataclasses.replace(data, history=data.history[recent]), path)
    return int(recent.sum())


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each side; the median is shown")
    args = parser.parse_args()
    model = load_model("default")
    with tempfile.TemporaryDirectory() as tmp:
        source, copy, scored = Path(tmp) / "in.xlsx", Path(tmp) / "copy.xlsx", Path(tmp) / "scored.xlsx"
        start = time.perf_counter()
        history = build(source, args.partners)
        print(f"input: {args.partners:,} partners, {history:,} History rows (12 months), "
              f"{source.stat().st_size / 1e6:.1f} MB, built in {time.perf_counter() - start:.1f} s")

        def openpyxl_only():
            load_workbook(source).save(copy)

        def pscore():
            done = workbook.score_workbook(source, model, AS_OF)
            workbook.write_scored(done, scored)

        base = timed(openpyxl_only, args.repeats)
        ours = timed(pscore, args.repeats)
    print(f"openpyxl load + save:          {base:7.2f} s (median of {args.repeats})")
    print(f"pscore read + score + write:   {ours:7.2f} s (median of {args.repeats})")
    print(f"ratio: {ours / base:.2f}x (target <= 2.0x)")


if __name__ == "__main__":
    main()
