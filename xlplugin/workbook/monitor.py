"""The drift monitoring workbook (``pscore monitor -o monitor.xlsx``): what shifted, as tables and
native Excel charts an analyst can re-cut.

Sheets: **Summary** (what was compared, the bands and the small-sample rule, anomaly counts),
**PSI** (one row per input, score and tier, with a bar chart of PSI by input), **Distributions**
(then and now shares per bin of every shifted input or score, each with a clustered bar chart) and
**Tiers** (share per tier, then and now). Every number comes from :mod:`scoring.drift`; cells are
written by the same helpers as pscore's other sheets and saved atomically, stamped with the
monitoring date so the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from scoring.drift import SHIFTED, STABLE
from scoring.monitoring import Monitored

from xlplugin.workbook.save import atomic_save, set_cell, title

BAND_FILLS = {"stable": "E2F0D9", "investigate": "FFEB9C", "shifted": "FFC7CE"}
#: Without any shifted variable, the distributions of this many largest-PSI inputs are shown instead.
SHOWN_WHEN_STABLE = 3
PSI_COLUMNS = ["label", "variable", "group", "psi", "band", "n_then", "n_now", "chance_psi", "small_sample",
               "coverage_then", "coverage_now"]


def write_report(found: Monitored, path: "str | Path", *, model_label: str, source: str, as_of: dt.date,
                 anomalies: dict[str, int] | None = None) -> Path:
    """The monitoring workbook at ``path`` (see the module docstring)."""
    drift = found.drift
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    title(ws, "Population stability", f"{source} · model {model_label} · as of {as_of.isoformat()}")
    lines = [*drift.summary(), *found.notes, "",
             f"Bands: PSI below {STABLE:g} stable, {STABLE:g} to {SHIFTED:g} investigate, {SHIFTED:g} or more shifted; "
             "bins are the deciles of the earlier population (a bin per category), each bin count plus 0.5.",
             "chance_psi: the PSI two samples of these sizes from one population exceed 5% of the time (400 "
             f"bootstrap draws); a row where it is {STABLE:g} or more is marked small_sample: its band means little.",
             f"A variable counts as shifted when its PSI is {SHIFTED:g} or more and above chance_psi."]
    if anomalies is not None:
        lines += ["", "Anomalies in the workbook (see a scored workbook's Data quality sheet): " +
                  ", ".join(f"{count} {kind}" for kind, count in anomalies.items()) + "."]
    for r, line in enumerate(lines, start=4):
        set_cell(ws, r, 1, line)
    ws.column_dimensions["A"].width = 140

    table = drift.table.sort_values(["group", "psi"], ascending=[True, False], kind="stable")
    ps = wb.create_sheet("PSI")
    title(ps, "PSI by variable", f"{found.then} -> {found.now}")
    _write(ps, 4, table[PSI_COLUMNS])
    for r, band in enumerate(table["band"], start=5):
        if band in BAND_FILLS:
            ps.cell(r, PSI_COLUMNS.index("band") + 1).fill = PatternFill("solid", start_color=BAND_FILLS[band])
    inputs = int((table["group"] == "input").sum())
    if inputs:
        chart = BarChart()
        chart.type = "bar"
        chart.title, chart.x_axis.title, chart.y_axis.title = "PSI by input", "Input", "PSI"
        chart.add_data(Reference(ps, min_col=4, min_row=4, max_row=4 + inputs), titles_from_data=True)
        chart.set_categories(Reference(ps, min_col=1, min_row=5, max_row=4 + inputs))
        chart.height, chart.width = max(8, 0.55 * inputs), 18
        chart.legend = None
        ps.add_chart(chart, "N4")

    ds = wb.create_sheet("Distributions")
    shifted = drift.table[drift.table["shifted"] & (drift.table["group"] != "tier")]
    chosen = shifted if len(shifted) else drift.table[drift.table["group"] == "input"].nlargest(SHOWN_WHEN_STABLE, "psi")
    note = ("shifted inputs and scores (PSI >= 0.25)" if len(shifted) else
            f"nothing shifted: the {len(chosen)} inputs with the largest PSI")
    title(ds, "Distributions then and now", f"Share of partners per bin, {note}")
    row = 4
    for variable, label, value in zip(chosen["variable"], chosen["label"], chosen["psi"]):
        bins = drift.bins[drift.bins["variable"] == variable][["bin", "share_then", "share_now"]]
        set_cell(ds, row, 1, f"{label} (PSI {value:.2f})").font = Font(bold=True)
        end = _write(ds, row + 1, bins.rename(columns={"share_then": "then", "share_now": "now"}), percent=True)
        chart = BarChart()
        chart.title, chart.x_axis.title, chart.y_axis.title = f"{label}: then and now", "Bin", "Share of partners"
        chart.add_data(Reference(ds, min_col=2, max_col=3, min_row=row + 1, max_row=end), titles_from_data=True)
        chart.set_categories(Reference(ds, min_col=1, min_row=row + 2, max_row=end))
        chart.height, chart.width = 7, 16
        ds.add_chart(chart, f"F{row}")
        row = max(end + 2, row + 16)

    ts = wb.create_sheet("Tiers")
    title(ts, "Tiers then and now", "Share of partners per tier")
    _write(ts, 4, drift.tiers.rename(columns={"share_then": "then", "share_now": "now"}), percent=True)
    return atomic_save(wb, path, stamp=dt.datetime.combine(as_of, dt.time()))


def _write(ws, top: int, frame: pd.DataFrame, percent: bool = False) -> int:
    """Header in bold at ``top``, then the rows; returns the last row written."""
    for k, column in enumerate(frame.columns, start=1):
        set_cell(ws, top, k, column).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(k)].width = 40 if k == 1 else 14
    r = top
    for r, values in enumerate(frame.itertuples(index=False), start=top + 1):
        for k, (column, value) in enumerate(zip(frame.columns, values), start=1):
            cell = set_cell(ws, r, k, value)
            if isinstance(value, float):
                cell.number_format = "0.0%" if percent or column.startswith("coverage") else "0.000"
    return r
