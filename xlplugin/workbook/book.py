"""A workbook opened for reading: its sheets in order, which of them are pscore's, and each sheet's
cell values (the cached values of formulas, as Excel last calculated them) with the Excel tables,
merged cells and hidden rows the reader needs.

Values come from python-calamine; the few structural facts come from a light scan of the sheet's
XML. The work is bounded by the cells that hold values, not by what a file claims about itself: a
sheet is refused, with a message, when it would span more than :data:`MAX_CELLS` cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string
from openpyxl.utils.cell import range_boundaries

from xlplugin.workbook.package import Package, Sheet, WorkbookError

#: The most cells (rows x columns, from A1 to the farthest cell holding a value) pscore reads from
#: one sheet: e.g. 500,000 partners with 40 columns.
MAX_CELLS = 20_000_000
TABLE_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"


@dataclass
class Grid:
    """One sheet as the reader consumes it (see :func:`xlplugin.workbook.reader.read_grid`)."""

    values: list[list[Any]]
    tables: list[tuple[int, int, int, int, int]]  # (min_col, min_row, max_col, max_row, totals rows)
    merged: list[tuple[int, int, int, int]]  # (min_row, min_col, max_row, max_col)
    hidden: set[int]


class Book:
    """A workbook file for reading; opening it checks the package (see :class:`Package`)."""

    def __init__(self, path: "str | Path"):
        self.package = Package(path)
        self.path = self.package.path

    @property
    def sheetnames(self) -> list[str]:
        return [s.name for s in self.package.sheets]

    def pscore_sheet(self, role: str) -> str | None:
        """The name of pscore's sheet of ``role`` (``"Model"``, ...), found by pscore's marker."""
        sheet = self.package.pscore_sheet(role)
        return sheet.name if sheet else None

    def grid(self, name: str) -> Grid:
        sheet = self.package.sheet(name)
        if sheet is None:
            raise WorkbookError(f"{self.path}: no '{name}' sheet")
        if sheet.kind != "worksheet":
            raise WorkbookError(f"{self.path}: sheet '{name}' is a {sheet.kind}, not a worksheet with a table; "
                                "pscore reads rows of cells (choose another sheet with --sheet)")
        xml = self.package.read(sheet.part)
        scan = _Scan(xml)
        rows, cols = scan.extent()
        if rows * cols > MAX_CELLS:
            raise WorkbookError(
                f"{self.path}: sheet '{name}' spans {rows:,} rows x {cols:,} columns up to its farthest values "
                f"({', '.join(scan.farthest())}), more than the {MAX_CELLS:,} cells pscore reads from a sheet; "
                "delete the stray cells far below or to the right of the table")
        hidden, errors = scan.hidden_rows(), scan.errors()
        del xml, scan
        values, merged = self._values(sheet)
        for (r, c), text in errors.items():
            values.extend([] for _ in range(r - len(values)))
            row = values[r - 1]
            row.extend([None] * (c - len(row)))
            row[c - 1] = text
        while values and all(v is None for v in values[-1]):
            values.pop()
        return Grid(values, self._tables(sheet), merged, hidden)

    def _values(self, sheet: Sheet) -> tuple[list[list[Any]], list[tuple[int, int, int, int]]]:
        import python_calamine  # only reading files needs it (Excel functions get their cells from Excel)

        try:
            with python_calamine.CalamineWorkbook.from_path(str(self.path)) as workbook:
                data = workbook.get_sheet_by_name(sheet.name)
                rows = data.to_python(skip_empty_area=False)
                merged = [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in data.merged_cell_ranges or ()]
        except python_calamine.PasswordError:
            raise WorkbookError(f"{self.path}: the workbook is password-protected") from None
        except (python_calamine.CalamineError, ValueError, OSError) as exc:
            raise self.package.unreadable(f"sheet '{sheet.name}': {exc}") from None
        return [[None if v == "" else v for v in row] for row in rows], merged

    def _tables(self, sheet: Sheet) -> list[tuple[int, int, int, int, int]]:
        out = []
        for rel in self.package.relationships(sheet.part):
            if rel.type != TABLE_TYPE or rel.external:
                continue
            table = self.package.xml(rel.target)
            try:
                bounds = range_boundaries(table.get("ref", ""))
                totals = int(table.get("totalsRowCount", "0") or 0)
            except (TypeError, ValueError):
                continue  # a table without a usable range: read the sheet as if it were not there
            out.append((*bounds, totals))
        return out


def _span(columns: set[bytes], rows: set[bytes]) -> tuple[int, int]:
    """Rows and columns from A1 to the cells whose references use these letters and digits."""
    if not columns or not rows:
        return 0, 0
    return max(map(int, rows)), max(column_index_from_string(c.decode()) for c in columns)


class _Scan:
    """What the reader needs from a sheet's XML and the values do not say, found by pattern search
    (far cheaper than parsing): how far its cells reach, its hidden rows and its error cells."""

    def __init__(self, xml: bytes):
        self.xml = xml
        found = re.search(rb"<(\w+:)?worksheet\b", xml[:4096])
        self.raw = (found.group(1) or b"") if found else b""
        self.prefix = re.escape(self.raw)

    def extent(self) -> tuple[int, int]:
        """``(rows, columns)`` from A1 to the farthest cell holding a value.

        A quick bound comes first, for cells as every writer puts them (``<c r="B7" ...>`` inside
        their row): the rows' numbers and the cells' column letters. Only when it is too large (a
        styled empty cell far away, say), or a cell claims a row past 999,999, are the cells that
        hold values picked out one by one.
        """
        plain = rb"<" + self.prefix + rb'c r="'
        if re.search(rb"<" + self.prefix + rb'c(?:>|[\t\r\n]| (?!r="))', self.xml) is None:
            columns = set(re.findall(plain + rb"([A-Z]{1,3})", self.xml))
            far = re.search(plain + rb"[A-Z]{1,3}[0-9]{7}", self.xml) is not None
        else:  # attributes in another order, or cells placed by their row alone
            columns, far = {c for c, _ in re.findall(self._cell, self.xml)}, True
        rows = set(re.findall(rb"<" + self.prefix + rb'row(?: [^>]*?)? r="([0-9]+)"', self.xml))
        box = _span(columns, rows)
        if not far and box[0] * box[1] <= MAX_CELLS:
            return box
        refs = self._valued()
        return _span({c for c, _ in refs}, {r for _, r in refs})

    def farthest(self) -> list[str]:
        """A cell holding a value on the last row and one in the last column, to name in messages."""
        refs = self._valued()
        rows, columns = _span({c for c, _ in refs}, {r for _, r in refs})
        last_row = next(c + r for c, r in refs if int(r) == rows)
        last_column = next(c + r for c, r in refs if column_index_from_string(c.decode()) == columns)
        return list(dict.fromkeys((last_row.decode(), last_column.decode())))

    @property
    def _cell(self) -> bytes:
        return rb"<" + self.prefix + rb'c\b[^>]*?\sr="([A-Z]{1,3})([0-9]+)"'

    def _valued(self) -> list[tuple[bytes, bytes]]:
        """``(letters, digits)`` of every cell holding a value (a ``<v>`` with text, or inline text)."""
        p = self.prefix
        value = (rb"[^>]*(?<!/)>(?:<" + p + rb"f\b[^>]*/>|<" + p + rb"f\b[^>]*>[^<]*</" + p + rb"f>)?<" + p
                 + rb"(?:v>[^<]|is>)")
        return re.findall(self._cell + value, self.xml)

    def hidden_rows(self) -> set[int]:
        rows = re.finditer(rb"<" + self.prefix + rb'row\b[^>]*?\shidden="(?:1|true)"[^>]*>', self.xml)
        found = (re.search(rb'\sr="([0-9]+)"', m.group(0)) for m in rows)
        return {int(m.group(1)) for m in found if m}

    def errors(self) -> dict[tuple[int, int], str]:
        """Cells holding an Excel error value (``#N/A``, ``#DIV/0!``...), which the values leave blank."""
        out = {}
        start = 0
        while (at := self.xml.find(b't="e"', start)) >= 0:
            start = at + 5
            tag = self.xml.rfind(b"<", 0, at)
            cell = re.match(rb"<" + self.prefix + rb'c\b[^>]*?\sr="([A-Z]{1,3})([0-9]+)"[^>]*>', self.xml[tag:at + 200])
            if not cell:
                continue
            end = self.xml.find(b"</" + self.prefix + b"c>", start)
            value = re.search(rb"<" + self.prefix + rb"v>([^<]*)</", self.xml[start:end if end > 0 else start + 200])
            if value:
                out[int(cell.group(2)), column_index_from_string(cell.group(1).decode())] = value.group(1).decode()
        return out
