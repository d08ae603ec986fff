"""Metric cells -> numeric values -> 0-100 sub-scores, for all partners and metrics at once.

Reading is lenient about *types* (numbers stored as text, "Yes"/"No", "In progress") and strict
about *meaning*: a cell that cannot be understood is flagged ``invalid_value``, a value outside the
metric's valid range ``out_of_range``, and neither is ever scored as 0 -- the engine re-normalises
the weights over what is usable instead.

Every normalisation kind is a linear map between a floor (sub-score 0) and a target (100) on a
transformed value: ``log1p`` for log metrics, 0/1 for booleans, the mapped score for ordinals. So
one vectorised formula scores every metric.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd

from scoring.table import PartnerTable

_SPACES = re.compile(r"[\s_\-]+")

OK, BLANK, INVALID = 0, 1, 2


def category_key(value: object) -> str:
    """Case-, spacing- and punctuation-insensitive key for matching categories ("In_Progress" == "in progress")."""
    return _SPACES.sub(" ", str(value)).strip().casefold()


def is_null(value: Any) -> bool:
    """Blank cell: None, NaN, pandas NA or NaT (what ``pd.factorize`` treats as missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, np.datetime64) and np.isnat(value)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, list]:
    """``(codes, uniques)`` with code -1 for blanks. Few cells (a UDF row): a dict beats hashing in pandas."""
    if len(values) > 16:
        return pd.factorize(values, use_na_sentinel=True)
    seen: dict = {}
    codes = np.array([-1 if is_null(v) else seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)
    return codes, list(seen)


def per_unique(values: np.ndarray, fn: Callable[[Any], Any], null: Any = None) -> np.ndarray:
    """Apply ``fn`` once per distinct non-null value and broadcast: text columns repeat few values."""
    codes, uniques = _distinct(values)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = null
    return mapped[codes]  # code -1 (null) picks the trailing entry


def _number(value: Any) -> tuple[float, int]:
    if isinstance(value, (bool, np.bool_)):
        return np.nan, INVALID
    if isinstance(value, (int, float, np.integer, np.floating)):
        return (np.nan, BLANK) if value != value else (float(value), OK)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan, BLANK
        try:
            number = float(text)
        except ValueError:
            return np.nan, INVALID
        return (number, OK) if np.isfinite(number) else (np.nan, INVALID)
    return np.nan, INVALID


def _category(table: dict[str, float]) -> Callable[[Any], tuple[float, int]]:
    def parse(value: Any) -> tuple[float, int]:
        key = category_key(value)
        if not key:
            return np.nan, BLANK
        found = table.get(key)
        return (np.nan, INVALID) if found is None else (found, OK)

    return parse


def _parse_column(cells: np.ndarray, parse: Callable[[Any], tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct cell once: ``(values, states)`` with states OK, BLANK or INVALID."""
    codes, uniques = _distinct(cells)
    parsed = [parse(u) for u in uniques] + [(np.nan, BLANK)]
    values = np.array([p[0] for p in parsed], dtype=float)
    states = np.array([p[1] for p in parsed], dtype=np.int8)
    return values[codes], states[codes]


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


def dates(cells: np.ndarray) -> np.ndarray:
    """Cells as ``datetime64[D]`` (NaT where blank or unreadable)."""
    return per_unique(cells, _date, null=np.datetime64("NaT")).astype("datetime64[D]")


def _date(value: Any) -> np.datetime64:
    if isinstance(value, (dt.date, pd.Timestamp)):
        return np.datetime64(value, "D")
    if isinstance(value, str) and value.strip():
        try:
            return np.datetime64(pd.Timestamp(value.strip()), "D")
        except (ValueError, TypeError, OverflowError):
            pass
    return np.datetime64("NaT")
