"""Data-quality records: one record type and one wording for everything pscore finds wrong or uncertain.

Reading a workbook notices things in cells (an Excel error, a number stored as text, a percentage);
scoring notices things about partners (a metric left out, an unknown segment, low coverage). Both
are a :class:`Record`, and :func:`records` merges them so that one bad cell is one record, worded
once. The Data quality sheet, the Excel flags function, the command line's count and the scorecards'
data notes all show these records; adapters only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Collection, Iterable, Mapping

import pandas as pd

if TYPE_CHECKING:
    from scoring.result import ScoreResult

__all__ = ["COLUMNS", "Record", "frame", "notes", "records", "wording"]

#: Columns of a table of records (:func:`frame`): the Data quality sheet's.
COLUMNS = ("sheet", "row", "column", "partner_id", "value", "problem", "action")
LEFT_OUT = "left out; weights re-normalised over the metrics present"

#: Per scorecard flag: problem and action (``{...}`` filled per record), and whether a reading record
#: about the same cell already says what the problem is (the reader says *why* a cell has no value).
_FLAG_TEXT: dict[str, tuple[str, str, bool]] = {
    "missing": ("no value", LEFT_OUT, True),
    "invalid_value": ("not a valid value for this metric", LEFT_OUT, True),
    "out_of_range": ("outside the valid range {lo:g} to {hi:g}", LEFT_OUT, False),
    "no_data": ("no usable metric", "not scored", False),
    "low_coverage": ("only {coverage:.0%} of the scorecard's weight has data (minimum {minimum:.0%})",
                     "scored on the metrics present and flagged", False),
    "unknown_segment": ("not a {column} the model knows ({known})", "scored with the base weights", True),
    "missing_onboarding_start": ("no usable onboarding start date", "scored in the first stage", True),
    "future_onboarding_start": ("onboarding starts after the scoring date", "scored in the first stage", False),
    "provisional": ("fewer than {months:g} months since onboarding start{periods}", "score shown as provisional", False),
}
#: A metric with a ``since`` date, blank for partners onboarded before it: one record per sheet, not
#: one per partner (the programme did not record it for them; see :func:`scoring.flags.unrecorded`).
_UNRECORDED = ("recorded since {since}: blank for {count:,} partner{s} onboarded earlier, not expected of them",
               "not flagged missing; left out of their coverage")


@dataclass(frozen=True)
class Record:
    """One data-quality record: where (sheet, row, and column as the user sees it, e.g. ``Deals won (G)``),
    what was found (the value as typed, the problem) and what was done about it (action).

    ``partner`` is the row's partner ID, ``canonical`` the column's canonical name (a metric id,
    ``onboarding_start``, ...), on which records about the same cell are matched, and ``flag`` the
    scorecard's flag for records from scoring (None for what reading noticed). ``internal`` marks a
    finding of the anomaly checks (:mod:`scoring.anomalies`): its reason is for internal readers, so
    a scorecard sent to the partner says only that the value is under review.
    """

    sheet: str
    row: int | None
    column: str | None
    value: Any
    problem: str
    action: str
    partner: str | None = None
    canonical: str | None = None
    flag: str | None = None
    internal: bool = False


#: What a partner's own scorecard says of a value an anomaly check left out (the reason is internal).
UNDER_REVIEW = "value under review"


def wording(flag: str, **fields: Any) -> tuple[str, str]:
    """``(problem, action)`` of a scorecard flag, e.g. ``("no value", "left out; weights re-normalised ...")``."""
    problem, action, _ = _FLAG_TEXT[flag]
    return problem.format(**fields) if fields else problem, action


def records(result: "ScoreResult", partners: pd.DataFrame | None = None, reading: Iterable[Record] = (), *,
            sheet: str = "", headers: Mapping[str, str] | None = None, fold_absent: bool = True,
            rows: Collection | None = None) -> list[Record]:
    """Every record of a scored sheet, one per cell: ``reading`` (what the reader noticed, any sheet)
    then the scorecard's flags, a flag about a cell that reading already spoke about merged into that
    record (the reading's problem, the scorecard's action).

    ``partners`` is the scored frame (its index the sheet's row numbers), ``sheet`` its name and
    ``headers`` maps canonical columns to what the user sees. With ``fold_absent`` a metric whose
    column is missing from the sheet is one record instead of one per partner (a scorecard, which
    speaks of one partner, wants the latter). ``rows`` keeps only the records of those rows.
    """
    headers = headers or {}
    columns = set() if partners is None else set(partners.columns)
    ids = dict(zip(partners.index, partners["partner_id"])) if "partner_id" in columns else {}
    out = [r if r.sheet != sheet or r.partner is not None else replace(r, partner=ids.get(r.row)) for r in reading]
    if rows is not None:
        rows = set(rows)
        out = [r for r in out if r.sheet == sheet and r.row in rows]
    at = {(r.sheet, r.row, r.canonical): k for k, r in enumerate(out) if r.row is not None and r.canonical is not None}
    absent = [m for m in result.model.spec.metrics if m.id not in columns] if partners is not None and fold_absent else []
    if rows is None:
        out += [Record(sheet, None, m.label, None, f"no column for metric '{m.id}' ({m.label})",
                       "treated as missing for every partner", canonical=m.id, flag="missing") for m in absent]
    if rows is None and partners is not None:
        out += _unrecorded(result, sheet, headers, columns)
    flags = result.flags
    if rows is not None:
        flags = flags[flags["row"].isin(rows)]
    skip = {m.id for m in absent}
    for row, partner, flag, column, value, problem, action in flags[
            ["row", "partner_id", "flag", "column", "value", "problem", "action"]].itertuples(index=False):
        if flag == "missing" and column in skip:
            continue
        named = isinstance(column, str)
        record = Record(sheet, row, headers.get(column, column) if named else None, value, problem, action,
                        partner=partner, canonical=column if named else None, flag=flag)
        k = at.get((sheet, row, column)) if named else None
        if k is None:
            out.append(record)
        else:
            out[k] = _merge(out[k], record)
    return out


def _unrecorded(result: "ScoreResult", sheet: str, headers: Mapping[str, str], columns: set) -> list[Record]:
    """One record per metric whose ``since`` date left blanks unflagged (its column on the sheet)."""
    problem, action = _UNRECORDED
    out = []
    for m in result.model.spec.metrics:
        count = int(result.unrecorded[m.id].sum()) if m.id in result.unrecorded and m.id in columns else 0
        if count:
            out.append(Record(sheet, None, headers.get(m.id, m.label), None,
                              problem.format(since=m.since.isoformat(), count=count, s="s" * (count != 1)), action,
                              canonical=m.id))
    return out


def _merge(reading: Record, scoring: Record) -> Record:
    """One record for a cell both reading and scoring spoke about: what was found, then what was done."""
    said = _FLAG_TEXT[scoring.flag][2] if scoring.flag in _FLAG_TEXT else False
    problem = reading.problem if said else f"{reading.problem}; {scoring.problem}"
    return replace(reading, problem=problem, action=scoring.action, partner=scoring.partner or reading.partner,
                   flag=scoring.flag)


def frame(found: Iterable[Record]) -> pd.DataFrame:
    """Records as a table with :data:`COLUMNS` (the Data quality sheet, the Excel flags function)."""
    return pd.DataFrame([(r.sheet, r.row, r.column, r.partner, r.value, r.problem, r.action) for r in found],
                        columns=list(COLUMNS))


def notes(found: Iterable[Record], labels: Mapping[str, str], *, located: bool = False) -> list[str]:
    """One partner's records as scorecard sentences.

    Records the score depends on (from scoring) come first, one sentence per kind of problem with
    the metrics it concerns named by ``labels`` (canonical column -> label), e.g.
    ``Deals won, Pipeline value: no value (left out; ...).``; with ``located`` the records of reading
    alone follow with where they are (``Partners row 8, Deals won (G): ...``), for internal readers.
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    where: list[str] = []
    for r in found:
        if r.flag is not None:
            problem = UNDER_REVIEW if r.internal and not located else r.problem
            names = grouped.setdefault((problem, r.action), [])
            if r.canonical in labels:
                names.append(labels[r.canonical])
        elif located:
            place = f"{r.sheet} row {r.row}" + (f", {r.column}" if r.column else "")
            where.append(f"{place}: {r.problem} ({r.action}).")
    said = [f"{', '.join(names) + ': ' if names else ''}{problem} ({action})." for (problem, action), names in grouped.items()]
    return said + where
