"""``pscore calibrate``'s workbook side: read the sheets of past cohorts, write the back-test report.

Matching outcomes with snapshots lives in :mod:`scoring.calibration.cohort` and the statistics in
:mod:`scoring.calibration.run`; this module only reads and writes workbooks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from scoring import ScoringModel
from scoring.calibration.cohort import HISTORY_SHEET, OUTCOMES_SHEET, CohortData, build_cohort
from scoring.calibration.run import CURRENT, SUGGESTED, CalibrationRun
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS

from xlplugin.workbook.save import atomic_save, set_cell
from xlplugin.workbook.reader import open_workbook, read_table

PARTNERS_SHEET = "Partners"
FIGURE, SCORE, MONEY = "0.000", "0.0", "#,##0"  # number formats in the report


def read_cohort(path: "str | Path", model: ScoringModel, *, window_months: int = DEFAULT_WINDOW_MONTHS,
                horizon_months: int = 12, partners_sheet: str = PARTNERS_SHEET) -> CohortData:
    """Partners with outcomes from the workbook at ``path``, each as it looked ``window_months`` in."""
    workbook = open_workbook(path)
    partners = read_table(workbook, partners_sheet, model, source=path, required=("partner_id", "onboarding_start"))
    history = read_table(workbook, HISTORY_SHEET, model, source=path, required=("partner_id", "period"),
                         optional=True)
    outcomes = read_table(workbook, OUTCOMES_SHEET, model, source=path, required=("partner_id",))
    assert partners is not None and outcomes is not None  # required sheets
    return build_cohort(partners.frame, None if history is None else history.frame, outcomes.frame, model,
                        window_months=window_months, horizon_months=horizon_months, source=str(path))


# ------------------------------------------------------------------ report workbook


def write_report(run: CalibrationRun, path: "str | Path", model_label: str, source: str) -> Path:
    """The back-test report as a workbook: one plain sheet per table, figures as numbers."""
    report = run.report
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    lines = [f"Calibration of {model_label} on {source}", "", *report.summary, "",
             "Every figure is measured on the later onboarding cohorts, with everything fitted on the earlier ones.",
             "95% intervals come from resampling those partners; 'no clear difference' means the interval "
             "of the difference includes zero.",
             *(["Points: per metric and category (or bin of values), the analyst's sub-score, the outcome rate "
                "observed with its count and 95% interval, and the fitted sub-score: where the prior was wrong."]
               if len(report.categories) else [])]
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
    change = {"current": SCORE, "suggested": SCORE, "fitted": SCORE, "change": "+0.0;-0.0;0.0"}
    ws = _table(wb, "Weights", report.weights, change)
    if SUGGESTED in set(report.peers.model):
        figures = report.peers[report.peers.model.isin([CURRENT, SUGGESTED])]
        _append(ws, figures[["model", "figure", "value", "low", "high", "difference", "verdict"]],
                "Back-test of the current and suggested weights (suggested weights searched on the earlier cohorts):")
    if len(report.categories):
        _table(wb, "Points", report.categories, {"analyst": SCORE, "fitted": SCORE, "observed": FIGURE,
                                                 "low": FIGURE, "high": FIGURE})
        _table(wb, "Layers", report.layers)
        _table(wb, "Factors", report.factors, {"analyst": "0.00", "fitted": "0.00"})
        _table(wb, "Prior", report.priors, {"auc": FIGURE, "normalized_gini": FIGURE, "criterion": FIGURE})
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
