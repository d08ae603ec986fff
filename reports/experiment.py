"""The experiment read-out as PDF: the verdicts in words, then the estimates behind them.

Every number and sentence comes from :class:`scoring.experiments.analyze.Analysis`; this module only
phrases its tables for print (numbers to three decimals, counts whole) and renders them with the
scorecards' environment, fonts and restricted fetcher (:func:`reports.render.document_pdf`), so the
same read-out gives the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoring.experiments import Analysis

from reports.files import atomic_write
from reports.render import document_pdf

__all__ = ["report", "write_analysis_pdf"]

TEMPLATE = "experiment.html.j2"
TABLES = (("results", "Estimates per outcome (treatment - control, 95% intervals)"),
          ("did", "Difference-in-differences on composite score trajectories"),
          ("attrition", "Attrition: partners with each outcome, per arm"),
          ("balance", "Balance at assignment (standardised mean differences)"))


def report(analysis: Analysis) -> dict[str, Any]:
    """What the PDF prints, as plain text values (see the template)."""
    return {"title": f"Experiment read-out: {analysis.name}", "as_of": analysis.as_of.isoformat(),
            "model": analysis.model_label, "lines": list(analysis.lines),
            "tables": [_table(title, getattr(analysis, name)) for name, title in TABLES
                       if not getattr(analysis, name).empty]}


def write_analysis_pdf(analysis: Analysis, path: "str | Path", author: str = "pscore") -> Path:
    """Render the read-out and write it atomically to ``path``."""
    content = report(analysis)
    pdf = document_pdf(TEMPLATE, {"r": content, "author": author, "lang": "en"}, as_of=analysis.as_of,
                       title=content["title"], author=author)
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(pdf))


#: Tables wider than this many columns are printed turned: one column per row of the frame (per
#: outcome), one row per figure, so they fit an A4 page.
MAX_COLUMNS = 8


def _table(title: str, frame: pd.DataFrame) -> dict[str, Any]:
    names = [str(c).replace("_", " ") for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    if len(names) <= MAX_COLUMNS:
        return {"title": title, "columns": names, "rows": rows}
    return {"title": title, "columns": [names[0], *(row[0] for row in rows)],
            "rows": [[name, *(row[k] for row in rows)] for k, name in enumerate(names) if k > 0]}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.0f}" if abs(value) >= 1000 else f"{float(value):.3f}"
    return str(value)
