"""``pscore excel init``: a copy of a partner workbook, ready for the pscore Excel add-in.

The copy gets an ``xlwings.conf`` sheet naming the function modules (so *Import Functions* finds
them), a Model sheet if it has none (the weights the functions read), row-function columns next to
the partner table, a ``pscore`` sheet whose table function spills every score, and a ``Read me``
sheet with the steps. The input is never modified.

openpyxl cannot mark a formula as a dynamic array, and Excel opens an unmarked array formula as a
legacy one (``=@pscore_scores(...)``, one cell, no spill); so the saved file is given the
``XLDAPR`` cell metadata Excel itself writes for a spilling formula.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from xml.etree import ElementTree
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter, quote_sheetname
from openpyxl.worksheet.formula import ArrayFormula

from scoring import ScoringModel, load_model

from xlplugin.workbook import model_sheet
from xlplugin.workbook.save import atomic_write, set_cell
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


@dataclass(frozen=True)
class Setup:
    """What was written, for the command's summary."""

    path: Path
    partners: int
    table: str  # the partner table's range, e.g. Partners!$A$1:$AA$301
    model: str  # the Model range the formulas read


def init_workbook(source: "str | Path", output: "str | Path", as_of: dt.date, sheet: str = "Partners") -> Setup:
    """Write ``output``: ``source`` plus the add-in's sheets and example formulas."""
    source, output = Path(source), Path(output)
    if output.resolve() == source.resolve():
        raise WorkbookError(f"{output}: refusing to overwrite the input workbook; choose another output file")
    if output.suffix.lower() != ".xlsx":
        raise WorkbookError(f"{output}: the output must end in .xlsx (save it as .xlsm in Excel after importing functions)")
    wb = open_workbook(source)
    model = load_model("default")
    for name in (CONF, LIVE, README):
        if name in wb.sheetnames:
            del wb[name]
    if sheet not in wb.sheetnames:
        raise WorkbookError(f"{source}: no '{sheet}' sheet (sheets: {', '.join(wb.sheetnames)})")
    ws = wb[sheet]
    header_row, first, last, rows = _partner_table(wb, ws, model, source)
    if model_sheet.MODEL not in wb.sheetnames:
        model_sheet.write(wb.create_sheet(model_sheet.MODEL), model)
    model_ref = f"{quote_sheetname(model_sheet.MODEL)}!$A$1:${MODEL_COLUMNS}${wb[model_sheet.MODEL].max_row}"
    live = f"{quote_sheetname(LIVE)}!{AS_OF_CELL}"
    _row_formulas(ws, header_row, first, last, rows, model_ref, live)
    table = f"{quote_sheetname(ws.title)}!${first}${header_row}:${last}${max(rows)}"
    spills = _live_sheet(wb.create_sheet(LIVE, 0), table, model_ref, as_of)
    _conf_sheet(wb.create_sheet(CONF))
    sheet_ref = quote_sheetname(ws.title)
    example = (f"=pscore_tier({sheet_ref}!${first}{rows[0]}:${last}{rows[0]},"
               f"{sheet_ref}!${first}${header_row}:${last}${header_row})")
    _readme(wb.create_sheet(README, 0), readme_lines(ws.title, table, model_ref, example))
    for other in wb.worksheets:  # one selected tab, or Excel opens with sheets grouped
        other.sheet_view.tabSelected = other is wb.worksheets[0]
    wb.active = 0
    wb.calculation.fullCalcOnLoad = True  # no cached values: let Excel calculate on opening
    atomic_write(output, lambda tmp: _save(wb, tmp, {LIVE: spills}))
    return Setup(output, len(rows), table, model_ref)


def _partner_table(wb: Workbook, ws, model: ScoringModel, source: Path) -> tuple[int, str, str, list[int]]:
    """Header row, first and last column letters and data rows of the partner table, leaving out
    the row-function columns an earlier ``excel init`` added (they are cleared, then rewritten)."""
    data = read_table(wb, ws.title, model, source=source, unique_ids=True)
    header_row = data.header_row
    columns = [c for c in range(1, ws.max_column + 1) if ws.cell(header_row, c).value not in (None, "")]
    ours = [c for c in columns if ws.cell(header_row, c).value in ROW_FUNCTIONS]
    for c in ours:
        for r in range(header_row, ws.max_row + 1):
            ws.cell(r, c).value = None
    columns = [c for c in columns if c not in ours]
    rows = [int(r) for r in data.frame.index]
    if not rows:
        raise WorkbookError(f"{source}: sheet '{ws.title}' has no partners below its header row")
    return header_row, get_column_letter(columns[0]), get_column_letter(columns[-1]), rows


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


METADATA = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" '
    'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" '
    'coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
)
METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
METADATA_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sheetMetadata"


def _save(wb: Workbook, path: Path, spills: dict[str, list[str]]) -> None:
    """Save ``wb`` to ``path``, then mark the ``spills`` cells (sheet -> cell refs) as dynamic arrays."""
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    for sheet, refs in spills.items():
        part = _sheet_part(parts, sheet)
        xml = parts[part].decode("utf-8")
        for ref in refs:
            xml, found = re.subn(rf'<c r="{ref}"(?=[ >])', f'<c r="{ref}" cm="1"', xml, count=1)
            if not found:
                raise WorkbookError(f"internal: cell {sheet}!{ref} missing from the saved sheet")
        parts[part] = xml.encode("utf-8")
    parts["xl/metadata.xml"] = METADATA.encode("utf-8")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", f'<Override PartName="/xl/metadata.xml" ContentType="{METADATA_TYPE}"/></Types>'.encode())
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        f'<Relationship Id="rIdPscoreMetadata" Type="{METADATA_REL}" Target="metadata.xml"/></Relationships>'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def _sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    """The archive path of ``sheet``'s XML, via workbook.xml and its relationships."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    sheets = ElementTree.fromstring(parts["xl/workbook.xml"]).iter(f"{main}sheet")
    rid = next((s.get(rel_id) for s in sheets if s.get("name") == sheet), None)
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    target = next((r.get("Target") for r in rels if r.get("Id") == rid), None)
    if target is None:
        raise WorkbookError(f"internal: sheet '{sheet}' missing from the saved workbook")
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
