"""pscore macros for classic xlwings: score the workbook into a Scores sheet, PDF scorecards, QBR packs.

Each entry point is an xlwings script (a VBA ``Sub`` after *Import Functions*, or
``RunPython "import xlplugin.excel.macros as m; m.pscore_score_workbook()"``). The Excel-touching part is
a few lines; the work is done on cell values by functions that need no Excel, so it is tested
like the rest of pscore. Problems are shown in a message box, never as a traceback. pscore's own
sheets (Model, the pscore sheet, Scores) are found by the marker pscore gives them, never by name,
so a user's sheet that happens to be called ``Scores`` is never overwritten.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Sequence

import xlwings as xw

from scoring import ModelError
from scoring.checked import score_checked

from xlplugin.excel.args import ArgumentError, Grid, as_of_arg, cells, message, model_arg, table_arg
from xlplugin.excel.init_workbook import AS_OF_CELL, LIVE
from xlplugin.workbook.assemble import free_name
from xlplugin.workbook.model_sheet import MODEL
from xlplugin.workbook.package import MARKER
from xlplugin.workbook.reader import WorkbookError, read_grid
from xlplugin.workbook.writer import SCORES, output_frame
from xlplugin.workbook.scorecard_inputs import EXTRA_SHEETS, REVIEW_SHEETS
from xlplugin.workbook.pipeline import HISTORY_SHEET as HISTORY, ScoredInput, score_tables

PARTNERS = "Partners"
TITLE = "pscore"


def scores_sheet(partners: Grid, model: Grid | None, as_of: dt.date) -> list[list[Any]]:
    """The Scores sheet's cells: a title, the model and date it was scored with, then one row per
    partner with the same columns as ``pscore score`` writes."""
    scoring_model = model_arg(model)
    data = table_arg(partners, scoring_model)
    result = score_checked(data.frame, scoring_model, as_of=as_of).result  # checked as pscore score does
    frame = output_frame(result)
    note = (f"Model {scoring_model.label} · scored as of {as_of.isoformat()} · {len(frame)} partners · "
            "run the pscore_score_workbook macro again after editing Partners or Model")
    width = len(frame.columns)
    pad = [None] * (width - 1)
    return [["Partner scores", *pad], [note, *pad], [None] * width, list(frame.columns), *cells(frame)]


def scorecards(sheets: dict[str, Grid], model: Grid | None, as_of: dt.date, book_path: Path,
               selected_rows: Sequence[int] = (), audience: str = "partner") -> str:
    """PDF scorecards for the partners in ``selected_rows`` (sheet row numbers on Partners; all
    partners when none is selected), written to a folder next to the workbook. Returns the
    message shown to the user: what was written where, and which partners failed."""
    from reports.job import build_cards, write_scorecards
    from reports.render import RenderOptions

    from xlplugin.workbook.scorecard_inputs import job_inputs

    scored = _scored(sheets, model, as_of, book_path)
    partners = scored.partners
    rows, selected = list(partners.frame.index), set(selected_rows)
    chosen = [k for k, row in enumerate(rows) if row in selected] or list(range(len(rows)))
    cards = build_cards(job_inputs(scored, sheets), chosen, audience)
    out_dir = book_path.parent / f"{book_path.stem} scorecards {as_of.isoformat()}"
    # One process: Excel's Python is a COM server, where starting worker processes is fragile, and a
    # selection is usually a handful of partners (pscore report scorecards uses every core).
    summary = write_scorecards(cards, out_dir, RenderOptions(), workers=1)
    text = f"Wrote {len(summary.written)} {audience} scorecards to {out_dir}."
    if summary.failures:
        text += f" {len(summary.failures)} failed: " + "; ".join(f"{p}: {why}" for p, why in summary.failures)
    return text


def _scored(sheets: dict[str, Grid], model: Grid | None, as_of: dt.date, book_path: Path) -> ScoredInput:
    """The Partners (and History) cells read and scored as ``pscore`` reads a workbook."""
    scoring_model = model_arg(model)
    partners = read_grid(sheets[PARTNERS], scoring_model, PARTNERS, source=book_path.name, unique_ids=True)
    history = (read_grid(sheets[HISTORY], scoring_model, HISTORY, source=book_path.name)
               if HISTORY in sheets else None)
    return score_tables(None, book_path, scoring_model, partners, history, as_of)


def qbr_pack(sheets: dict[str, Grid], model: Grid | None, as_of: dt.date, book_path: Path) -> str:
    """The programme QBR pack of the quarter ``as_of`` falls in, written next to the workbook as
    ``<workbook> QBR <quarter>.pdf``. Returns the message shown to the user."""
    from reports.qbr import Review
    from reports.qbr_job import write_programme
    from reports.qbr_results import gather
    from reports.render import RenderOptions
    from scoring.quarters import quarter_of

    from xlplugin.workbook.scorecard_inputs import EXPERIMENTS_SHEET, OUTCOMES_SHEET, job_inputs, review_sheets

    scored = _scored(sheets, model, as_of, book_path)
    quarter = quarter_of(as_of)
    out = book_path.parent / f"{book_path.stem} QBR {quarter}.pdf"
    inputs, extra = job_inputs(scored, sheets), review_sheets(scored, sheets)
    reasons, results = gather(inputs, quarter, experiments=extra[EXPERIMENTS_SHEET], outcomes=extra[OUTCOMES_SHEET])
    write_programme(Review(inputs, quarter, reasons=reasons, results=results), out, RenderOptions())
    return f"Wrote the programme QBR pack for {quarter.label} ({len(scored.result)} partners) to {out}."


# ------------------------------------------------------------------ Excel entry points


@xw.script
def pscore_score_workbook() -> None:
    """Score the Partners sheet into the Scores sheet, with the Model sheet's weights and the pscore
    sheet's date when the workbook has them (as its live formulas do)."""
    book = xw.Book.caller()
    _run(book, lambda: _write_scores(book))


@xw.script
def pscore_scorecards() -> None:
    """PDF scorecards for the partners in the selected rows of the Partners sheet (all partners when
    the selection is elsewhere), into a folder next to the workbook."""
    book = xw.Book.caller()
    _run(book, lambda: _write_scorecards(book))


@xw.script
def pscore_qbr_pack() -> None:
    """The programme QBR pack of the active workbook as PDF, next to the workbook."""
    book = xw.Book.caller()
    _run(book, lambda: _write_qbr_pack(book))


@xw.script
def pscore_scenario() -> None:
    """The scenario of the Model sheet's edits against the model they were made from, into pscore's
    Scenario sheet (see :mod:`xlplugin.excel.scenario_macro`)."""
    book = xw.Book.caller()
    _run(book, lambda: _write_scenario(book))


def _write_scenario(book: Any) -> None:
    from xlplugin.excel.scenario_macro import SCENARIO, scenario_cells

    names = _names(book)
    model, as_of = _model_and_date(book)
    if model is None:
        raise WorkbookError("no Model sheet written by pscore: run pscore score (or pscore excel init) first, "
                            "then edit its yellow cells")
    partners = book.sheets[PARTNERS] if PARTNERS in names else book.sheets.active
    folder = Path(book.fullname).parent if book.fullname and Path(book.fullname).parent.is_dir() else None
    values = scenario_cells(_values(partners), model, as_of, folder)
    target = _pscore_sheet(book, SCENARIO)
    if target is None:
        taken = {n.casefold() for n in names}
        target = book.sheets.add(SCENARIO if SCENARIO.casefold() not in taken else free_name(SCENARIO, taken),
                                 after=book.sheets[len(names) - 1])
        target.names.add(MARKER, f'="{SCENARIO}"')
    target.clear_contents()
    target["A1"].value = values


def _run(book: Any, work: Callable[[], None]) -> None:
    """Do ``work``; a user-facing problem becomes a message box instead of a traceback."""
    from reports.job import ReportError  # loaded when a macro runs, not with the add-in's functions

    try:
        work()
    except (ArgumentError, ModelError, ReportError, WorkbookError) as exc:
        book.app.alert(message(exc).removeprefix("error: "), title=TITLE, mode="critical")


def _names(book: Any) -> list[str]:
    return [sheet.name for sheet in book.sheets]


def _values(sheet: Any) -> Grid:
    """Every cell from A1 to the last used one (so rows keep their sheet numbers), errors as text."""
    return sheet.range("A1", sheet.used_range.last_cell).options(ndim=2, err_to_str=True).value


def _pscore_sheet(book: Any, role: str) -> Any | None:
    """pscore's sheet of ``role`` in the open workbook: the one holding pscore's sheet-scoped marker."""
    for sheet in book.sheets:
        for name in sheet.names:
            if name.name.split("!")[-1] == MARKER and name.refers_to.lstrip("=").strip('"') == role:
                return sheet
    return None


def _model_and_date(book: Any) -> tuple[Grid | None, dt.date]:
    """pscore's Model sheet's cells and the pscore sheet's date, as the workbook's live formulas use them."""
    model, live = _pscore_sheet(book, MODEL), _pscore_sheet(book, LIVE)
    as_of = as_of_arg(live[AS_OF_CELL.replace("$", "")].value) if live is not None else dt.date.today()
    return (_values(model) if model is not None else None), as_of


def _sheets(book: Any, what: str) -> dict[str, Grid]:
    """The cells of the sheets a report reads; the workbook must be saved, as reports go next to it."""
    names = _names(book)
    if not book.fullname or not Path(book.fullname).parent.is_dir():
        raise WorkbookError(f"save the workbook first: {what}")
    sheets = {name: _values(book.sheets[name]) for name in (PARTNERS, HISTORY, *EXTRA_SHEETS, *REVIEW_SHEETS)
              if name in names}
    if PARTNERS not in sheets:
        sheets[PARTNERS] = _values(book.sheets.active)
    return sheets


def _write_qbr_pack(book: Any) -> None:
    sheets = _sheets(book, "the QBR pack is written next to it")
    book.app.alert(qbr_pack(sheets, *_model_and_date(book), Path(book.fullname)), title=TITLE, mode="info")


def _write_scorecards(book: Any) -> None:
    sheets = _sheets(book, "scorecards are written to a folder next to it")
    selection = book.selection
    rows = (range(selection.row, selection.row + selection.rows.count)
            if selection is not None and selection.sheet.name == PARTNERS else ())
    done = scorecards(sheets, *_model_and_date(book), Path(book.fullname), list(rows))
    book.app.alert(done, title=TITLE, mode="info")


def _write_scores(book: Any) -> None:
    names = _names(book)
    partners = book.sheets[PARTNERS] if PARTNERS in names else book.sheets.active
    values = scores_sheet(_values(partners), *_model_and_date(book))
    target = _pscore_sheet(book, SCORES)
    if target is None:
        taken = {n.casefold() for n in names}
        target = book.sheets.add(SCORES if SCORES.casefold() not in taken else free_name(SCORES, taken),
                                 after=book.sheets[len(names) - 1])
        target.names.add(MARKER, f'="{SCORES}"')
    target.clear_contents()
    target["A1"].value = values

