"""``pscore experiment``'s workbook side: read the sheets an experiment needs, write the arms into
the ``Experiments`` sheet of a copy, and lay out balance tables and read-outs.

The copy keeps every part of the user's workbook (:mod:`assemble`). When the workbook already has
an ``Experiments`` sheet (the user's own or one pscore wrote), the new rows are added below its last
row, in the columns its header names, and nothing else of the sheet changes; otherwise pscore adds
an ``Experiments`` sheet. The balance table goes on pscore's ``Experiment balance`` sheet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from scoring import ScoringModel, score
from scoring.experiments import Analysis, Assignment, analyze, assign

from xlplugin.workbook.assemble import Assembly, place, scratch_workbook
from xlplugin.workbook.book import Book
from xlplugin.workbook.reader import SheetData, WorkbookError, open_workbook, read_table, usable_partners
from xlplugin.workbook.report_sheets import ReportSheet, lay_out, output_suffix_check, write_report_sheets
from xlplugin.workbook.save import set_cell

EXPERIMENTS, OUTCOMES, HISTORY, INTERVENTIONS = "Experiments", "Outcomes", "History", "Interventions"
BALANCE, RESULTS, REGISTRY = "Experiment balance", "Experiment results", "Interventions registry"
COLUMNS = ("partner_id", "experiment", "arm", "assigned", "stratum")
#: Score columns a stratum may name besides the partner sheet's own columns.
SCORE_STRATA = ("tier", "quadrant", "stage", "segment")


@dataclass
class Sheets:
    """What an experiment reads from a workbook."""

    book: Book
    partners: SheetData
    history: pd.DataFrame | None
    outcomes: pd.DataFrame | None
    experiments: pd.DataFrame | None
    interventions: pd.DataFrame | None = None


def read(path: "str | Path", model: ScoringModel, sheet: str = "Partners") -> Sheets:
    book = open_workbook(path)
    partners = read_table(book, sheet, model, source=path, unique_ids=True)
    if usable_partners(partners) == 0:
        raise WorkbookError(f"{path}: no usable partners on sheet '{sheet}'")
    frames = {}
    for name, required in ((HISTORY, ("partner_id", "period")), (OUTCOMES, ("partner_id",)),
                           (EXPERIMENTS, ("partner_id",)), (INTERVENTIONS, ("partner_id", "action"))):
        found = read_table(book, name, model, source=path, required=required, optional=True)
        frames[name] = None if found is None else found.frame
    return Sheets(book, partners, frames[HISTORY], frames[OUTCOMES], frames[EXPERIMENTS], frames[INTERVENTIONS])


def assign_workbook(sheets: Sheets, model: ScoringModel, name: str, fraction: float, seed: int,
                    strata: tuple[str, ...], as_of: dt.date) -> Assignment:
    """Arms for every partner on the partner sheet; strata may name its columns or score columns
    (tier, quadrant, stage, segment), and the balance table compares today's scores and metrics."""
    if sheets.experiments is not None and "experiment" in sheets.experiments.columns and \
            (sheets.experiments["experiment"].astype(str).str.strip() == name).any():
        raise WorkbookError(f"the Experiments sheet already has an experiment named '{name}'; choose another name")
    frame = sheets.partners.frame
    frame = frame[frame["partner_id"].notna()]
    result = score(frame, model, as_of=as_of)
    scored = result.frame
    partners = frame.copy()
    for column in SCORE_STRATA:
        if column in strata and column not in partners.columns:
            partners[column] = scored[column].to_numpy()
    unknown = [s for s in strata if s not in partners.columns]
    if unknown:
        readable = [c for c in partners.columns if not str(c).startswith("column_")]
        raise WorkbookError(f"strata: no column {', '.join(unknown)} on sheet '{sheets.partners.sheet}' "
                            f"(use its columns, e.g. {', '.join(map(str, readable[:6]))}, or {', '.join(SCORE_STRATA)})")
    covariates = pd.concat([scored[["composite_score", "revenue_score", "engagement_score"]],
                            result.subscores.rename(columns={m.id: f"{m.label} (sub-score)" for m in model.spec.metrics})],
                           axis=1)
    covariates.index = partners.index
    return assign(partners, name, fraction, seed, strata, as_of, covariates)


def write_assignment(sheets: Sheets, assignment: Assignment, path: "str | Path", source: "str | Path",
                     as_of: dt.date) -> list[str]:
    """A copy of the workbook with the arms in its Experiments sheet and the balance table beside it."""
    path = Path(path)
    book = sheets.book
    output_suffix_check(book, path)
    if path.resolve() == Path(source).resolve():
        raise WorkbookError(f"{path}: refusing to overwrite the input workbook; choose another output file")
    existing = book.package.sheet(EXPERIMENTS) or book.package.pscore_sheet(EXPERIMENTS)
    roles = [BALANCE] + ([] if existing is not None else [EXPERIMENTS])
    placements, notes = place(book.package, roles)
    names = {p.role: p.name for p in placements}
    scratch = scratch_workbook(book.package)
    bodies = {}
    balance = ReportSheet(BALANCE, f"Balance of experiment {assignment.name}",
                          f"Arms at assignment ({as_of.isoformat()}): mean per arm and standardised mean difference "
                          "(|SMD| above 0.1 flags imbalance)",
                          formats={"mean_treatment": "0.000", "mean_control": "0.000", "smd": "+0.000;-0.000"})
    balance.text(*assignment.lines())
    balance.table = ("PscoreExperimentBalance", assignment.balance)
    bodies[names[BALANCE]] = lay_out(scratch.create_sheet(names[BALANCE]), balance)
    rows = assignment.frame[list(COLUMNS)]
    if existing is None:  # a plain sheet (header on row 1, no Excel table), so later experiments append below
        ws = scratch.create_sheet(names[EXPERIMENTS])
        for c, column in enumerate(COLUMNS, start=1):
            set_cell(ws, 1, c, column).font = Font(bold=True)
            ws.column_dimensions[get_column_letter(c)].width = 22
        for k, values in enumerate(rows.itertuples(index=False), start=2):
            for c, value in enumerate(values, start=1):
                cell = set_cell(ws, k, c, value)
                if c == 4:
                    cell.number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    else:
        graft = scratch.create_sheet("pscore rows")
        header_row, columns, last_row = _layout(book, existing.name)
        extra = max(columns.values(), default=0)
        for column in COLUMNS:
            if column not in columns:
                extra += 1
                columns[column] = extra
                set_cell(graft, header_row, extra, column)
        for k, values in enumerate(rows.itertuples(index=False), start=last_row + 1):
            for column, value in zip(COLUMNS, values):
                cell = set_cell(graft, k, columns[column], value)
                if column == "assigned":
                    cell.number_format = "yyyy-mm-dd"
    assembly = Assembly(book.package)
    assembly.add_sheets(scratch, placements, rows=bodies)
    if existing is not None:
        assembly.add_cells(existing, "pscore rows", clear=set(), from_row=last_row + 1)
    assembly.save(path, stamp=dt.datetime.combine(as_of, dt.time()))
    return notes


def _layout(book: Book, name: str) -> tuple[int, dict[str, int], int]:
    """The Experiments sheet's header row, the column of each header (lower-cased, spaces as _) and its last row."""
    values = book.grid(name).values
    for r, row in enumerate(values, start=1):
        keys = [str(v).strip().lower().replace(" ", "_") if v is not None else "" for v in row]
        if "partner_id" in keys:
            columns = {k: c for c, k in enumerate(keys, start=1) if k}
            last = max([r, *(i for i, row_ in enumerate(values, start=1) if any(v not in (None, "") for v in row_))])
            return r, columns, last
    raise WorkbookError(f"sheet '{name}' has no partner_id header to add the arms under")


def analyze_workbook(sheets: Sheets, model: ScoringModel, name: str, as_of: dt.date, resamples: int,
                     seed: int) -> Analysis:
    if sheets.experiments is None:
        raise WorkbookError("the workbook has no Experiments sheet: assign arms first with pscore experiment assign")
    return analyze(sheets.experiments, sheets.partners.frame, name, model, outcomes=sheets.outcomes,
                   history=sheets.history, as_of=as_of, resamples=resamples, seed=seed)


def write_analysis(sheets: Sheets, analysis: Analysis, path: "str | Path", source: "str | Path") -> list[str]:
    report = ReportSheet(RESULTS, f"Experiment {analysis.name}: results",
                         f"Read out as of {analysis.as_of.isoformat()} with {analysis.model_label}; effects are "
                         "treatment - control with 95% intervals",
                         formats={c: "0.000" for c in ("mean_treatment", "mean_control", "effect", "welch_low", "welch_high",
                                                       "bootstrap_low", "bootstrap_high", "p_value", "cuped_effect",
                                                       "cuped_low", "cuped_high", "mde", "low", "high", "smd",
                                                       "share_analysed")} | {"cuped_narrowing": "0.0%"})
    report.text(*analysis.lines)
    report.small("Estimates per outcome", analysis.results)
    report.small("Difference-in-differences on composite score trajectories", analysis.did)
    report.small("Attrition: partners with each outcome, per arm", analysis.attrition)
    report.small("Balance at assignment", analysis.balance)
    return write_report_sheets(sheets.book, [report], path, analysis.as_of, source)


def registry_workbook(sheets: Sheets, model: ScoringModel, as_of: dt.date, since: dt.date | None) -> pd.DataFrame:
    """The interventions registry of the workbook (:func:`scoring.interventions.intervention_registry`)."""
    from scoring.interventions import intervention_registry

    if sheets.interventions is None:
        raise WorkbookError("the workbook has no Interventions sheet (partner_id, action, date, status) to build "
                            "the registry from")
    return intervention_registry(sheets.partners.frame, sheets.interventions, model, as_of, history=sheets.history,
                                 outcomes=sheets.outcomes, experiments=sheets.experiments, since=since)


def write_registry(sheets: Sheets, registry: pd.DataFrame, lines: list[str], path: "str | Path", source: "str | Path",
                   as_of: dt.date) -> list[str]:
    from scoring.interventions import OBSERVATIONAL

    numbers = {c: "0.000" for c in registry.columns if c.endswith(("_effect", "_low", "_high", "_received",
                                                                    "_comparison")) and c != "matched_comparison"}
    sheet = ReportSheet(REGISTRY, "Interventions registry: actions and what happened after them",
                        f"As of {as_of.isoformat()} · effects are received - comparable partners recommended it but "
                        f"not received it, {OBSERVATIONAL} unless the evidence column names an experiment",
                        formats=numbers, widths={"action": 40, "note": 70, "evidence": 30})
    sheet.text(*lines)
    sheet.table = ("PscoreInterventionsRegistry", registry)
    return write_report_sheets(sheets.book, [sheet], path, as_of, source)
