"""The change ledger: why a partner's score moved between two periods, in parts that add up exactly.

A score depends on a handful of factor groups: the metric **values**, which metrics are there and
fresh (**stale/missing**: a metric that appeared, disappeared or went stale), the maturity
**stage** (the scoring date and onboarding start), the **segment** columns, and -- when two model
versions are compared -- the **model**. The change from state *a* (before) to state *b* (after) is
split over these groups by their Shapley value:

    effect(g) = sum over sets C of the other groups of  |C|! (G - |C| - 1)! / G!  * (S(C + g) - S(C))

where ``S(C)`` is the score of the hybrid state taking the groups in ``C`` from *b* and the rest
from *a*. The effects add up to ``S(b) - S(a)`` exactly (Shapley's efficiency), do not depend on
any order of the groups, and swap sign when *a* and *b* swap. With at most five groups there are
at most 32 hybrid states; every one is scored by the engine itself (:func:`scoring.score`,
vectorised over all partners at once), never by a second formula.

The value group's effect is then split per metric. Between two hybrids that differ only in values,
every metric keeps its effective weight, so the engine's contributions change by
``weight * (new sub-score - old sub-score)`` per metric, and these add up to the change in the
score before the segment adjustment; the adjusted change is shared in the same proportions (its
clipping at 0 and 100 too). A metric's value effect is the Shapley-weighted sum of its share over
the sets ``C``, so the metric parts add up exactly to the value group's effect.

:func:`change_ledger` returns the tidy table (one row per partner, score and part);
:func:`top_reasons` phrases the largest parts in plain, partner-safe words.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import product
from typing import Sequence

import numpy as np
import pandas as pd

from scoring.compiled import OUTCOMES, compile_model
from scoring.engine import score, to_date
from scoring.model.load import ScoringModel, load_model
from scoring.staleness import present

__all__ = ["GROUPS", "LEDGER_COLUMNS", "PART_LABELS", "SCORES", "State", "change_ledger", "reasons_text", "top_reasons"]

#: Factor groups, in the order the ledger lists their parts.
GROUPS = ("values", "stale_missing", "stage", "segment", "model")
SCORES = ("revenue", "engagement", "composite")
#: What each part is called in a table; a metric's value part carries the metric's label.
PART_LABELS = {"stale_missing": "Stale or missing data", "stage": "Onboarding stage", "segment": "Segment",
               "model": "Model version", "smoothing": "Smoothing and guardrail"}
LEDGER_COLUMNS = ("row", "partner_id", "score", "part", "metric", "label", "points", "before", "after", "change")
_TINY = 1e-6


@dataclass(frozen=True)
class State:
    """Partners as scored at one point: one row per partner (the same partners, in the same order,
    in both states of a ledger), with the date each is scored as of, the model and the staleness
    factors (:attr:`scoring.staleness.Staleness.retain`, None for none)."""

    frame: pd.DataFrame  # partner_id, metric columns, segment columns, onboarding_start
    as_of: "Sequence | dt.date | str"
    model: "ScoringModel | str" = "default"
    stale: dict[str, np.ndarray] | None = None


def change_ledger(before: State, after: State) -> pd.DataFrame:
    """Each partner's change in every score from ``before`` to ``after``, split into parts.

    One row per (partner, score, part): ``part`` is ``metric`` (with its id and label), ``stale_missing``,
    ``stage``, ``segment`` and, when the models differ, ``model``; ``points`` per part add up to
    ``change`` = ``after`` - ``before`` (unrounded). A partner unscored in either state has NaN parts.
    """
    a, b = _Side(before), _Side(after)
    if len(a.frame) != len(b.frame):
        raise ValueError("both states need the same partners, one row each")
    n = len(a.frame)
    groups = [g for g in GROUPS if g != "model" or a.model.hash != b.model.hash]
    metrics = list(dict.fromkeys([*a.metric_ids, *b.metric_ids]))
    coalitions = list(product((False, True), repeat=len(groups)))
    scored = _score_hybrids(a, b, groups, coalitions, metrics)
    index = {c: k for k, c in enumerate(coalitions)}
    g_count = len(groups)
    weights = [math.factorial(k) * math.factorial(g_count - k - 1) / math.factorial(g_count) for k in range(g_count)]
    parts = {s: {} for s in SCORES}
    for i, group in enumerate(groups):
        for s in SCORES:
            parts[s][group] = np.zeros(n)
        if group == "values":
            for s in SCORES:
                parts[s]["metrics"] = np.zeros((len(metrics), n))
        for c in coalitions:
            if c[i]:
                continue
            with_g = c[:i] + (True,) + c[i + 1:]
            w = weights[sum(c)]
            lo, hi = index[c], index[with_g]
            for s in SCORES:
                parts[s][group] += w * (scored.scores[s][hi] - scored.scores[s][lo])
            if group == "values":
                split = _split(scored, lo, hi)
                for s in SCORES:
                    parts[s]["metrics"] += w * split[s]
    first, last = index[coalitions[0]], index[coalitions[-1]]
    labels = dict(zip(a.metric_ids, a.labels)) | dict(zip(b.metric_ids, b.labels))
    ids = b.frame["partner_id"].to_numpy(dtype=object) if "partner_id" in b.frame.columns else np.full(n, None)
    frames = []
    for s in SCORES:
        start, end = scored.scores[s][first], scored.scores[s][last]
        change = end - start
        unexplained = np.isnan(change) | np.isnan(np.stack([parts[s][g] for g in groups])).any(axis=0)
        rows = [("metric", m, labels.get(m, m), parts[s]["metrics"][j]) for j, m in enumerate(metrics)]
        rows += [(g, None, PART_LABELS[g], parts[s][g]) for g in groups if g != "values"]
        for part, metric, label, points in rows:
            frames.append(pd.DataFrame({
                "row": np.arange(n), "partner_id": ids, "score": s, "part": part, "metric": metric, "label": label,
                "points": np.where(unexplained, np.nan, points), "before": start, "after": end, "change": change}))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["row"], kind="stable").reset_index(drop=True)[list(LEDGER_COLUMNS)]


# ------------------------------------------------------------------ hybrid states


class _Side:
    """One state's columns as plain arrays, ready to mix with the other state's."""

    def __init__(self, state: State):
        self.model = load_model(state.model)
        self.frame = state.frame.reset_index(drop=True)
        n = len(self.frame)
        when = state.as_of
        if isinstance(when, np.datetime64):
            when = when.astype("datetime64[D]").astype(dt.date)
        if isinstance(when, (str, dt.date, pd.Timestamp)) or when is None:
            self.dates = np.full(n, to_date(when), dtype=object)
        else:
            self.dates = np.array([to_date(d) for d in when], dtype=object)
        spec = self.model.spec
        self.metric_ids = [m.id for m in spec.metrics]
        self.labels = [m.label for m in spec.metrics]
        self.dimensions = list(spec.segmentation.dimensions)
        self.stale = state.stale or {}

    def column(self, name: str) -> np.ndarray:
        if name not in self.frame.columns:
            return np.full(len(self.frame), None, dtype=object)
        values = self.frame[name]
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
            return values.to_numpy(dtype=float, na_value=np.nan)
        return values.to_numpy(dtype=object)

    def retain(self, metric_id: str) -> np.ndarray:
        found = self.stale.get(metric_id)
        return np.ones(len(self.frame)) if found is None else np.asarray(found, dtype=float)


def _blank(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype == float else ~present(values)


def _mix(take_b: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype == float and b.dtype == float:
        return np.where(take_b, b, a)
    return np.where(take_b, b.astype(object), a.astype(object))


@dataclass
class _Scored:
    scores: dict[str, np.ndarray]  # score -> (K, n) per coalition
    unadjusted: dict[str, np.ndarray]  # outcome -> (K, n)
    contrib: dict[str, np.ndarray]  # outcome -> (K, U, n) metric contributions on the union of metrics
    composite: np.ndarray  # (K, 2, n) composite weights of the coalition's model


def _score_hybrids(a: _Side, b: _Side, groups: list[str], coalitions: list[tuple[bool, ...]],
                   metrics: list[str]) -> _Scored:
    """Every hybrid state scored, all coalitions stacked into one frame and scored by the engine
    once per distinct (model, scoring date)."""
    n, k = len(a.frame), len(coalitions)
    take = {g: np.repeat(np.array([c[i] for c in coalitions]), n) for i, g in enumerate(groups)}
    none = np.zeros(n * k, dtype=bool)
    values, available, stage, segment, model = (take.get(g, none) for g in GROUPS)
    tile = lambda x: np.tile(x, k)  # noqa: E731
    columns: dict[str, np.ndarray] = {"partner_id": tile(b.column("partner_id"))}
    retain: dict[str, np.ndarray] = {}
    for m in metrics:
        va, vb = a.column(m), b.column(m)
        blank_a, blank_b = tile(_blank(va)), tile(_blank(vb))
        va, vb = tile(va), tile(vb)
        present = np.where(available, ~blank_b, ~blank_a)
        value = np.where(values, ~blank_b, blank_a)  # True: b's cell (the other side's where one is blank)
        cell = _mix(value, va, vb)
        if cell.dtype == float:
            cell[~present] = np.nan
        else:
            cell[~present] = None
        columns[m] = cell
        retain[m] = np.where(available, tile(b.retain(m)), tile(a.retain(m)))
    for dim in dict.fromkeys([*a.dimensions, *b.dimensions]):
        columns[dim] = _mix(segment, tile(a.column(dim)), tile(b.column(dim)))
    columns["onboarding_start"] = _mix(stage, tile(a.column("onboarding_start")), tile(b.column("onboarding_start")))
    dates = np.where(stage, tile(b.dates), tile(a.dates))
    frame = pd.DataFrame(columns)
    total = n * k
    out_scores = {s: np.full(total, np.nan) for s in SCORES}
    unadjusted = {o: np.full(total, np.nan) for o in OUTCOMES}
    contrib = {o: np.zeros((len(metrics), total)) for o in OUTCOMES}
    composite = np.zeros((2, total))
    position = {m: j for j, m in enumerate(metrics)}
    day = np.array([d.toordinal() for d in dates])
    for use_b, side in ((False, a), (True, b)):
        chosen = model == use_b
        if not chosen.any():
            continue
        weights = compile_model(side.model).composite
        composite[:, chosen] = weights[:, None]
        for when in np.unique(day[chosen]):
            rows = np.flatnonzero(chosen & (day == when))
            part = frame.iloc[rows].reset_index(drop=True)
            result = score(part, side.model, as_of=dt.date.fromordinal(int(when)),
                           stale={m: retain[m][rows] for m in side.metric_ids})
            raw = result.raw_scores
            for s in SCORES:
                out_scores[s][rows] = raw[s].to_numpy()
            for o in OUTCOMES:
                unadjusted[o][rows] = raw[f"{o}_unadjusted"].to_numpy()
                found = result.contributions[o]
                for m in side.metric_ids:
                    contrib[o][position[m], rows] = found[m].to_numpy()
    shape = lambda x: x.reshape(*x.shape[:-1], k, n)  # noqa: E731
    return _Scored(
        scores={s: shape(v) for s, v in out_scores.items()},
        unadjusted={o: shape(v) for o, v in unadjusted.items()},
        contrib={o: np.moveaxis(shape(v), 1, 0) for o, v in contrib.items()},
        composite=np.moveaxis(shape(composite), 1, 0),
    )


def _split(scored: _Scored, lo: int, hi: int) -> dict[str, np.ndarray]:
    """Per metric ``(U, n)``: its share of the score change between coalition ``lo`` and the same
    coalition with the values taken from the later state (``hi``)."""
    out = {}
    for o in OUTCOMES:
        delta = scored.contrib[o][hi] - scored.contrib[o][lo]
        moved = scored.scores[o][hi] - scored.scores[o][lo]
        base = scored.unadjusted[o][hi] - scored.unadjusted[o][lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(np.abs(base) >= _TINY, moved / np.where(np.abs(base) >= _TINY, base, 1.0), 1.0)
            share = delta * ratio
            rest = moved - share.sum(axis=0)  # nonzero only where the change before adjustment is ~0
            size = np.abs(delta).sum(axis=0)
            share += np.where(size > 0, rest / np.where(size > 0, size, 1.0), 0.0) * np.abs(delta)
        out[o] = share
    weights = scored.composite[lo]
    out["composite"] = weights[0] * out["revenue"] + weights[1] * out["engagement"]
    return out


# ------------------------------------------------------------------ plain words


def _phrase(part: str, label: str, points: float) -> str:
    """A part in partner-safe words: what moved and by how much, nothing internal."""
    up = points > 0
    amount = f"{points:+.1f} points"
    if part == "metric":
        return f"{label} {'improved' if up else 'declined'} ({amount})"
    return {
        "stage": f"Moved to a new onboarding stage, which weighs the scorecard's areas differently ({amount})",
        "segment": f"Partner segment changed ({amount})",
        "stale_missing": (f"More complete or more recent data ({amount})" if up
                          else f"Data missing or not updated recently ({amount})"),
        "model": f"The scorecard was updated ({amount})",
        "smoothing": f"Smoothing and the limit on changes per period ({amount})",
    }.get(part, f"{label} ({amount})")


def top_reasons(ledger: pd.DataFrame, n: int = 3, score: str = "composite", min_points: float = 0.05) -> pd.DataFrame:
    """The ``n`` largest parts per partner (by size, first listed on ties) with a plain sentence each.

    One row per (partner row, rank): ``row``, ``partner_id``, ``rank``, ``part``, ``metric``,
    ``label``, ``points``, ``reason``; parts under ``min_points`` (they round to nothing) are left out.
    """
    found = ledger[(ledger["score"] == score) & (ledger["points"].abs() >= min_points)].copy()
    found["_size"] = -found["points"].abs()
    found["_order"] = np.arange(len(found))
    found = found.sort_values(["row", "_size", "_order"], kind="stable")
    found["rank"] = found.groupby("row").cumcount() + 1
    found = found[found["rank"] <= n]
    found["reason"] = [_phrase(p, l, x) for p, l, x in zip(found["part"], found["label"], found["points"])]
    return found[["row", "partner_id", "rank", "part", "metric", "label", "points", "reason"]].reset_index(drop=True)


def reasons_text(ledger: pd.DataFrame, n: int = 3, score: str = "composite") -> dict[int, list[str]]:
    """Row -> its top ``n`` reasons as sentences (see :func:`top_reasons`)."""
    out: dict[int, list[str]] = {}
    for row, reason in zip(*top_reasons(ledger, n, score)[["row", "reason"]].to_numpy().T):
        out.setdefault(int(row), []).append(reason)
    return out
