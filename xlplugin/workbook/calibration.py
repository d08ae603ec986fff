"""``pscore calibrate``'s workbook side: read past cohorts, write the back-test report.

A partner's outcome (``Outcomes``: revenue and engagement over the horizon) is matched with the
partner as it looked at the end of its onboarding window: its ``History`` row of the calendar
month in which it completed ``window`` months since onboarding start (``Partners``), scored as of
that row's period. That is the moment the predictions are meant for -- onboarding is over, the
horizon is still ahead -- and the same rule applies to every cohort, so cohorts compare fairly.

All the statistics live in :mod:`scoring.calibrate_model`; this module only converts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from scoring import ScoringModel, cells
from scoring.calibration.run import CURRENT, SUGGESTED, CalibrationRun, Cohort
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS

from xlplugin.workbook.save import atomic_save, set_cell
from xlplugin.workbook.reader import WorkbookError, header_key, open_workbook, read_table

PARTNERS_SHEET, HISTORY_SHEET, OUTCOMES_SHEET = "Partners", "History", "Outcomes"
MAX_LISTED = 3  # problems quoted per kind in the summary
FIGURE, SCORE, MONEY = "0.000", "0.0", "#,##0"  # number formats in the report


@dataclass(frozen=True)
class CohortData:
    cohort: Cohort
    skipped: list[str]  # one line per kind of partner left out, with a count and examples


def read_cohort(path: "str | Path", model: ScoringModel, *, window_months: int = DEFAULT_WINDOW_MONTHS,
                horizon_months: int = 12, partners_sheet: str = PARTNERS_SHEET) -> CohortData:
    """Partners with outcomes from the workbook at ``path``, each as it looked ``window_months`` in."""
    workbook = open_workbook(path)
    partners = read_table(workbook, partners_sheet, model, source=path, required=("partner_id", "onboarding_start"))
    history = read_table(workbook, HISTORY_SHEET, model, source=path, required=("partner_id", "period"))
    outcomes = read_table(workbook, OUTCOMES_SHEET, model, source=path, required=("partner_id",))
    assert partners is not None and history is not None and outcomes is not None  # required sheets
    return build_cohort(partners.frame, history.frame, outcomes.frame, model, window_months=window_months,
                        horizon_months=horizon_months, source=str(path))


def build_cohort(partners: pd.DataFrame, history: pd.DataFrame, outcomes: pd.DataFrame, model: ScoringModel, *,
                 window_months: int = DEFAULT_WINDOW_MONTHS, horizon_months: int = 12, source: str = "") -> CohortData:
    """The same from frames (``Partners``, ``History``, ``Outcomes`` with canonical column names;
    the index is taken as the sheet row number in messages)."""
    skipped: list[str] = []
    known = _outcomes(outcomes, horizon_months, source, skipped)
    starts = _starts(partners, model)
    joined = known.join(starts, on="partner_id", how="left")
    lost = joined["onboarding_start"].isna()
    _note(skipped, lost, joined["partner_id"], "partner", "with outcomes but no Partners row with an onboarding start")
    joined = joined[~lost]
    start = pd.to_datetime(joined["onboarding_start"])
    joined["month"] = (start + pd.DateOffset(months=window_months)).dt.to_period("M").to_numpy()
    snaps = _snapshots(history)
    merged = joined.merge(snaps, on=["partner_id", "month"], how="left", suffixes=("", "_history"))
    lost = merged["period"].isna()
    _note(skipped, lost, merged["partner_id"], "partner",
          f"with outcomes but no History row {window_months} months after onboarding start")
    merged = merged[~lost].reset_index(drop=True)
    if merged.empty:
        raise WorkbookError(f"{source}: no partner to calibrate on: {'; '.join(skipped) or 'the Outcomes sheet is empty'}")
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


def _column(frame: pd.DataFrame, name: str, source: str) -> str:
    found = [c for c in frame.columns if header_key(c) == name]
    if not found:
        raise WorkbookError(f"{source}: sheet '{OUTCOMES_SHEET}' has no {name} column "
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


# ------------------------------------------------------------------ report workbook


def write_report(run: CalibrationRun, path: "str | Path", model_label: str, source: str) -> Path:
    """The back-test report as a workbook: one plain sheet per table, figures as numbers."""
    report = run.report
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    lines = [f"Calibration of {model_label} on {source}", "", *report.summary, "",
             "Every figure is measured on the later onboarding cohorts, with maps fitted on the earlier ones.",
             "95% intervals come from resampling those partners; 'no clear difference' means the interval "
             "of the difference includes zero."]
    for r, line in enumerate(lines, start=1):
        set_cell(ws, r, 1, line)
    ws["A1"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 140
    backtest = report.backtest
    _table(wb, "Engagement", backtest[backtest.outcome == "engagement"].drop(columns="outcome"))
    _table(wb, "Reliability", report.reliability, {"score_from": SCORE, "score_to": SCORE})
    _table(wb, "Revenue", backtest[backtest.outcome == "revenue"].drop(columns="outcome"))
    _table(wb, "Segments", report.segments, {"predicted": MONEY, "observed": MONEY, "ratio": "0.00"})
    _table(wb, "Peers", report.peers)
    ws = _table(wb, "Weights", report.weights, {"current": SCORE, "suggested": SCORE, "change": "+0.0;-0.0;0.0"})
    figures = report.peers[report.peers.model.isin([CURRENT, SUGGESTED])]
    _append(ws, figures[["model", "figure", "value", "low", "high", "vs_current", "verdict"]],
            "Back-test of the current and suggested weights (suggested weights searched on the earlier cohorts):")
    return atomic_save(wb, path, stamp=dt.datetime.combine(run.spec.calibration.date, dt.time()))


def _table(wb: Workbook, title: str, frame: pd.DataFrame, formats: dict[str, str] | None = None):
    ws = wb.create_sheet(title)
    _write(ws, 1, frame, formats or {})
    ws.freeze_panes = "A2"
    for k, column in enumerate(frame.columns, start=1):
        width = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))]) + 2
        ws.column_dimensions[get_column_letter(k)].width = min(width, 60)
    return ws


def _append(ws, frame: pd.DataFrame, title: str) -> None:
    row = ws.max_row + 2
    set_cell(ws, row, 1, title).font = Font(bold=True)
    _write(ws, row + 1, frame, {})


def _write(ws, top: int, frame: pd.DataFrame, formats: dict[str, str]) -> None:
    """Header in bold, then the rows; numbers stay numbers, shown with ``formats[column]`` (or 0.000)."""
    for k, column in enumerate(frame.columns, start=1):
        set_cell(ws, top, k, column).font = Font(bold=True)
    for r, row in enumerate(frame.itertuples(index=False), start=top + 1):
        for k, (column, value) in enumerate(zip(frame.columns, row), start=1):
            cell = set_cell(ws, r, k, value)
            if isinstance(value, (float, np.floating)):
                cell.number_format = formats.get(column, FIGURE)
