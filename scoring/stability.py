"""Stable scores over time: smoothing, the minimum observation rule and the guardrail.

Applied to each partner's sequence of raw History scores (oldest first), as the model's
``stability`` section says (docs/model-file.md):

* **smoothed** -- ``moving_average``: the mean of the raw scores in the partner's last ``periods``
  snapshots (those it has a score in); ``ewma``: ``alpha * raw + (1 - alpha) * previous smoothed``,
  starting from the first raw score; ``none``: the raw score itself.
* **published** -- the smoothed score, moved at most ``max_change`` points from the previous
  published score. A snapshot marked ``data_correction`` is let through unbounded, and the first
  snapshot starts where it is. Where the guardrail binds, the move it held back is kept beside it.
* **provisional** -- fewer than ``min_periods`` snapshots so far (besides the months rule).

The raw score is never replaced: raw, smoothed and published all stay in the output. The work is
vectorised over partners (one pass per snapshot position), so 10,000 partners by 24 months cost
a few dozen array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import pandas as pd

from scoring.cells import is_null
from scoring.model.schema import ModelSpec
from scoring.staleness import day_column

__all__ = ["Stabilised", "snapshots_at", "stabilise"]


@dataclass(frozen=True)
class Stabilised:
    """Per input row (in the input's order), for each score name given."""

    smoothed: dict[str, np.ndarray]
    published: dict[str, np.ndarray]
    held_back: dict[str, np.ndarray]  # the move the guardrail did not let through (0 where it did not bind)
    guardrail: np.ndarray  # (n,) bool: the guardrail bound on any score
    observations: np.ndarray  # (n,) int: snapshots of the partner up to and including this one
    too_few: np.ndarray  # (n,) bool: fewer than ``min_periods`` snapshots so far


def stabilise(partner: np.ndarray, order: np.ndarray, raw: dict[str, np.ndarray], correction: np.ndarray,
              spec: ModelSpec) -> Stabilised:
    """Smooth and bound the ``raw`` scores of each partner's snapshots.

    ``partner`` (n,) identifies each row's partner, ``order`` (n,) sorts a partner's rows oldest
    first (e.g. the period), ``correction`` (n,) marks rows let through the guardrail.
    """
    n = len(partner)
    rule = spec.stability
    codes, _ = _factor(partner)
    ranked = np.lexsort((np.arange(n), order, codes))  # by partner, then oldest first
    group = codes[ranked]
    starts = np.r_[True, group[1:] != group[:-1]] if n else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0)) if n else np.zeros(0, dtype=int)
    position = np.arange(n) - first
    depth = int(position.max()) + 1 if n else 0
    rows = np.cumsum(starts) - 1
    width = int(rows.max()) + 1 if n else 0

    def grid(values: np.ndarray, fill=np.nan) -> np.ndarray:
        out = np.full((width, depth), fill, dtype=np.asarray(values).dtype if fill is not np.nan else float)
        out[rows, position] = np.asarray(values)[ranked]
        return out

    def back(values: np.ndarray) -> np.ndarray:
        out = np.empty(n, dtype=values.dtype)
        out[ranked] = values[rows, position]
        return out

    fixes = grid(np.asarray(correction, dtype=bool), False)
    smoothed, published, held = {}, {}, {}
    bound = np.zeros((width, depth), dtype=bool)
    for name, values in raw.items():
        scores = grid(np.asarray(values, dtype=float))
        smooth = _smooth(scores, rule.smoothing)
        shown, holds = _guardrail(smooth, fixes, rule.max_change)
        bound |= holds != 0
        smoothed[name], published[name], held[name] = back(smooth), back(shown), back(holds)
    observations = np.empty(n, dtype=np.int64)
    observations[ranked] = position + 1
    return Stabilised(smoothed, published, held, back(bound), observations, observations < rule.min_periods)


def _factor(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([str(v) for v in values], dtype=object)
    uniques, codes = np.unique(keys, return_inverse=True) if len(keys) else (keys, np.zeros(0, dtype=np.int64))
    return codes.reshape(-1), uniques


def _smooth(scores: np.ndarray, smoothing) -> np.ndarray:
    """(P, T) raw scores -> smoothed, NaN where the raw score is."""
    if smoothing.method == "none":
        return scores.copy()
    present = ~np.isnan(scores)
    out = np.full_like(scores, np.nan)
    if smoothing.method == "moving_average":
        filled = np.where(present, scores, 0.0)
        total = np.cumsum(filled, axis=1)
        count = np.cumsum(present, axis=1)
        k = smoothing.periods
        total[:, k:] -= total[:, :-k].copy()
        count[:, k:] -= count[:, :-k].copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(total, count, out=out, where=present & (count > 0))
        return out
    alpha = smoothing.alpha
    state = np.full(scores.shape[0], np.nan)
    for t in range(scores.shape[1]):
        x = scores[:, t]
        has = ~np.isnan(x)
        state = np.where(has, np.where(np.isnan(state), x, alpha * x + (1 - alpha) * state), state)
        out[:, t] = np.where(has, state, np.nan)
    return out


def _guardrail(smoothed: np.ndarray, fixes: np.ndarray, limit: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Published scores and the move held back at each step, ``(P, T)`` each."""
    held = np.zeros_like(smoothed)
    if limit is None:
        return smoothed.copy(), held
    out = np.full_like(smoothed, np.nan)
    last = np.full(smoothed.shape[0], np.nan)
    for t in range(smoothed.shape[1]):
        x = smoothed[:, t]
        has = ~np.isnan(x)
        free = has & (np.isnan(last) | fixes[:, t])
        move = x - last
        step = np.clip(move, -limit, limit)
        capped = has & ~free
        now = np.where(free, x, np.where(capped, last + step, last))
        held[:, t] = np.where(capped & (np.abs(move) > limit + 1e-9), move - step, 0.0)
        out[:, t] = np.where(has, now, np.nan)
        last = now
    return out, held


def snapshots_at(partners: pd.DataFrame, history: pd.DataFrame | None, as_of) -> np.ndarray | None:
    """History snapshots of each partner up to ``as_of`` (the scoring date's own month counts), what
    the minimum observation period counts; None without a usable History, so only the months rule
    applies then."""
    if history is None or not len(history) or not {"partner_id", "period"} <= set(history.columns):
        return None
    periods = day_column(history["period"])
    month_end = (np.datetime64(as_of, "M") + 1).astype("datetime64[D]") - 1
    usable = ~np.isnat(periods) & (periods <= month_end) & history["partner_id"].notna().to_numpy()
    counts = history.loc[usable, "partner_id"].astype(str).value_counts()
    ids = partners["partner_id"] if "partner_id" in partners.columns else pd.Series([None] * len(partners))
    keys = ["" if is_null(i) else str(i) for i in ids]
    return counts.reindex(keys, fill_value=0).to_numpy()
