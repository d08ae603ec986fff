"""Drift monitoring: which populations to compare, and what to say about them.

:mod:`scoring.drift` computes population stability between two populations; this module chooses
them, the same way for ``pscore monitor``, the one line ``pscore score`` prints and any report that
shows model health:

* two History periods (``start`` and ``end``): every partner's snapshot in each month, scored as of
  that snapshot;
* a calibration's cohort and today: the baseline stored in the model's ``calibration``, against
  today's partners at a comparable point of onboarding -- within :data:`MATCH_MONTHS` months of the
  calibration's window -- scored at the window's stage, as the cohort was. Comparing the cohort
  (all at, say, 6 months) with every partner today would report the programme's age mix as drift.

``end`` absent means today (the Partners sheet, as of ``as_of``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import cells
from scoring.anomalies import partner_ids
from scoring.drift import SHIFTED, Drift, Population, compare, population
from scoring.engine import months_between, to_date
from scoring.model.load import ScoringModel, load_model
from scoring.table import PartnerTable

__all__ = ["MATCH_MONTHS", "MonitorError", "Monitored", "monitor", "parse_period", "shift_line", "since_calibration"]

#: Today's partners compared with a calibration cohort are those within this many months of its window.
MATCH_MONTHS = 3
STATIC_COLUMNS = ("partner_name", "partner_type", "region", "country", "onboarding_start")


class MonitorError(ValueError):
    """Populations that cannot be compared as asked; the message says why and what to give instead."""


@dataclass(frozen=True)
class Monitored:
    """A drift comparison with the words that say what was compared."""

    drift: Drift
    then: str
    now: str
    notes: list[str]


def parse_period(text: "str | dt.date") -> pd.Period:
    """A month: ``2026-03``, ``2026-03-31`` or a date; raises :class:`MonitorError` otherwise."""
    if isinstance(text, (dt.date, pd.Timestamp)):
        return pd.Period(text, "M")
    try:
        return pd.Period(str(text).strip(), "M")
    except (ValueError, TypeError):
        raise MonitorError(f"period: {text!r} is not a month (use YYYY-MM or YYYY-MM-DD)") from None


def monitor(partners: pd.DataFrame, model: "ScoringModel | str", history: pd.DataFrame | None = None, *,
            baseline: "ScoringModel | str | None" = None, start: "str | dt.date | None" = None,
            end: "str | dt.date | None" = None, as_of: "dt.date | str | None" = None) -> Monitored:
    """Population stability of ``partners`` (and their ``history``) between ``start`` and ``end``, or
    between a calibration's cohort (``baseline``'s, else ``model``'s) and ``end``.

    Without ``start`` and without a stored baseline, ``start`` is History's first month."""
    model = load_model(model)
    as_of = to_date(as_of)
    periods = _periods(history)
    reference = load_model(baseline) if baseline is not None else None
    if start is None and reference is None and _stored(model) is not None:
        reference = model
    if reference is not None and start is not None:
        raise MonitorError("give either a start period (--from) or a calibrated baseline (--baseline), not both")
    if reference is not None:
        cal = reference.spec.calibration
        if cal is None or cal.baseline is None:
            raise MonitorError(f"{reference.source}: the model stores no calibration baseline; run pscore calibrate "
                               "(or pscore fit) to store one, or compare two periods with --from")
        window = cal.window_months
        frame, when, label = _now(partners, history, periods, end, as_of)
        near = _near_window(frame, when, window)
        now = population(frame[near], model, months=window)
        then_label = f"the calibration cohort of {cal.date} ({cal.baseline.n:,} partners {window} months in)"
        now_label = (f"{label}: {int(near.sum()):,} partners {max(window - MATCH_MONTHS, 0)} to "
                     f"{window + MATCH_MONTHS} months into onboarding, scored {window} months in")
        drift = compare(cal.baseline, now, then_label=then_label, now_label=now_label)
        notes = [f"Today's partners are compared at a comparable point of onboarding (within {MATCH_MONTHS} months "
                 f"of the calibration's {window}-month window), so the programme's age mix is not read as drift."]
        return Monitored(drift, then_label, now_label, notes)
    if not periods:
        raise MonitorError("no History snapshots to take a start period from, and the model stores no calibration "
                           "baseline; give --baseline a calibrated model")
    first = parse_period(start) if start is not None else min(periods)
    then_frame = _at_period(partners, history, periods, first)
    frame, when, label = _now(partners, history, periods, end, as_of)
    then = population(then_frame, model, as_of=first.end_time.date())
    now = population(frame, model, as_of=when)
    then_label = f"{first:%b %Y} ({len(then_frame):,} partners)"
    now_label = f"{label} ({len(frame):,} partners)"
    notes = [] if start is not None else [f"No start period given: History's first month, {first:%b %Y}."]
    return Monitored(compare(then, now, then_label=then_label, now_label=now_label), then_label, now_label, notes)


def since_calibration(partners: pd.DataFrame, model: ScoringModel, as_of: "dt.date | str | None" = None) -> Drift | None:
    """Today's partners against the model's stored calibration baseline; None when it stores none or
    too few partners are near the calibration window to compare."""
    if _stored(model) is None:
        return None
    try:
        return monitor(partners, model, as_of=as_of).drift
    except MonitorError:
        return None


def shift_line(drift: Drift | None) -> str | None:
    """``4 inputs shifted since calibration (PSI >= 0.25): Deals won 0.41, ...; re-calibrate``, or None."""
    if drift is None:
        return None
    moved = drift.shifted("input")
    if moved.empty:
        return None
    names = ", ".join(f"{label} {value:.2f}" for label, value in zip(moved["label"], moved["psi"]))
    s = "s" * (len(moved) != 1)
    return f"{len(moved)} input{s} shifted since calibration (PSI >= {SHIFTED:g}): {names}; re-calibrate"


# ------------------------------------------------------------------ populations


def _stored(model: ScoringModel):
    cal = model.spec.calibration
    return None if cal is None else cal.baseline


def _periods(history: pd.DataFrame | None) -> dict[pd.Period, np.ndarray]:
    """History row positions per month of their period (the latest snapshot of a partner in a month)."""
    if history is None or history.empty or "period" not in history.columns or "partner_id" not in history.columns:
        return {}
    days = PartnerTable(history).dates("period", cells.dates)
    ids = partner_ids(history)
    frame = pd.DataFrame({"id": ids, "day": days, "pos": np.arange(len(history))}).dropna()
    frame = frame.sort_values("day", kind="stable")
    frame["month"] = pd.to_datetime(frame["day"]).dt.to_period("M")
    frame = frame.drop_duplicates(["id", "month"], keep="last")
    return {month: rows["pos"].to_numpy() for month, rows in frame.groupby("month")}


def _at_period(partners: pd.DataFrame, history: pd.DataFrame, periods: dict, month: pd.Period) -> pd.DataFrame:
    """Every partner's snapshot in ``month``, with its segment and onboarding start from Partners."""
    if month not in periods:
        known = sorted(periods)
        where = f"History has {known[0]:%Y-%m} to {known[-1]:%Y-%m}" if known else "there is no History"
        raise MonitorError(f"no History snapshot in {month:%Y-%m}: {where}")
    rows = history.iloc[periods[month]]
    static = [c for c in STATIC_COLUMNS if c in partners.columns]
    ids = partner_ids(partners)
    lookup = partners[static].assign(partner_id=ids).dropna(subset=["partner_id"]).drop_duplicates("partner_id")
    snap_ids = partner_ids(rows)
    snap = rows.drop(columns=[c for c in static if c in rows.columns]).assign(partner_id=snap_ids)
    return snap.merge(lookup, on="partner_id", how="left")


def _now(partners: pd.DataFrame, history: pd.DataFrame | None, periods: dict, end, as_of: dt.date):
    """The population to compare: the ``end`` month's snapshots, or today's Partners sheet."""
    if end is None:
        return partners, as_of, f"today ({as_of})"
    month = parse_period(end)
    return _at_period(partners, history, periods, month), month.end_time.date(), f"{month:%b %Y}"


def _near_window(frame: pd.DataFrame, when: dt.date, window: int) -> np.ndarray:
    if "onboarding_start" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    starts = cells.plausible_dates(PartnerTable(frame).dates("onboarding_start", cells.dates))
    months = months_between(starts, np.datetime64(when, "D"))
    with np.errstate(invalid="ignore"):
        return np.abs(months - window) <= MATCH_MONTHS
