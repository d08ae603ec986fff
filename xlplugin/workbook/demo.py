"""The ``pscore demo`` workbook: synthetic partner data (:mod:`scoring.synthetic`) written as an
Excel workbook, About sheet first, one sheet per frame after it. A synthetic marketplace programme
(:mod:`scoring.synthetic.programmes`) is written the same way (:func:`write_programme`).

Saved atomically with document and archive dates fixed to the data's as-of date, so the same data
always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from scoring.synthetic import DemoData, about_lines
from scoring.synthetic.programme_about import about_programme
from scoring.synthetic.programmes import Programme

from xlplugin.workbook.save import FORMULA_PREFIXES, atomic_save, cell_value


def write_workbook(data: DemoData, path: "str | Path") -> Path:
    """Write the demo workbook (About first, then one sheet per frame; ``truth`` stays out).

    Saved atomically, with document and archive dates fixed to as_of, so the same data gives the
    same bytes.
    """
    wb = Workbook(write_only=True)  # fast for 100,000+ rows
    _write_lines(wb.create_sheet("About"), about_lines(data))
    for title, frame in (
        ("Partners", data.partners),
        ("History", data.history),
        ("Milestones", data.milestones),
        ("Outcomes", data.outcomes),
        ("Interventions", data.interventions),
        ("Experiments", data.experiments),
    ):
        _write_table(wb.create_sheet(title), frame)
    return atomic_save(wb, path, stamp=dt.datetime.combine(data.as_of, dt.time()))


def write_programme(programme: Programme, path: "str | Path") -> Path:
    """Write a programme's export: About, Partners, History (only when the programme has one) and
    Outcomes; the truth stays out. Saved like the demo: atomically, dated as_of, same data same bytes."""
    wb = Workbook(write_only=True)
    _write_lines(wb.create_sheet("About"), about_programme(programme))
    sheets = [("Partners", programme.partners), ("History", programme.history), ("Outcomes", programme.outcomes)]
    for title, frame in sheets:
        if frame is not None:
            _write_table(wb.create_sheet(title), frame)
    return atomic_save(wb, path, stamp=dt.datetime.combine(programme.as_of, dt.time()))


BOLD = Font(bold=True)


def _bold(ws, value: object) -> Cell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = BOLD
    return cell


def _write_table(ws, frame: pd.DataFrame) -> None:
    """Bold header, frozen below it, columns sized to their content, dates as dates."""
    columns = [_column_values(ws, frame[c]) for c in frame.columns]
    for j, (name, values) in enumerate(zip(frame.columns, columns), start=1):
        sample = [len(str(v)) for v in values[:500] if v is not None]
        ws.column_dimensions[get_column_letter(j)].width = min(max([len(name), *sample]) + 2, 50)
    ws.freeze_panes = "A2"
    ws.append([_bold(ws, name) for name in frame.columns])
    for row in zip(*columns):
        ws.append(row)


def _column_values(ws, column: pd.Series) -> list:
    """Column -> plain Python cell values, following save.set_cell's rules without a cell object per value."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = column.dt.date.to_numpy(dtype=object, copy=True)
    else:
        values = column.to_numpy(dtype=object, copy=True)
    values[column.isna().to_numpy()] = None
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
        return values.tolist()
    return [_text_safe(ws, cell_value(v)) for v in values]


def _text_safe(ws, value: object) -> object:
    """Text that Excel would read as a formula is forced to a plain string cell, as set_cell does."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _write_lines(ws, lines: list[tuple[str, object]]) -> None:
    """An About sheet: bold labels in column A, text in a wide column B."""
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 120
    for label, text in lines:
        ws.append([_bold(ws, label) if label else None, text])
