"""Score trends and segment benchmarks: what scorecards print about change and peers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring import score
from scoring.percentiles import segment_benchmarks
from scoring.history import trend

from tests.conftest import AS_OF, partners


def history(*rows: tuple[str, dt.date, float]) -> pd.DataFrame:
    return pd.DataFrame([{"partner_id": pid, "period": period, "revenue_score": value, "engagement_score": value,
                          "composite_score": value} for pid, period, value in rows])


def test_trend_compares_with_the_latest_snapshot_at_least_four_weeks_old():
    current = pd.DataFrame({"revenue_score": [70.0, 50.0], "engagement_score": [60.0, 50.0],
                            "composite_score": [66.0, 50.0]})
    snapshots = history(("P1", dt.date(2026, 8, 31), 40.0), ("P1", dt.date(2026, 9, 30), 55.0),
                        ("P1", dt.date(2026, 10, 31), 69.0))  # a day before AS_OF: too close to say anything
    out = trend(snapshots, ["P1", "P2"], current, AS_OF)
    assert out.at[0, "trend_period"] == dt.date(2026, 9, 30) and out.at[0, "revenue_score_change"] == 15.0
    assert out.at[0, "latest_period"] == dt.date(2026, 10, 31) and not out.at[0, "stale"]
    assert out.at[1, "trend_period"] is None and np.isnan(out.at[1, "composite_score_change"])


def test_history_older_than_two_months_is_stale():
    current = pd.DataFrame({"revenue_score": [70.0], "engagement_score": [60.0], "composite_score": [66.0]})
    out = trend(history(("P1", dt.date(2026, 7, 31), 40.0)), ["P1"], current, AS_OF)
    assert out.at[0, "stale"] and out.at[0, "latest_period"] == dt.date(2026, 7, 31)


def test_segment_benchmarks_give_percentiles_and_quartiles_but_not_for_small_segments():
    rows = [{"deals_won": k} for k in range(6)] + [{"partner_type": "referral"}] * 2
    result = score(partners(*rows), "default", as_of=AS_OF)
    bench = segment_benchmarks(result)
    resellers = bench.iloc[:6]
    assert (resellers["segment_size"] == 6).all()
    assert resellers["composite_segment_percentile"].is_monotonic_increasing
    assert resellers["composite_segment_median"].nunique() == 1
    assert resellers["composite_segment_p25"].iloc[0] <= resellers["composite_segment_median"].iloc[0]
    referrals = bench.iloc[6:]
    assert (referrals["segment_size"] == 2).all() and referrals["composite_segment_median"].isna().all()
