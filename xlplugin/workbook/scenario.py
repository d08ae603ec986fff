"""``pscore scenario``'s workbook side: read the partners, lay the scenario out as sheets of a copy
of the workbook (Scenario, Scenario movers, Scenario actions, Scenario budget).

Every number comes from :class:`scoring.scenario.Scenario`; this module only lays it out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from scoring import ScoringModel
from scoring.scenario import Scenario, run_scenario

from xlplugin.workbook.book import Book
from xlplugin.workbook.reader import SheetData, WorkbookError, open_workbook, read_table, usable_partners
from xlplugin.workbook.report_sheets import ReportSheet, write_report_sheets

SCENARIO, MOVERS, ACTIONS, BUDGET = "Scenario", "Scenario movers", "Scenario actions", "Scenario budget"
SCORE, SHARE, MONEY = "0.0", "0.0%", "#,##0.00"


def read_partners(book: Book, sheet: str, models: list[ScoringModel], source: "str | Path") -> SheetData:
    """The partner sheet read with the first model's headers, plus the columns only later models
    know (a metric model B adds)."""
    data = read_table(book, sheet, models[0], source=source, unique_ids=True)
    if usable_partners(data) == 0:
        raise WorkbookError(f"{source}: no usable partners: sheet '{sheet}' has {len(data.frame)} row(s) "
                            "but none with a partner_id")
    for model in models[1:]:
        missing = [m.id for m in model.spec.metrics if m.id not in data.frame.columns]
        if missing:
            other = read_table(book, sheet, model, source=source, unique_ids=True)
            for column in missing:
                if column in other.frame.columns:
                    data.frame[column] = other.frame[column]
    return data


def scenario_of_workbook(path: "str | Path", model_a: ScoringModel, model_b: ScoringModel, as_of: dt.date,
                         sheet: str = "Partners") -> tuple[Book, Scenario]:
    book = open_workbook(path)
    partners = read_partners(book, sheet, [model_a, model_b], path)
    return book, run_scenario(partners.frame, model_a, model_b, as_of)


def sheets(scenario: Scenario) -> list[ReportSheet]:
    """The scenario as report sheets (see :func:`report_sheets.write_report_sheets`)."""
    about = f"A = {scenario.a.model.label} · B = {scenario.b.model.label} · as of {scenario.as_of.isoformat()}"
    first = ReportSheet(SCENARIO, "Scenario: model A against model B", about, formats={"value": "0.000"})
    first.text(*scenario.summary())
    diff = scenario.diff.frame()
    first.small("What changed in the model", diff[["path", "text"]] if len(diff) else
                pd.DataFrame({"path": [], "text": []}))
    first.small("Rank correlation of composite scores", scenario.correlation)
    first.small("Tier migration: partners (rows: tier under A, columns: tier under B)", scenario.migration, index=True)
    first.small("Tier migration: % of each tier under A", (scenario.shares * 100).round(1), index=True)
    first.small("Recommended actions under A and B", scenario.actions)

    movers = ReportSheet(MOVERS, "Partners whose tier or quadrant changes",
                         f"{about} · {len(scenario.movers)} partners · metric_1-3: the metrics whose contribution to "
                         "the composite score moved most (points B - A)",
                         formats={"composite_a": SCORE, "composite_b": SCORE, "change": "+0.0;-0.0;0.0",
                                  "points_1": "+0.0;-0.0", "points_2": "+0.0;-0.0", "points_3": "+0.0;-0.0"})
    movers.table = ("PscoreScenarioMovers", scenario.movers)
    actions = ReportSheet(ACTIONS, "Recommended actions gained and lost",
                          f"{about} · one row per partner and action that B recommends and A does not (gained), "
                          "or the reverse (lost)")
    actions.table = ("PscoreScenarioActions", scenario.action_changes)
    budget = ReportSheet(BUDGET, "Budget allocation under A and B", about,
                         formats={"amount_a": MONEY, "amount_b": MONEY, "difference": MONEY, "total": MONEY,
                                  "allocated": MONEY, "left": MONEY})
    if len(scenario.budget_totals):
        budget.text("share pools divide their whole total among the partners who qualify (the total is conserved); "
                    "fixed pools give each partner its amount, and 'left' is negative when they exceed the total.")
        budget.small("Pools", scenario.budget_totals)
        budget.small("By tier", scenario.budget_by_tier)
        budget.small("By segment", scenario.budget_by_segment)
    else:
        budget.text("Neither model has a budget section: add one to the model file (docs/model-file.md, Budget) "
                    "to see each pool's allocation by tier and segment.")
    return [first, movers, actions, budget]


def write_scenario(book: Book, scenario: Scenario, path: "str | Path", source: "str | Path") -> list[str]:
    return write_report_sheets(book, sheets(scenario), path, scenario.as_of, source)
