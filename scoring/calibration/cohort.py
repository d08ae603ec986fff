"""Past cohorts for calibration: each partner with a known outcome, as it looked at the end of its
onboarding window.

A partner's outcome (``Outcomes``: revenue and engagement over the horizon) is matched with the
partner as it looked at the end of its onboarding window: its ``History`` row of the calendar
month in which it completed ``window`` months since onboarding start (``Partners``), scored as of
that row's period. That is the moment the predictions are meant for -- onboarding is over, the
horizon is still ahead -- and the same rule applies to every cohort, so cohorts compare fairly.

A window of 0 months takes the partner as it signed up: its ``Partners`` row, scored as of its
onboarding start, with no History needed. That is what a programme that records only sign-up
attributes has. A window at or past the horizon is refused: the snapshot would then be taken
after (part of) the outcome it is meant to predict, and the back-test would read the answer.

Rows that cannot be used are skipped and counted, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring import cells
from scoring.calibration.run import Cohort
from scoring.headers import header_key
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS
from scoring.model.load import ScoringModel

__all__ = ["HISTORY_SHEET", "OUTCOMES_SHEET", "CohortData", "CohortError", "build_cohort", "check_window"]

OUTCOMES_SHEET, HISTORY_SHEET = "Outcomes", "History"
MAX_LISTED = 3  # problems quoted per kind in the summary


class CohortError(ValueError):
    """Outcomes that cannot be matched at all (a missing outcome column); the message says which."""


@dataclass(frozen=True)
class CohortData:
    """A cohort ready to calibrate on, and what was left out of it."""

    cohort: Cohort
    skipped: list[str]  # one line per kind of partner left out, with a count and examples


def build_cohort(partners: pd.DataFrame, history: pd.DataFrame | None, outcomes: pd.DataFrame, model: ScoringModel,
                 *, window_months: int = DEFAULT_WINDOW_MONTHS, horizon_months: int = 12,
                 source: str = "") -> CohortData:
    """Partners with outcomes, each as it looked ``window_months`` in, from the ``Partners``,
    ``History`` and ``Outcomes`` tables (canonical column names; the index is taken as the sheet row
    number in messages). ``history`` may be ``None`` (no History sheet) when ``window_months`` is 0."""
    check_window(window_months, horizon_months, has_history=history is not None, source=source)
    skipped: list[str] = []
    known = _outcomes(outcomes, horizon_months, source, skipped)
    starts = _starts(partners, model)
    joined = known.join(starts, on="partner_id", how="left")
    lost = joined["onboarding_start"].isna()
    _note(skipped, lost, joined["partner_id"], "partner", "with outcomes but no Partners row with an onboarding start")
    joined = joined[~lost]
    if window_months == 0:
        return _at_sign_up(partners, joined, skipped, source)
    start = pd.to_datetime(joined["onboarding_start"])
    joined["month"] = (start + pd.DateOffset(months=window_months)).dt.to_period("M").to_numpy()
    snaps = _snapshots(history)
    merged = joined.merge(snaps, on=["partner_id", "month"], how="left", suffixes=("", "_history"))
    lost = merged["period"].isna()
    _note(skipped, lost, merged["partner_id"], "partner",
          f"with outcomes but no History row {window_months} months after onboarding start")
    merged = merged[~lost].reset_index(drop=True)
    if merged.empty:
        raise CohortError(f"{source}: no partner to calibrate on: {'; '.join(skipped) or 'the Outcomes sheet is empty'}")
    for column in starts.columns:  # a segment recorded in History (at the time) wins over today's
        if f"{column}_history" in merged:
            merged[column] = merged[f"{column}_history"].where(merged[f"{column}_history"].notna(), merged[column])
    frame = merged.drop(columns=[c for c in merged if c.endswith("_history")] + ["month", "period", "engaged", "revenue"])
    cohort = Cohort(
        partners=frame,
        snapshot_date=pd.to_datetime(merged["period"]).to_numpy().astype("datetime64[D]"),
        engaged=merged["engaged"].to_numpy(dtype=float),
        revenue=merged["revenue"].to_numpy(dtype=float),
    )
    return CohortData(cohort, skipped)


def check_window(window_months: int, horizon_months: int, *, has_history: bool, source: str = "") -> None:
    """Refuse a window that would read the outcome, or that needs a History the workbook lacks."""
    where = f"{source}: " if source else ""
    if window_months < 0:
        raise CohortError(f"{where}--window must be 0 (at sign-up) or more months, not {window_months}")
    if window_months >= horizon_months:
        raise CohortError(
            f"{where}--window {window_months} is at or past the {horizon_months}-month outcome horizon: the snapshot "
            f"would be taken after part of the outcome it is meant to predict; use a window shorter than the "
            f"horizon (e.g. --window {min(DEFAULT_WINDOW_MONTHS, horizon_months // 2)}, or 0 for sign-up data)")
    if window_months > 0 and not has_history:
        raise CohortError(f"{where}no '{HISTORY_SHEET}' sheet to take partners {window_months} months in from; "
                          f"use --window 0 to calibrate on the Partners sheet as of onboarding start")


def _at_sign_up(partners: pd.DataFrame, joined: pd.DataFrame, skipped: list[str], source: str) -> CohortData:
    """The cohort at window 0: each partner's ``Partners`` row as of its onboarding start."""
    if joined.empty:
        raise CohortError(f"{source}: no partner to calibrate on: {'; '.join(skipped) or 'the Outcomes sheet is empty'}")
    rows = partners.assign(partner_id=_ids(partners["partner_id"])).dropna(subset=["partner_id"])
    rows = rows.drop_duplicates("partner_id").drop(columns=["onboarding_start"], errors="ignore")
    rows = rows.drop(columns=[c for c in joined.columns if c in rows and c != "partner_id"])
    frame = joined.reset_index(drop=True).merge(rows, on="partner_id", how="left")
    cohort = Cohort(
        partners=frame.drop(columns=["engaged", "revenue"]),
        snapshot_date=pd.to_datetime(frame["onboarding_start"]).to_numpy().astype("datetime64[D]"),
        engaged=frame["engaged"].to_numpy(dtype=float),
        revenue=frame["revenue"].to_numpy(dtype=float),
    )
    return CohortData(cohort, skipped)


def _column(frame: pd.DataFrame, name: str, source: str) -> str:
    found = [c for c in frame.columns if header_key(c) == name]
    if not found:
        raise CohortError(f"{source}: sheet '{OUTCOMES_SHEET}' has no {name} column "
                            f"(headers: {', '.join(map(str, frame.columns))}); use --horizon to match its columns")
    return found[0]


def _outcomes(outcomes: pd.DataFrame, horizon: int, source: str, skipped: list[str]) -> pd.DataFrame:
    """``partner_id``, ``engaged`` (1/0) and ``revenue`` (>= 0) per partner; unreadable rows are skipped."""
    revenue_col = _column(outcomes, f"revenue_{horizon}m", source)
    engaged_col = _column(outcomes, f"engaged_{horizon}m", source)
    ids = _ids(outcomes["partner_id"])
    revenue = pd.Series([_number(v) for v in outcomes[revenue_col]], index=outcomes.index, dtype=float)
    engaged = pd.Series([cells.truth(v) for v in outcomes[engaged_col]], index=outcomes.index, dtype=float)
    checks = [
        (ids.isna(), "without a partner_id"),
        (revenue.isna() | (revenue < 0), f"without a usable {revenue_col} (a number, 0 or more)"),
        (engaged.isna(), f"without a usable {engaged_col} (1/0 or yes/no)"),
    ]
    rows = pd.Series([f"row {r}" for r in outcomes.index], index=outcomes.index)
    bad = pd.Series(False, index=outcomes.index)
    for mask, what in checks:
        mask = mask & ~bad
        _note(skipped, mask, rows, "Outcomes row", what)
        bad |= mask
    repeated = ids.duplicated(keep="first") & ~bad
    _note(skipped, repeated, ids, "partner", "listed again on Outcomes (the first row is used)")
    keep = ~bad & ~repeated
    return pd.DataFrame({"partner_id": ids[keep], "engaged": engaged[keep].astype(float),
                         "revenue": revenue[keep].astype(float)}).reset_index(drop=True)


def _ids(values: pd.Series) -> pd.Series:
    """Partner IDs as trimmed text (``1001``, ``1001.0`` and ``"1001 "`` match), None where blank."""
    return values.map(lambda v: cells.text(v)[0])


def _number(value: object) -> float:
    """A number as :func:`scoring.cells.number` reads it (``$1,200``, ``1.234,5``), NaN for anything else."""
    found = cells.number(value)[0]
    return found if type(found) is float else np.nan


def _starts(partners: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """Onboarding start and segment columns per partner ID (first row wins, as in scoring)."""
    columns = ["onboarding_start", *(d for d in model.spec.segmentation.dimensions if d in partners)]
    frame = partners.assign(partner_id=_ids(partners["partner_id"])).dropna(subset=["partner_id"])
    frame = frame.drop_duplicates("partner_id")
    out = frame.set_index("partner_id")[columns]
    out["onboarding_start"] = pd.to_datetime(cells.dates(out["onboarding_start"].to_numpy(dtype=object)))
    return out


def _snapshots(history: pd.DataFrame) -> pd.DataFrame:
    """History rows keyed by partner and calendar month (the latest row of a month if several)."""
    frame = history.assign(
        partner_id=_ids(history["partner_id"]),
        period=pd.to_datetime(cells.dates(history["period"].to_numpy(dtype=object))),
    ).dropna(subset=["partner_id", "period"])
    frame = frame.sort_values("period", kind="stable")
    frame["month"] = frame["period"].dt.to_period("M")
    frame = frame.drop_duplicates(["partner_id", "month"], keep="last")
    return frame.drop(columns=["onboarding_start"], errors="ignore")


def _note(skipped: list[str], mask: pd.Series, labels: pd.Series, unit: str, what: str) -> None:
    """``3 partners with outcomes but no History row ... (P00012, P00107, P00230)``."""
    count = int(mask.sum())
    if count:
        examples = ", ".join(str(v) for v in labels[mask].head(MAX_LISTED))
        more = ", ..." if count > MAX_LISTED else ""
        skipped.append(f"{count} {unit}{'s' * (count != 1)} {what} ({examples}{more})")
