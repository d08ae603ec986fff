"""Reading partner workbooks as people really keep them.

Sheets exported from CRMs and edited by hand have title rows above the header, Excel tables, merged
and oddly spelt headers, hidden and blank rows, numbers stored as text, percentages written three
ways, currency symbols, Excel error values and dates in every format. This module finds the table,
maps headers to canonical names, cleans values, and records every problem it meets as an
:class:`Issue` (sheet, row, column, value, problem, what was done) -- it never drops a row silently.
Whether a value is *meaningful* for a metric (a known category, inside the valid range) is the
scoring core's call, not this module's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from scoring import ScoringModel
from scoring.model.schema import BooleanNorm, OrdinalNorm

from xlplugin.workbook.book import Book
from xlplugin.workbook.package import WorkbookError

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"})
BLANK_WORDS = frozenset({"n/a", "na", "-", "--", "—", "–", "none", "null", "nil", "?", "tbd", "unknown"})
DATE_COLUMNS = frozenset({"onboarding_start", "period", "date", "assigned"})
TEXT_COLUMNS = frozenset({"partner_id", "partner_name", "owner", "country", "milestone", "action", "status", "notes",
                          "experiment", "arm"})
KNOWN_COLUMNS = (
    "partner_id", "partner_name", "partner_type", "region", "country", "onboarding_start", "owner",
    "period", "milestone", "date", "revenue_12m", "engaged_12m", "action", "status", "notes", "experiment", "arm",
    "assigned",
)
ALIASES = {  # common CRM/PRM spellings of the structural columns
    "partner_id": ("id", "partner", "partner_no", "partner_number", "account_id", "partner_code"),
    "partner_name": ("name", "partner", "company", "company_name", "account_name"),
    "partner_type": ("type", "partner_category", "category"),
    "onboarding_start": ("start", "start_date", "onboarding_date", "onboarded", "signed", "contract_signed"),
    "owner": ("partner_manager", "manager", "account_owner"),
}
HEADER_SCAN_ROWS = 30
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|INR)\b", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@dataclass(frozen=True)
class Issue:
    """One data-quality record: where, what was found, and what was done about it."""

    sheet: str
    row: int | None
    column: str | None
    value: Any
    problem: str
    action: str


@dataclass
class SheetData:
    """A sheet read into canonical columns; ``frame.index`` holds the Excel row numbers."""

    sheet: str
    frame: pd.DataFrame
    header_row: int
    headers: dict[str, str]  # canonical column -> "Header text (F)" as the user sees it
    issues: list[Issue] = field(default_factory=list)


def header_key(text: object) -> str:
    """``"Training Completion %"`` -> ``"training_completion"``: case, spacing, punctuation and units ignored."""
    words = re.sub(r"\(.*?\)|\[.*?\]|%|#|\$|€|£", " ", str(text)).strip().casefold()
    return re.sub(r"[^0-9a-z]+", "_", words).strip("_")


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


def cell_parser(column: str, model: ScoringModel) -> Callable[[Any], tuple[Any, "Note"]]:
    """How one cell of ``column`` is read: ``value -> (clean value, (problem, action) or None)``.

    The same rule serves whole sheets and single rows passed to an Excel function. (A whole
    sheet's share column typed as percentages is also rescaled column-wide; see ``_numbers``.)
    """
    metric = next((m for m in model.spec.metrics if m.id == column), None)
    if column in DATE_COLUMNS:
        return _date
    if column in TEXT_COLUMNS or column in model.spec.segmentation.dimensions:
        return _text
    if column == "engaged_12m" or (metric and isinstance(metric.normalization, (BooleanNorm, OrdinalNorm))):
        return _category
    if metric is not None or column == "revenue_12m":
        share = metric is not None and metric.unit == "share"
        return lambda v: _number(v, 1.0, share)
    return _passthrough  # a column the model does not know: only errors and whitespace cleaned


def _clean(data: SheetData, model: ScoringModel, unique_ids: bool) -> None:
    metrics = {m.id: m for m in model.spec.metrics}
    frame = data.frame
    for column in list(frame.columns):
        where = data.headers.get(column, column)
        metric = metrics.get(column)
        numeric = column == "revenue_12m" or (metric is not None and not isinstance(
            metric.normalization, (BooleanNorm, OrdinalNorm)))
        if numeric:
            frame[column] = _numbers(frame[column], metric is not None and metric.unit == "share", data, where)
        else:
            frame[column] = _column(frame[column], cell_parser(column, model), data, where)
    if unique_ids and "partner_id" in frame.columns:
        _check_ids(data)


def _column(values: pd.Series, parse, data: SheetData, where: str) -> pd.Series:
    """Parse each distinct cell once; each problem becomes an Issue on every row where it occurs."""
    cells = values.to_numpy(dtype=object)
    memo: dict = {}
    out = np.empty(len(cells), dtype=object)
    for i, v in enumerate(cells):
        key = (type(v), v) if _hashable(v) else None
        result = memo.get(key) if key is not None else None
        if result is None:
            result = parse(v)
            if key is not None:
                memo[key] = result
        out[i] = result[0]
        if result[1] is not None:
            problem, action = result[1]
            data.issues.append(Issue(data.sheet, int(values.index[i]), where, v, problem, action))
    return pd.Series(out, index=values.index, dtype=object)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _numbers(values: pd.Series, share: bool, data: SheetData, where: str) -> pd.Series:
    """A numeric column. In a share column (0-1), a column typed mostly as percentages (1-100) is
    divided by 100 throughout; otherwise single cells from 2 to 100 are read as percentages."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    numbers = pd.to_numeric(values, errors="coerce")
    plain = kind in ("integer", "floating", "mixed-integer-float", "empty")
    scale = 1.0
    if share:
        present = numbers.dropna()
        if len(present) and (present > 1).mean() >= 0.5 and (present <= 100).all():
            scale = 100.0
            data.issues.append(Issue(data.sheet, int(present.index[0]), where, None,
                                     "column holds percentages (85 means 85%)", "every value divided by 100"))
        elif ((present >= 2) & (present <= 100)).any():
            plain = False  # some cells are percentages: parse cell by cell to say which
    if plain:
        return numbers.astype(float) / scale  # NaN for blanks: the scorecard treats them as missing
    return _column(values, lambda v: _number(v, scale, share), data, where)


Note = tuple[str, str] | None


def _excel_error(text: str) -> Note:
    if text.upper() in EXCEL_ERRORS:
        return (f"Excel error {text.upper()}", "treated as missing")
    return None


def _text(value: Any) -> tuple[Any, Note]:
    if value is None:
        return None, None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # an ID typed as a number: 1001.0 -> "1001"
    text = _SPACES.sub(" ", str(value)).strip()
    if not text:
        return None, None
    error = _excel_error(text)
    return (None, error) if error else (text, None)


def _passthrough(value: Any) -> tuple[Any, Note]:
    if isinstance(value, str):
        text = value.strip()
        error = _excel_error(text)
        return (None, error) if error else (text or None, None)
    return value, None


def _category(value: Any) -> tuple[Any, Note]:
    if isinstance(value, str):
        text = _SPACES.sub(" ", value).strip()
        if not text:
            return None, None
        error = _excel_error(text)
        return (None, error) if error else (text, None)
    return value, None


def _number(value: Any, scale: float, share: bool = False) -> tuple[Any, Note]:
    """A number from what a user typed: ``"$12,500"``, ``" 7 "``, ``"85%"``; divided by ``scale``.

    In a share metric, a plain 2-100 can only be a percentage and is read as one.
    """
    if value is None or isinstance(value, bool):
        return value, None
    if isinstance(value, (dt.date, dt.datetime)):
        return value, ("a date where a number belongs", "ignored")
    note = None
    if isinstance(value, (int, float)):
        if value != value:
            return None, None
        number, percent, text = float(value), False, None
    else:
        text = _SPACES.sub(" ", str(value)).strip()
        if not text:
            return None, None
        error = _excel_error(text)
        if error:
            return None, error
        if text.casefold() in BLANK_WORDS:
            return None, (f"'{text}' means no value", "treated as missing")
        number, percent = _parse_number(text)
        if number is None:
            return text, None  # left as text: the scorecard flags it as an invalid value
    if percent:
        value = number / 100.0
        note = (f"'{text}' is a percentage", f"read as {value:g}")
    elif share and scale == 1.0 and 2 <= number <= 100:
        value = number / 100.0
        note = (f"{number:g} in a 0-1 share column looks like a percentage", f"read as {value:g}")
    else:
        value = number / scale
        if text is not None and not _plain(text):
            note = (f"number stored as text '{text}'", f"read as {value:g}")
    return value, note


def _plain(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_number(text: str) -> tuple[float | None, bool]:
    """``"$12,500"``, ``"12 500 €"``, ``"1.234,5"``, ``"(300)"``, ``"85 %"`` -> float; ``(None, False)`` if not a number."""
    cleaned = _CURRENCY.sub("", text).replace(" ", "").replace("'", "")
    percent = cleaned.endswith("%")
    cleaned = cleaned.rstrip("%")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):  # 1,234,567.89
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", cleaned):  # 1.234.567,89
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d+,\d+", cleaned):  # 12,5 (decimal comma)
        cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        return None, False
    if not np.isfinite(number):
        return None, False
    return (-number if negative else number), percent


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
                 "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d-%b-%Y", "%Y%m%d")


def _date(value: Any) -> tuple[Any, Note]:
    """A date from a datetime, an Excel serial number or text in a common format."""
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's valid serial range
            return from_excel(value).date(), (f"date stored as the number {value:g}", "read as an Excel date serial")
        return None, (f"{value:g} is not a date", "treated as missing")
    text = _SPACES.sub(" ", str(value)).strip()
    if not text:
        return None, None
    error = _excel_error(text)
    if error:
        return None, error
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date(), None
        except ValueError:
            continue
    slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", text)
    if slash:
        a, b, year = int(slash[1]), int(slash[2]), int(slash[3])
        year += 2000 if year < 100 else 0
        try:
            if a > 12:
                return dt.date(year, b, a), None
            if b > 12:
                return dt.date(year, a, b), None
            if a == b:
                return dt.date(year, a, b), None
            return dt.date(year, a, b), (f"ambiguous date '{text}'", "read as month/day/year")
        except ValueError:
            pass
    return None, (f"'{text}' is not a date", "treated as missing")


def _check_ids(data: SheetData) -> None:
    """Missing and duplicate partner IDs are reported; both rows stay and are scored."""
    ids = data.frame["partner_id"]
    where = data.headers.get("partner_id", "partner_id")
    for row in ids.index[ids.isna()]:
        data.issues.append(Issue(data.sheet, int(row), where, None, "no partner_id",
                                 "scored, but cannot be matched to other sheets"))
    present = ids.dropna()
    dupes = present[present.duplicated(keep=False)]
    for value, rows in dupes.groupby(dupes, sort=False).groups.items():
        rows = [int(r) for r in rows]
        for row in rows:
            data.issues.append(Issue(data.sheet, row, where, value, f"partner_id '{value}' appears on rows {_rows(rows)}",
                                     "each row scored separately; not merged"))


def usable_partners(data: SheetData) -> int:
    """Rows with a partner ID: the ones that can be matched to History, Outcomes and reports."""
    return int(data.frame["partner_id"].notna().sum())


def issues_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    """Issues as a table with the Data quality sheet's columns."""
    return pd.DataFrame([vars(i) for i in issues], columns=["sheet", "row", "column", "value", "problem", "action"])
