"""The scored workbook: the user's sheets untouched, plus Scores, Data quality, Model and Dashboard.

An analyst opens this file in Excel, so it must read well there: an Excel table with a frozen
header, number formats, a colour scale on scores, tier fills, and the model that produced every
number named at the top. All numbers come from :class:`scoring.ScoreResult`; this module only lays
them out, in a scratch workbook whose sheets :mod:`assemble` adds to the user's file without
re-writing anything of the user's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from scoring import ScoreResult, quality
from scoring.quality import Record

from xlplugin.workbook import dashboard
from xlplugin.workbook import model_sheet
from xlplugin.workbook.assemble import Assembly, place, scratch_workbook
from xlplugin.workbook.book import Book
from xlplugin.workbook.rows import sheet_rows
from xlplugin.workbook.save import set_cell, title
from xlplugin.workbook.reader import SheetData

SCORES, QUALITY = "Scores", "Data quality"
GENERATED = (SCORES, QUALITY, model_sheet.MODEL, dashboard.DASHBOARD)
HEADER_ROW = 4  # rows 1-2: title and the model/date note
SCORE_FORMATS = {
    "months_since_start": "0.0", "revenue_score": "0.0", "engagement_score": "0.0", "composite_score": "0.0",
    "percentile": "0", "segment_percentile": "0", "coverage": "0%",
}
WIDE = {"partner_name": 28, "drivers_up": 60, "drivers_down": 60, "actions": 60, "flags": 60, "model": 30}
TIER_FILLS = {"A": "C6EFCE", "B": "E2F0D9", "C": "FFEB9C", "D": "FFC7CE", "Unscored": "D9D9D9"}


def output_frame(result: ScoreResult) -> pd.DataFrame:
    """The public score columns plus the model and date they came from: what CSV and Scores sheet show."""
    out = result.frame.copy()
    out["model"] = result.model.label
    out["as_of"] = result.as_of.isoformat()
    return out


def write(book: Book, result: ScoreResult, partners: SheetData, history: SheetData | None,
          issues: list[Record], path: "str | Path") -> list[str]:
    """Write ``book`` with the generated sheets (replacing the ones pscore wrote before) to ``path``,
    atomically; returns a line for each of the user's sheets whose name made pscore choose another.

    Parts pscore adds carry the scoring date, so the same input and model give the same bytes.
    """
    placements, notes = place(book.package, GENERATED)
    names = {p.role: p.name for p in placements}
    scratch = scratch_workbook(book.package)
    bodies = {names[SCORES]: _scores(scratch.create_sheet(names[SCORES]), result),
              names[QUALITY]: _quality(scratch.create_sheet(names[QUALITY]), result, partners, issues)}
    model_sheet.write(scratch.create_sheet(names[model_sheet.MODEL]), result.model)
    dashboard.write(scratch.create_sheet(names[dashboard.DASHBOARD]), result, partners, history)
    assembly = Assembly(book.package)
    assembly.add_sheets(scratch, placements, rows=bodies)
    assembly.save(path, stamp=dt.datetime.combine(result.as_of, dt.time()))
    return notes


def table(ws, frame: pd.DataFrame, name: str, first_row: int = HEADER_ROW, formats: dict | None = None,
          widths: dict | None = None) -> bytes:
    """Make ``frame`` an Excel table at ``first_row``: the header row goes on ``ws``, the body is
    returned as sheet rows (:func:`rows.sheet_rows`) for the assembly to put below it."""
    formats, widths = formats or {}, widths or {}
    for col, column in enumerate(frame.columns, start=1):
        set_cell(ws, first_row, col, column)
        ws.column_dimensions[get_column_letter(col)].width = widths.get(column, max(12, len(str(column)) + 2))
    last = first_row + max(len(frame), 1)
    ref = f"A{first_row}:{get_column_letter(len(frame.columns))}{last}"
    tab = Table(displayName=name, ref=ref)
    tab.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(tab)
    ws.freeze_panes = ws.cell(first_row + 1, 1)
    return sheet_rows(ws, frame, first_row + 1, formats)


def _scores(ws, result: ScoreResult) -> bytes:
    frame = output_frame(result)
    title(ws, "Partner scores",
          f"Model {result.model.label} · scored as of {result.as_of.isoformat()} · {len(frame)} partners"
          f" · drivers are points above/below a baseline of {result.baseline:g}")
    body = table(ws, frame, "PscoreScores", formats=SCORE_FORMATS, widths=WIDE)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 3)  # keep id and name in view
    last = HEADER_ROW + max(len(frame), 1)
    columns = list(frame.columns)
    for column in ("revenue_score", "engagement_score", "composite_score"):
        letter = get_column_letter(columns.index(column) + 1)
        ws.conditional_formatting.add(
            f"{letter}{HEADER_ROW + 1}:{letter}{last}",
            ColorScaleRule(start_type="num", start_value=0, start_color="F8696B", mid_type="num", mid_value=50,
                           mid_color="FFEB84", end_type="num", end_value=100, end_color="63BE7B"),
        )
    tier = get_column_letter(columns.index("tier") + 1)
    for value, colour in TIER_FILLS.items():
        ws.conditional_formatting.add(
            f"{tier}{HEADER_ROW + 1}:{tier}{last}",
            CellIsRule(operator="equal", formula=[f'"{value}"'],
                       fill=PatternFill(start_color=colour, end_color=colour, fill_type="solid")),
        )
    for col in ("tier", "quadrant", "stage"):
        ws.column_dimensions[get_column_letter(columns.index(col) + 1)].width = 16
    for row in ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return body


def quality_records(result: ScoreResult, partners: SheetData, issues: list[Record]) -> pd.DataFrame:
    """Every record from reading and from scoring, one per cell, as the Data quality sheet shows them
    (see :func:`scoring.quality.records`)."""
    found = quality.records(result, partners.frame, issues, sheet=partners.sheet, headers=partners.headers)
    return quality.frame(found)


def _quality(ws, result: ScoreResult, partners: SheetData, issues: list[Record]) -> bytes:
    records = quality_records(result, partners, issues)
    title(ws, "Data quality", f"{len(records)} records from reading the workbook and scoring it · "
                              "row and column point at the cell to fix")
    return table(ws, records, "PscoreDataQuality", widths={"column": 30, "value": 18, "problem": 60, "action": 50})
