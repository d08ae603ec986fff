"""``pscore monitor``: read a workbook, compare its populations (:mod:`scoring.monitoring`) and write
the report as a workbook (:mod:`xlplugin.workbook.monitor`) or a PDF (:mod:`reports.monitor`)."""

from __future__ import annotations

from pathlib import Path

from scoring.monitoring import monitor

from xlplugin.workbook.pipeline import ScoredInput
from xlplugin.workbook.monitor import write_report


def run_monitor(scored: ScoredInput, output: Path, *, start: str | None = None, end: str | None = None,
                baseline: str | None = None) -> list[str]:
    """Write the monitoring report of ``scored`` to ``output`` (.xlsx or .pdf); returns its summary lines."""
    history = scored.history.frame if scored.history is not None else None
    found = monitor(scored.partners.frame, scored.model, history, baseline=baseline, start=start, end=end,
                    as_of=scored.result.as_of)
    counts = scored.anomalies.counts() if scored.anomalies is not None else None
    common = {"model_label": scored.model.label, "source": str(scored.source), "as_of": scored.result.as_of,
              "anomalies": counts}
    if output.suffix.lower() == ".pdf":
        from reports.monitor import write_pdf  # WeasyPrint is loaded only for a PDF

        write_pdf(found, output, **common)
    else:
        write_report(found, output, **common)
    return [*found.drift.summary(), *found.notes]
