"""Workbook round trip: read, score and write a 10,000-partner workbook with 12 months of history.

Run: ``python benchmarks/bench_workbook.py [--partners N]`` (or ``make bench``). In the same run:
pscore's read + score + write (``pscore score IN.xlsx -o OUT.xlsx``), openpyxl alone loading and
saving the same file, and the read of Partners and History alone. Each side runs in a fresh child
process, so its peak memory (max RSS) is its own. Target: read + score + write at most 0.25x
openpyxl's load + save, and peak memory at most what the openpyxl-based writer needed (1.65 GB at
10,000 partners on the 2-core machine the targets are set on).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

AS_OF = dt.date(2026, 11, 1)
TARGET_RATIO = 0.25
PEAK_BEFORE_MB = 1650  # read + score + write through openpyxl, 10,000 partners


def build(path: Path, n: int) -> int:
    """Write the input workbook; returns its number of History rows."""
    from scoring.synthetic import generate
    from xlplugin.workbook.demo import write_workbook

    data = generate(n_partners=n, seed=1, as_of=AS_OF)
    recent = pd.to_datetime(data.history["period"]) > pd.Timestamp(AS_OF) - pd.DateOffset(months=12)
    write_workbook(dataclasses.replace(data, history=data.history[recent]), path)
    return int(recent.sum())


def run(side: str, source: Path, repeats: int) -> dict:
    """One side of the comparison, in this (child) process: median seconds and peak memory."""
    from openpyxl import load_workbook

    from scoring import load_model
    from xlplugin.workbook import pipeline
    from xlplugin.workbook.reader import open_workbook, read_table

    model = load_model("default")
    target = source.with_name(f"{side}.xlsx")

    def pscore() -> None:
        pipeline.write_scored(pipeline.score_workbook(source, model, AS_OF), target)

    def openpyxl() -> None:
        load_workbook(source).save(target)

    def read() -> None:
        book = open_workbook(source)
        read_table(book, "Partners", model, source=source, unique_ids=True)
        read_table(book, "History", model, source=source)

    work = {"pscore": pscore, "openpyxl": openpyxl, "read": read}[side]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(side: str, source: Path, repeats: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", side, "--source", str(source), "--repeats", str(repeats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each side; the median is shown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.source, args.repeats)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.xlsx"
        start = time.perf_counter()
        history = build(source, args.partners)
        print(f"input: {args.partners:,} partners, {history:,} History rows (12 months), "
              f"{source.stat().st_size / 1e6:.1f} MB, built in {time.perf_counter() - start:.1f} s")
        results = {side: child(side, source, args.repeats) for side in ("openpyxl", "pscore", "read")}
    base, ours, read = results["openpyxl"], results["pscore"], results["read"]
    print(f"openpyxl load + save:                 {base['seconds']:7.2f} s  peak {base['peak_mb']:6.0f} MB")
    print(f"pscore read + score + write:          {ours['seconds']:7.2f} s  peak {ours['peak_mb']:6.0f} MB "
          f"(target <= {PEAK_BEFORE_MB} MB at 10,000 partners)")
    print(f"pscore read of Partners and History:  {read['seconds']:7.2f} s  peak {read['peak_mb']:6.0f} MB")
    print(f"ratio: {ours['seconds'] / base['seconds']:.2f}x openpyxl load + save (target <= {TARGET_RATIO}x); "
          f"median of {args.repeats}")


if __name__ == "__main__":
    main()
