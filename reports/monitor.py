"""The drift monitoring PDF (``pscore monitor -o monitor.pdf``): what shifted, in words, an SVG
PSI chart by input, then-and-now distributions of what shifted, tier shares and coverage.

Every number comes from :mod:`scoring.drift` (through :class:`scoring.monitoring.Monitored`); this
module phrases it, draws it with :mod:`reports.charts`, lays it out with the scorecards' Jinja2
environment and fonts (``templates/monitor.html.j2``), prints it with WeasyPrint through the same
restricted fetcher and writes it with the one atomic write. The document is stamped with the
monitoring date, so the same input gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from scoring.drift import SHIFTED, STABLE
from scoring.monitoring import Monitored

from reports import charts
from reports.files import atomic_write
from reports.render import document_pdf

TEMPLATE = "monitor.html.j2"
#: Without any shifted variable, the distributions of this many largest-PSI inputs are shown instead.
SHOWN_WHEN_STABLE = 3


def context(found: Monitored, *, model_label: str, source: str, as_of: dt.date,
            anomalies: dict[str, int] | None = None) -> dict[str, Any]:
    """Everything the monitoring report prints."""
    drift = found.drift
    table = drift.table
    inputs = table[table["group"] == "input"].sort_values("psi", ascending=False, kind="stable")
    shifted = table[table["shifted"] & (table["group"] != "tier")]
    chosen = shifted if len(shifted) else inputs.head(SHOWN_WHEN_STABLE)
    distributions = []
    for variable, label, value in zip(chosen["variable"], chosen["label"], chosen["psi"]):
        bins = drift.bins[drift.bins["variable"] == variable]
        rows = list(zip(bins["bin"], bins["share_then"], bins["share_now"]))
        distributions.append({"label": label, "psi": value,
                              "chart": charts.then_now_bars(rows, f"{label}, share of partners per bin")})
    return {
        "title": "Population stability", "source": source, "model": model_label, "as_of": as_of,
        "then": found.then, "now": found.now, "summary": drift.summary(), "notes": found.notes,
        "rule": (f"Bands: PSI below {STABLE:g} stable, {STABLE:g} to {SHIFTED:g} investigate, {SHIFTED:g} or more "
                 "shifted. Bins are the deciles of the earlier population (a bin per category); every bin count "
                 "gets 0.5 added. 'By chance' is the PSI two samples of these sizes from one population exceed 5% "
                 f"of the time (400 bootstrap draws); where it is {STABLE:g} or more the sample is too small for "
                 f"the bands to mean much. Shifted: PSI {SHIFTED:g} or more and above that."),
        "psi_chart": charts.psi_bars(list(zip(inputs["label"], inputs["psi"], inputs["band"]))),
        "rows": table.to_dict("records"),
        "distributions": distributions,
        "distribution_note": ("" if len(shifted) else
                              f"Nothing shifted; the {len(chosen)} inputs with the largest PSI are shown."),
        "tiers": drift.tiers.to_dict("records"),
        "anomalies": anomalies,
    }


def write_pdf(found: Monitored, path: "str | Path", *, model_label: str, source: str, as_of: dt.date,
              anomalies: dict[str, int] | None = None) -> Path:
    """Render the monitoring report and write it atomically to ``path``."""
    page = context(found, model_label=model_label, source=source, as_of=as_of, anomalies=anomalies)
    data = document_pdf(TEMPLATE, page, as_of=as_of, title=f"Population stability as of {as_of}")
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))
