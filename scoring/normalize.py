"""Metric cells -> numeric values -> 0-100 sub-scores, for all partners and metrics at once.

Reading is lenient about *types* (numbers stored as text, "Yes"/"No", "In progress") and strict
about *meaning*: a cell that cannot be understood is flagged ``invalid_value``, a value outside the
metric's valid range ``out_of_range``, and neither is ever scored as 0 -- the engine re-normalises
the weights over what is usable instead.

Every normalisation kind but one is a linear map between a floor (sub-score 0) and a target (100)
on a transformed value: ``log1p`` for log metrics, 0/1 for booleans, the mapped score for ordinals.
So one vectorised formula scores those metrics; a piecewise metric (straight lines between points,
as a monotone binning fit writes) is one interpolation per metric on top.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd

from scoring import cells
from scoring.cells import category_key
from scoring.table import PartnerTable

OK, BLANK, INVALID = 0, 1, 2


def _number(value: Any) -> tuple[float, int]:
    """A metric cell read by :func:`scoring.cells.number`: a number is usable; a truth value, a date
    or text that is no number is invalid."""
    found, _ = cells.number(value)
    if found is None:
        return np.nan, BLANK
    return (found, OK) if type(found) is float else (np.nan, INVALID)


def _category(table: dict[str, float]) -> Callable[[Any], tuple[float, int]]:
    def parse(value: Any) -> tuple[float, int]:
        found, _ = cells.category(value)
        key = "" if found is None else category_key(found)
        if not key:
            return np.nan, BLANK
        known = table.get(key)
        return (np.nan, INVALID) if known is None else (known, OK)

    return parse


def _parse_column(values: np.ndarray, parse: Callable[[Any], tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct cell once: ``(values, states)`` with states OK, BLANK or INVALID."""
    codes, uniques = cells.distinct(values)
    parsed = [parse(u) for u in uniques] + [(np.nan, BLANK)]
    found = np.array([p[0] for p in parsed], dtype=float)
    states = np.array([p[1] for p in parsed], dtype=np.int8)
    return found[codes], states[codes]


@lru_cache(maxsize=256)
def _plan(columns: tuple, dtypes: tuple, metric_ids: tuple, lookup_ids: frozenset) -> tuple:
    """How to read each metric for a given frame layout; cached because a UDF sees the same layout
    on every call. Returns ``(block_cols, block_idx, text_idx, absent_idx)``."""
    kinds: dict = {}
    for name, dtype in zip(columns, dtypes):
        kinds.setdefault(name, dtype)  # a repeated header: the first column wins
    block_cols, block_idx, text_idx, absent_idx = [], [], [], []
    for j, metric_id in enumerate(metric_ids):
        dtype = kinds.get(metric_id)
        if dtype is None:
            absent_idx.append(j)
        elif pd.api.types.is_numeric_dtype(dtype) and (j in lookup_ids or not pd.api.types.is_bool_dtype(dtype)):
            block_cols.append(metric_id)
            block_idx.append(j)
        else:
            text_idx.append(j)
    return block_cols, block_idx, text_idx, absent_idx


def extract(table: PartnerTable, metric_ids: list[str], lookups: dict[int, dict[str, float]]):
    """Numeric value of every metric cell: ``(values, missing, invalid)``, each ``(M, n)``.

    Metric-major layout keeps each metric's column contiguous for the engine's per-metric passes.
    Numeric columns are taken as one block (the fast path for clean data); text columns are parsed
    once per distinct value. Boolean and ordinal metrics hold their category's value (0/1, or the
    ordinal's sub-score).
    """
    n, m = table.n, len(metric_ids)
    values = np.full((m, n), np.nan)
    missing = np.zeros((m, n), dtype=bool)
    invalid = np.zeros((m, n), dtype=bool)
    block_cols, block_idx, text_idx, absent_idx = _plan(
        table.names, table.dtypes, tuple(metric_ids), frozenset(lookups)
    )
    missing[absent_idx] = True
    for j in text_idx:
        parse = _category(lookups[j]) if j in lookups else _number
        values[j], state = _parse_column(table.objects(metric_ids[j]), parse)
        missing[j] = state == BLANK
        invalid[j] = state == INVALID
    if block_cols:
        table.floats_into(block_cols, values, block_idx)
        for j in block_idx:
            missing[j] = np.isnan(values[j])
            if j in lookups:  # booleans given as numbers: only 0 and 1 mean something
                bad = ~missing[j] & (values[j] != 0.0) & (values[j] != 1.0)
                invalid[j] = bad
                values[j, bad] = np.nan
    return values, missing, invalid


def log_transform(values: np.ndarray, log_rows: np.ndarray) -> np.ndarray:
    """In place: log1p on the rows of log metrics, so every metric is then scored linearly."""
    if log_rows.any():
        with np.errstate(invalid="ignore"):
            values[log_rows] = np.log1p(np.maximum(values[log_rows], 0.0))
    return values


def linear(transformed: np.ndarray, floor, target, out: np.ndarray | None = None) -> np.ndarray:
    """0 at floor, 100 at target, clipped; either order works, so lower-is-better needs no special case."""
    out = np.subtract(transformed, floor, out=out)
    np.divide(out, np.subtract(target, floor), out=out)
    np.clip(out, 0.0, 1.0, out=out)
    return np.multiply(out, 100.0, out=out)


def piecewise(values: np.ndarray, points: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Straight lines between the ``(values, scores)`` points, flat beyond the ends; NaN stays NaN."""
    return np.interp(values, points[0], points[1])
