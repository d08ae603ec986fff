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
        rows, cols, farthest = scan.extent()
        if rows * cols > MAX_CELLS:
            raise WorkbookError(
                f"{self.path}: sheet '{name}' spans {rows:,} rows x {cols:,} columns up to its farthest values "
                f"({', '.join(farthest)}), more than the {MAX_CELLS:,} cells pscore reads from a sheet; "
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
                data = workbook.get_sheet_by_index(sheet.index)
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


class _Scan:
    """What the reader needs from a sheet's XML and the values do not say, found by pattern search
    (far cheaper than parsing): how far its cells reach, its hidden rows and its error cells."""

    def __init__(self, xml: bytes):
        self.xml = xml
        found = re.search(rb"<(\w+:)?worksheet\b", xml[:4096])
        self.raw = (found.group(1) or b"") if found else b""
        self.prefix = re.escape(self.raw)

    def extent(self) -> tuple[int, int, list[str]]:
        """``(rows, columns, farthest cells)`` from A1 to the farthest cell holding a value.

        A quick bound over every cell comes first (cells as Excel writes them: ``<c r="B7" ...>``);
        only when it is too large (a styled empty cell far away, say) are the cells that hold values
        picked out one by one.
        """
        p, tag = self.prefix, b"<" + self.raw + b"c"
        cell = rb"<" + p + rb'c\b[^>]*?\sr="([A-Z]{1,3})([0-9]+)"'
        if self.xml.count(tag + b" ") == self.xml.count(tag + b' r="') and not re.search(rb"<" + p + rb"c[\t\r\n]", self.xml):
            rows, cols, farthest = self._box(re.findall(rb"<" + p + rb'c r="([A-Z]{1,3})([0-9]+)"', self.xml))
        else:  # attributes in another order, or cells placed by their row alone
            rows, cols, farthest = self._box(re.findall(cell, self.xml))
            rows = max([rows, *map(int, re.findall(rb"<" + p + rb'row\b[^>]*?\sr="([0-9]+)"', self.xml))])
        if rows * cols <= MAX_CELLS:
            return rows, cols, farthest
        value = (rb"[^>]*(?<!/)>(?:<" + p + rb"f\b[^>]*/>|<" + p + rb"f\b[^>]*>[^<]*</" + p + rb"f>)?<" + p
                 + rb"(?:v>[^<]|is>)")
        return self._box(re.findall(cell + value, self.xml))

    @staticmethod
    def _box(refs: list[tuple[bytes, bytes]]) -> tuple[int, int, list[str]]:
        """Rows and columns spanned by cell references ``(letters, digits)``, and the references of a
        cell on the last row and one in the last column."""
        if not refs:
            return 0, 0, []
        rows = max(int(r) for r in {r for _, r in refs})
        letters = max({c for c, _ in refs}, key=lambda c: (len(c), c))
        last_row = next(c + r for c, r in refs if int(r) == rows)
        last_column = next(c + r for c, r in refs if c == letters)
        return rows, column_index_from_string(letters.decode()), list(dict.fromkeys(
            (last_row.decode(), last_column.decode())))

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
