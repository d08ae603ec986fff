"""An Excel file as an OPC package: its parts as bytes, their relationships and content types, the
sheets ``workbook.xml`` lists (and which of them pscore wrote), and saving a copy in which only
named parts change.

pscore never re-serialises a part it did not write: a copy keeps every other part byte for byte,
so charts, slicers, VBA projects, data models and whatever a future Excel adds survive untouched.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, unquote

from lxml import etree

from xlplugin.workbook.save import atomic_write

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
OFFICE_DOCUMENT = f"{REL}/officeDocument"
CONTENT_TYPES = "[Content_Types].xml"
#: Relationship types of the sheets a workbook lists, by the kind of sheet they are.
SHEET_KINDS = {
    f"{REL}/worksheet": "worksheet",
    f"{REL}/chartsheet": "chartsheet",
    f"{REL}/dialogsheet": "dialogsheet",
    "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet": "macrosheet",
    "http://schemas.microsoft.com/office/2006/relationships/xlIntlMacrosheet": "macrosheet",
}
#: The hidden, sheet-scoped defined name that marks a sheet as pscore's; its value names the role
#: ("Scores", "Model", ...). Excel keeps it through renames and moves and updates its sheet index.
MARKER = "_pscore_sheet"
MACRO_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: an encrypted package or an old .xls
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


class WorkbookError(ValueError):
    """A workbook that cannot be read or written; the message names the file and what to do."""


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # a part name (``xl/worksheets/sheet1.xml``), or the URL of an external target
    external: bool


@dataclass(frozen=True)
class Sheet:
    """One sheet as ``workbook.xml`` lists it, with pscore's role for it when pscore wrote it."""

    name: str
    index: int  # position in the workbook, 0-based (what ``localSheetId`` counts)
    sheet_id: int
    rid: str
    part: str
    kind: str  # worksheet, chartsheet, dialogsheet or macrosheet
    role: str | None


def parse(data: bytes, where: str) -> etree._Element:
    """An XML part as an lxml tree (which keeps namespace prefixes and declarations as written)."""
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise WorkbookError(f"{where} is damaged ({exc})") from None


def serialise(root: etree._Element, original: bytes) -> bytes:
    """``root`` as bytes, with the XML declaration the part had."""
    found = re.match(rb"\s*<\?xml[^>]*\?>\s*", original)
    head = found.group(0) if found else b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return head + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def rels_part(part: str) -> str:
    """``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def target_of(source: str, target: str) -> str:
    """The part a relationship ``target`` of ``source`` points at."""
    target = unquote(target)
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relative(source: str, part: str) -> str:
    """The relationship target of ``part`` as seen from ``source``."""
    return quote(posixpath.relpath(part, posixpath.dirname(source) or "."))


class Package:
    """A workbook file read as parts. Opening checks that it is an .xlsx/.xlsm package pscore can use
    and says plainly what else it is (password-protected, an old .xls, a damaged archive)."""

    def __init__(self, path: "str | Path"):
        self.path = Path(path)
        if not self.path.is_file():
            raise WorkbookError(f"{self.path}: no such file")
        with self.path.open("rb") as handle:
            head = handle.read(8)
            if head == _CFB:
                text = handle.read(1 << 20)
                if "EncryptedPackage".encode("utf-16-le") in text:
                    raise WorkbookError(f"{self.path}: the workbook is password-protected; open it in Excel, remove "
                                        "the password (File > Info > Protect Workbook) and save it, then try again")
                raise WorkbookError(f"{self.path}: an Excel 97-2003 (.xls) workbook; open it in Excel and save it "
                                    "as an Excel Workbook (.xlsx)")
        try:
            with zipfile.ZipFile(self.path) as archive:
                self.infos = {info.filename: info for info in archive.infolist()}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise self.unreadable(f"{exc.__class__.__name__}: {exc}") from None
        if "mimetype" in self.infos and CONTENT_TYPES not in self.infos:
            raise WorkbookError(f"{self.path}: an OpenDocument spreadsheet (.ods); save it as an Excel Workbook (.xlsx)")
        if CONTENT_TYPES not in self.infos:
            raise self.unreadable("no [Content_Types].xml: not an Office file")
        documents = [r for r in self.relationships("") if r.type == OFFICE_DOCUMENT]
        if not documents or documents[0].target not in self.infos:
            raise self.unreadable("no workbook part")
        self.workbook_part = documents[0].target
        if "binary" in self.content_type(self.workbook_part):
            raise WorkbookError(f"{self.path}: an Excel Binary Workbook (.xlsb); save it as an Excel Workbook (.xlsx)")
        namespace = etree.QName(self.workbook_xml).namespace
        if namespace == STRICT_MAIN:
            raise WorkbookError(f"{self.path}: a Strict Open XML workbook; save it in Excel as an Excel Workbook "
                                "(.xlsx), which pscore reads")
        if namespace != MAIN:
            raise self.unreadable(f"{self.workbook_part} is not a spreadsheet workbook")
        self.sheets  # every later step relies on the sheet list: fail here, once, if it is damaged

    def unreadable(self, why: str) -> WorkbookError:
        return WorkbookError(f"{self.path}: not a readable .xlsx workbook ({why})")

    def read(self, part: str) -> bytes:
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(self.infos[part])
        except KeyError:
            raise self.unreadable(f"{part} is missing") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise self.unreadable(f"{part}: {exc}") from None

    def head(self, part: str, size: int) -> bytes:
        """The first ``size`` bytes of ``part`` (where a sheet keeps its views), without the rest."""
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.infos[part]) as member:
                return member.read(size)
        except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise self.unreadable(f"{part}: {exc}") from None

    def xml(self, part: str) -> etree._Element:
        try:
            return parse(self.read(part), part)
        except WorkbookError as exc:
            raise self.unreadable(str(exc)) from None

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of ``part`` ("" for the package's own), targets resolved to part names."""
        name = rels_part(part) if part else "_rels/.rels"
        if name not in self.infos:
            return []
        out = []
        for rel in self.xml(name).iter(f"{{{PKG_REL}}}Relationship"):
            external = rel.get("TargetMode") == "External"
            target = rel.get("Target", "")
            out.append(Relationship(rel.get("Id", ""), rel.get("Type", ""), target if external else target_of(part, target),
                                    external))
        return out

    @cached_property
    def workbook_xml(self) -> etree._Element:
        return self.xml(self.workbook_part)

    @cached_property
    def content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        """``(defaults by extension, overrides by part name)``."""
        root = self.xml(CONTENT_TYPES)
        defaults = {d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iter(f"{{{TYPES}}}Default")}
        overrides = {o.get("PartName", "").lstrip("/"): o.get("ContentType", "") for o in root.iter(f"{{{TYPES}}}Override")}
        return defaults, overrides

    def content_type(self, part: str) -> str:
        defaults, overrides = self.content_types
        return overrides.get(part) or defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), "")

    @property
    def macro_enabled(self) -> bool:
        """A workbook with a VBA project (.xlsm): it must be saved under a macro-enabled name."""
        return self.content_type(self.workbook_part) == MACRO_TYPE

    @cached_property
    def sheets(self) -> list[Sheet]:
        rels = {r.id: r for r in self.relationships(self.workbook_part)}
        roles = markers(self.workbook_xml)
        out = []
        for index, element in enumerate(self.workbook_xml.iter(f"{{{MAIN}}}sheet")):
            rel = rels.get(element.get(f"{{{REL}}}id", ""))
            if rel is None:
                raise self.unreadable(f"sheet '{element.get('name')}' has no part")
            try:
                sheet_id = int(element.get("sheetId", "0"))
            except ValueError:
                raise self.unreadable(f"sheet '{element.get('name')}' has no valid sheetId") from None
            out.append(Sheet(element.get("name", ""), index, sheet_id, rel.id, rel.target,
                             SHEET_KINDS.get(rel.type, "other"), roles.get(index)))
        return out

    def sheet(self, name: str) -> Sheet | None:
        return next((s for s in self.sheets if s.name == name), None)

    def pscore_sheet(self, role: str) -> Sheet | None:
        """pscore's sheet of ``role``: the one with pscore's marker (one that still has the role's
        name first, should a user have copied it)."""
        owned = [s for s in self.sheets if s.role == role]
        return next((s for s in owned if s.name == role), owned[0] if owned else None)


def markers(workbook: etree._Element) -> dict[int, str]:
    """Sheet index -> pscore role, from the marker names in ``workbook.xml``."""
    out: dict[int, str] = {}
    for name in workbook.iter(f"{{{MAIN}}}definedName"):
        local = name.get("localSheetId")
        text = (name.text or "").strip()
        if name.get("name") == MARKER and local is not None and local.isdigit() and len(text) > 1 and text[0] == text[-1] == '"':
            out.setdefault(int(local), text[1:-1].replace('""', '"'))
    return out


def save(package: Package, path: "str | Path", changed: dict[str, bytes], removed: set[str],
         stamp: dt.datetime) -> Path:
    """Write ``package`` to ``path`` atomically with ``changed`` parts replaced or added and ``removed``
    ones left out (a removed name may come back as a changed part); every other part is copied byte
    for byte (with its own date). Changed and added parts carry ``stamp``, so the same input gives
    the same file."""
    date = stamp.timetuple()[:6]

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(package.path) as source, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for name, info in package.infos.items():
                if name in changed:
                    out.writestr(_info(name, date), changed[name])
                    continue
                if name not in removed:
                    _copy_stored(source, info, out)
            for name, data in changed.items():
                if name not in package.infos:
                    out.writestr(_info(name, date), data)

    try:
        return atomic_write(path, write)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise package.unreadable(str(exc)) from None


def _copy_stored(source: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Copy one member as it is stored: its compressed bytes, CRC and sizes unchanged (so nothing is
    decompressed and compressed again), through the attributes zipfile's own writers use."""
    if source.fp is None or out.fp is None:
        raise ValueError("archive closed")
    source.fp.seek(info.header_offset)
    header = struct.unpack(zipfile.structFileHeader, source.fp.read(zipfile.sizeFileHeader))
    if header[0] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    source.fp.seek(header[zipfile._FH_FILENAME_LENGTH] + header[zipfile._FH_EXTRA_FIELD_LENGTH], 1)
    data = source.fp.read(info.compress_size)
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type, copy.external_attr = info.compress_type, info.external_attr
    copy.CRC, copy.compress_size, copy.file_size = info.CRC, info.compress_size, info.file_size
    copy.header_offset = out.fp.tell()
    out.fp.write(copy.FileHeader())
    out.fp.write(data)
    out.filelist.append(copy)
    out.NameToInfo[copy.filename] = copy
    out.start_dir = out.fp.tell()


def _info(name: str, date: tuple) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info
