"""Excel function arguments in, pscore inputs out, and results back to cells.

Excel hands a function plain values: rows of cells, floats for numbers, ``None`` for blanks, text,
dates, and error values (as ``"#N/A"``-style text, because every argument is read with xlwings'
``err_to_str`` option). The table functions read a partner range with :mod:`xlplugin.reader`, so
header matching and value cleaning are exactly those of ``pscore score``. A row function must take
about a millisecond, which the reader's whole-sheet pass (pandas per column) cannot give for one
row, so :class:`RowLayout` maps a header row once and cleans each cell with the reader's per-cell
rules (:mod:`scoring.cells`), the header deciding about percentages as it does for a sheet.

Every problem with an argument is an :class:`ArgumentError`; :func:`message` turns it (or a model
or workbook error) into the one line a cell shows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence, TypeVar

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from scoring import ModelError, ScoringModel, load_model
from scoring.cells import excel_date, excel_error
from scoring.engine import to_date
from scoring.model.edit import Derived, with_overrides

from xlplugin.workbook import model_sheet
from xlplugin.workbook.reader import DATE_COLUMNS, TEXT_COLUMNS, SheetData, WorkbookError, cell_parser, column_names, header_key, read_grid

#: What Excel shows in a cell: a number, text, a truth value, a date, or blank (None).
Cell = Any
#: A range: rows of cells.
Grid = list[list[Any]]

DEFAULT_MODEL = "default"
TABLE = "table"  # the "sheet" named in data-quality records of a range passed to a function
MAX_CACHED_MODELS = 64
MAX_CACHED_LAYOUTS = 256
WHATIF = "what-if weights"  # what a what-if model's name says after the base model's


class ArgumentError(ValueError):
    """A bad function argument; the message names the argument and what to do instead."""


def message(exc: Exception) -> str:
    """The one line a cell shows for ``exc``; never a traceback."""
    if isinstance(exc, ModelError):
        more = f" (+{len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return f"error: {exc.source}: {exc.problems[0]}{more}"
    return "error: " + " ".join(str(exc).split())


def is_error(value: Any) -> bool:
    """An Excel error value (``#N/A``, ``#REF!``, ...), as text."""
    return excel_error(value) is not None


# ------------------------------------------------------------------ ranges and scalars


def grid(value: Any, name: str) -> Grid:
    """A range argument as a list of rows (a single value is a 1x1 range)."""
    if value is None:
        raise ArgumentError(f"{name}: missing; select a range")
    if not isinstance(value, (list, tuple)):
        return [[value]]
    rows = [list(row) if isinstance(row, (list, tuple)) else [row] for row in value]
    if len(rows) == 1 and len(rows[0]) == 1 and is_error(rows[0][0]):
        raise ArgumentError(f"{name}: Excel error {rows[0][0].strip().upper()}")
    return rows


def line(value: Any, name: str) -> list[Any]:
    """A one-row (or one-column) range as a flat list of cells."""
    rows = grid(value, name)
    if len(rows) == 1:
        return rows[0]
    if all(len(row) == 1 for row in rows):
        return [row[0] for row in rows]
    raise ArgumentError(f"{name}: select one row, not {len(rows)} rows by {len(rows[0])} columns")


def scalar(value: Any, name: str) -> Any:
    """A single-cell argument; blank is None."""
    if isinstance(value, (list, tuple)):
        cells = [v for row in grid(value, name) for v in row]
        if len(cells) != 1:
            raise ArgumentError(f"{name}: give one value, not a range of {len(cells)} cells")
        value = cells[0]
    if is_error(value):
        raise ArgumentError(f"{name}: Excel error {value.strip().upper()}")
    if isinstance(value, str) and not value.strip():
        return None
    return value


def as_of_arg(value: Any) -> dt.date:
    """The scoring date: a date cell (a datetime, or a serial number in xlwings Lite), ISO text, or
    blank for today."""
    value = scalar(value, "as_of")
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's date serials
            return excel_date(value)
        raise ArgumentError(f"as_of: {value:g} is not a date")
    if isinstance(value, str):
        try:
            return to_date(value)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
    raise ArgumentError(f"as_of: {value!r} is not a date")


def choice_arg(value: Any, name: str, options: Sequence[str]) -> str:
    """One of ``options`` (case and spacing ignored); blank is the first."""
    value = scalar(value, name)
    if value is None:
        return options[0]
    key = str(value).strip().casefold()
    if key not in options:
        raise ArgumentError(f"{name}: '{value}' is not one of {', '.join(options)}")
    return key


def names_arg(value: Any, known: Sequence[str], name: str = "columns") -> list[str]:
    """Column names to return, matched like headers (``Revenue Score`` is ``revenue_score``): text
    separated by commas, or a range of names; blank means all of ``known``."""
    if value is None:
        return list(known)
    if isinstance(value, (list, tuple)):
        cells = [v for row in grid(value, name) for v in row]
    else:
        cells = [value]
    wanted: list[str] = []
    for cell in cells:
        if is_error(cell):
            raise ArgumentError(f"{name}: Excel error {cell.strip().upper()}")
        if cell is None:
            continue
        wanted += [part for part in str(cell).replace(";", ",").split(",") if part.strip()]
    if not wanted:
        return list(known)
    keys = {header_key(k): k for k in known}
    found = []
    for text in wanted:
        column = keys.get(header_key(text))
        if column is None:
            hint = f"known: {', '.join(known)}" if len(known) <= 8 else f"leave {name} blank to see every column"
            raise ArgumentError(f"{name}: unknown column '{text.strip()}' ({hint})")
        found.append(column)
    return found


# ------------------------------------------------------------------ models


_models: dict[tuple, Any] = {}
Built = TypeVar("Built", ScoringModel, Derived)


def _cached(key: tuple, build: Callable[[], Built]) -> Built:
    """A model per content key, built once per process (bounded, oldest dropped first)."""
    found = _models.get(key)
    if found is None:
        found = build()
        if len(_models) >= MAX_CACHED_MODELS:
            _models.pop(next(iter(_models)))
        _models[key] = found
    return found


@lru_cache(maxsize=1)
def default_model() -> ScoringModel:
    """The built-in model; it cannot change while Excel runs, so it is loaded once."""
    return load_model(DEFAULT_MODEL)


def model_arg(value: Any) -> ScoringModel:
    """Blank: the built-in default model. Text: a model name or file path (re-read on each call, so
    an edited file takes effect; parsed once per content). A range: a Model sheet as ``pscore score``
    writes it, whose weights and thresholds override the built-in default."""
    if value is None:
        return default_model()
    rows = grid(value, "model")
    if len(rows) == 1 and len(rows[0]) == 1:
        ref = scalar(rows[0][0], "model")
        if ref is None:
            return default_model()
        if not isinstance(ref, str):
            raise ArgumentError(f"model: {ref!r} is not a model; give a model name, a file path or the Model sheet's range")
        return load_model(ref.strip())
    cells = tuple(tuple(row) for row in rows)
    return _cached(("sheet", cells), lambda: _sheet_model(rows))


def _sheet_model(rows: Grid) -> ScoringModel:
    base = default_model()
    keys = [row[0] if row else None for row in rows]
    if not any(k in model_sheet.SECTIONS for k in keys):
        raise ArgumentError("model: the range is not a pscore Model sheet (no 'Metric weights' section); "
                            "select the Model sheet from A1, e.g. Model!A1:I80")
    for row in rows:
        if len(row) > 1 and row[0] == "base model" and row[1] not in (None, base.spec.name):
            raise ArgumentError(f"model: this Model sheet belongs to model '{row[1]}', but a Model range applies to "
                                f"the built-in '{base.spec.name}'; pass that model's file path instead")
    return model_sheet.read_grid(rows, base, "model", lambda r, c: f"range {get_column_letter(c)}{r}")


def calibrated(model: ScoringModel) -> ScoringModel:
    """``model`` if it carries a calibration (engagement probability, expected revenue)."""
    if getattr(model.spec, "calibration", None) is None:
        raise ArgumentError(f"model not calibrated: {model.label} has no calibration; "
                            "pass a model file written by pscore calibrate")
    return model


def weights_arg(value: Any, base: ScoringModel) -> Derived:
    """``base`` with the metric weights of a two-column range ``name | weight``, and what became of
    its calibration (kept only if the weights leave the scores it was fitted to unchanged).

    A name is a metric (its id, label or an alias: every outcome it informs) or ``revenue.<metric>`` /
    ``engagement.<metric>`` (optionally prefixed ``weights.``) for one outcome.
    """
    metrics = {m.id: m for m in base.spec.metrics}
    lookup: dict[str, str] = {}
    for m in base.spec.metrics:
        for text in (m.id, m.label, *m.aliases):
            lookup.setdefault(header_key(text), m.id)
    changes: dict[str, float] = {}
    for r, row in enumerate(grid(value, "weights"), start=1):
        name = row[0] if row else None
        if name is None or (isinstance(name, str) and not name.strip()):
            continue
        if is_error(name):
            raise ArgumentError(f"weights: Excel error {name.strip().upper()} in row {r}")
        if len(row) < 2:
            raise ArgumentError("weights: select two columns, metric and weight")
        outcome, _, metric_text = str(name).strip().removeprefix("weights.").rpartition(".")
        metric = lookup.get(header_key(metric_text))
        if metric is None:
            raise ArgumentError(f"weights: unknown metric '{metric_text}' in row {r}")
        informs = metrics[metric].informs
        if outcome and outcome not in informs:
            raise ArgumentError(f"weights: '{metric}' informs {', '.join(informs)}, not '{outcome}' (row {r})")
        weight = _weight(row[1], metric, r)
        changes.update((f"weights.{o}.{metric}", weight) for o in ([outcome] if outcome else informs))
    if not changes:
        raise ArgumentError("weights: no weights given; select rows of metric | weight")
    key = ("weights", base.label, tuple(changes.items()))  # the label: name, version and content hash
    return _cached(key, lambda: with_overrides(base, changes, label=WHATIF, source="weights"))


def _weight(value: Any, metric: str, r: int) -> float:
    """A weight cell as a number; whether it is a usable weight (finite, in bounds) is the model's rule."""
    if is_error(value):
        raise ArgumentError(f"weights: Excel error {value.strip().upper()} for {metric} (row {r})")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise ArgumentError(f"weights: '{value}' for {metric} is not a number (row {r})") from None


# ------------------------------------------------------------------ partner tables and rows


def table_arg(value: Any, model: ScoringModel) -> SheetData:
    """A partner range (header row and rows) read exactly as ``pscore score`` reads a sheet."""
    rows = grid(value, "table")
    try:
        data = read_grid(rows, model, TABLE, required=(), unique_ids=True)
    except WorkbookError:
        raise ArgumentError("table: no header row; select the partner table with its header row") from None
    if "partner_id" not in data.frame.columns:
        found = [str(v) for v in rows[data.header_row - 1] if v is not None]
        shown = ", ".join(found[:4]) + (", ..." if len(found) > 4 else "")
        raise ArgumentError(f"table: no partner_id column in the header row (found: {shown or 'nothing'}); "
                            "include the header row")
    if data.frame.empty:
        raise ArgumentError("table: no partners below the header row")
    return data


@dataclass(frozen=True)
class RowLayout:
    """Where the scoring columns sit in a header row, and how to read each of their cells."""

    columns: pd.Index
    positions: tuple[int, ...]
    parsers: tuple[Callable[[Any], tuple[Any, Any]], ...]
    width: int

    def frame(self, row: list[Any]) -> pd.DataFrame | None:
        """A one-partner frame for the engine (object cells, as the reader gives), or None for a blank row."""
        if len(row) != self.width:
            raise ArgumentError(f"row: {len(row)} cells but the header has {self.width}; select ranges of the same width")
        values = np.empty((1, len(self.positions)), dtype=object)
        values[0] = [parse(row[i])[0] for i, parse in zip(self.positions, self.parsers)]
        if all(v is None for v in values[0]):
            return None
        return pd.DataFrame(values, columns=self.columns, dtype=object, copy=False)  # one block: ~10x faster


def row_layout(header: Any, model: ScoringModel) -> RowLayout:
    """The layout of a header row, mapped once per header and model."""
    cells = line(header, "header")
    for i, cell in enumerate(cells, start=1):
        if is_error(cell):
            raise ArgumentError(f"header: Excel error {cell.strip().upper()} in column {i}")
    key = (model.hash, tuple(None if c is None else str(c) for c in cells))
    found = _layouts.get(key)
    if found is None:
        if len(_layouts) >= MAX_CACHED_LAYOUTS:
            _layouts.pop(next(iter(_layouts)))
        found = _layouts[key] = _layout(key[1], model)
    return found


_layouts: dict[tuple, RowLayout] = {}


def _layout(header: tuple[str | None, ...], model: ScoringModel) -> RowLayout:
    names = column_names(model)
    metrics = {m.id: m for m in model.spec.metrics}
    dimensions = model.spec.segmentation.dimensions
    kept: dict[str, int] = {}
    for i, text in enumerate(header):
        if text is None or not text.strip():
            continue
        name = names.get(header_key(text))
        if name is not None and (name in metrics or name in dimensions or name in DATE_COLUMNS
                                 or name in TEXT_COLUMNS):
            kept.setdefault(name, i)  # a repeated header: the first column wins, as in the reader
    if not any(name in metrics for name in kept):
        raise ArgumentError("header: no metric columns (e.g. deals_won); select the table's header row")
    parsers = tuple(cell_parser(name, model, header[i]) for name, i in kept.items())
    return RowLayout(pd.Index(list(kept), dtype=object), tuple(kept.values()), parsers, len(header))


# ------------------------------------------------------------------ results to cells


def cells(frame: pd.DataFrame) -> list[list[Cell]]:
    """A frame's rows as plain Python cells: NaN and NA blank, numpy numbers as floats and bools."""
    columns = [_plain(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return [list(row) for row in zip(*columns)]


def _plain(column: pd.Series) -> list[Cell]:
    if pd.api.types.is_float_dtype(column.dtype):
        return [None if v != v else v for v in column.tolist()]
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype):
        return column.tolist()
    return [cell(v) for v in column.to_numpy(dtype=object)]


def cell(value: Any) -> Cell:
    """One value as Excel shows it; blanks for NaN/None/NA, text for anything exotic."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    return str(value)


def table_cells(frame: pd.DataFrame, columns: Iterable[str]) -> list[list[Cell]]:
    """Header row and records of ``frame`` restricted to ``columns``."""
    columns = list(columns)
    return [columns, *cells(frame[columns])]


def aligned_cells(frame: pd.DataFrame, columns: Iterable[str], header_row: int) -> list[list[Cell]]:
    """Like :func:`table_cells`, but each partner on its own row of the input range (``frame.index``),
    so the result spills row by row next to the partner table; other rows stay blank."""
    columns = list(columns)
    out: list[list[Cell]] = [[None] * len(columns) for _ in range(int(frame.index.max()))]
    out[header_row - 1] = columns
    for r, row in zip(frame.index, cells(frame[columns])):
        out[int(r) - 1] = row
    return out
