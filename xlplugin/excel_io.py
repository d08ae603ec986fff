"""Low-level workbook writing rules shared by every writer: safe cell text and atomic saves.

A user's workbook is precious: a crash mid-save must never leave a half-written file behind, and
text that came from data must never turn into a live formula.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
from openpyxl import Workbook

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
    if isinstance(value, (dt.datetime, dt.date, int, str)):
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


def atomic_write(path: "str | Path", write: Callable[[Path], object]) -> Path:
    """Have ``write`` fill a temporary file next to ``path``, then rename it over ``path`` in one step.

    A crash or a full disk leaves the previous file intact, never a half-written one. The result
    gets ordinary permissions (as if created with ``open``), not the temporary file's private ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_save(workbook: Workbook, path: "str | Path") -> Path:
    """Save an openpyxl workbook atomically (see :func:`atomic_write`)."""
    return atomic_write(path, workbook.save)
