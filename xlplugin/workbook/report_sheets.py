"""Report sheets added to a copy of the user's workbook: the scenario, experiment and
interventions-registry sheets.

The same machinery as ``pscore score``'s output (:mod:`assemble`): pscore's sheets are laid out in
a scratch workbook and transplanted into a copy of the user's package, every part of which is kept
byte for byte; a sheet pscore wrote before (found by its marker) is replaced where it stands. A
sheet is a list of blocks: sentences, small tables written cell by cell, and at most one large
table at the bottom, which becomes an Excel table written as sheet rows (fast for 100,000 rows).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from xlplugin.workbook.assemble import Assembly, place, scratch_workbook
from xlplugin.workbook.book import Book
from xlplugin.workbook.reader import WorkbookError
from xlplugin.workbook.save import set_cell, title
from xlplugin.workbook.writer import table

BOLD = Font(bold=True)
HEADING = Font(bold=True, size=12)


@dataclass
class ReportSheet:
    """One sheet: ``role`` (pscore's name for it), a title and note, blocks in order, and an optional
    large ``table`` (name, frame, number formats) below them."""

    role: str
    heading: str
    note: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)  # ("text", [lines]) or ("table", (caption, frame))
    table: tuple[str, pd.DataFrame] | None = None
    table_caption: str = ""
    formats: dict[str, str] = field(default_factory=dict)
    widths: dict[str, float] = field(default_factory=dict)

    def text(self, *lines: str) -> "ReportSheet":
        self.blocks.append(("text", list(lines)))
        return self

    def small(self, caption: str, frame: pd.DataFrame, index: bool = False) -> "ReportSheet":
        self.blocks.append(("table", (caption, frame.reset_index() if index else frame)))
        return self


def output_suffix_check(book: Book, path: Path) -> None:
    """A workbook with macros stays one: written only under a macro-enabled name (.xlsm)."""
    wanted = ".xlsm" if book.package.macro_enabled else ".xlsx"
    if path.suffix.lower() != wanted:
        why = "only a .xlsm keeps the workbook's macros (its VBA project)" if wanted == ".xlsm" else "the workbook has no macros"
        raise WorkbookError(f"{path}: the output must end in {wanted}: {why}")


def write_report_sheets(book: Book, sheets: list[ReportSheet], path: "str | Path", as_of: dt.date,
                        source: "str | Path | None" = None) -> list[str]:
    """A copy of ``book`` with ``sheets`` added (or replacing pscore's earlier ones), written to
    ``path`` atomically; returns a note per user sheet whose name made pscore choose another.
    Writing over the input itself is refused."""
    path = Path(path)
    output_suffix_check(book, path)
    if source is not None and path.resolve() == Path(source).resolve():
        raise WorkbookError(f"{path}: refusing to overwrite the input workbook; choose another output file")
    placements, notes = place(book.package, [s.role for s in sheets])
    names = {p.role: p.name for p in placements}
    scratch = scratch_workbook(book.package)
    bodies = {}
    for sheet in sheets:
        ws = scratch.create_sheet(names[sheet.role])
        body = lay_out(ws, sheet)
        if body is not None:
            bodies[names[sheet.role]] = body
    assembly = Assembly(book.package)
    assembly.add_sheets(scratch, placements, rows=bodies)
    assembly.save(path, stamp=dt.datetime.combine(as_of, dt.time()))
    return notes


def lay_out(ws, sheet: ReportSheet) -> bytes | None:
    """Write ``sheet``'s blocks on ``ws``; the large table's body rows, if it has one."""
    title(ws, sheet.heading, sheet.note)
    row = 4
    widths: dict[int, float] = {1: 16}
    for kind, content in sheet.blocks:
        if kind == "text":
            for line in content:
                set_cell(ws, row, 1, line)
                row += 1
            row += 1
            continue
        caption, frame = content
        set_cell(ws, row, 1, caption).font = HEADING
        row += 1
        for col, column in enumerate(frame.columns, start=1):
            set_cell(ws, row, col, str(column)).font = BOLD
            widths[col] = max(widths.get(col, 10), min(len(str(column)) + 2, 40))
        for values in frame.itertuples(index=False):
            row += 1
            for col, value in enumerate(values, start=1):
                cell = set_cell(ws, row, col, value)
                fmt = sheet.formats.get(str(frame.columns[col - 1]))
                if fmt and isinstance(value, (int, float)):
                    cell.number_format = fmt
                if isinstance(value, str):
                    widths[col] = max(widths.get(col, 10), min(len(value) + 2, 60))
        row += 2
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    if sheet.table is None:
        return None
    name, frame = sheet.table
    if sheet.blocks:
        set_cell(ws, row - 1, 1, sheet.table_caption or "").font = HEADING
    body = table(ws, frame, name, first_row=row, formats=sheet.formats, widths=sheet.widths)
    if sheet.blocks:  # the table starts far down: freezing the rows above it would hide most of the screen
        ws.freeze_panes = None
    return body
