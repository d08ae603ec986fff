"""What a batch of PDF scorecards needs from a scored workbook, gathered as plain data.

The ``pscore report scorecards`` command and the Excel macro both gather a workbook's partners,
History, Milestones and Interventions here and hand them to :mod:`reports.job`, which selects
partners, builds their cards and writes the PDFs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from scoring import quality
from scoring.quality import Record

from xlplugin.workbook.reader import WorkbookError, read_grid, read_table
from xlplugin.workbook.pipeline import ScoredInput

if TYPE_CHECKING:  # reports (Jinja2, charts) is imported on first use: the Excel add-in loads this module
    from reports.job import Inputs

MILESTONES_SHEET, INTERVENTIONS_SHEET = "Milestones", "Interventions"
#: Optional sheets a scorecard draws on, with the columns each needs.
EXTRA_SHEETS = {MILESTONES_SHEET: ("partner_id", "milestone", "date"), INTERVENTIONS_SHEET: ("partner_id", "action")}
EXPERIMENTS_SHEET, OUTCOMES_SHEET = "Experiments", "Outcomes"
#: Optional sheets a programme QBR pack reads besides those: experiment arms and realised outcomes.
REVIEW_SHEETS = {EXPERIMENTS_SHEET: ("partner_id", "experiment", "arm"), OUTCOMES_SHEET: ("partner_id",)}


def job_inputs(scored: ScoredInput, grids: dict[str, list[list[Any]]] | None = None) -> Inputs:
    """The scored partners with their History, Milestones and Interventions tables and reading
    notes; the optional sheets come from the scored workbook or from ``grids`` (see :func:`extra_sheets`)."""
    from reports.job import Inputs

    sheets = extra_sheets(scored, grids)
    return Inputs(result=scored.result, partners=scored.partners.frame,
                  history=scored.history.frame if scored.history is not None else None,
                  milestones=sheets[MILESTONES_SHEET], interventions=sheets[INTERVENTIONS_SHEET],
                  quality=_records(scored), source=str(scored.source))


def review_sheets(scored: ScoredInput, grids: dict[str, list[list[Any]]] | None = None) -> dict[str, pd.DataFrame | None]:
    """The Experiments and Outcomes tables a programme QBR pack reads experiments and the
    interventions registry from (see :func:`extra_sheets`)."""
    return extra_sheets(scored, grids, REVIEW_SHEETS)


def extra_sheets(scored: ScoredInput, grids: dict[str, list[list[Any]]] | None = None,
                 wanted: dict[str, tuple[str, ...]] = EXTRA_SHEETS) -> dict[str, pd.DataFrame | None]:
    """The ``wanted`` tables (default: Milestones and Interventions), from the scored workbook or from
    ``grids`` of cell values (the Excel macro reads live cells). A sheet that is missing, or lacks the
    columns a report needs, is left out rather than failing the report."""
    out: dict[str, pd.DataFrame | None] = {}
    for name, required in wanted.items():
        try:
            if grids is None:
                data = read_table(scored.workbook, name, scored.model, source=scored.source, required=required,
                                  optional=True)
            else:
                data = read_grid(grids[name], scored.model, name, source=scored.source,
                                 required=required) if name in grids else None
        except WorkbookError:
            data = None
        out[name] = None if data is None else data.frame
    return out


def _records(scored: ScoredInput) -> list[Record]:
    """The partner sheet's data-quality records, one per cell as on the Data quality sheet, but a
    missing metric column noted for each partner (a scorecard speaks of one)."""
    partners = scored.partners
    rows = partners.frame.index
    return quality.records(scored.result, partners.frame, scored.issues, sheet=partners.sheet,
                           headers=partners.headers, fold_absent=False, rows=rows)
