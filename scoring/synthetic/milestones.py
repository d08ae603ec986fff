"""Onboarding milestones of the synthetic partners: when each one signed, kicked off, finished training,
got certified, registered and closed a first deal and adopted a joint marketing plan."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.synthetic.arrays import words
from scoring.synthetic.latent import NEVER, Timeline
from scoring.synthetic.months import Calendar
from scoring.synthetic.people import People

MILESTONES = (
    "contract signed",
    "kickoff",
    "training complete",
    "certified",
    "first registered deal",
    "first closed deal",
    "joint marketing plan adopted",
)


def _first_day(rng: np.random.Generator, counts: np.ndarray, cal: Calendar, not_before: np.ndarray) -> np.ndarray:
    """Day offset of the first event in monthly ``counts``: a random day of that month, not before ``not_before``."""
    rows = np.arange(len(counts))
    month = np.argmax(counts > 0, axis=1)
    month_start = (cal.month_starts[month] - cal.start).astype(np.int64)
    lo = np.maximum(month_start, not_before)
    hi = cal.days[rows, month]
    day = lo + np.floor(rng.random(len(counts)) * (hi - lo + 1)).astype(np.int64)
    return np.where(counts.any(axis=1), day, NEVER)


def draw_milestones(
    rng: np.random.Generator, people: People, tl: Timeline, leads: np.ndarray, won: np.ndarray, cal: Calendar
) -> pd.DataFrame:
    """Milestones reached by as_of, one row each, in the order they happened."""
    registered = _first_day(rng, leads, cal, tl.kickoff + 1)
    closed = _first_day(rng, won, cal, registered + 1)
    days = np.column_stack(
        [np.zeros_like(tl.kickoff), tl.kickoff, tl.training_complete, tl.certified, registered, closed, tl.jmp]
    )
    rows, kinds = np.nonzero(days <= cal.age_days[:, None])
    dates = cal.start[rows] + days[rows, kinds]
    order = np.lexsort((kinds, dates, rows))
    return pd.DataFrame(
        {
            "partner_id": people.ids[rows[order]],
            "milestone": words(MILESTONES)[kinds[order]],
            "date": dates[order],
        }
    )


