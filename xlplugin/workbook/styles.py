"""The cell formats of pscore's sheets, merged into the user's ``styles.xml``.

Formats are appended, or reused when the workbook already has an identical one (so scoring a
workbook again adds nothing); no existing entry moves, so every index the user's cells refer to
keeps its meaning. pscore's own cells get the new indices through the maps returned.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from lxml import etree

from xlplugin.workbook.package import MAIN, parse, serialise

#: The order of styles.xml's sections (CT_Stylesheet), for sections that must be created.
ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
         "colors", "extLst")
FIRST_CUSTOM_FORMAT = 164  # number formats below are built into Excel


@dataclass(frozen=True)
class Merged:
    styles: bytes
    cell_formats: dict[int, int]  # pscore's cellXfs index -> the workbook's
    differential: dict[int, int]  # pscore's dxfs index (conditional formats) -> the workbook's


def merge(target: bytes, ours: bytes) -> Merged:
    """``target`` (the workbook's styles.xml) with what ``ours`` (pscore's) needs added."""
    root, mine = parse(target, "xl/styles.xml"), parse(ours, "pscore's styles")
    formats = _number_formats(root, mine)
    fonts = _append(root, mine, "fonts", {0: 0})
    fills = _append(root, mine, "fills", {0: 0, 1: 1})
    borders = _append(root, mine, "borders", {0: 0})
    cell_formats = {0: 0}
    xfs = _section(root, "cellXfs")
    for i, xf in enumerate(_children(_section(mine, "cellXfs"))):
        if i == 0:
            continue  # pscore's default look is the workbook's own default
        xf = copy.deepcopy(xf)
        for attribute, mapping in (("numFmtId", formats), ("fontId", fonts), ("fillId", fills), ("borderId", borders)):
            value = int(xf.get(attribute, "0"))
            xf.set(attribute, str(mapping.get(value, value)))
        xf.set("xfId", "0")
        cell_formats[i] = _place(xfs, xf)
    differential = _append(root, mine, "dxfs", {})
    return Merged(serialise(root, target), cell_formats, differential)


def _number_formats(root: etree._Element, mine: etree._Element) -> dict[int, int]:
    ours = _find(mine, "numFmts")
    if ours is None:
        return {}
    section = _section(root, "numFmts")
    codes = {f.get("formatCode"): int(f.get("numFmtId", "0")) for f in _children(section)}
    next_id = max([FIRST_CUSTOM_FORMAT - 1, *codes.values()]) + 1
    out = {}
    for number_format in _children(ours):
        code, own = number_format.get("formatCode"), int(number_format.get("numFmtId", "0"))
        if code not in codes:
            element = etree.SubElement(section, f"{{{MAIN}}}numFmt")
            element.set("numFmtId", str(next_id))
            element.set("formatCode", code or "")
            codes[code] = next_id
            next_id += 1
        out[own] = codes[code]
    _count(section)
    return out


def _append(root: etree._Element, mine: etree._Element, name: str, fixed: dict[int, int]) -> dict[int, int]:
    """Map each entry of ``mine``'s section ``name`` to an identical or appended entry of ``root``'s."""
    ours = _find(mine, name)
    if ours is None:
        return dict(fixed)
    section = _section(root, name)
    out = dict(fixed)
    for i, element in enumerate(_children(ours)):
        if i not in out:
            out[i] = _place(section, copy.deepcopy(element))
    return out


def _place(section: etree._Element, element: etree._Element) -> int:
    """The index of an entry equal to ``element`` in ``section``, appending it if there is none."""
    children = _children(section)
    signature = _signature(element)
    for i, existing in enumerate(children):
        if _signature(existing) == signature:
            return i
    section.append(element)
    _count(section)
    return len(children)


def _signature(element: etree._Element) -> tuple:
    return (etree.QName(element).localname, tuple(sorted(element.attrib.items())), (element.text or "").strip(),
            tuple(_signature(c) for c in _children(element)))


def _children(section: etree._Element) -> list[etree._Element]:
    return [c for c in section if isinstance(c.tag, str)]


def _find(root: etree._Element, name: str) -> etree._Element | None:
    return root.find(f"{{{MAIN}}}{name}")


def _section(root: etree._Element, name: str) -> etree._Element:
    """The section ``name`` of a stylesheet, created in its place (schema order) if absent."""
    found = _find(root, name)
    if found is not None:
        return found
    element = etree.Element(f"{{{MAIN}}}{name}")
    element.set("count", "0")
    later = set(ORDER[ORDER.index(name) + 1:])
    following = next((c for c in _children(root) if etree.QName(c).localname in later), None)
    if following is None:
        root.append(element)
    else:
        following.addprevious(element)
    return element


def _count(section: etree._Element) -> None:
    section.set("count", str(len(_children(section))))
