"""The ``pscore_scenario`` macro's work, without Excel: the scenario of the workbook's Model-sheet
edits (model B) against the model they were made from (model A), as the cells of a sheet.

Model A is the base model the Model sheet names (its cell B3): the built-in ``default``, or a model
file path, absolute or next to the workbook. The macro in :mod:`xlplugin.excel.macros` reads the
cells, calls :func:`scenario_cells` and writes the result into pscore's Scenario sheet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from scoring import ModelError, ScoringModel, load_model
from scoring.scenario import Scenario, run_scenario

from xlplugin.excel.args import ArgumentError, Grid, cells, table_arg
from xlplugin.workbook import model_sheet

SCENARIO = "Scenario"
MOVERS_SHOWN = 500  # rows of movers on the sheet; pscore scenario writes every one


def base_model(model: Grid, book_folder: Path | None) -> ScoringModel:
    """Model A: the model the Model sheet says it was made from."""
    name = next((row[1] for row in model if len(row) > 1 and row[0] == "base model"), None) or "default"
    name = str(name).strip()
    try:
        if name in ("default",):
            return load_model(name)
        path = Path(name)
        if not path.is_absolute() and book_folder is not None:
            path = book_folder / path
        return load_model(str(path))
    except ModelError as exc:
        raise ArgumentError(f"model: the Model sheet was made from '{name}', which cannot be loaded "
                            f"({exc.problems[0]}); put the model file next to the workbook") from None


def scenario_cells(partners: Grid, model: Grid, as_of: dt.date, book_folder: Path | None = None) -> list[list[Any]]:
    """The Scenario sheet's cells for the Model sheet's edits against their base model."""
    a = base_model(model, book_folder)
    b = model_sheet.read_grid(model, a, "Model sheet", lambda r, c: f"Model!{get_column_letter(c)}{r}")
    data = table_arg(partners, a)
    return layout(run_scenario(data.frame, a, b, as_of))


def layout(scenario: Scenario) -> list[list[Any]]:
    """Title, summary, model changes, migration, correlation, actions, budget and movers, one block
    under another, padded to one width (what a range assignment needs)."""
    rows: list[list[Any]] = [["Scenario: the Model sheet's edits (B) against their base model (A)"],
                             [f"A = {scenario.a.model.label} · B = {scenario.b.model.label} · as of "
                              f"{scenario.as_of.isoformat()} · run the pscore_scenario macro again after editing"], []]
    rows += [[line] for line in scenario.summary()] + [[]]

    def block(caption: str, frame: pd.DataFrame) -> None:
        rows.append([caption])
        rows.append([str(c) for c in frame.columns])
        rows.extend(cells(frame))
        rows.append([])

    diff = scenario.diff.frame()
    block("What changed in the model", diff[["path", "text"]])
    block("Tier migration (rows: tier under A, columns: tier under B)", scenario.migration.reset_index())
    block("Rank correlation", scenario.correlation)
    block("Recommended actions", scenario.actions)
    if len(scenario.budget_totals):
        block("Budget by tier", scenario.budget_by_tier)
    block(f"Partners whose tier or quadrant changes ({len(scenario.movers)})", scenario.movers.head(MOVERS_SHOWN))
    width = max(len(r) for r in rows)
    return [r + [None] * (width - len(r)) for r in rows]
