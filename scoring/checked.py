"""Score a partner table the one way every adapter does: anomalies checked, stale values judged, then
the engine.

``pscore score``, the Excel table functions and the macros must leave out the same anomalous values
and apply the same stale rule, or one partner would show different numbers in a cell, a scored
workbook and a PDF. So the steps before the engine live here, once.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pandas as pd

from scoring import stability, staleness
from scoring.anomalies import Anomalies, detect
from scoring.engine import score, to_date
from scoring.model.load import ScoringModel, load_model
from scoring.result import ScoreResult

__all__ = ["Checked", "score_checked"]


class Checked(NamedTuple):
    """The scores with what was judged on the way: anomalies (kept or left out as the model says) and
    each value's staleness at the scoring date."""

    result: ScoreResult
    anomalies: Anomalies
    stale: staleness.Staleness


def score_checked(partners: pd.DataFrame, model: "ScoringModel | str" = "default", history: pd.DataFrame | None = None,
                  *, as_of: "dt.date | str | None" = None) -> Checked:
    """Check ``partners`` for anomalies and stale values (dated by ``<metric>_updated`` columns or the
    last ``history`` snapshot with a value), then score them with the values the model leaves out
    blanked, its stale rule applied and its minimum observation period counted in ``history``."""
    model = load_model(model) if isinstance(model, str) else model
    day = to_date(as_of)
    found = detect(partners, model, history, as_of=day)
    stale = staleness.at_scoring_date(partners, model, history, day)
    observations = stability.snapshots_at(partners, history, day)
    result = score(found.screen(partners), model, as_of=day, stale=stale.retain, observations=observations)
    return Checked(result, found, stale)
