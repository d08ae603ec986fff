"""``pscore_change``: a partner's score change between two dates and its top three reasons, for a cell.

The History and partner ranges are read exactly as ``pscore history`` reads the sheets, and the
change and its reasons come from :func:`scoring.history.history_view` (the change ledger), so the
cell says what the Changes sheet and the PDF scorecard say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scoring.history import history_view
from scoring.ledger import top_reasons

from xlplugin.excel.args import ArgumentError, Grid, as_of_arg, choice_arg, grid, model_arg, scalar, table_arg
from xlplugin.workbook.reader import WorkbookError, read_grid

__all__ = ["CHANGE_COLUMNS", "change_cells"]

CHANGE_COLUMNS = ("partner_id", "score", "from_period", "to_period", "before", "after", "change",
                  "reason_1", "reason_2", "reason_3")
SCORES = ("composite", "revenue", "engagement")


def _date(value: Any, name: str) -> dt.date | None:
    if scalar(value, name) is None:
        return None
    try:
        return as_of_arg(value)
    except ArgumentError as exc:
        raise ArgumentError(str(exc).replace("as_of", name, 1)) from None


def change_cells(history: Grid, partners: Grid, partner_id: Any, start: Any, end: Any, model: Any,
                 which: Any) -> Grid:
    """Header and one row: the partner's change in ``which`` score and its top three reasons."""
    scoring_model = model_arg(model)
    pid = scalar(partner_id, "partner_id")
    if pid is None:
        raise ArgumentError("partner_id: missing; give the partner's ID")
    pid = str(int(pid) if isinstance(pid, float) and pid.is_integer() else pid).strip()
    score = choice_arg(which, "score", SCORES)
    first, last = _date(start, "from"), _date(end, "to")
    try:
        snapshots = read_grid(grid(history, "history"), scoring_model, "History", required=("partner_id", "period"))
    except WorkbookError:
        raise ArgumentError("history: no partner_id and period columns; select the History table with its "
                            "header row") from None
    table = table_arg(partners, scoring_model)
    frame = snapshots.frame
    mine = frame[frame["partner_id"].astype(str).str.strip() == pid]
    if mine.empty:
        raise ArgumentError(f"history: no snapshot of partner {pid}")
    view = history_view(mine, table.frame, scoring_model, start=first, end=last)
    found = view.changes[view.changes["score"] == score]
    if found.empty:
        raise ArgumentError(f"partner {pid}: no two snapshots to compare (one at or before 'to' and an earlier one "
                            "at or before 'from', or a quarter before)")
    head = found.iloc[0]
    reasons = top_reasons(view.changes, score=score)["reason"].tolist()
    reasons = (reasons + [None] * 3)[:3]
    return [list(CHANGE_COLUMNS), [pid, score, head["from_period"], head["to_period"], round(float(head["before"]), 1),
                                   round(float(head["after"]), 1), round(float(head["change"]), 1), *reasons]]

