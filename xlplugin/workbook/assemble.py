"""The output workbook: the user's package part for part, plus pscore's sheets.

pscore's sheets are laid out with openpyxl in a scratch workbook of their own (pscore's writers
already speak openpyxl, and a scratch package is only a source of parts: XlsxWriter would mean
rewriting every writer for no gain here). Their parts -- sheet, tables, drawings, charts -- are then
transplanted into the user's package under fresh names and ids, their formats merged into the
user's styles.xml. Only the parts that list sheets change: workbook.xml and its relationships,
[Content_Types].xml, docProps/app.xml and styles.xml. A sheet pscore wrote before (found by its
marker, see :data:`package.MARKER`) is replaced where it stands, with its name, position and
visibility; a user's sheet that has one of pscore's names is kept, and pscore's gets a free name.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from lxml import etree
from openpyxl import Workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import MAC_EPOCH
from openpyxl.writer.excel import ExcelWriter

from xlplugin.workbook import styles
from xlplugin.workbook.package import (CONTENT_TYPES, MAIN, MARKER, PKG_REL, REL, TYPES, Package, Sheet, parse,
                                       relative, rels_part, save, serialise, target_of)

WORKSHEET = f"{REL}/worksheet"
STYLES = f"{REL}/styles"
APP = f"{REL}/extended-properties"
TABLE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
SHEET_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"}
EXTENDED = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
MAX_NAME = 31  # Excel's limit on a sheet name
#: workbook.xml elements that come before definedNames (CT_Workbook), to create it in its place.
BEFORE_NAMES = ("sheets", "functionGroups", "externalReferences")
_CELL_STYLE = re.compile(rb'(<c r="[A-Z]+[0-9]+" s=")([0-9]+)(")')
_ROW_STYLE = re.compile(rb'(<row\b[^>]*?\ss=")([0-9]+)(")')
_COLUMN_STYLE = re.compile(rb'(<col\b[^>]*?\sstyle=")([0-9]+)(")')
_DIFFERENTIAL = re.compile(rb'(<cfRule\b[^>]*?\sdxfId=")([0-9]+)(")')
_NUMBERED = re.compile(r"^(.*?)(\d*)(\.[^./]+)$")
XDA = "http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray"
METADATA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml"
METADATA_REL = f"{REL}/sheetMetadata"
#: The cell metadata Excel writes for a spilling (dynamic-array) formula: what openpyxl cannot mark.
METADATA = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<metadata xmlns="{MAIN}" xmlns:xda="{XDA}">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" copy="1" pasteAll="1" '
    'pasteValues="1" merge="1" splitFirst="1" rowColShift="1" clearFormats="1" clearComments="1" assign="1" '
    'coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst><ext uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}">'
    '<xda:dynamicArrayProperties fDynamic="1" fCollapsed="0"/></ext></extLst></bk></futureMetadata>'
    '<cellMetadata count="1"><bk><rc t="1" v="0"/></bk></cellMetadata></metadata>'
).encode("utf-8")
_METADATA = etree.fromstring(METADATA)


@dataclass(frozen=True)
class Placement:
    """Where one of pscore's sheets goes: the name it gets, and the earlier one it replaces."""

    role: str  # pscore's name for the sheet, which its marker records
    name: str
    replaces: Sheet | None
    first: bool = False  # a new sheet that goes before the user's sheets rather than after them


def place(package: Package, roles: Iterable[str], first: Iterable[str] = ()) -> tuple[list[Placement], list[str]]:
    """Names for pscore's sheets of ``roles`` in ``package``, and a line for each user sheet that made
    pscore choose another name."""
    taken = {s.name.casefold() for s in package.sheets}
    first = set(first)
    out, notes = [], []
    for role in roles:
        earlier = package.pscore_sheet(role)
        if earlier is not None:
            out.append(Placement(role, earlier.name, earlier, role in first))
            continue
        name = role
        if name.casefold() in taken:
            name = free_name(role, taken)
            notes.append(f"The workbook's own sheet '{role}' is kept as it is; pscore's {role} sheet is '{name}'.")
        taken.add(name.casefold())
        out.append(Placement(role, name, None, role in first))
    return out, notes


def scratch_workbook(package: Package) -> Workbook:
    """An empty openpyxl workbook for pscore's sheets, counting dates as ``package`` does (a workbook
    made on an old Mac counts from 1904)."""
    scratch = Workbook()
    scratch.remove(scratch.active)
    settings = package.workbook_xml.find(f"{{{MAIN}}}workbookPr")
    if settings is not None and settings.get("date1904") in ("1", "true"):
        scratch.epoch = MAC_EPOCH
    return scratch


def free_name(role: str, taken: set[str]) -> str:
    """``Dashboard (pscore)``, ``Dashboard (pscore 2)``, ... : the first one not ``taken`` (casefolded)."""
    for k in range(1, 1000):
        suffix = " (pscore)" if k == 1 else f" (pscore {k})"
        name = role[:MAX_NAME - len(suffix)] + suffix
        if name.casefold() not in taken:
            return name
    raise ValueError(f"no free sheet name for {role}")


class Assembly:
    """The output package being built from ``package``: changed and added parts, removed parts."""

    def __init__(self, package: Package):
        self.package = package
        self.changed: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.workbook = copy.deepcopy(package.workbook_xml)
        self.workbook_rels = package.xml(rels_part(package.workbook_part))
        self.types = package.xml(CONTENT_TYPES)
        self.new_sheets: list[str] = []
        self._old = self._sheet_elements()  # the user's sheets, in their old order
        self._marks: list[tuple[etree._Element, str]] = []
        self._table_ids: set[int] | None = None
        self._table_names: set[str] | None = None
        self._active: etree._Element | None = None

    # ------------------------------------------------------------------ pscore's sheets

    def add_sheets(self, scratch: Workbook, placements: list[Placement], select: str | None = None,
                   rows: dict[str, bytes] | None = None) -> dict[str, str]:
        """Transplant the sheets of ``scratch`` (named as ``placements`` say) into the package; returns
        each one's new part. With ``select``, the workbook opens on that sheet, the only one selected;
        otherwise the user's selected sheet stays the one selected. ``rows`` (sheet name -> sheet XML
        rows, :func:`rows.sheet_rows`) go below the rows openpyxl wrote on that sheet."""
        for worksheet in scratch.worksheets:
            worksheet.sheet_view.tabSelected = worksheet.title == select
        parts = self.scratch = _Scratch(scratch)
        merged = self.merged = self._styles(parts)
        for placement in placements:
            if placement.replaces is not None:
                self._drop(placement.replaces.part)
        copied: dict[str, str] = {}
        sheets = self.workbook.find(f"{{{MAIN}}}sheets")
        first, written = [], {}
        for placement in placements:
            source = parts.sheet_part(placement.name)
            if rows and placement.name in rows:
                parts.parts[source] = _append_rows(parts.read(source), rows[placement.name])
            part = written[placement.name] = self._copy(parts, source, merged, copied)
            target = relative(self.package.workbook_part, part)
            if placement.replaces is not None:
                rel = next(r for r in self.workbook_rels if r.get("Id") == placement.replaces.rid)
                rel.set("Target", target)
                continue
            rid = self._relate(WORKSHEET, target)
            element = etree.Element(f"{{{MAIN}}}sheet")
            element.set("name", placement.name)
            element.set("sheetId", str(max([0, *(int(e.get("sheetId", "0")) for e in self._sheet_elements())]) + 1))
            element.set(f"{{{REL}}}id", rid)
            if placement.first:
                first.append(element)
            else:
                sheets.append(element)
            self._marks.append((element, placement.role))
            self.new_sheets.append(placement.name)
        for k, element in enumerate(first):
            sheets.insert(k, element)
        if select is not None:
            self._select(select)
        return written

    def _styles(self, parts: "_Scratch") -> styles.Merged:
        ours = parts.read("xl/styles.xml")
        part = next((r.target for r in self.package.relationships(self.package.workbook_part) if r.type == STYLES), None)
        if part is None:  # a workbook without styles: pscore's become its styles
            part = "xl/styles.xml"
            self._relate(STYLES, relative(self.package.workbook_part, part))
            self._override(part, parts.content_type("xl/styles.xml"))
            self.changed[part] = ours
            return styles.Merged(ours, {}, {})
        merged = styles.merge(self.changed.get(part) or self.package.read(part), ours)
        self.changed[part] = merged.styles
        return merged

    def _copy(self, parts: "_Scratch", part: str, merged: styles.Merged, copied: dict[str, str]) -> str:
        """Copy ``part`` of the scratch package and what it relates to; returns its new name."""
        if part in copied:
            return copied[part]
        new = copied[part] = self._new_name(part)
        kind = parts.content_type(part)
        rels = parts.relationships(part)
        if rels is not None:
            for rel in rels:
                if rel.get("TargetMode") != "External":
                    rel.set("Target", relative(new, self._copy(parts, target_of(part, rel.get("Target")), merged, copied)))
            self.changed[rels_part(new)] = serialise(rels, b"")
        data = parts.read(part)
        if kind in SHEET_TYPES:
            data = _restyle(data, merged)
        elif kind == TABLE_TYPE:
            data = self._fresh_table(data)
        self.changed[new] = data
        self._override(new, kind)
        return new

    def _fresh_table(self, data: bytes) -> bytes:
        """The table with an id and a name no other table (or defined name) of the workbook has."""
        ids, names = self._tables()
        table = parse(data, "table")
        table_id = max([0, *ids]) + 1
        name = base = table.get("name") or table.get("displayName") or "PscoreTable"
        k = 1
        while name.casefold() in names:
            k += 1
            name = f"{base}{k}"
        ids.add(table_id)
        names.add(name.casefold())
        table.set("id", str(table_id))
        table.set("name", name)
        table.set("displayName", name)
        return serialise(table, data)

    def _tables(self) -> tuple[set[int], set[str]]:
        if self._table_ids is None:
            self._table_ids, self._table_names = set(), set()
            for part in self.package.infos:
                if part not in self.removed and self.package.content_type(part) == TABLE_TYPE:
                    table = self.package.xml(part)
                    self._table_ids.add(int(table.get("id", "0")) if table.get("id", "0").isdigit() else 0)
                    self._table_names.add((table.get("name") or table.get("displayName") or "").casefold())
            self._table_names |= {(n.get("name") or "").casefold() for n in self.workbook.iter(f"{{{MAIN}}}definedName")}
        return self._table_ids, self._table_names

    # ------------------------------------------------------------------ removing what pscore wrote before

    def _drop(self, part: str) -> None:
        """Leave out ``part`` and every part only it refers to (a replaced sheet's tables, drawings...)."""
        if part in self.removed or part not in self.package.infos:
            return
        self.removed.add(part)
        if rels_part(part) in self.package.infos:
            self.removed.add(rels_part(part))
        referrers = self._referrers()
        for rel in self.package.relationships(part):
            if not rel.external and referrers.get(rel.target, set()) <= self.removed:
                self._drop(rel.target)
        for override in list(self.types.iter(f"{{{TYPES}}}Override")):
            if override.get("PartName", "").lstrip("/") in self.removed:
                self.types.remove(override)

    def _referrers(self) -> dict[str, set[str]]:
        if not hasattr(self, "_referrer_map"):
            out: dict[str, set[str]] = {}
            for name in self.package.infos:
                folder, file = posixpath.split(name)
                if posixpath.basename(folder) == "_rels" and file.endswith(".rels"):
                    source = posixpath.join(posixpath.dirname(folder), file[:-5]) if file != ".rels" else ""
                    for rel in self.package.relationships(source):
                        if not rel.external:
                            out.setdefault(rel.target, set()).add(source)
            self._referrer_map = out
        return self._referrer_map

    # ------------------------------------------------------------------ small edits for excel init

    def _select(self, name: str) -> None:
        """Open the workbook on sheet ``name``: the user's sheets lose their selected-tab flag, or Excel
        would open with sheets grouped."""
        self._active = next(e for e in self._sheet_elements() if e.get("name") == name)
        selected = re.compile(rb'(<(?:\w+:)?sheetView\b[^>]*?)\stabSelected="(?:1|true)"')
        for sheet in self.package.sheets:
            if sheet.part in self.removed or sheet.kind not in ("worksheet", "chartsheet"):
                continue
            if sheet.part in self.changed or selected.search(self.package.head(sheet.part, 1 << 16)):
                self.edit_part(sheet.part, lambda data: selected.sub(rb"\1", data))

    def add_cells(self, sheet: Sheet, scratch_sheet: str, clear: set[int], from_row: int) -> None:
        """Put the cells (and column widths) of ``scratch_sheet`` into the user's ``sheet``, after
        clearing the columns ``clear`` (1-based) from ``from_row`` down; nothing else of the sheet
        changes. Call after :meth:`add_sheets` (``scratch_sheet`` is one of its scratch sheets)."""
        ours = parse(_restyle(self.scratch.read(self.scratch.sheet_part(scratch_sheet)), self.merged), "cells")
        cells: dict[int, list[etree._Element]] = {}
        for row in ours.iter(f"{{{MAIN}}}row"):
            cells[int(row.get("r"))] = [c for c in row if etree.QName(c).localname == "c"]
        columns = list(ours.iter(f"{{{MAIN}}}col"))
        clear = clear | {_column_of(c.get("r")) for row in cells.values() for c in row}
        self.edit_part(sheet.part, lambda data: _graft(data, cells, columns, clear, from_row))

    def dynamic_array(self) -> int:
        """The cell-metadata index (``cm``) that marks a formula as a spilling dynamic array, adding
        the metadata Excel writes for one if the workbook has none."""
        rel = next((r for r in self.package.relationships(self.package.workbook_part) if r.type == METADATA_REL), None)
        if rel is None:
            self.add_workbook_part(self._new_name("xl/metadata.xml"), METADATA_TYPE, METADATA_REL, METADATA)
            return 1
        original = self.changed.get(rel.target) or self.package.read(rel.target)
        root = parse(original, rel.target)
        index, changed = _dynamic_array_index(root)
        if changed:
            self.changed[rel.target] = serialise(root, original)
        return index

    def edit_part(self, part: str, edit: Callable[[bytes], bytes]) -> None:
        """Change one existing part (e.g. cells added to the partner sheet)."""
        self.changed[part] = edit(self.changed.get(part) or self.package.read(part))

    def add_workbook_part(self, part: str, content_type: str, rel_type: str, data: bytes) -> None:
        """A new workbook-level part, e.g. the cell metadata that marks dynamic arrays."""
        self.changed[part] = data
        self._override(part, content_type)
        self._relate(rel_type, relative(self.package.workbook_part, part))

    def calculate_on_open(self) -> None:
        """Ask Excel to calculate every formula when it opens the workbook."""
        calc = self.workbook.find(f"{{{MAIN}}}calcPr")
        if calc is None:
            calc = etree.Element(f"{{{MAIN}}}calcPr")
            names = self.workbook.find(f"{{{MAIN}}}definedNames")
            (names if names is not None else self.workbook.find(f"{{{MAIN}}}sheets")).addnext(calc)
        calc.set("fullCalcOnLoad", "1")

    # ------------------------------------------------------------------ writing

    def save(self, path: "str | Path", stamp: dt.datetime) -> Path:
        self._index_names()
        package = self.package
        self.changed[package.workbook_part] = serialise(self.workbook, package.read(package.workbook_part))
        rels = rels_part(package.workbook_part)
        self.changed[rels] = serialise(self.workbook_rels, package.read(rels))
        self.changed[CONTENT_TYPES] = serialise(self.types, package.read(CONTENT_TYPES))
        self._app()
        return save(package, path, self.changed, self.removed, stamp)

    def _index_names(self) -> None:
        """Sheet-scoped names follow their sheet to its new position; new sheets get pscore's marker."""
        position = {id(e): k for k, e in enumerate(self._sheet_elements())}
        moved = {old: position[id(e)] for old, e in enumerate(self._old)}
        for name in self.workbook.iter(f"{{{MAIN}}}definedName"):
            local = name.get("localSheetId")
            if local is not None and local.isdigit() and int(local) in moved:
                name.set("localSheetId", str(moved[int(local)]))
        for view in self.workbook.iter(f"{{{MAIN}}}workbookView"):
            for attribute in ("activeTab", "firstSheet"):
                value = view.get(attribute)
                if value is not None and value.isdigit() and int(value) in moved:
                    view.set(attribute, str(moved[int(value)]))
            if self._active is not None:
                view.set("activeTab", str(position[id(self._active)]))
                view.set("firstSheet", "0")
        if not self._marks:
            return
        names = self.workbook.find(f"{{{MAIN}}}definedNames")
        if names is None:
            names = etree.Element(f"{{{MAIN}}}definedNames")
            anchor = [self.workbook.find(f"{{{MAIN}}}{n}") for n in BEFORE_NAMES]
            [a for a in anchor if a is not None][-1].addnext(names)
        for element, role in self._marks:
            mark = etree.SubElement(names, f"{{{MAIN}}}definedName")
            mark.set("name", MARKER)
            mark.set("localSheetId", str(position[id(element)]))
            mark.set("hidden", "1")
            mark.text = '"' + role.replace('"', '""') + '"'

    def _app(self) -> None:
        """List the new sheets in docProps/app.xml after the workbook's last listed worksheet."""
        part = next((r.target for r in self.package.relationships("") if r.type == APP), None)
        if not self.new_sheets or part is None or part not in self.package.infos:
            return
        original = self.package.read(part)
        root = parse(original, part)
        titles = root.find(f"{{{EXTENDED}}}TitlesOfParts/{{{VT}}}vector")
        pairs = root.find(f"{{{EXTENDED}}}HeadingPairs/{{{VT}}}vector")
        if titles is None or pairs is None:
            return
        listed = [t.text for t in titles]
        worksheets = {s.name for s in self.package.sheets if s.kind == "worksheet"}
        last = max((k for k, name in enumerate(listed) if name in worksheets), default=None)
        variants = [v for v in pairs if isinstance(v.tag, str)]
        start = 0
        for heading, count in zip(variants[::2], variants[1::2]):
            number = count.find(f"{{{VT}}}i4")
            size = int(number.text) if number is not None and (number.text or "").isdigit() else 0
            if last is not None and start <= last < start + size:
                for k, name in enumerate(self.new_sheets, start=1):
                    element = etree.Element(f"{{{VT}}}lpstr")
                    element.text = name
                    titles.insert(last + k, element)
                number.text = str(size + len(self.new_sheets))
                titles.set("size", str(len(titles)))
                self.changed[part] = serialise(root, original)
                return
            start += size

    # ------------------------------------------------------------------ helpers

    def _sheet_elements(self) -> list[etree._Element]:
        return list(self.workbook.iter(f"{{{MAIN}}}sheet"))

    def _relate(self, rel_type: str, target: str) -> str:
        ids = {r.get("Id") for r in self.workbook_rels}
        k = len(ids) + 1
        while f"rId{k}" in ids:
            k += 1
        rel = etree.SubElement(self.workbook_rels, f"{{{PKG_REL}}}Relationship")
        rel.set("Id", f"rId{k}")
        rel.set("Type", rel_type)
        rel.set("Target", target)
        return f"rId{k}"

    def _override(self, part: str, content_type: str) -> None:
        override = etree.SubElement(self.types, f"{{{TYPES}}}Override")
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)

    def _new_name(self, part: str) -> str:
        """``xl/worksheets/sheet1.xml`` -> the first ``xl/worksheets/sheetN.xml`` no part has
        (``xl/metadata.xml`` itself when it is free)."""
        stem, digits, extension = _NUMBERED.match(part).groups()
        taken = {n.casefold() for n in (*(set(self.package.infos) - self.removed), *self.changed)}
        if not digits and part.casefold() not in taken:
            return part
        k = 1
        while f"{stem}{k}{extension}".casefold() in taken:
            k += 1
        return f"{stem}{k}{extension}"


def _column_of(ref: str) -> int:
    return column_index_from_string(re.match(r"[A-Z]+", ref).group(0))


def _graft(data: bytes, cells: dict[int, list[etree._Element]], columns: list[etree._Element], clear: set[int],
           from_row: int) -> bytes:
    """A user's sheet XML with the columns ``clear`` emptied from ``from_row`` down and ``cells`` (by
    row number) put in, each row's cells kept in column order."""
    root = parse(data, "sheet")
    sheet_data = root.find(f"{{{MAIN}}}sheetData")
    rows: dict[int, etree._Element] = {}
    number = 0
    for row in sheet_data.iter(f"{{{MAIN}}}row"):
        number = int(row.get("r") or number + 1)
        rows[number] = row
        if number >= from_row:
            column = 0
            for cell in list(row.iterchildren(f"{{{MAIN}}}c")):
                column = _column_of(cell.get("r")) if cell.get("r") else column + 1
                if column in clear:
                    row.remove(cell)
    for number, new in sorted(cells.items()):
        row = rows.get(number)
        if row is None:
            row = etree.Element(f"{{{MAIN}}}row")
            row.set("r", str(number))
            before = [n for n in rows if n < number]
            if before:
                rows[max(before)].addnext(row)
            else:
                sheet_data.insert(0, row)
            rows[number] = row
        row.attrib.pop("spans", None)  # an optional hint, now out of date
        for cell in new:
            column = _column_of(cell.get("r"))
            placed = [c for c in row.iterchildren(f"{{{MAIN}}}c") if c.get("r") and _column_of(c.get("r")) < column]
            if placed:
                placed[-1].addnext(cell)
            else:
                row.insert(0, cell)
    if columns:
        cols = root.find(f"{{{MAIN}}}cols")
        if cols is None:
            cols = etree.Element(f"{{{MAIN}}}cols")
            sheet_data.addprevious(cols)
        spans = [(int(c.get("min")), int(c.get("max"))) for c in cols.iterchildren(f"{{{MAIN}}}col")]
        for col in columns:
            low, high = int(col.get("min")), int(col.get("max"))
            if not any(a <= high and low <= b for a, b in spans):  # a width the user set stays theirs
                later = [c for c in cols.iterchildren(f"{{{MAIN}}}col") if int(c.get("min")) > high]
                if later:
                    later[0].addprevious(col)
                else:
                    cols.append(col)
                spans.append((low, high))
    dimension = root.find(f"{{{MAIN}}}dimension")
    if dimension is not None and cells:
        ref = dimension.get("ref", "A1")
        first, top, last, bottom = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        last = max([last, *(_column_of(c.get("r")) for row in cells.values() for c in row)])
        dimension.set("ref", f"{get_column_letter(first)}{top}:{get_column_letter(last)}{max(bottom, max(cells))}")
    return serialise(root, data)


def _dynamic_array_index(root: etree._Element) -> tuple[int, bool]:
    """In a cell-metadata part: the 1-based index of the cell metadata that marks a dynamic array,
    and whether it had to be added."""
    types = root.find(f"{{{MAIN}}}metadataTypes")
    if types is None:
        types = etree.Element(f"{{{MAIN}}}metadataTypes")
        root.insert(0, types)
    names = [t.get("name") for t in types.iterchildren(f"{{{MAIN}}}metadataType")]
    changed = "XLDAPR" not in names
    if changed:
        types.append(copy.deepcopy(_METADATA.find(f"{{{MAIN}}}metadataTypes/{{{MAIN}}}metadataType")))
        types.set("count", str(len(names) + 1))
        names.append("XLDAPR")
    kind = names.index("XLDAPR") + 1
    future = next((f for f in root.iterchildren(f"{{{MAIN}}}futureMetadata") if f.get("name") == "XLDAPR"), None)
    if future is None:
        future = copy.deepcopy(_METADATA.find(f"{{{MAIN}}}futureMetadata"))
        future.set("count", "0")
        for block in list(future):
            future.remove(block)
        types.addnext(future)
        changed = True
    dynamic = [k for k, block in enumerate(future.iterchildren(f"{{{MAIN}}}bk"))
               if any(e.get("fDynamic") in ("1", "true") and e.get("fCollapsed") in (None, "0", "false")
                      for e in block.iter(f"{{{XDA}}}dynamicArrayProperties"))]
    if not dynamic:
        future.append(copy.deepcopy(_METADATA.find(f"{{{MAIN}}}futureMetadata/{{{MAIN}}}bk")))
        future.set("count", str(len(list(future.iterchildren(f"{{{MAIN}}}bk")))))
        dynamic = [len(list(future.iterchildren(f"{{{MAIN}}}bk"))) - 1]
        changed = True
    cell = root.find(f"{{{MAIN}}}cellMetadata")
    if cell is None:
        cell = etree.Element(f"{{{MAIN}}}cellMetadata")
        cell.set("count", "0")
        (root.findall(f"{{{MAIN}}}futureMetadata")[-1]).addnext(cell)
        changed = True
    for k, block in enumerate(cell.iterchildren(f"{{{MAIN}}}bk"), start=1):
        records = list(block.iterchildren(f"{{{MAIN}}}rc"))
        if len(records) == 1 and records[0].get("t") == str(kind) and records[0].get("v") == str(dynamic[0]):
            return k, changed
    block = etree.SubElement(cell, f"{{{MAIN}}}bk")
    record = etree.SubElement(block, f"{{{MAIN}}}rc")
    record.set("t", str(kind))
    record.set("v", str(dynamic[0]))
    count = len(list(cell.iterchildren(f"{{{MAIN}}}bk")))
    cell.set("count", str(count))
    return count, True


class _Scratch:
    """The parts of a workbook openpyxl wrote in memory (uncompressed: they are only read back)."""

    def __init__(self, workbook: Workbook):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            ExcelWriter(workbook, archive).save()
        with zipfile.ZipFile(buffer) as archive:
            self.parts = {name: archive.read(name) for name in archive.namelist()}
        types = parse(self.parts[CONTENT_TYPES], "scratch")
        self.defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{{{TYPES}}}Default")}
        self.overrides = {o.get("PartName").lstrip("/"): o.get("ContentType") for o in types.iter(f"{{{TYPES}}}Override")}

    def read(self, part: str) -> bytes:
        return self.parts[part]

    def content_type(self, part: str) -> str:
        return self.overrides.get(part) or self.defaults.get(posixpath.splitext(part)[1].lstrip("."), "")

    def relationships(self, part: str) -> etree._Element | None:
        name = rels_part(part)
        return parse(self.parts[name], name) if name in self.parts else None

    def sheet_part(self, name: str) -> str:
        workbook = parse(self.parts["xl/workbook.xml"], "scratch")
        rid = next(s.get(f"{{{REL}}}id") for s in workbook.iter(f"{{{MAIN}}}sheet") if s.get("name") == name)
        rels = self.relationships("xl/workbook.xml")
        return target_of("xl/workbook.xml", next(r.get("Target") for r in rels if r.get("Id") == rid))


def _append_rows(sheet: bytes, rows: bytes) -> bytes:
    """A sheet openpyxl wrote with ``rows`` (numbered below its own) added, and its extent updated."""
    if not rows:
        return sheet
    sheet = sheet.replace(b"<sheetData/>", b"<sheetData></sheetData>", 1)
    end = sheet.index(b"</sheetData>")
    last = re.search(rb'<row r="([0-9]+)"', rows[rows.rindex(b"<row "):]).group(1)
    sheet = sheet[:end] + rows + sheet[end:]
    return re.sub(rb'(<dimension ref="[A-Z]+[0-9]+:[A-Z]+)[0-9]+"', rb'\g<1>' + last + b'"', sheet, count=1)


def _restyle(data: bytes, merged: styles.Merged) -> bytes:
    """Point a scratch sheet's style indices at the merged styles."""
    def cell(match: re.Match) -> bytes:
        return match.group(1) + str(merged.cell_formats.get(int(match.group(2)), 0)).encode() + match.group(3)

    def dxf(match: re.Match) -> bytes:
        return match.group(1) + str(merged.differential.get(int(match.group(2)), 0)).encode() + match.group(3)

    for pattern in (_CELL_STYLE, _ROW_STYLE, _COLUMN_STYLE):
        data = pattern.sub(cell, data)
    return _DIFFERENTIAL.sub(dxf, data)
