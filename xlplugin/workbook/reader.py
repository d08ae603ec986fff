"""Reading partner workbooks as people really keep them.

Sheets exported from CRMs and edited by hand have title rows above the header, Excel tables, merged
and oddly spelt headers, hidden and blank rows, numbers stored as text, percentages written three
ways, currency symbols, Excel error values and dates in every format. This module finds the table,
maps headers to canonical names, cleans values (by the rules of :mod:`scoring.cells`), and records
every problem it meets as a data-quality record (:class:`scoring.quality.Record`: sheet, row, column,
value, problem, what was done) -- it never drops a row silently.
Whether a value is *meaningful* for a metric (a known category, inside the valid range) is the
scoring core's call, not this module's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from scoring import ScoringModel, cells
from scoring.headers import header_key
from scoring.model.schema import BooleanNorm, OrdinalNorm
from scoring.staleness import UPDATED_SUFFIX, updated_column
from scoring.quality import Record as Issue  # what the reader notices is a data-quality record

from xlplugin.workbook.book import Book
from xlplugin.workbook.package import WorkbookError
DATE_COLUMNS = frozenset({"onboarding_start", "period", "date", "assigned"})
TEXT_COLUMNS = frozenset({"partner_id", "partner_name", "owner", "country", "milestone", "action", "status", "notes",
                          "experiment", "arm"})
KNOWN_COLUMNS = (
    "partner_id", "partner_name", "partner_type", "region", "country", "onboarding_start", "owner",
    "period", "milestone", "date", "revenue_12m", "engaged_12m", "action", "status", "notes", "experiment", "arm",
    "assigned", "data_correction",
)
ALIASES = {  # common CRM/PRM spellings of the structural columns
    "partner_id": ("id", "partner", "partner_no", "partner_number", "account_id", "partner_code"),
    "partner_name": ("name", "partner", "company", "company_name", "account_name"),
    "partner_type": ("type", "partner_category", "category"),
    "onboarding_start": ("start", "start_date", "onboarding_date", "onboarded", "signed", "contract_signed"),
    "owner": ("partner_manager", "manager", "account_owner"),
}
HEADER_SCAN_ROWS = 30
_SPACES = re.compile(r"[\s\u00a0\u202f]+")




@dataclass
class SheetData:
    """A sheet read into canonical columns; ``frame.index`` holds the Excel row numbers."""

    sheet: str
    frame: pd.DataFrame
    header_row: int
    headers: dict[str, str]  # canonical column -> "Header text (F)" as the user sees it
    issues: list[Issue] = field(default_factory=list)


def column_names(model: ScoringModel) -> dict[str, str]:
    """Header key -> canonical column name, from the structural columns and the model's metrics."""
    names = {header_key(c): c for c in KNOWN_COLUMNS}
    names.update({header_key(d): d for d in model.spec.segmentation.dimensions})
    for metric in model.spec.metrics:
        for text in (metric.id, metric.label, *metric.aliases):
            names.setdefault(header_key(text), metric.id)
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            names.setdefault(alias, canonical)
    for metric in model.spec.metrics:  # when a metric's value was last observed (scoring.staleness)
        for text in (metric.id, metric.label):
            names.setdefault(header_key(f"{text} updated"), updated_column(metric.id))
    return names


def open_workbook(path: "str | Path") -> Book:
    """Open a workbook for reading: its sheets, and each sheet's cached values (see :mod:`book`)."""
    return Book(path)


def read_table(book: Book, sheet: str, model: ScoringModel, *, source: "str | Path" = "",
               required: tuple[str, ...] = ("partner_id",), optional: bool = False,
               unique_ids: bool = False) -> SheetData | None:
    """Find the table on ``sheet``, map its headers, clean its values and record every problem.

    ``optional`` sheets that are absent give ``None``; a required sheet that is absent, or a table
    without its ``required`` columns, is a :class:`WorkbookError`. With ``unique_ids`` (one row per
    partner) missing and repeated partner IDs are reported.
    """
    if sheet not in book.sheetnames:
        if optional:
            return None
        raise WorkbookError(f"{source}: no '{sheet}' sheet (sheets: {', '.join(book.sheetnames)})")
    grid = book.grid(sheet)
    return read_grid(grid.values, model, sheet, source=source, required=required, unique_ids=unique_ids,
                     tables=grid.tables, merged=grid.merged, hidden=grid.hidden)


def read_grid(grid: list[list[Any]], model: ScoringModel, sheet: str, *, source: "str | Path" = "",
              required: tuple[str, ...] = ("partner_id",), unique_ids: bool = False,
              tables: Iterable[tuple[int, int, int, int, int]] = (), merged: Iterable[tuple[int, int, int, int]] = (),
              hidden: set[int] = frozenset()) -> SheetData:
    """:func:`read_table` on cell values already in hand (a sheet, or a range passed to an Excel function).

    ``tables`` are Excel tables as ``(min_col, min_row, max_col, max_row, totals_rows)``, ``merged``
    cells as ``(min_row, min_col, max_row, max_col)``, ``hidden`` the hidden row numbers; rows and
    columns are 1-based positions in ``grid``.
    """
    grid = [row if isinstance(row, list) else list(row) for row in grid]  # rows are only read, never changed
    names = column_names(model)
    header_at, first_col, last_col, last_row = _locate(grid, names, tables)
    if header_at is None:
        raise WorkbookError(f"{source}: sheet '{sheet}' has no header row")
    issues: list[Issue] = []
    labels = _header_labels(grid, header_at, first_col, last_col, merged)
    columns, headers = _canonical(labels, names, first_col, sheet, header_at, issues)
    width = last_col - first_col + 1
    cells = [(row + [None] * width)[first_col - 1:last_col] for row in grid]
    body_rows = [r for r in range(header_at + 1, last_row + 1) if any(_filled(v) for v in cells[r - 1])]
    keep = [i for i, name in enumerate(columns) if name is not None or any(_filled(cells[r - 1][i]) for r in body_rows)]
    for i in keep:
        if columns[i] is None:
            letter = get_column_letter(first_col + i)
            columns[i] = headers_key = f"column_{letter}"
            headers[headers_key] = f"(no header) ({letter})"
            issues.append(Issue(sheet, header_at, letter, None, f"column {letter} has data but no header",
                                f"kept as {headers_key}"))
    records = [[cells[r - 1][i] for i in keep] for r in body_rows]
    frame = pd.DataFrame(records, columns=[columns[i] for i in keep], index=pd.Index(body_rows, name="row"), dtype=object)
    for column in required:
        if column not in frame.columns:
            raise WorkbookError(f"{source}: sheet '{sheet}' has no {column} column "
                                f"(headers found on row {header_at}: {', '.join(str(x) for x in labels if x)})")
    hidden_rows = [r for r in body_rows if r in hidden]
    if hidden_rows:
        issues.append(Issue(sheet, hidden_rows[0], None, None, f"{len(hidden_rows)} hidden row(s): {_rows(hidden_rows)}",
                            "read like any other row"))
    data = SheetData(sheet, frame, header_at, headers, issues)
    _clean(data, model, unique_ids)
    return data


def read_sheet(path: "str | Path", sheet: str, model: ScoringModel, required: tuple[str, ...] = ("partner_id",)) -> pd.DataFrame:
    """One sheet of the workbook at ``path`` as a clean frame (see :func:`read_table`)."""
    data = read_table(open_workbook(path), sheet, model, source=path, required=required)
    assert data is not None
    return data.frame


# ------------------------------------------------------------------ locating the table


def _locate(grid, names, tables) -> tuple[int | None, int, int, int]:
    """``(header_row, first_col, last_col, last_row)``, 1-based.

    An Excel table (ListObject) that holds a known header wins; otherwise the header is the row
    among the first rows that matches the most known column names (title and note rows above it
    match none).
    """
    for min_col, min_row, max_col, max_row, totals in tables:
        labels = [header_key(v) for v in grid[min_row - 1][min_col - 1:max_col]] if min_row <= len(grid) else []
        if any(k in names for k in labels):
            return min_row, min_col, max_col, min(max_row - totals, len(grid))
    best, best_hits = None, 0
    for r, row in enumerate(grid[:HEADER_SCAN_ROWS], start=1):
        hits = sum(1 for v in row if isinstance(v, str) and header_key(v) in names)
        if hits > best_hits:
            best, best_hits = r, hits
    if best is None:
        best = next((r for r, row in enumerate(grid, start=1) if any(isinstance(v, str) and v.strip() for v in row)), None)
    if best is None:
        return None, 1, 1, 0
    filled = [c for c, v in enumerate(grid[best - 1], start=1) if _filled(v)]
    first = filled[0] if filled else 1
    below = grid[best:]
    width = max((len(row) for row in below), default=0)
    # the last column holding anything below the header: looked for from the right, so a full
    # table costs one cell per row of its last column, not every cell
    used = next((c for c in range(width, 0, -1) if any(c <= len(row) and _filled(row[c - 1]) for row in below)), 0)
    return best, first, max([used, *filled, first]), len(grid)


def _header_labels(grid, header_at: int, first_col: int, last_col: int, merged) -> list[Any]:
    """Header texts, with merged header cells repeated over every column they span."""
    labels = (list(grid[header_at - 1]) + [None] * last_col)[first_col - 1:last_col]
    for min_row, min_col, max_row, max_col in merged:
        if min_row <= header_at <= max_row:
            value = grid[min_row - 1][min_col - 1]
            for c in range(max(min_col, first_col), min(max_col, last_col) + 1):
                if labels[c - first_col] is None:
                    labels[c - first_col] = value
    return labels


def _canonical(labels, names, first_col, sheet, header_at, issues) -> tuple[list[str | None], dict[str, str]]:
    columns: list[str | None] = []
    headers: dict[str, str] = {}
    for i, label in enumerate(labels):
        letter = get_column_letter(first_col + i)
        if not _filled(label):
            columns.append(None)
            continue
        text = _SPACES.sub(" ", str(label)).strip()
        name = names.get(header_key(text), text)
        if name in headers:
            issues.append(Issue(sheet, header_at, letter, text, f"repeats the column {headers[name]}",
                                f"first one used; this one kept as '{text} ({letter})'"))
            name = f"{text} ({letter})"
        columns.append(name)
        headers[name] = f"{text} ({letter})"
    return columns, headers


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _rows(rows: list[int], most: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:most])
    return shown + (f" and {len(rows) - most} more" if len(rows) > most else "")


# ------------------------------------------------------------------ cleaning values


def cell_parser(column: str, model: ScoringModel, header: str = "") -> Callable[[Any], cells.Parsed]:
    """How one cell of ``column`` (headed ``header``) is read: ``value -> (clean value, (problem, action) or None)``.

    The same rule serves whole sheets and single rows passed to an Excel function; the rules
    themselves are :mod:`scoring.cells`.
    """
    metric = _metric(model, column)
    if column in DATE_COLUMNS or (column.endswith(UPDATED_SUFFIX) and _metric(model, column[:-len(UPDATED_SUFFIX)])):
        return cells.date
    if column in TEXT_COLUMNS or column in model.spec.segmentation.dimensions:
        return cells.text
    if _numeric(column, metric):
        return functools.partial(cells.number, percents=True) if _percents(metric, header) else cells.number
    if column == "engaged_12m" or metric is not None:
        return cells.category
    return cells.passthrough  # a column the model does not know: only errors and whitespace cleaned


def _metric(model: ScoringModel, column: str):
    return next((m for m in model.spec.metrics if m.id == column), None)


def _numeric(column: str, metric) -> bool:
    return column == "revenue_12m" or (metric is not None and not isinstance(metric.normalization, (BooleanNorm, OrdinalNorm)))


def _percent_rule(metric, header: str) -> tuple[bool, str] | None:
    return None if metric is None else cells.percent_rule(header, metric.unit, metric.valid_range)


def _percents(metric, header: str) -> bool:
    rule = _percent_rule(metric, header)
    return rule is not None and rule[0]


def _clean(data: SheetData, model: ScoringModel, unique_ids: bool) -> None:
    frame = data.frame
    for column in list(frame.columns):
        where = data.headers.get(column, column)
        metric = _metric(model, column)
        if _numeric(column, metric):
            frame[column] = _numbers(frame[column], metric, data, column, where)
        else:
            frame[column] = _column(frame[column], cell_parser(column, model, where), data, column, where)[0]
    if unique_ids and "partner_id" in frame.columns:
        _check_ids(data)


def _column(values: pd.Series, parse, data: SheetData, column: str, where: str) -> tuple[pd.Series, list[int]]:
    """Parse each distinct cell once; each note becomes a record on every row where it occurs.

    Returns the clean column and the positions divided by 100 by the column's percentage rule,
    which are recorded once for the column (see :func:`_numbers`), not per cell.
    """
    raw = values.to_numpy(dtype=object)
    memo: dict = {}
    out = np.empty(len(raw), dtype=object)
    scaled: list[int] = []
    for i, v in enumerate(raw):
        key = (type(v), v) if _hashable(v) else None
        result = memo.get(key) if key is not None else None
        if result is None:
            result = parse(v)
            if key is not None:
                memo[key] = result
        out[i], note = result
        if note is cells.PERCENT_COLUMN:
            scaled.append(i)
        elif note is not None:
            data.issues.append(Issue(data.sheet, int(values.index[i]), where, v, *note, canonical=column))
    return pd.Series(out, index=values.index, dtype=object), scaled


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _numbers(values: pd.Series, metric, data: SheetData, column: str, where: str) -> pd.Series:
    """A numeric column: plain numbers as one block, anything else cell by cell.

    Whether a share column's numbers from 2 to 100 are percentages is decided once for the column,
    from its header and the metric (:func:`scoring.cells.percent_rule`), and recorded once.
    """
    rule = _percent_rule(metric, where)
    percents = rule is not None and rule[0]
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float", "empty"):
        numbers = pd.to_numeric(values, errors="coerce").astype(float)  # NaN for blanks: missing to the scorecard
        scaled = np.flatnonzero(cells.percent_mask(numbers.to_numpy())) if percents else np.array([], dtype=int)
        out = numbers.copy()
        out.iloc[scaled] /= 100.0
    else:
        parse = functools.partial(cells.number, percents=True) if percents else cells.number
        out, found = _column(values, parse, data, column, where)
        scaled = np.array(found, dtype=int)
    if rule is not None:
        if percents:
            at = scaled
        else:
            floats = np.array([v if type(v) is float else np.nan for v in out], dtype=float)
            at = np.flatnonzero(np.nan_to_num(floats) > 1)
        if len(at):
            example = float(values.iloc[at[0]]) if percents else float(out.iloc[at[0]])
            data.issues.append(Issue(data.sheet, data.header_row, where, None, *cells.percent_note(rule, len(at), example),
                                     canonical=column))
    return out


def _check_ids(data: SheetData) -> None:
    """Missing and duplicate partner IDs are reported; both rows stay and are scored."""
    ids = data.frame["partner_id"]
    where = data.headers.get("partner_id", "partner_id")
    for row in ids.index[ids.isna()]:
        data.issues.append(Issue(data.sheet, int(row), where, None, "no partner_id",
                                 "scored, but cannot be matched to other sheets", canonical="partner_id"))
    present = ids.dropna()
    dupes = present[present.duplicated(keep=False)]
    for value, rows in dupes.groupby(dupes, sort=False).groups.items():
        rows = [int(r) for r in rows]
        for row in rows:
            data.issues.append(Issue(data.sheet, row, where, value, f"partner_id '{value}' appears on rows {_rows(rows)}",
                                     "each row scored separately; not merged", canonical="partner_id"))


def usable_partners(data: SheetData) -> int:
    """Rows with a partner ID: the ones that can be matched to History, Outcomes and reports."""
    return int(data.frame["partner_id"].notna().sum())
