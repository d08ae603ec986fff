"""The ``Model`` sheet: the model in effect, laid out for an analyst to read and edit.

Weights and thresholds sit in yellow cells with data validation; everything else about the model
(normalisation, segments, playbook) stays in the model file. Each editable row is keyed by its path
in the model file (``weights.revenue.deals_won``), so reading the sheet back is a lookup, and a
validation problem can name both the path and the cell to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from scoring import ModelError, ScoringModel
from scoring.model.edit import release, with_overrides
from scoring.model.schema import MAX_WEIGHT

from xlplugin.workbook.book import Book
from xlplugin.workbook.save import set_cell
from xlplugin.workbook.reader import WorkbookError

MODEL = "Model"
OVERRIDES = "workbook overrides"
SECTIONS = ("Metric weights", "Layer weights by stage", "Tiers", "Thresholds")
EDITABLE = PatternFill(start_color="FFF2CC", end_color="FFF2CC", fill_type="solid")
BOLD = Font(bold=True)
SECTION = Font(bold=True, size=12)
#: The editable thresholds: model-file path -> (label on the sheet, kind of value).
THRESHOLDS = {
    "composite_weights.revenue": ("composite: weight of revenue", "weight"),
    "composite_weights.engagement": ("composite: weight of engagement", "weight"),
    "quadrants.revenue_threshold": ("quadrant: high revenue from", "score"),
    "quadrants.engagement_threshold": ("quadrant: high engagement from", "score"),
    "coverage.minimum": ("minimum coverage before flagging", "share"),
    "drivers.baseline": ("driver baseline (points)", "score"),
}


def write(ws, model: ScoringModel) -> None:
    """Lay out ``model``'s weights and thresholds; editable cells are yellow and validated."""
    spec = model.spec
    set_cell(ws, 1, 1, "Model in effect").font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, f"{model.label}. Edit the yellow cells, then run: "
                       "pscore score THIS.xlsx -o NEW.xlsx --model-sheet").font = Font(italic=True, color="555555")
    set_cell(ws, 3, 1, "base model")
    set_cell(ws, 3, 2, spec.name.removesuffix(f" + {OVERRIDES}"))
    weights = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{MAX_WEIGHT:g}",
                             allow_blank=True, showErrorMessage=True, errorTitle="Weight",
                             error=f"A weight is a number from 0 to {MAX_WEIGHT:,.0f}.")
    scores = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", showErrorMessage=True,
                            errorTitle="Score", error="A score threshold lies between 0 and 100.")
    shares = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", showErrorMessage=True,
                            errorTitle="Share", error="A share lies between 0 and 1.")
    for validation in (weights, scores, shares):
        ws.add_data_validation(validation)

    row = _section(ws, 5, "Metric weights", ["path", "metric", "label", "layer", "revenue weight",
                                             "engagement weight", "unit", "direction", "definition"])
    for m in spec.metrics:
        set_cell(ws, row, 1, f"weights.*.{m.id}")
        for col, value in enumerate((m.id, m.label, m.layer), start=2):
            set_cell(ws, row, col, value)
        for col, outcome in ((5, "revenue"), (6, "engagement")):
            if outcome in m.informs:
                _editable(ws, row, col, spec.weights[outcome].get(m.id, 0.0), weights)
        for col, value in enumerate((m.unit, m.direction, m.definition), start=7):
            set_cell(ws, row, col, value)
        row += 1
    layers = [x.id for x in spec.layers]
    row = _section(ws, row + 1, "Layer weights by stage", ["path", "stage", "label", *layers, "up to month"])
    for i, stage in enumerate(spec.stages):
        for col, value in enumerate((f"stages[{i}].layer_weights", stage.id, stage.label), start=1):
            set_cell(ws, row, col, value)
        for k, layer in enumerate(layers):
            _editable(ws, row, 4 + k, stage.layer_weights[layer], weights)
        set_cell(ws, row, 4 + len(layers), stage.max_months)
        row += 1
    row = _section(ws, row + 1, "Tiers", ["path", "tier", "label", "minimum composite score", "description"])
    for i, tier in enumerate(spec.tiers):
        for col, value in enumerate((f"tiers[{i}].min_score", tier.id, tier.label), start=1):
            set_cell(ws, row, col, value)
        _editable(ws, row, 4, tier.min_score, scores)
        set_cell(ws, row, 5, tier.description)
        row += 1
    row = _section(ws, row + 1, "Thresholds", ["path", "setting", "value"])
    dumped = spec.model_dump(mode="json")
    validations = {"weight": weights, "score": scores, "share": shares}
    for path, (label, kind) in THRESHOLDS.items():
        section, name = path.split(".")
        set_cell(ws, row, 1, path)
        set_cell(ws, row, 2, label)
        _editable(ws, row, 3, dumped[section][name], validations[kind])
        row += 1
    for col, width in enumerate((34, 30, 30, 16, 16, 16, 14, 10, 80), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A5"


def _section(ws, row: int, name: str, headers: list[str]) -> int:
    set_cell(ws, row, 1, name).font = SECTION
    for col, header in enumerate(headers, start=1):
        set_cell(ws, row + 1, col, header).font = BOLD
    return row + 2


def _editable(ws, row: int, col: int, value: Any, validation: DataValidation) -> None:
    cell = set_cell(ws, row, col, value)
    cell.fill = EDITABLE
    validation.add(cell)


def read(book: Book, base: ScoringModel, source: "str | Path") -> ScoringModel:
    """``base`` with the weights and thresholds from the Model sheet pscore wrote into the workbook
    (found by pscore's marker, whatever it is called now; cells hold their calculated values).

    Problems are reported with the model-file path and the cell, e.g.
    ``Model!E12 (weights.revenue.deals_won): Input should be greater than or equal to 0``. A formula
    in a cell counts with the value Excel last calculated for it.
    """
    name = book.pscore_sheet(MODEL)
    if name is None:
        raise WorkbookError(f"{source}: no Model sheet written by pscore to read overrides from "
                            "(write one with pscore score ... -o OUT.xlsx)")
    sheet = name if name == MODEL else quote_sheetname(name)
    return read_grid(book.grid(name).values, base, f"{source} Model sheet",
                     lambda r, c: f"{sheet}!{get_column_letter(c)}{r}")


def read_grid(grid: list[list[Any]], base: ScoringModel, source: str, address: Callable[[int, int], str]) -> ScoringModel:
    """:func:`read` on the Model sheet's values already in hand (e.g. a range passed to an Excel
    function); ``address(row, column)`` (1-based) names a cell in messages."""
    changes: dict[str, float] = {}
    cells: dict[str, str] = {}
    problems: list[str] = []
    section = None
    for r, row in enumerate(grid, start=1):
        row = list(row) + [None] * (6 - len(row))
        key = row[0]
        if key in SECTIONS:
            section = key
            continue
        if not isinstance(key, str) or section is None or key == "path":
            continue
        try:
            _apply(section, key, row, base, lambda c, r=r: address(r, c), changes, cells)
        except _CellProblem as exc:
            problems.append(f"{exc.cell}: {exc}")
    if problems:
        raise ModelError(source, problems)
    try:
        return with_overrides(base, changes, label=OVERRIDES, source=source).model
    except ModelError as exc:
        raise ModelError(exc.source, [_locate(p, cells) for p in exc.problems]) from None


class _CellProblem(ValueError):
    def __init__(self, cell: str, message: str):
        super().__init__(message)
        self.cell = cell


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise _CellProblem(where, f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _CellProblem(where, "empty: enter a number")
    try:
        return float(str(value).strip())
    except ValueError:
        raise _CellProblem(where, f"'{value}' is not a number") from None


_TIER = re.compile(r"tiers\[\d+\]\.min_score")
_STAGE = re.compile(r"stages\[\d+\]\.layer_weights")


def _apply(section: str, key: str, row: list, base: ScoringModel, at: Callable[[int], str],
           changes: dict[str, float], cells: dict[str, str]) -> None:
    """One Model-sheet row as ``path -> value`` changes; ``at(column)`` (1-based) names a cell, and
    ``cells`` records the cell of each path for messages."""
    spec = base.spec
    if section == "Metric weights":
        metric = next((m for m in spec.metrics if f"weights.*.{m.id}" == key), None)
        if metric is None:
            raise _CellProblem(at(1), f"unknown metric '{key.removeprefix('weights.*.')}'")
        for outcome, col in (("revenue", 5), ("engagement", 6)):
            path = f"weights.{outcome}.{metric.id}"
            cells[path] = at(col)
            if outcome in metric.informs:
                changes[path] = _number(row[col - 1], at(col))
            elif row[col - 1] not in (None, ""):
                raise _CellProblem(at(col), f"metric '{metric.id}' does not inform {outcome}; leave this cell empty")
    elif section == "Layer weights by stage":
        if not _STAGE.fullmatch(key):
            raise _CellProblem(at(1), f"unknown setting '{key}' (expected stages[N].layer_weights)")
        for k, layer in enumerate(x.id for x in spec.layers):
            path = f"{key}.{layer}"
            cells[path] = at(4 + k)
            changes[path] = _number(row[3 + k], at(4 + k))
    elif section == "Tiers":
        if not _TIER.fullmatch(key):
            raise _CellProblem(at(1), f"unknown setting '{key}' (expected tiers[N].min_score)")
        cells[key] = at(4)
        changes[key] = _number(row[3], at(4))
    elif section == "Thresholds":
        if key not in THRESHOLDS:
            raise _CellProblem(at(1), f"unknown setting '{key}' (known: {', '.join(THRESHOLDS)})")
        cells[key] = at(3)
        changes[key] = _number(row[2], at(3))


def _locate(problem: str, cells: dict[str, str]) -> str:
    """Prefix a model-file problem with the Model-sheet cell it comes from, when there is one."""
    path, _, message = problem.partition(": ")
    for candidate in (path, path.rsplit(".", 1)[0], path.rsplit("[", 1)[0]):
        if candidate in cells:
            return f"{cells[candidate]} ({path}): {message}"
    return problem


def changes(base: ScoringModel, edited: ScoringModel) -> list[str]:
    """What the Model sheet changed, as ``path: old -> new`` lines (for changelogs and summaries)."""
    out: list[str] = []

    def walk(path: str, a: Any, b: Any) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a.keys() | b.keys():
                walk(f"{path}.{key}" if path else key, a.get(key), b.get(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(f"{path}[{i}]", x, y)
        elif a != b and path != "name":
            out.append(f"{path}: {a:g} -> {b:g}" if isinstance(a, float) and isinstance(b, float) else f"{path}: {a} -> {b}")

    walk("", base.spec.model_dump(mode="json"), edited.spec.model_dump(mode="json"))
    return sorted(out)


def export(base: ScoringModel, edited: ScoringModel, author: str, rationale: str, today) -> "ScoringModel":
    """A new model version from the Model-sheet edits: base name, next minor version, changelog entry."""
    edits = changes(base, edited)
    if not edits:
        raise WorkbookError("the Model sheet has no edits: its weights and thresholds equal the base model's")
    return release(edited, date=today, reason="edit", author=author, change="; ".join(edits), rationale=rationale,
                   name=base.spec.name.removesuffix(f" + {OVERRIDES}"), source="exported model")
