"""Partner workbooks on disk: read the ``Partners`` sheet, write scores as CSV or as a copy of the workbook.

Reading maps headers to metric ids leniently (case, spacing, punctuation, the model's aliases and
labels) and keeps the Excel row number as the frame index, so every flag can name the sheet row a
user has to fix. Writing never touches the input file and replaces the output atomically.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from scoring import ScoreResult, ScoringModel

from .excel_io import FORMULA_PREFIXES, atomic_save, atomic_write, set_cell

PARTNERS_SHEET = "Partners"
SCORES_SHEET = "Scores"
KNOWN_COLUMNS = (
    "partner_id", "partner_name", "partner_type", "region", "country", "onboarding_start", "owner",
    "period", "milestone", "date", "revenue_12m", "engaged_12m", "action", "status", "notes", "experiment", "arm",
)


class WorkbookError(ValueError):
    """A workbook that cannot be read or written; the message names the file and what to do."""


def header_key(text: object) -> str:
    """``"Training Completion %"`` -> ``"training_completion"``: case, spacing, punctuation and units ignored."""
    words = re.sub(r"\(.*?\)|%|#|\$|€|£", " ", str(text)).strip().casefold()
    return re.sub(r"[^0-9a-z]+", "_", words).strip("_")


def column_names(model: ScoringModel) -> dict[str, str]:
    """Header key -> canonical column name, from metric ids, labels and aliases in the model."""
    names = {header_key(c): c for c in KNOWN_COLUMNS}
    names.update({header_key(d): d for d in model.spec.segmentation.dimensions})
    for metric in model.spec.metrics:
        for text in (metric.id, metric.label, *metric.aliases):
            names.setdefault(header_key(text), metric.id)
    return names


def read_sheet(path: "str | Path", sheet: str, model: ScoringModel, required: tuple[str, ...] = ("partner_id",)) -> pd.DataFrame:
    """One sheet as a frame indexed by Excel row number, headers mapped to canonical names.

    The header row is the first row with any text; fully blank rows below it are skipped. Columns the
    model does not know are kept under their own header. ``required`` columns must be present.
    """
    path = Path(path)
    if not path.is_file():
        raise WorkbookError(f"{path}: no such file")
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise WorkbookError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet not in workbook.sheetnames:
            raise WorkbookError(f"{path}: no '{sheet}' sheet (sheets: {', '.join(workbook.sheetnames)})")
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    header_at = next((i for i, row in enumerate(rows) if any(isinstance(v, str) and v.strip() for v in row)), None)
    if header_at is None:
        raise WorkbookError(f"{path}: sheet '{sheet}' has no header row")
    names = column_names(model)
    headers = [names.get(header_key(h), str(h).strip()) if h is not None else f"column_{i + 1}"
               for i, h in enumerate(rows[header_at])]
    body = [(header_at + 2 + i, row) for i, row in enumerate(rows[header_at + 1:]) if any(v is not None and v != "" for v in row)]
    width = len(headers)
    records = [tuple(row[:width]) + (None,) * (width - len(row)) for _, row in body]
    frame = pd.DataFrame.from_records(records, columns=headers, index=pd.Index([r for r, _ in body], name="row"))
    frame = frame.loc[:, [not h.startswith("column_") or frame[h].notna().any() for h in headers]]
    for column in required:
        if column not in frame.columns:
            raise WorkbookError(f"{path}: sheet '{sheet}' has no {column} column (headers: {', '.join(map(str, rows[header_at]))})")
    if frame.empty:
        raise WorkbookError(f"{path}: sheet '{sheet}' has no rows under its header")
    return frame


def read_partners(path: "str | Path", model: ScoringModel, sheet: str = PARTNERS_SHEET) -> pd.DataFrame:
    """The partner sheet (one row per partner) as a frame; see :func:`read_sheet`."""
    return read_sheet(path, sheet, model)


def output_frame(result: ScoreResult) -> pd.DataFrame:
    """The public score columns plus the model and date they came from: what CSV and Scores sheet show."""
    out = result.frame.copy()
    out["model"] = result.model.label
    out["as_of"] = result.as_of.isoformat()
    return out


def write_csv(result: ScoreResult, path: "str | Path") -> Path:
    """One row per partner; text that a spreadsheet would run as a formula is prefixed with ``'``."""
    frame = output_frame(result)
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


def write_workbook(source: "str | Path", result: ScoreResult, path: "str | Path") -> Path:
    """A copy of ``source`` with a ``Scores`` sheet (replacing an earlier one); ``source`` is not modified."""
    source, path = Path(source), Path(path)
    if path.resolve() == source.resolve():
        raise WorkbookError(f"{path}: refusing to overwrite the input workbook; choose another output file")
    workbook = load_workbook(source)
    if SCORES_SHEET in workbook.sheetnames:
        del workbook[SCORES_SHEET]
    sheet = workbook.create_sheet(SCORES_SHEET)
    frame = output_frame(result)
    for col, name in enumerate(frame.columns, start=1):
        set_cell(sheet, 1, col, name)
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        for col, value in enumerate(row, start=1):
            set_cell(sheet, r, col, value)
    sheet.freeze_panes = "B2"
    return atomic_save(workbook, path, stamp=dt.datetime.combine(result.as_of, dt.time()))
