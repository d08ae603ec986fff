"""Score partner snapshots taken on different dates with one model.

Calibration scores each partner as it looked at the end of its onboarding window, so the scoring
date differs per partner. The engine takes one date per call; snapshots share few distinct dates
(month ends), so they are scored date by date and put back in the input's row order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.compiled import OUTCOMES
from scoring.engine import score
from scoring.model.load import ScoringModel


@dataclass(frozen=True)
class ScoredSnapshots:
    """Engine output for each snapshot row, unrounded, in the input's row order."""

    scores: dict[str, np.ndarray]  # outcome -> (n,) score after segment adjustment
    subscores: np.ndarray  # (n, M) 0-100, NaN where missing or unusable
    layers: dict[str, np.ndarray]  # outcome -> (n, L) layer scores, NaN where a layer has no data
    stage: np.ndarray  # (n,) stage id
    segment: np.ndarray  # (n,) value of the model's primary segmentation column
    frame: pd.DataFrame  # the public score columns (as shown), index 0..n-1 in input order


def score_snapshots(frame: pd.DataFrame, model: ScoringModel, dates: np.ndarray) -> ScoredSnapshots:
    """Score row ``i`` of ``frame`` as of ``dates[i]`` (anything :func:`scoring.score` accepts as a date)."""
    stamps = pd.to_datetime(pd.Series(dates, dtype=object))
    if stamps.isna().any() or len(stamps) != len(frame):
        raise ValueError("every snapshot needs a scoring date")
    frame = frame.reset_index(drop=True)
    day = stamps.dt.date.to_numpy()
    order = np.argsort(day, kind="stable")
    parts = []
    for when in pd.unique(day[order]):
        rows = order[day[order] == when]
        parts.append((rows, score(frame.iloc[rows], model, as_of=when)))
    position = np.concatenate([rows for rows, _ in parts])
    back = np.empty_like(position)
    back[position] = np.arange(len(position))

    def gather(pieces: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(pieces)[back]

    results = [r for _, r in parts]
    return ScoredSnapshots(
        scores={o: gather([r.raw_scores[o].to_numpy() for r in results]) for o in OUTCOMES},
        subscores=gather([r.subscores.to_numpy() for r in results]),
        layers={o: gather([r.layer_scores[o].to_numpy() for r in results]) for o in OUTCOMES},
        stage=gather([np.asarray(r["stage"], dtype=object) for r in results]),
        segment=gather([np.asarray(r["segment"], dtype=object) for r in results]),
        frame=pd.concat([r.frame for r in results], ignore_index=True).iloc[back].reset_index(drop=True),
    )


#: Any fixed date serves: only the months between it and the scoring date matter.
_REFERENCE_START = pd.Timestamp("2000-01-01")


def score_at_months(frame: pd.DataFrame, model: ScoringModel, months: int) -> ScoredSnapshots:
    """Score every row as it would be scored ``months`` after its onboarding start, in one engine call.

    Calibration takes every partner of a cohort at the same point of its onboarding (the window),
    so all share that point's maturity stage; the metric values are the row's own. This is the
    stage calibrated predictions are made at, whatever the scoring date (docs/calibration.md).
    """
    frame = frame.reset_index(drop=True).assign(onboarding_start=_REFERENCE_START)
    as_of = (_REFERENCE_START + pd.DateOffset(months=months)).date()
    return score_snapshots(frame, model, np.full(len(frame), as_of, dtype=object))
