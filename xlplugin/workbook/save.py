"""Low-level workbook writing rules shared by every writer: safe cell text and atomic saves.

A user's workbook is precious: a crash mid-save must never leave a half-written file behind, and
text that came from data must never turn into a live formula.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

from reports.files import atomic_write

FORMULA_PREFIXES = ("=", "+", "-", "@")


def cell_value(value: Any) -> Any:
    """Python/numpy value -> something openpyxl writes faithfully (NaN and None become blank)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters cannot be stored in a cell
    if isinstance(value, (dt.datetime, dt.date, int)):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return None if value != value else value.to_pydatetime()
    return str(value)


def set_cell(ws, row: int, column: int, value: Any):
    """Write one cell; text that Excel would read as a formula is stored as plain text."""
    cell = ws.cell(row=row, column=column, value=None)
    value = cell_value(value)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"
    return cell


def title(ws, text: str, note: str) -> None:
    """Title and note rows above a generated table, so every generated sheet says what it is."""
    set_cell(ws, 1, 1, text).font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, note).font = Font(italic=True, color="555555")


def atomic_save(workbook: Workbook, path: "str | Path", stamp: dt.datetime | None = None) -> Path:
    """Save an openpyxl workbook atomically (see :func:`atomic_write`).

    With ``stamp``, the document's created/modified dates and every archive member carry that time
    instead of "now", so the same content always saves to the same bytes.
    """
    if stamp is None:
        return atomic_write(path, workbook.save)
    return atomic_write(path, lambda tmp: _save_stamped(workbook, tmp, stamp))


def _save_stamped(workbook: Workbook, filename: Path, stamp: dt.datetime) -> None:
    workbook.properties.created = workbook.properties.modified = stamp
    with _StampedZip(filename, stamp.timetuple()[:6]) as archive:
        ExcelWriter(workbook, archive).save()


class _StampedZip(zipfile.ZipFile):
    """Zip archive whose members all carry one timestamp (openpyxl's own save uses the clock)."""

    def __init__(self, file: "str | Path", stamp: tuple[int, int, int, int, int, int]):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = stamp

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=self._stamp)
            zinfo_or_arcname.compress_type = self.compression
            zinfo_or_arcname.external_attr = 0o600 << 16
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        self.writestr(arcname or str(filename), Path(filename).read_bytes(), compress_type, compresslevel)
