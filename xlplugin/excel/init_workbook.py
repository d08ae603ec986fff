"""``pscore excel init``: a copy of a partner workbook, ready for the pscore Excel add-in.

The copy gets an ``xlwings.conf`` sheet naming the function modules (so *Import Functions* finds
them), a Model sheet if it has none from pscore (the weights the functions read), row-function
columns next to the partner table, a ``pscore`` sheet whose table function spills every score, and
a ``Read me`` sheet with the steps. The input is never modified, and the copy keeps every part of
it: pscore's sheets are added to the package and the row-function cells put into the partner
sheet's XML (see :mod:`xlplugin.workbook.assemble`).

openpyxl cannot mark a formula as a dynamic array, and Excel opens an unmarked array formula as a
legacy one (``=@pscore_scores(...)``, one cell, no spill); so the spilling cells get the ``XLDAPR``
cell metadata Excel itself writes for a spilling formula.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.worksheet.formula import ArrayFormula

from scoring import ScoringModel, load_model

from xlplugin.workbook import model_sheet
from xlplugin.workbook.assemble import Assembly, place, scratch_workbook
from xlplugin.workbook.book import Book
from xlplugin.workbook.save import set_cell
from xlplugin.workbook.reader import WorkbookError, open_workbook, read_table

CONF, LIVE, README = "xlwings.conf", "pscore", "Read me"
UDF_MODULES = "xlplugin.excel.udfs;xlplugin.excel.macros"
MODEL_COLUMNS = "I"  # the Model sheet's last column (model_sheet.write)
#: Row-function columns added next to the partner table: header -> function.
ROW_FUNCTIONS = {
    "Revenue score (pscore)": "pscore_revenue_score",
    "Engagement score (pscore)": "pscore_engagement_score",
    "Tier (pscore)": "pscore_tier",
    "Next action (pscore)": "pscore_next_action",
}
AS_OF_CELL = "$B$4"
INPUT = PatternFill(start_color="FFF2CC", end_color="FFF2CC", fill_type="solid")
BOLD = Font(bold=True)
CELLS = "partner cells"  # the scratch sheet holding the cells added to the partner sheet


@dataclass(frozen=True)
class Setup:
    """What was written, for the command's summary."""

    path: Path
    partners: int
    table: str  # the partner table's range, e.g. Partners!$A$1:$AA$301
    model: str  # the Model range the formulas read
    notes: list[str] = field(default_factory=list)  # e.g. a user's sheet named like one of pscore's


def init_workbook(source: "str | Path", output: "str | Path", as_of: dt.date, sheet: str = "Partners") -> Setup:
    """Write ``output``: ``source`` plus the add-in's sheets and example formulas."""
    source, output = Path(source), Path(output)
    if output.resolve() == source.resolve():
        raise WorkbookError(f"{output}: refusing to overwrite the input workbook; choose another output file")
    book = open_workbook(source)
    if book.package.macro_enabled and output.suffix.lower() != ".xlsm":
        raise WorkbookError(f"{output}: the output must end in .xlsm: only a .xlsm keeps the workbook's macros")
    if not book.package.macro_enabled and output.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{output}: the output must end in .xlsx (save it as .xlsm in Excel after importing functions)")
    model = load_model("default")
    if sheet not in book.sheetnames:
        raise WorkbookError(f"{source}: no '{sheet}' sheet (sheets: {', '.join(book.sheetnames)})")
    header_row, first, last, rows, earlier = _partner_table(book, sheet, model, source)
    existing_model = book.pscore_sheet(model_sheet.MODEL)
    placements, notes = place(book.package, [README, LIVE, CONF] + ([] if existing_model else [model_sheet.MODEL]),
                              first=(README, LIVE))
    if any(p.role == CONF and p.name != CONF for p in placements):  # xlwings reads only a sheet of that name
        placements = [p for p in placements if p.role != CONF]
        notes = [n for n in notes if f"'{CONF}'" not in n] + [
            f"The workbook's own {CONF} sheet is kept as it is; add UDF Modules = {UDF_MODULES} to it for "
            "Import Functions to find pscore's functions."]
    names = {p.role: p.name for p in placements}
    scratch = scratch_workbook(book.package)
    sheets = {p.role: scratch.create_sheet(p.name) for p in placements}
    if existing_model:
        model_name, model_rows = existing_model, len(book.grid(existing_model).values)
    else:
        model_sheet.write(sheets[model_sheet.MODEL], model)
        model_name, model_rows = names[model_sheet.MODEL], sheets[model_sheet.MODEL].max_row
    model_ref = f"{quote_sheetname(model_name)}!$A$1:${MODEL_COLUMNS}${model_rows}"
    live = f"{quote_sheetname(names[LIVE])}!{AS_OF_CELL}"
    _row_formulas(scratch.create_sheet(CELLS), header_row, first, last, rows, model_ref, live)
    table = f"{quote_sheetname(sheet)}!${first}${header_row}:${last}${max(rows)}"
    spills = _live_sheet(sheets[LIVE], table, model_ref, as_of)
    if CONF in sheets:
        _conf_sheet(sheets[CONF])
    sheet_ref = quote_sheetname(sheet)
    example = (f"=pscore_tier({sheet_ref}!${first}{rows[0]}:${last}{rows[0]},"
               f"{sheet_ref}!${first}${header_row}:${last}${header_row})")
    _readme(sheets[README], readme_lines(sheet, table, model_ref, example))
    assembly = Assembly(book.package)
    written = assembly.add_sheets(scratch, placements, select=names[README])
    assembly.add_cells(book.package.sheet(sheet), CELLS, set(earlier), header_row)
    marker = assembly.dynamic_array()
    assembly.edit_part(written[names[LIVE]], lambda xml: _spilling(xml, spills, marker))
    assembly.calculate_on_open()  # no cached values: let Excel calculate on opening
    assembly.save(output, stamp=dt.datetime.combine(as_of, dt.time()))
    return Setup(output, len(rows), table, model_ref, notes)


def _partner_table(book: Book, sheet: str, model: ScoringModel, source: Path) -> tuple[int, str, str, list[int], list[int]]:
    """Header row, first and last column letters and data rows of the partner table, leaving out
    the row-function columns an earlier ``excel init`` added (returned last: they are cleared, then
    rewritten)."""
    data = read_table(book, sheet, model, source=source, unique_ids=True)
    header_row = data.header_row
    header = book.grid(sheet).values[header_row - 1]
    columns = [c for c, value in enumerate(header, start=1) if value not in (None, "")]
    ours = [c for c in columns if header[c - 1] in ROW_FUNCTIONS]
    columns = [c for c in columns if c not in ours]
    rows = [int(r) for r in data.frame.index]
    if not rows:
        raise WorkbookError(f"{source}: sheet '{sheet}' has no partners below its header row")
    return header_row, get_column_letter(columns[0]), get_column_letter(columns[-1]), rows, ours


def _row_formulas(ws, header_row: int, first: str, last: str, rows: list[int], model_ref: str, as_of_ref: str) -> None:
    """One column per row function, a blank column after the table, one formula per partner row."""
    start = column_index_from_string(last) + 2
    header = f"${first}${header_row}:${last}${header_row}"
    for k, (title, function) in enumerate(ROW_FUNCTIONS.items()):
        col = start + k
        set_cell(ws, header_row, col, title).font = BOLD
        ws.column_dimensions[get_column_letter(col)].width = 40 if function == "pscore_next_action" else 16
        for r in rows:
            ws.cell(r, col).value = f"={function}(${first}{r}:${last}{r},{header},{model_ref},{as_of_ref})"


def _live_sheet(ws, table: str, model_ref: str, as_of: dt.date) -> list[str]:
    """Inputs, the model in use and every score, as spilling formulas; returns the spilling cells."""
    set_cell(ws, 1, 1, "pscore: live scores").font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, "These formulas recalculate when the partner table or the Model sheet changes. "
                       "Steps to make them work: the 'Read me' sheet.").font = Font(italic=True, color="555555")
    set_cell(ws, 4, 1, "as of").font = BOLD
    date = set_cell(ws, 4, 2, as_of)
    date.number_format, date.fill = "yyyy-mm-dd", INPUT
    set_cell(ws, 4, 3, "scoring date: sets each partner's maturity stage (edit me)")
    set_cell(ws, 5, 1, "model").font = BOLD
    set_cell(ws, 5, 2, model_ref)
    set_cell(ws, 5, 3, "weights and thresholds: edit the yellow cells of the Model sheet")
    set_cell(ws, 7, 1, "Model in use").font = BOLD
    set_cell(ws, 17, 1, "Scores (one row per partner row)").font = BOLD
    spills = {"A8": f"=pscore_model_info({model_ref})",
              "A18": f"=pscore_scores({table},{model_ref},{AS_OF_CELL})"}
    for ref, formula in spills.items():
        ws[ref] = ArrayFormula(ref, formula)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 22
    return list(spills)


def _conf_sheet(ws) -> None:
    """xlwings reads settings from column A (name) and B (value), from A1 down."""
    set_cell(ws, 1, 1, "UDF Modules")
    set_cell(ws, 1, 2, UDF_MODULES)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 36


def _readme(ws, lines: list[tuple[str, str]]) -> None:
    row = 1
    for text, style in lines:
        cell = set_cell(ws, row, 1, text)
        if style:
            cell.font = Font(bold=True, size=14 if style == "title" else 11)
        row += 1
    ws.column_dimensions["A"].width = 120


def readme_lines(partners: str, table: str, model_ref: str, row_example: str) -> list[tuple[str, str]]:
    """The Read me sheet: ``(text, style)`` with style "title", "heading" or ""."""
    return [
        ("pscore in Excel", "title"),
        ("Score columns that recalculate as you edit partner data or weights, without leaving the workbook.", ""),
        ("", ""),
        ("Set up once (Windows, classic xlwings)", "heading"),
        ("1. In a terminal: pip install pscore   (from your team's package index, or pip install . in a pscore "
         "checkout; it brings the pinned xlwings)", ""),
        ("2. In a terminal: xlwings addin install   (adds the xlwings tab to Excel)", ""),
        ("3. Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings: tick "
         "'Trust access to the VBA project object model'.", ""),
        ("4. Open this workbook. xlwings tab > Import Functions (it reads UDF Modules on the xlwings.conf sheet).", ""),
        ("5. File > Save As > Excel Macro-Enabled Workbook (.xlsm): imported functions live in VBA.", ""),
        ("6. Formulas > Calculate Now (Ctrl+Alt+F9). The pscore sheet and the (pscore) columns fill in.", ""),
        ("", ""),
        ("What is already in place", "heading"),
        (f"{partners}: columns '(pscore)' after the table, one row function per partner row.", ""),
        (f"pscore sheet: the scoring date (B4), the model in use, and =pscore_scores over {table}.", ""),
        (f"Model sheet: weights and thresholds every formula reads ({model_ref}); edit the yellow cells.", ""),
        ("", ""),
        ("Functions (pscore category in Insert Function)", "heading"),
        ("Table functions (one call per sheet, spill a table): pscore_scores, pscore_drivers, pscore_actions, "
         "pscore_percentiles, pscore_flags", ""),
        (f"   =pscore_scores({table},{model_ref},{LIVE}!{AS_OF_CELL},\"partner_id,revenue_score,tier\")", ""),
        ("Row functions (one partner each; fill down): pscore_revenue_score, pscore_engagement_score, "
         "pscore_composite_score, pscore_tier, pscore_quadrant, pscore_top_driver, pscore_next_action, "
         "pscore_engagement_probability, pscore_expected_revenue (the last two need a calibrated model file)", ""),
        (f"   {row_example}", ""),
        ("What-if: =pscore_whatif(row, header, weights) with weights a two-column range: metric | new weight.", ""),
        ("Info: =pscore_model_info() shows the model's name, version, hash and whether it is calibrated.", ""),
        ("Optional arguments: model (blank = built-in; a .yaml path; or the Model sheet's range, as above) and "
         "as_of (blank = today).", ""),
        ("", ""),
        ("Macros (after Import Functions; Alt+F8)", "heading"),
        ("pscore_score_workbook: scores the Partners sheet with the Model sheet's weights into a Scores sheet.", ""),
        ("pscore_scorecards: one PDF scorecard per partner in the selected Partners rows (all when none is selected), into a folder next to this workbook.", ""),
        ("pscore_qbr_pack: the QBR pack, not available yet in this version.", ""),
        ("", ""),
        ("macOS and Excel on the web", "heading"),
        ("The functions also run in xlwings Lite (Windows, macOS, Excel on the web): see docs/excel.md. "
         "Macros and model files on disk need classic xlwings on Windows.", ""),
        ("", ""),
        ("Good to know", "heading"),
        ("An error shows as 'error: ...' in the cell, naming the argument to fix.", ""),
        ("Many partners: prefer one table function over thousands of row formulas (about 0.5 s for 10,000 "
         "partners, against about 1 ms per row formula).", ""),
    ]


# ------------------------------------------------------------------ dynamic-array formulas


def _spilling(xml: bytes, refs: list[str], marker: int) -> bytes:
    """The pscore sheet's XML with the ``refs`` cells marked as dynamic arrays (cell metadata ``marker``)."""
    for ref in refs:
        xml, found = re.subn(rf'<c r="{ref}"(?=[ >])'.encode(), f'<c r="{ref}" cm="{marker}"'.encode(), xml, count=1)
        if not found:
            raise WorkbookError(f"internal: cell {LIVE}!{ref} missing from the written sheet")
    return xml
