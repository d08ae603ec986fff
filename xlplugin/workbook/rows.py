"""Table bodies as sheet XML: the cells :func:`save.set_cell` would write, for 100,000s at a time.

openpyxl spends some 40 microseconds on each cell it creates and serialises; a Scores sheet of
10,000 partners has 260,000. Bodies are therefore written here as ``<row>`` elements, with the
same values (:func:`save.cell_value`), text always stored as text (never a formula) and each
cell's format taken from openpyxl's own styles, and :mod:`assemble` puts them into the sheet
openpyxl wrote around them (title, header, table, conditional formats).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from xlplugin.workbook.save import cell_value

def sheet_rows(ws, frame: pd.DataFrame, first_row: int, formats: dict[str, str]) -> bytes:
    """``frame``'s rows as sheet XML rows numbered from ``first_row``, formatted like ``ws``'s cells
    with ``formats`` (column -> number format) would be."""
    letters = [get_column_letter(k) for k in range(1, len(frame.columns) + 1)]
    columns = [formats.get(c) for c in frame.columns]
    styles: dict[tuple[int, type], str] = {}

    def style(k: int, value: Any) -> str:
        key = (k, type(value))
        if key not in styles:  # openpyxl's own choice: the column's format, or its date format
            cell = Cell(ws, value=value)
            if columns[k]:
                cell.number_format = columns[k]
            styles[key] = f' s="{cell.style_id}"' if cell.style_id else ""
        return styles[key]

    epoch = ws.parent.epoch
    out = []
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=first_row):
        cells = []
        for k, value in enumerate(row):
            value = cell_value(value)
            if value is None:
                continue
            ref = f"{letters[k]}{r}"
            if isinstance(value, str):
                space = ' xml:space="preserve"' if value != value.strip() else ""
                text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                cells.append(f'<c r="{ref}"{style(k, value)} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}"{style(k, value)} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float)):
                if math.isfinite(value):
                    cells.append(f'<c r="{ref}"{style(k, value)}><v>{value!r}</v></c>')
            elif isinstance(value, dt.date):  # and datetimes
                cells.append(f'<c r="{ref}"{style(k, value)}><v>{to_excel(value, epoch)!r}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out).encode("utf-8", "replace")  # a lone surrogate cannot be stored
