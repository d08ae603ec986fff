"""The path to the next tier: the fewest, most achievable metric improvements that lift a partner's
composite score over the next tier's threshold, with the points each one adds.

It is what a partner asks in a quarterly review ("what would get us to tier A?"), so it is computed
from the model itself and never from a second formula: every candidate value is scored by
:func:`scoring.score`, the engine's own vectorised path, in one batch per call. That keeps every
rule the score has -- valid ranges, lower-is-better metrics, log and piecewise normalisation,
segment targets and weights, the maturity stage at the date the commitments are due -- without
restating any of them here.

How a path is chosen:

1. Candidates are the partner's metrics that have a usable value short of the best sub-score and
   that the programme measures at least quarterly (``interval_days`` up to :data:`QUARTER_DAYS`):
   those a partner can move by next quarter. Only when they cannot reach the tier are the others
   tried too. A missing metric is not a candidate: recording it is a data task, not a commitment.
2. For each candidate the engine scores a grid of values from the current one to the best within
   the metric's valid range (for categories: each better category), giving the composite points
   each value adds.
3. "Fewest" first: one metric, then two, ... up to ``max_steps``. Among combinations of that size,
   "most achievable" is the one that reaches the threshold while closing the smallest share of
   each metric's gap to its best value (every metric in it closes the same share).
4. The values are rounded to what a person would commit to (two significant digits, whole numbers
   for counts) in the improving direction, and the combination and each step alone are scored
   again by the engine: the path printed is the path the model confirms.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import cells
from scoring.engine import UNSCORED, score, to_date
from scoring.model.load import ScoringModel, load_model
from scoring.model.schema import BooleanNorm, LinearNorm, LogNorm, Metric, OrdinalNorm, PiecewiseNorm

__all__ = ["MAX_STEPS", "QUARTER_DAYS", "Path", "Step", "paths_to_next_tier", "shown_value"]

#: A metric measured at least this often (days) can move within a quarter.
QUARTER_DAYS = 92
#: Most improvements a path asks for: beyond three a commitment list stops being a plan.
MAX_STEPS = 3
_GRID = 48  # values per metric on each of a linear and a logarithmic grid
_SHARES = np.linspace(0.002, 1.0, 500)  # shares of each metric's gap tried for a combination


@dataclass(frozen=True)
class Step:
    """One metric improvement of a path."""

    metric: str
    label: str
    unit: str
    current: float | str  # the value now (a number, or a category's name)
    target: float | str  # the value to reach
    points: float  # composite points this improvement adds on its own (shown to 0.1)

    @property
    def sentence(self) -> str:
        """``Pipeline value from 250,000 to 420,000 USD (+3.2 points)``."""
        return (f"{self.label} from {shown_value(self.current, self.unit)} to {shown_value(self.target, self.unit)} "
                f"({self.points:+.1f} points)")


@dataclass(frozen=True)
class Path:
    """What it takes a partner to reach its next tier by ``by``."""

    partner_id: str
    tier: str  # now
    next_tier: str
    threshold: float  # the next tier's minimum composite score
    composite: float  # now (as of the scoring date)
    baseline: float  # at ``by`` with no change (the maturity stage may have moved)
    after: float  # at ``by`` with every step taken; >= threshold when ``reachable``
    by: dt.date
    steps: tuple[Step, ...]
    reachable: bool  # False: no combination of up to MAX_STEPS improvements within valid ranges gets there
    quarterly: bool  # every step is a metric measured at least quarterly

    @property
    def gap(self) -> float:
        """Composite points missing at ``by`` with no change."""
        return round(max(self.threshold - self.baseline, 0.0), 1)


def paths_to_next_tier(partners: pd.DataFrame, model: "ScoringModel | str" = "default",
                       as_of: "dt.date | str | None" = None, by: "dt.date | str | None" = None,
                       max_steps: int = MAX_STEPS) -> list[Path | None]:
    """One path per row of ``partners`` (as :func:`scoring.score` takes them), None for a partner in
    the top tier or unscored.

    ``as_of`` is the scoring date of "now"; ``by`` (default ``as_of``) the date the improvements are
    due, at which the candidates are scored (the partner's maturity stage then applies).
    """
    model = load_model(model)
    as_of = to_date(as_of)
    by = as_of if by is None else to_date(by)
    frame = partners.reset_index(drop=True)
    now = score(frame, model, as_of=as_of)
    later = now if by == as_of else score(frame, model, as_of=by)
    tiers = sorted(model.spec.tiers, key=lambda t: t.min_score)
    minimum = {t.id: t.min_score for t in tiers}
    metrics = model.spec.metrics
    sub = later.subscores.to_numpy()
    plans: list[tuple[int, str, float, list[tuple[int, list]]]] = []
    for i, tier in enumerate(np.asarray(now["tier"], dtype=object)):
        higher = [t for t in tiers if tier != UNSCORED and t.min_score > minimum[tier]]
        if not higher:
            plans.append((i, "", 0.0, []))
            continue
        candidates = [(j, _candidates(m, frame, i, model)) for j, m in enumerate(metrics)
                      if not math.isnan(sub[i, j]) and sub[i, j] < 100.0 - 1e-9 and m.id in frame.columns]
        plans.append((i, higher[0].id, higher[0].min_score, [(j, v) for j, v in candidates if v]))
    # every candidate value of every partner in one engine call
    rows, changes = [], []
    for i, _, _, candidates in plans:
        rows.append(i)
        changes.append({})
        for j, values in candidates:
            for value in values:
                rows.append(i)
                changes.append({metrics[j].id: value})
    scored = _score_changed(frame, rows, changes, model, by)
    composite = scored.raw_scores["composite"].to_numpy()
    grid_sub = scored.subscores.to_numpy()
    out: list[Path | None] = []
    at = 0
    for i, next_tier, threshold, candidates in plans:
        base = float(composite[at])
        at += 1
        options = []
        for j, values in candidates:
            k = len(values)
            gains, subs = composite[at:at + k] - base, grid_sub[at:at + k, j]
            at += k
            better = np.flatnonzero(subs > sub[i, j] + 1e-9)  # worse categories are no commitment
            if better.size:
                options.append(_Option(j, metrics[j], [values[b] for b in better], subs[better], gains[better],
                                       sub[i, j], _current(frame, i, metrics[j])))
        if not next_tier:
            out.append(None)
            continue
        out.append(_path(frame, i, now, later, model, by, next_tier, threshold, base, options, max_steps))
    return out


@dataclass(frozen=True)
class _Option:
    """One candidate metric: its values in the improving direction with their sub-scores and gains."""

    index: int
    metric: Metric
    values: list
    subs: np.ndarray
    gains: np.ndarray
    current_sub: float
    start: float | str  # the value now

    @property
    def quarterly(self) -> bool:
        return self.metric.interval_days <= QUARTER_DAYS

    @property
    def discrete(self) -> bool:
        return isinstance(self.metric.normalization, (OrdinalNorm, BooleanNorm))

    @property
    def best(self) -> float:
        return float(np.max(self.gains)) if len(self.gains) else 0.0

    def shares(self) -> np.ndarray:
        """Share of the gap to the best sub-score that each value closes."""
        top = float(np.max(self.subs))
        return np.clip((self.subs - self.current_sub) / max(top - self.current_sub, 1e-9), 0.0, 1.0)

    def gain_at(self, shares: np.ndarray) -> np.ndarray:
        """Points gained when closing each of ``shares`` of the gap: the best value not beyond it."""
        own = self.shares()
        order = np.argsort(own, kind="stable")
        own, gains = own[order], np.maximum.accumulate(self.gains[order])
        if self.discrete:
            where = np.searchsorted(own, shares + 1e-9, side="right") - 1
            return np.where(where >= 0, gains[np.maximum(where, 0)], 0.0)
        return np.interp(shares, np.concatenate([[0.0], own]), np.concatenate([[0.0], gains]))

    def value_at(self, share: float):
        """The value closing ``share`` of the gap, rounded to a committable figure in the improving direction."""
        own = self.shares()
        order = np.argsort(own, kind="stable")
        reached = [self.values[k] for k in order if own[k] >= share - 1e-9]
        if self.discrete or not reached:
            return reached[0] if reached else self.values[int(np.argmax(self.gains))]
        k = int(np.searchsorted(own[order], share - 1e-9))
        hi = self.values[order[k]]
        lo_value, lo_share = (self.values[order[k - 1]], own[order[k - 1]]) if k > 0 else (None, 0.0)
        whole = float(self.start).is_integer()
        if lo_value is None:
            return _committable(hi, self.metric, whole)
        span = own[order[k]] - lo_share
        exact = lo_value + (hi - lo_value) * (share - lo_share) / span if span > 0 else hi
        return _committable(exact, self.metric, whole)


def _path(frame: pd.DataFrame, i: int, now, later, model: ScoringModel, by: dt.date, next_tier: str,
          threshold: float, base: float, options: list[_Option], max_steps: int) -> Path:
    pid = cells.text(now["partner_id"][i])[0] or ""
    composite = float(now.raw_scores["composite"].iloc[i])
    needed = threshold - 0.05 - base  # the tier reads the composite shown to one decimal
    tier = str(now["tier"][i])
    common = dict(partner_id=pid, tier=tier, next_tier=next_tier, threshold=threshold, composite=round(composite, 1),
                  baseline=round(base, 1), by=by)
    if needed <= 0:
        return Path(**common, after=round(base, 1), steps=(), reachable=True, quarterly=True)
    useful = [o for o in options if o.best > 1e-9]
    for pool in ([o for o in useful if o.quarterly], useful):
        for size in range(1, max_steps + 1):
            found = _cheapest(pool, size, needed)
            for share, combo in found:
                confirmed = _confirm(frame, i, model, by, combo, share, threshold, base)
                if confirmed is not None:
                    after, steps = confirmed
                    return Path(**common, after=after, steps=steps, reachable=True,
                                quarterly=all(o.quarterly for o in combo))
    return Path(**common, after=round(base, 1), steps=(), reachable=False, quarterly=False)


def _cheapest(pool: list[_Option], size: int, needed: float) -> list[tuple[float, tuple[_Option, ...]]]:
    """Combinations of ``size`` options that reach ``needed`` points, smallest shared gap share first."""
    found = []
    gains = {id(o): o.gain_at(_SHARES) for o in pool}
    for combo in itertools.combinations(pool, size):
        if sum(o.best for o in combo) < needed:
            continue
        total = sum(gains[id(o)] for o in combo)
        hit = np.flatnonzero(total >= needed)
        if hit.size:
            found.append((float(_SHARES[hit[0]]), combo))
    found.sort(key=lambda f: (f[0], [o.index for o in f[1]]))
    return found[:5]


def _confirm(frame: pd.DataFrame, i: int, model: ScoringModel, by: dt.date, combo: tuple[_Option, ...],
             share: float, threshold: float, base: float) -> tuple[float, tuple[Step, ...]] | None:
    """Score the combination (and each step alone) through the engine; raise the share until the
    rounded values confirm the tier, or None when even the best values do not."""
    for tried in sorted({share, *(s for s in _SHARES if s > share)})[:: max(1, len(_SHARES) // 50)] + [1.0]:
        values = {o.metric.id: o.value_at(tried) for o in combo}
        together = [values] + [{k: v} for k, v in values.items()]
        result = _score_changed(frame, [i] * len(together), together, model, by)
        shown = np.round(result.raw_scores["composite"].to_numpy(), 1)
        if shown[0] >= threshold:
            steps = tuple(Step(o.metric.id, o.metric.label, o.metric.unit, _current(frame, i, o.metric),
                               values[o.metric.id], round(float(shown[k + 1] - round(base, 1)), 1))
                          for k, o in enumerate(combo))
            return float(shown[0]), steps
    return None


def _score_changed(frame: pd.DataFrame, rows: list[int], changes: list[dict], model: ScoringModel, by: dt.date):
    """Score ``frame``'s row ``rows[k]`` with ``changes[k]`` applied (metric id -> value), all at once."""
    batch = frame.iloc[rows].reset_index(drop=True)
    for metric_id in sorted({m for c in changes for m in c}):
        at = [k for k, c in enumerate(changes) if metric_id in c]
        new = [changes[k][metric_id] for k in at]
        column = batch[metric_id]
        if pd.api.types.is_numeric_dtype(column) and all(isinstance(v, float) for v in new):
            values = column.to_numpy(dtype=float, copy=True)
        else:
            values = column.to_numpy(dtype=object, copy=True)
        values[at] = new
        batch[metric_id] = values
    return score(batch, model, as_of=by)


def _current(frame: pd.DataFrame, i: int, metric: Metric) -> float | str:
    value = frame.at[i, metric.id]
    if isinstance(metric.normalization, (OrdinalNorm, BooleanNorm)):
        return cells.category(value)[0] if not isinstance(value, (int, float)) else _truth_word(value, metric)
    found = cells.number(value)[0]
    return float(found) if isinstance(found, float) else str(value)


def _truth_word(value, metric: Metric) -> str:
    if isinstance(metric.normalization, BooleanNorm):
        return "Yes" if cells.truth(value) == 1.0 else "No"
    return str(value)


def _candidates(metric: Metric, frame: pd.DataFrame, i: int, model: ScoringModel) -> list:
    """Values to try for ``metric`` on row ``i``: every category but the current one, or a grid from
    the current number to the best one within the valid range."""
    norm, value = metric.normalization, frame.at[i, metric.id]
    if isinstance(norm, OrdinalNorm):
        return [name for name in norm.map if cells.category_key(name) != cells.category_key(str(value))]
    if isinstance(norm, BooleanNorm):
        numeric = pd.api.types.is_numeric_dtype(frame[metric.id])
        return [1.0, 0.0] if numeric else ["Yes", "No"]
    found = cells.number(value)[0]
    if not isinstance(found, float):
        return []
    best = _best(metric, model)
    if best is None or math.isclose(best, found):
        return []
    linear = np.linspace(found, best, _GRID + 1)[1:]
    if found >= 0 and best >= 0:
        logged = np.expm1(np.linspace(np.log1p(found), np.log1p(best), _GRID + 1)[1:])
        linear = np.concatenate([linear, logged])
    return [float(v) for v in np.unique(linear)]


def _best(metric: Metric, model: ScoringModel) -> float | None:
    """The most favourable value worth trying: the furthest target (any segment's) in the improving
    direction, within the valid range."""
    norm = metric.normalization
    higher = metric.direction == "higher"
    if isinstance(norm, (LinearNorm, LogNorm)):
        targets = [norm.target, *(s.normalization[metric.id].target for s in model.spec.segments
                                  if metric.id in s.normalization)]
    elif isinstance(norm, PiecewiseNorm):
        targets = [p[0] for p in norm.points]
    else:
        return None
    best = max(targets) if higher else min(targets)
    lo, hi = metric.valid_range if metric.valid_range is not None else (-math.inf, math.inf)
    if isinstance(norm, LogNorm):
        lo = max(lo, 0.0)
    return float(min(max(best, lo), hi))


def _committable(value: float, metric: Metric, whole: bool) -> float:
    """``value`` rounded, in the improving direction, to two significant digits (whole numbers when
    the value now is one, as counts, days and 1-5 ratings are, and for anything above 10; shares to
    the percent), within the valid range."""
    higher = metric.direction == "higher"
    magnitude = abs(value)
    if magnitude == 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(magnitude)) - 1)
    if metric.valid_range is not None and metric.valid_range[1] <= 1:
        step = max(step, 0.01) if magnitude >= 0.1 else 0.01
    elif magnitude >= 10 or whole:
        step = max(step, 1.0)
    rounded = (math.ceil(value / step - 1e-9) if higher else math.floor(value / step + 1e-9)) * step
    if metric.valid_range is not None:
        rounded = min(max(rounded, metric.valid_range[0]), metric.valid_range[1])
    return float(round(rounded, 10))


def shown_value(value: float | str | None, unit: str) -> str:
    """A metric value as a sentence prints it, by its unit: ``42%``, ``420,000 USD``, ``12 days``."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value[:1].upper() + value[1:]
    if unit == "share":
        return f"{value * 100:.0f}%"
    if unit in ("USD", "EUR", "GBP"):
        return f"{value:,.0f} {unit}"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2g}" if abs(value) < 1 else f"{value:,.1f}"
    return f"{text} {unit}" if unit and not unit.startswith("score") else text
