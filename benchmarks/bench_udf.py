"""Excel function speed, through xlwings' own conversion pipeline (no Excel needed).

Run: ``python benchmarks/bench_udf.py [--partners N]``. Every call goes the way xlwings calls a
function from a cell (tests/xlwings_harness.py: arguments through ``conversion.read``, the result
through ``conversion.write``), on demo partners shaped as Excel sends them. Targets on a 2-core
machine: a row function <= 1 ms median per call; the table function on 10,000 partners <= 1 s. The
same scores done by one row call per partner are timed too, to advise which to use.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives with the tests

from xlplugin.excel.harness import MISSING, as_excel_sends, call_udf, xlwings_udfs  # noqa: E402
from scoring.synthetic import generate  # noqa: E402

AS_OF = dt.datetime(2026, 11, 24)  # a date cell, as classic xlwings passes it
ROW_FUNCTIONS = ("pscore_tier", "pscore_revenue_score", "pscore_top_driver", "pscore_next_action")
TABLE_FUNCTIONS = ("pscore_scores", "pscore_percentiles", "pscore_drivers", "pscore_actions", "pscore_flags")


def partner_grid(n: int) -> tuple[tuple, ...]:
    """Header row and one row per demo partner, as Excel passes the range to a function."""
    frame = generate(n_partners=n, seed=0, as_of=AS_OF.date()).partners
    rows = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    rows = [[v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in row] for row in rows]
    return as_excel_sends([list(frame.columns), *rows])


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000, help="partners in the table (default 10,000)")
    parser.add_argument("--row-calls", type=int, default=1_000, help="distinct rows timed per row function")
    args = parser.parse_args()
    grid = partner_grid(args.partners)
    header, rows = grid[0], grid[1:]
    with xlwings_udfs("xlplugin.excel.udfs") as modules:
        udfs = modules["xlplugin.excel.udfs"]
        call_udf(udfs.pscore_tier, rows[0], header, MISSING, AS_OF)  # warm-up: imports, model, caches
        print(f"row functions, one call per partner row ({min(args.row_calls, len(rows))} rows; target median <= 1 ms):")
        for name in ROW_FUNCTIONS:
            fn = getattr(udfs, name)
            times = [timed(call_udf, fn, row, header, MISSING, AS_OF) for row in rows[:args.row_calls]]
            print(f"  {name:<24} median {statistics.median(times) * 1e3:6.3f} ms   "
                  f"p95 {float(np.percentile(times, 95)) * 1e3:6.3f} ms")
        print(f"table functions, one call for {len(rows):,} partners (target pscore_scores <= 1 s):")
        for name in TABLE_FUNCTIONS:
            fn = getattr(udfs, name)
            times = [timed(call_udf, fn, grid, MISSING, AS_OF) for _ in range(3)]
            print(f"  {name:<24} median {statistics.median(times):6.3f} s")
        total = sum(timed(call_udf, udfs.pscore_tier, row, header, MISSING, AS_OF) for row in rows)
        table = statistics.median(timed(call_udf, udfs.pscore_scores, grid, MISSING, AS_OF) for _ in range(3))
        print(f"the same tiers for {len(rows):,} partners: {len(rows):,} pscore_tier calls {total:.2f} s "
              f"(and as much again per further row-function column) against one pscore_scores call "
              f"{table:.2f} s for every column: {total / table:.0f}x")


if __name__ == "__main__":
    main()
