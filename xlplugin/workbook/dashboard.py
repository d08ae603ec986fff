"""The ``Dashboard`` sheet: native Excel charts over small tables of the numbers they plot.

Tier distribution, score distribution and -- when the workbook has a ``History`` sheet -- the
median revenue and engagement score by month. Charts reference cells on this sheet, so they stay
live in Excel and readable in any spreadsheet program.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font

from scoring import ScoreResult
from scoring.history import score_history
from scoring.monitoring import shift_line, since_calibration

from xlplugin.workbook.save import set_cell, title
from xlplugin.workbook.reader import SheetData

DASHBOARD = "Dashboard"
BINS = list(range(0, 100, 10))


def write(ws, result: ScoreResult, partners: SheetData, history: SheetData | None) -> None:
    frame = result.frame
    title(ws, "Dashboard", f"Model {result.model.label} · as of {result.as_of.isoformat()} · {len(frame)} partners")
    shifted = shift_line(since_calibration(partners.frame, result.model, result.as_of))
    if shifted:  # inputs moved away from the calibration's cohort: its predictions may no longer hold
        set_cell(ws, 3, 1, shifted[0].upper() + shifted[1:] + " (pscore monitor shows what moved).").font = \
            Font(bold=True, color="B0413E")
    tiers = [t.id for t in result.model.spec.tiers] + ["Unscored"]
    counts = frame["tier"].value_counts()
    row = _table(ws, 4, 1, ["tier", "partners"], [[t, int(counts.get(t, 0))] for t in tiers])
    _bar(ws, "Partners by tier", 4, 1, row - 1, "H4", "Tier", "Partners")

    bins = [[f"{lo}-{lo + 9}" if lo < 90 else "90-100", *(_binned(frame[c], lo) for c in
            ("revenue_score", "engagement_score", "composite_score"))] for lo in BINS]
    start = row + 2
    row = _table(ws, start, 1, ["score band", "revenue", "engagement", "composite"], bins)
    _bar(ws, "Score distribution", start, 1, row - 1, "H20", "Score band", "Partners", series=3)

    trend = _monthly(result, partners, history)
    if len(trend):
        start = row + 2
        row = _table(ws, start, 1, ["month", "median revenue score", "median engagement score", "partners"],
                     trend.values.tolist())
        chart = LineChart()
        chart.title, chart.y_axis.title, chart.x_axis.title = "Median scores by month (History)", "Score", "Month"
        chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=start, max_row=row - 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=start + 1, max_row=row - 1))
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.height, chart.width = 8, 18
        ws.add_chart(chart, "H36")
    else:
        set_cell(ws, row + 2, 1, "No History sheet: add monthly snapshots to see scores by month.")
    for col, width in zip("ABCD", (14, 22, 24, 12)):
        ws.column_dimensions[col].width = width


def _binned(scores: pd.Series, lo: int) -> int:
    values = scores.to_numpy(dtype=float)
    hi = 100.0 if lo == 90 else lo + 10
    inside = (values >= lo) & ((values < hi) if lo < 90 else (values <= hi))
    return int(np.count_nonzero(inside))


def _monthly(result: ScoreResult, partners: SheetData, history: SheetData | None) -> pd.DataFrame:
    if history is None:
        return pd.DataFrame()
    scored = score_history(history.frame, partners.frame, result.model)
    if scored.empty:
        return pd.DataFrame()
    by_month = scored.groupby("period").agg(
        revenue=("revenue_score", "median"), engagement=("engagement_score", "median"), partners=("partner_id", "nunique"))
    by_month.index = [pd.Timestamp(p).strftime("%Y-%m") for p in by_month.index]
    return by_month.reset_index().round({"revenue": 1, "engagement": 1})


def _table(ws, row: int, col: int, headers: list[str], rows: list[list]) -> int:
    for k, header in enumerate(headers):
        set_cell(ws, row, col + k, header)
    for r, values in enumerate(rows, start=row + 1):
        for k, value in enumerate(values):
            set_cell(ws, r, col + k, value)
    return row + 1 + len(rows)


def _bar(ws, name: str, header_row: int, col: int, last_row: int, anchor: str, x: str, y: str, series: int = 1) -> None:
    chart = BarChart()
    chart.title, chart.x_axis.title, chart.y_axis.title = name, x, y
    chart.add_data(Reference(ws, min_col=col + 1, max_col=col + series, min_row=header_row, max_row=last_row),
                   titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=col, min_row=header_row + 1, max_row=last_row))
    chart.height, chart.width = 7.5, 16
    ws.add_chart(chart, anchor)
