"""Partner workbooks in and out: read and score a workbook, write scores as CSV or a scored workbook.

This is the pipeline the ``pscore score`` command (and the Excel macro) runs: read the partner sheet
with :mod:`xlplugin.reader`, optionally take weights from the workbook's Model sheet, score with
:mod:`scoring`, and write the result without ever touching the input unless asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scoring import ScoreResult, ScoringModel, staleness
from scoring.anomalies import Anomalies
from scoring.checked import score_checked

from xlplugin.workbook import model_sheet
from xlplugin.workbook import writer as scored_workbook
from xlplugin.workbook.book import Book
from xlplugin.workbook.save import FORMULA_PREFIXES, atomic_write
from xlplugin.workbook.reader import Issue, SheetData, WorkbookError, open_workbook, read_sheet, read_table, usable_partners

__all__ = ["ScoredInput", "WorkbookError", "read_sheet", "score_workbook", "write_csv", "write_frame_csv", "write_scored"]

PARTNERS_SHEET = "Partners"
HISTORY_SHEET = "History"


@dataclass
class ScoredInput:
    """A workbook read and scored: everything the writers need, and what writing it had to say."""

    workbook: Book
    source: Path
    model: ScoringModel
    partners: SheetData
    history: SheetData | None
    result: ScoreResult
    notes: list[str] = field(default_factory=list)  # e.g. a user's sheet named like one of pscore's
    anomalies: Anomalies | None = None  # valid but implausible values (scoring.anomalies)
    stale: list[Issue] = field(default_factory=list)  # values older than their metric's interval

    @property
    def issues(self) -> list[Issue]:
        found = [] if self.anomalies is None else self.anomalies.records(
            self.partners.sheet, self.partners.headers, history_sheet=self.history.sheet if self.history else HISTORY_SHEET,
            history_headers=self.history.headers if self.history else None)
        return [*self.partners.issues, *(self.history.issues if self.history else []), *found, *self.stale]


def score_workbook(path: "str | Path", model: ScoringModel, as_of: dt.date | None = None,
                   sheet: str = PARTNERS_SHEET, use_model_sheet: bool = False) -> ScoredInput:
    """Read ``path`` (its Model sheet's weights too, if asked) and score every partner on ``sheet``."""
    path = Path(path)
    workbook = open_workbook(path)
    if use_model_sheet:
        model = model_sheet.read(workbook, model, path)
    partners = read_table(workbook, sheet, model, source=path, unique_ids=True)
    if usable_partners(partners) == 0:
        raise WorkbookError(f"{path}: no usable partners: sheet '{sheet}' has {len(partners.frame)} row(s) "
                            "but none with a partner_id")
    history = read_table(workbook, HISTORY_SHEET, model, source=path, optional=True) if sheet != HISTORY_SHEET else None
    return score_tables(workbook, path, model, partners, history, as_of)


def score_tables(workbook: Book | None, path: "str | Path", model: ScoringModel, partners: SheetData,
                 history: SheetData | None, as_of: dt.date | None = None) -> ScoredInput:
    """Score tables already read, the one way (:func:`scoring.checked.score_checked`), keeping their
    anomalies and stale values beside the scores for the Data quality sheet and the scorecards."""
    checked = score_checked(partners.frame, model, history.frame if history is not None else None, as_of=as_of)
    stale = staleness.records(checked.stale, partners.frame, model, checked.result.as_of, sheet=partners.sheet,
                              headers=partners.headers)
    return ScoredInput(workbook, Path(path), model, partners, history, checked.result, anomalies=checked.anomalies,
                       stale=stale)


def write_scored(scored: ScoredInput, path: "str | Path", in_place: bool = False) -> Path:
    """The input's sheets plus Scores, Data quality, Model and Dashboard.

    Writing over the input needs ``in_place``, and then a dated backup of the original is kept. A
    workbook with macros stays one: it is written only under a macro-enabled name (.xlsm).
    """
    path = Path(path)
    wanted = ".xlsm" if scored.workbook.package.macro_enabled else ".xlsx"
    if path.suffix.lower() != wanted:
        why = "only a .xlsm keeps the workbook's macros (its VBA project)" if wanted == ".xlsm" else "the workbook has no macros"
        raise WorkbookError(f"{path}: the output must end in {wanted}: {why}")
    if path.resolve() == scored.source.resolve():
        if not in_place:
            raise WorkbookError(f"{path}: refusing to overwrite the input workbook; choose another output file "
                                "or pass --in-place (a backup is kept)")
        backup = path.with_name(f"{path.stem}.backup-{dt.datetime.now():%Y%m%d-%H%M%S}{path.suffix}")
        shutil.copy2(path, backup)
    scored.notes.extend(scored_workbook.write(scored.workbook, scored.result, scored.partners, scored.history,
                                              scored.issues, path))
    return path


def write_csv(result: ScoreResult, path: "str | Path") -> Path:
    """One row per partner; text that a spreadsheet would run as a formula is prefixed with ``'``."""
    return write_frame_csv(scored_workbook.output_frame(result), path)


def write_frame_csv(frame, path: "str | Path") -> Path:
    """``frame`` as CSV, cells written as :func:`write_csv` writes them, atomically."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([_csv_cell(v) for v in row])
    text = buffer.getvalue()
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))


def _csv_cell(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value
