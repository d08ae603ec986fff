"""``pscore history``'s workbook side: read Partners and History, write the scores over time.

The numbers come from :func:`scoring.history.history_view`; this module reads the sheets and lays
the results out, as a CSV or as a copy of the input workbook with pscore's sheets added by the same
assembly ``pscore score`` uses (the user's parts are kept byte for byte): the table per partner and
period, a long layout for pivot tables, the Changes ledger, and a native line chart of the
programme's medians.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.chart import LineChart, Reference

from scoring import ScoringModel
from scoring.history import HistoryView, history_view

from xlplugin.workbook.assemble import Assembly, place, scratch_workbook
from xlplugin.workbook.pipeline import HISTORY_SHEET, PARTNERS_SHEET, write_frame_csv
from xlplugin.workbook.reader import WorkbookError, open_workbook, read_table
from xlplugin.workbook.save import set_cell, title
from xlplugin.workbook.writer import table

__all__ = ["HISTORY_SCORES", "write_history"]

HISTORY_SCORES, LONG, CHANGES, CHART = "History scores", "History long", "Changes", "History chart"
GENERATED = (HISTORY_SCORES, LONG, CHANGES, CHART)
SCORE = "0.0"
FORMATS = {c: SCORE for c in ("revenue_raw", "revenue_smoothed", "revenue_published", "engagement_raw",
                              "engagement_smoothed", "engagement_published", "composite_raw", "composite_smoothed",
                              "composite_published", "guardrail_held_back", "months_since_start")} | {"coverage": "0%"}
SHOWN_POINTS = 0.05  # ledger parts that round to 0.0 are left off the Changes sheet


@dataclass(frozen=True)
class Written:
    path: Path
    view: HistoryView
    notes: list[str]

    @property
    def summary(self) -> str:
        table, reasons = self.view.table, self.view.reasons
        flagged = int(table["guardrail"].sum())
        return (f"Scored {table['partner_id'].nunique()} partners over {table['period'].nunique()} History periods "
                f"({len(table)} snapshots) with {self.view.model.label}: {flagged} guardrail flags, "
                f"{int(table['provisional'].sum())} provisional, {int((table['stale'] != '').sum())} with stale values; "
                f"changes explained for {reasons['partner_id'].nunique()} partners. Wrote {self.path}")


def write_history(workbook_path: Path, output: Path, model: ScoringModel, *, as_of: dt.date | None = None,
                  start: dt.date | None = None, end: dt.date | None = None, sheet: str = PARTNERS_SHEET) -> Written:
    """Read ``workbook_path``, score its History over time and write ``output`` (.csv or .xlsx/.xlsm)."""
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise WorkbookError(f"{output}: the output must end in .csv or .xlsx (.xlsm for a workbook with macros)")
    if output.exists() and output.resolve() == Path(workbook_path).resolve():
        raise WorkbookError(f"{output}: refusing to overwrite the input workbook; choose another output file")
    book = open_workbook(workbook_path)
    partners = read_table(book, sheet, model, source=workbook_path, unique_ids=True)
    history = read_table(book, HISTORY_SHEET, model, source=workbook_path, required=("partner_id", "period"))
    view = history_view(history.frame, partners.frame, model, as_of=as_of, start=start, end=end)
    if view.table.empty:
        raise WorkbookError(f"{workbook_path}: sheet '{HISTORY_SHEET}' has no row with a partner_id and a readable period")
    stamp = dt.datetime.combine(as_of or max(view.table["period"]), dt.time())
    if suffix == ".csv":
        write_frame_csv(view.table, output)
        return Written(output, view, [])
    wanted = ".xlsm" if book.package.macro_enabled else ".xlsx"
    if suffix != wanted:
        raise WorkbookError(f"{output}: the output must end in {wanted}, like the input workbook")
    placements, notes = place(book.package, GENERATED)
    names = {p.role: p.name for p in placements}
    scratch = scratch_workbook(book.package)
    note = f"Model {model.label} · {len(view.table)} snapshots · raw, smoothed and published scores (docs/history.md)"
    ws = scratch.create_sheet(names[HISTORY_SCORES])
    title(ws, "Scores over time", note)
    bodies = {names[HISTORY_SCORES]: table(ws, view.table, "PscoreHistory", formats=FORMATS,
                                           widths={"partner_name": 28, "stale": 40, "tier_shown": 16})}
    ws = scratch.create_sheet(names[LONG])
    title(ws, "Scores over time, one row per score", "For pivot tables: partner, period and score as rows or columns")
    bodies[names[LONG]] = table(ws, _long(view.table), "PscoreHistoryLong", formats={"raw": SCORE, "smoothed": SCORE,
                                                                                     "published": SCORE})
    ws = scratch.create_sheet(names[CHANGES])
    title(ws, "Why scores moved", "Each change split into parts that add up to it exactly (Shapley over the factor "
                                  "groups, docs/history.md); parts under 0.05 points left out")
    bodies[names[CHANGES]] = table(ws, _changes(view), "PscoreChanges", formats={"points": "+0.0;-0.0;0.0",
                                   "before": SCORE, "after": SCORE, "change": "+0.0;-0.0;0.0"},
                                   widths={"reason": 70, "label": 30})
    _chart(scratch.create_sheet(names[CHART]), view, model)
    assembly = Assembly(book.package)
    assembly.add_sheets(scratch, placements, rows=bodies)
    assembly.save(output, stamp=stamp)
    return Written(output, view, notes)


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    parts = [pd.DataFrame({"partner_id": frame["partner_id"], "period": frame["period"], "score": s,
                           "raw": frame[f"{s}_raw"], "smoothed": frame[f"{s}_smoothed"],
                           "published": frame[f"{s}_published"], "tier": frame["tier_shown"]})
             for s in ("revenue", "engagement", "composite")]
    return pd.concat(parts).sort_index(kind="stable").reset_index(drop=True)


def _changes(view: HistoryView) -> pd.DataFrame:
    """The ledger's visible parts, each partner's three reasons after its rows."""
    ledger = view.changes
    shown = ledger[ledger["points"].abs() >= SHOWN_POINTS].drop(columns=["row"])
    reasons = view.reasons.groupby("partner_id", sort=False)["reason"].agg("; ".join)
    shown = shown.assign(reason=shown["partner_id"].map(reasons).where(shown["score"] == "composite", ""))
    return shown[["partner_id", "from_period", "to_period", "score", "part", "metric", "label", "points", "before",
                  "after", "change", "reason"]].reset_index(drop=True)


def _chart(ws, view: HistoryView, model: ScoringModel) -> None:
    medians = view.table.groupby("period").agg(
        composite_raw=("composite_raw", "median"), composite_published=("composite_published", "median"),
        revenue_published=("revenue_published", "median"), engagement_published=("engagement_published", "median"),
        partners=("partner_id", "nunique")).round(1).reset_index()
    medians["period"] = [pd.Timestamp(p).strftime("%Y-%m") for p in medians["period"]]
    title(ws, "Programme medians over time", f"Model {model.label} · median of the partners with a snapshot that month")
    headers = ["month", "median composite (raw)", "median composite (published)", "median revenue (published)",
               "median engagement (published)", "partners"]
    start = 4
    for k, header in enumerate(headers, start=1):
        set_cell(ws, start, k, header)
    for r, row in enumerate(medians.itertuples(index=False), start=start + 1):
        for k, value in enumerate(row, start=1):
            set_cell(ws, r, k, value)
    last = start + len(medians)
    chart = LineChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = "Median scores by month", "Score", "Month"
    chart.add_data(Reference(ws, min_col=2, max_col=5, min_row=start, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=start + 1, max_row=last))
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.height, chart.width = 9, 20
    ws.add_chart(chart, "H4")
    for letter, width in zip("ABCDEF", (10, 22, 26, 24, 28, 10)):
        ws.column_dimensions[letter].width = width
