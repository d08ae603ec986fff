"""What the partners with outcomes actually recorded, metric by metric.

A metric that the programme began recording recently is blank for every partner whose outcome is
known; one that every partner answers the same way carries no information. Either is left out of
every fit (scorecard, peers, baselines) and named in the summary, instead of crashing a library on
an all-empty column or teaching it noise. The rule lives here, once.

Values are as the scorecard reads them (:func:`scoring.normalize.extract`), with values outside a
metric's valid range blanked as the engine does; an ordinal metric's value is the position of its
category in the model's map, so categories the analyst scored alike stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.cells import category, category_key, distinct
from scoring.compiled import KIND_ORDINAL, Compiled
from scoring.segments import membership
from scoring.normalize import extract
from scoring.table import PartnerTable

__all__ = ["MIN_RECORDED", "Observed", "observe"]

#: Fewest partners with outcomes that must have a value for a metric to take part in fitting.
MIN_RECORDED = 10


@dataclass(frozen=True)
class Observed:
    """Per metric, over the partners with outcomes: values ``(M, n)`` and whether it can be fitted."""

    values: np.ndarray  # (M, n) float, NaN where blank, unreadable or out of range
    categories: dict[int, list[str]]  # ordinal metric index -> its categories, in map order
    recorded: np.ndarray  # (M,) partners with a value
    distinct: np.ndarray  # (M,) distinct values among them
    usable: np.ndarray  # (M,) bool: recorded by at least MIN_RECORDED partners and not constant
    segments: dict[str, np.ndarray]  # dimension -> (n,) value as the scorecard reads it (known values canonical)

    def reason(self, j: int) -> str:
        """Why metric ``j`` is not calibrated, e.g. ``recorded for 0 of 336 partners with outcomes``."""
        n = self.values.shape[1]
        if self.recorded[j] < MIN_RECORDED:
            return f"recorded for {int(self.recorded[j])} of {n:,} partners with outcomes"
        return f"the same value for all {int(self.recorded[j]):,} partners with outcomes that have one"


def observe(c: Compiled, partners: pd.DataFrame, rows: np.ndarray | None = None) -> Observed:
    """The metric values of ``partners`` (optionally only ``rows``, a boolean mask) and which can be fitted."""
    frame = partners.reset_index(drop=True)
    if rows is not None:
        frame = frame[rows].reset_index(drop=True)
    table = PartnerTable(frame)
    values, _, _ = extract(table, c.metric_ids, c.lookups)
    with np.errstate(invalid="ignore"):
        values[(values < c.valid_lo[:, None]) | (values > c.valid_hi[:, None])] = np.nan
    categories = {}
    for j in np.flatnonzero(c.kind == KIND_ORDINAL):
        names = list(c.spec.metrics[j].normalization.map)
        categories[int(j)] = names
        values[j] = _positions(frame, c.metric_ids[j], names)
    recorded = (~np.isnan(values)).sum(axis=1)
    counts = np.array([len(np.unique(row[~np.isnan(row)])) for row in values])
    usable = (recorded >= MIN_RECORDED) & (counts >= 2)
    return Observed(values, categories, recorded, counts, usable, membership(c, table).values)


def _positions(frame: pd.DataFrame, column: str, names: list[str]) -> np.ndarray:
    """Index of each cell's category in ``names`` (matched as the scorecard matches), NaN if none."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    where = {category_key(name): float(k) for k, name in enumerate(names)}
    codes, uniques = distinct(frame[column].to_numpy(dtype=object))
    found = [where.get(category_key(category(u)[0] or ""), np.nan) for u in uniques] + [np.nan]
    return np.array(found, dtype=float)[codes]
