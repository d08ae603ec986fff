"""The monthly snapshot grid every synthetic partner shares, and calendar arithmetic on day arrays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 365.25 / 12
GRID_MONTHS = 25  # every month from the earliest possible onboarding start to the as_of month
HISTORY_MONTHS = 18


def shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Calendar month arithmetic on ``datetime64[D]`` (end-of-month days are clamped)."""
    return (pd.DatetimeIndex(days) + pd.DateOffset(months=months)).to_numpy().astype("datetime64[D]")


@dataclass(frozen=True)
class Calendar:
    """Monthly snapshots shared by all partners: GRID_MONTHS months ending with the as_of month.

    Each month is observed at its last day, except the current month, observed at as_of.
    """

    as_of: dt.date
    month_starts: np.ndarray  # (K,) datetime64[D]
    month_ends: np.ndarray  # (K,) datetime64[D]
    start: np.ndarray  # (n,) onboarding start, datetime64[D]
    days: np.ndarray  # (n, K) days from onboarding start to each snapshot; < 0 before the start

    @property
    def months(self) -> np.ndarray:
        return self.days / DAYS_PER_MONTH

    @property
    def shown(self) -> np.ndarray:
        """Snapshots that go into History: since onboarding start, at most the last HISTORY_MONTHS."""
        recent = np.arange(self.days.shape[1]) >= self.days.shape[1] - HISTORY_MONTHS
        return (self.days >= 0) & recent

    @property
    def age_days(self) -> np.ndarray:
        """Days from onboarding start to as_of."""
        return self.days[:, -1]


def calendar(as_of: dt.date, start: np.ndarray) -> Calendar:
    months = np.datetime64(as_of, "M") - np.arange(GRID_MONTHS - 1, -1, -1)
    month_starts = months.astype("datetime64[D]")
    month_ends = (months + 1).astype("datetime64[D]") - 1
    snapshot = np.minimum(month_ends, np.datetime64(as_of, "D"))
    days = (snapshot[None, :] - start[:, None]).astype(np.int64)
    return Calendar(as_of, month_starts, month_ends, start, days)
