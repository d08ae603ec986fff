"""Per-metric staleness: is a value older than its metric's ``interval_days``, and what then.

Each metric in the catalog says how often it is measured (``interval_days``). A value whose latest
observation is older than that at the scoring date is *stale*. Its observation date is the
``<metric>_updated`` column when the sheet has one (the reader recognises it), otherwise the last
``History`` period in which the metric has a value. Without either, nothing says the value is old,
and it is not flagged.

The model's ``stability.stale`` rule says how a stale value is scored: ``keep`` (as it is; only
flagged), ``decay`` (its sub-score moves toward the drivers' baseline, half the distance per
half-life past the interval) or ``drop`` (left out like a missing value, so coverage falls). The
rule is applied by the engine to the sub-scores (:func:`apply`), so every score, driver and
coverage figure follows from it in the one place scores are made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.cells import dates as parse_dates
from scoring.cells import is_null
from scoring.model.load import ScoringModel
from scoring.quality import Record

__all__ = ["UPDATED_SUFFIX", "Staleness", "apply", "assess", "at_scoring_date", "day_column", "history_observed",
           "latest_observed", "present", "records", "updated_column"]

UPDATED_SUFFIX = "_updated"


def updated_column(metric_id: str) -> str:
    """The optional column holding the date a metric's value was last observed."""
    return f"{metric_id}{UPDATED_SUFFIX}"


@dataclass(frozen=True)
class Staleness:
    """Per metric id: which rows hold a stale value, how many days old it is, and the factor the
    engine scales its distance from the baseline by (NaN: left out); ``retain`` is None under
    ``keep``, when scores are left exactly as they are."""

    metric_ids: list[str]
    labels: list[str]
    stale: dict[str, np.ndarray]  # (n,) bool
    age_days: dict[str, np.ndarray]  # (n,) float, NaN where no observation date is known
    retain: dict[str, np.ndarray] | None

    @property
    def any(self) -> np.ndarray:
        """(n,) bool: the row has at least one stale value."""
        return np.logical_or.reduce([self.stale[m] for m in self.metric_ids])

    def describe(self) -> np.ndarray:
        """Per row: the labels of its stale metrics, e.g. ``Deals won, Pipeline value`` ("" if none)."""
        n = len(next(iter(self.stale.values()))) if self.stale else 0
        out = np.full(n, "", dtype=object)
        for metric_id, label in zip(self.metric_ids, self.labels):
            hit = self.stale[metric_id]
            if hit.any():
                out[hit] = np.where(out[hit] == "", label, out[hit] + ", " + label)
        return out


def present(values: "pd.Series | np.ndarray") -> np.ndarray:
    """(n,) bool: the cell holds something (a value the scorecard may or may not accept); blank
    text is nothing. Each distinct value is looked at once."""
    codes, uniques = pd.factorize(pd.Series(values, copy=False), use_na_sentinel=True)
    filled = np.array([not (is_null(v) or (isinstance(v, str) and not v.strip())) for v in uniques], dtype=bool)
    return (codes >= 0) & np.append(filled, False)[codes]


def day_column(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.to_numpy().astype("datetime64[D]")
    return parse_dates(values.to_numpy(dtype=object))


def history_observed(history: pd.DataFrame, model: ScoringModel, periods: np.ndarray) -> dict[str, np.ndarray]:
    """Observation date (``datetime64[D]``, NaT where blank) of each metric in each History row:
    its ``<metric>_updated`` date when given, else the row's own period when the cell has a value."""
    periods = np.asarray(periods, dtype="datetime64[D]")
    out = {}
    for metric in model.spec.metrics:
        seen = np.full(len(history), np.datetime64("NaT"), dtype="datetime64[D]")
        if metric.id in history.columns:
            has = present(history[metric.id])
            seen[has] = periods[has]
            column = updated_column(metric.id)
            if column in history.columns:
                given = day_column(history[column])
                use = has & ~np.isnat(given)
                seen[use] = given[use]
        out[metric.id] = seen
    return out


def latest_observed(partners: pd.DataFrame, model: ScoringModel, history: pd.DataFrame | None,
                    as_of) -> dict[str, np.ndarray]:
    """Observation date of each metric's value on the partner sheet at ``as_of``: its
    ``<metric>_updated`` date, else the last History period up to ``as_of`` with a value for it (the
    snapshot of the scoring date's own month counts as taken on the scoring date) if the value is
    still the one that snapshot holds; a value that differs was updated since, and is not dated."""
    n = len(partners)
    as_of = np.datetime64(as_of, "D")
    ids = partners["partner_id"].to_numpy(dtype=object) if "partner_id" in partners.columns else np.full(n, None)
    keys = np.array(["" if is_null(i) else str(i) for i in ids], dtype=object)
    snap, seen_in, snap_code, partner_code = None, {}, None, None
    if history is not None and len(history) and {"partner_id", "period"} <= set(history.columns):
        periods = day_column(history["period"])
        month_end = (as_of.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
        usable = ~np.isnat(periods) & (periods <= month_end) & history["partner_id"].notna().to_numpy()
        snap = history[usable]
        seen_in = history_observed(snap, model, np.minimum(periods[usable], as_of))
        names, snap_code = np.unique(snap["partner_id"].astype(str).to_numpy(), return_inverse=True)
        partner_code = pd.Index(names).get_indexer(keys)  # -1: no snapshot of the partner
    out = {}
    for metric in model.spec.metrics:
        seen = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        if metric.id not in partners.columns:
            out[metric.id] = seen
            continue
        if snap is not None and metric.id in snap.columns:
            days = seen_in[metric.id]
            dated = np.flatnonzero(~np.isnat(days))
            latest = np.full(int(snap_code.max()) + 1 if len(snap_code) else 0, -1)
            np.maximum.at(latest, snap_code[dated], dated)  # the partner's last snapshot with a value
            row = np.where(partner_code >= 0, latest[partner_code], -1)
            has = np.flatnonzero(row >= 0)
            # a value that differs from that snapshot's was updated after it: no known date
            same = _same(_cells(snap[metric.id])[row[has]], _cells(partners[metric.id])[has])
            seen[has[same]] = days[row[has[same]]]
        column = updated_column(metric.id)
        if column in partners.columns:
            given = day_column(partners[column])
            use = ~np.isnat(given)
            seen[use] = given[use]
        seen[~present(partners[metric.id])] = np.datetime64("NaT")  # nothing there to be stale
        out[metric.id] = seen
    return out


def _cells(values: pd.Series) -> np.ndarray:
    """A column as floats when it is numeric (NaN for blanks), else as objects."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return values.to_numpy(dtype=object)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) bool: two columns of cells hold the same value (numbers equal, or text equal but for case
    and surrounding spaces); a blank on either side is not the same."""
    if a.dtype == float and b.dtype == float:
        return a == b  # NaN is never equal
    a, b = pd.Series(a, dtype=object), pd.Series(b, dtype=object)
    blank = a.isna().to_numpy() | b.isna().to_numpy()
    na, nb = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float), pd.to_numeric(b, errors="coerce").to_numpy(dtype=float)
    numbers = ~np.isnan(na) & ~np.isnan(nb)
    out = numbers & (na == nb)
    words = np.flatnonzero(~numbers & ~blank)
    if len(words):
        fold = lambda x: x.iloc[words].astype(str).str.strip().str.casefold().to_numpy()  # noqa: E731
        out[words] = fold(a) == fold(b)
    return out


def assess(model: ScoringModel, observed: dict[str, np.ndarray], as_of) -> Staleness:
    """Staleness of each row's values at ``as_of`` (one date, or one per row) under the model's rule."""
    spec = model.spec
    rule = spec.stability
    stale, ages, retain = {}, {}, {}
    for metric in spec.metrics:
        seen = observed[metric.id]
        when = np.broadcast_to(np.asarray(as_of, dtype="datetime64[D]"), seen.shape)
        age = (when - seen).astype("timedelta64[D]").astype(float)
        age[np.isnat(seen)] = np.nan
        with np.errstate(invalid="ignore"):
            old = age > metric.interval_days
        stale[metric.id], ages[metric.id] = old, age
        if rule.stale == "drop":
            retain[metric.id] = np.where(old, np.nan, 1.0)
        elif rule.stale == "decay":
            half_life = rule.decay_half_life_days or metric.interval_days
            with np.errstate(invalid="ignore"):
                retain[metric.id] = np.where(old, 0.5 ** ((age - metric.interval_days) / half_life), 1.0)
    return Staleness([m.id for m in spec.metrics], [m.label for m in spec.metrics], stale, ages,
                     retain if rule.stale != "keep" else None)


def apply(metric_ids: list[str], baseline: float, sub: np.ndarray, retain: dict[str, np.ndarray]) -> None:
    """In place on the engine's sub-scores ``(M, n)``: a stale value's distance from the baseline is
    scaled by its factor, and a factor of NaN leaves the value out (as if missing)."""
    for j, metric_id in enumerate(metric_ids):
        factor = retain.get(metric_id)
        if factor is None:
            continue
        row = sub[j]
        scaled = baseline + (row - baseline) * factor
        np.copyto(row, scaled, where=~np.isnan(factor) & (factor != 1.0))
        row[np.isnan(factor)] = np.nan


def at_scoring_date(partners: pd.DataFrame, model: ScoringModel, history: pd.DataFrame | None, as_of) -> Staleness:
    """Staleness of the partner sheet's values at ``as_of`` (see :func:`latest_observed`)."""
    return assess(model, latest_observed(partners, model, history, as_of), as_of)


_ACTIONS = {"keep": "stale: scored as it is", "decay": "stale: moved toward the baseline",
            "drop": "stale: left out; weights re-normalised over the metrics present"}


def records(found: Staleness, partners: pd.DataFrame, model: ScoringModel, as_of, *, sheet: str,
            headers: dict[str, str] | None = None) -> list[Record]:
    """One data-quality record per stale cell: where it is, when it was last observed, what was done."""
    headers = headers or {}
    as_of = np.datetime64(as_of, "D")
    ids = partners["partner_id"].to_numpy(dtype=object) if "partner_id" in partners.columns else None
    rows = np.asarray(partners.index)
    out = []
    action = _ACTIONS[model.spec.stability.stale]
    for metric in model.spec.metrics:
        hit = np.flatnonzero(found.stale.get(metric.id, np.zeros(len(partners), dtype=bool)))
        for i in hit:
            age = int(found.age_days[metric.id][i])
            seen = (as_of - np.timedelta64(age, "D")).astype(object)
            out.append(Record(sheet, rows[i], headers.get(metric.id, metric.label), partners[metric.id].iloc[i],
                              f"not updated within its {metric.interval_days}-day interval (last observed "
                              f"{seen.isoformat()})", action, partner=None if ids is None else ids[i],
                              canonical=metric.id, flag="stale"))
    return out
