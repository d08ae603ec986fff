"""pscore as Excel functions (xlwings UDFs), for classic xlwings and xlwings Lite alike.

Every number, tier, driver, action and flag comes from :func:`scoring.score`; these functions only
turn cell values into its inputs (:mod:`xlplugin.excel.args`) and its result back into cells.

* Table functions take the whole partner table and spill a 2-D result: one call per sheet, the
  fast way to score many partners.
* Row functions take one partner's row and the header row, so they fill down a plain range or an
  Excel table; each scores its partner alone, through the same vectorised path as a batch.
* Every argument is read as values with ``err_to_str`` (an Excel error arrives as ``"#N/A"``) and
  range arguments with ``ndim=2``, so xlwings' conversion can never fail before pscore sees the
  value; every problem becomes a one-line ``error: ...`` in the cell, never a traceback dialog.

Only options that both classic xlwings and xlwings Lite honour are used (``category`` is classic
only and ignored by Lite). Function docstrings and argument docs are what Excel's function wizard
shows, so each stays under 255 characters.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import pandas as pd
import xlwings as xw

from scoring import ModelError, ScoreResult, ScoringModel, score, staleness
from scoring.checked import score_checked

from xlplugin.excel.args import ArgumentError, Cell, Grid, aligned_cells, as_of_arg, calibrated, cell, choice_arg, line, message, model_arg, names_arg, row_layout, scalar, table_arg, table_cells, weights_arg
from xlplugin.workbook.reader import SheetData, WorkbookError
from xlplugin.workbook.writer import output_frame, quality_records

CATEGORY = "pscore"
RANGES = frozenset({"table", "row", "header", "model", "weights", "columns", "history", "partners"})

TABLE = "The partner table: header row and one row per partner, e.g. Partners!A1:AA301 or Table1[#All]."
ROW = "The partner's row, e.g. A2:AA2 (the same columns as the header)."
HEADER = "The header row of those columns, e.g. $A$1:$AA$1."
MODEL = ("Optional. Blank: the built-in model. Text: a model name or .yaml path. A range: the Model sheet "
         "(e.g. Model!A1:I80), whose weights and thresholds apply.")
AS_OF = "Optional scoring date; it sets each partner's maturity stage. Blank: today."
COLUMNS = "Optional. Columns to return: names separated by commas, or a range of names. Blank: all."

PERCENTILE_COLUMNS = ("partner_id", "segment", "composite_score", "percentile", "segment_percentile")
DRIVER_COLUMNS = ("partner_id", "direction", "rank", "metric", "label", "points")
ACTION_COLUMNS = ("partner_id", "rank", "action", "detail", "owner_role", "levers")
FLAG_COLUMNS = ("row", "column", "partner_id", "value", "problem", "action")
WHATIF_COLUMNS = ("revenue_score", "engagement_score", "composite_score", "tier")
CALIBRATION = "calibration"  # pscore_whatif's column for a calibrated model
CALIBRATION_APPLIES = {True: "applies", False: "does not apply: fitted to other weights (run pscore calibrate)"}

logger = logging.getLogger(__name__)


def excel_function(**docs: str) -> Callable[[Callable], Callable]:
    """Register ``fn`` with xlwings in the pscore category, each argument documented and read as values."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def safe(*args: Any) -> Any:
            try:
                return fn(*args)
            except (ArgumentError, ModelError, WorkbookError) as exc:
                return message(exc)
            except Exception as exc:  # a bug: still one line in the cell; the details go to the log
                logger.exception("pscore: %s failed", fn.__name__)
                return f"error: unexpected {type(exc).__name__} in {fn.__name__}: {exc}"

        for name, doc in docs.items():
            options = {"ndim": 2} if name in RANGES else {}
            safe = xw.arg(name, doc=doc, err_to_str=True, **options)(safe)
        return xw.func(category=CATEGORY)(safe)

    return decorate


# ------------------------------------------------------------------ table functions


def _score_table(table: Grid, model: Any, as_of: Any) -> tuple[SheetData, ScoreResult]:
    """The table read and scored; its anomalies (outliers, impossible combinations, duplicates: a table
    has no History) join the reading's records, and a value the model leaves out is left out."""
    scoring_model = model_arg(model)
    day = as_of_arg(as_of)
    data = table_arg(table, scoring_model)
    result, found, stale = score_checked(data.frame, scoring_model, as_of=day)  # stale by <metric>_updated columns
    data.issues.extend(found.records(data.sheet, data.headers))
    data.issues.extend(staleness.records(stale, data.frame, scoring_model, result.as_of, sheet=data.sheet,
                                         headers=data.headers))
    return data, result


@excel_function(table=TABLE, model=MODEL, as_of=AS_OF, columns=COLUMNS)
def pscore_scores(table: Grid, model: Any = None, as_of: Any = None, columns: Any = None) -> Grid:
    """All scores per partner, as pscore score writes them: scores, tier, quadrant, percentiles, drivers, actions, flags, model. Spills one row per input row."""
    data, result = _score_table(table, model, as_of)
    frame = output_frame(result)
    return aligned_cells(frame, names_arg(columns, list(frame.columns)), data.header_row)


@excel_function(table=TABLE, model=MODEL, as_of=AS_OF, columns=COLUMNS)
def pscore_percentiles(table: Grid, model: Any = None, as_of: Any = None, columns: Any = None) -> Grid:
    """Composite score and its percentile overall and within the partner's segment (0-100). Spills one row per input row."""
    data, result = _score_table(table, model, as_of)
    chosen = names_arg(columns, PERCENTILE_COLUMNS)
    frame = pd.DataFrame({c: result[c] for c in chosen}, index=data.frame.index)  # only these columns
    return aligned_cells(frame, chosen, data.header_row)


@excel_function(table=TABLE, model=MODEL, as_of=AS_OF, columns=COLUMNS)
def pscore_drivers(table: Grid, model: Any = None, as_of: Any = None, columns: Any = None) -> Grid:
    """Top drivers of each partner's composite score: one row per driver, points above (up) or below (down) the baseline."""
    _, result = _score_table(table, model, as_of)
    return table_cells(result.top_drivers(), names_arg(columns, DRIVER_COLUMNS))


@excel_function(table=TABLE, model=MODEL, as_of=AS_OF, columns=COLUMNS)
def pscore_actions(table: Grid, model: Any = None, as_of: Any = None, columns: Any = None) -> Grid:
    """Recommended actions: one row per partner and action, best first, with owner role and budget levers."""
    _, result = _score_table(table, model, as_of)
    return table_cells(result.actions, names_arg(columns, ACTION_COLUMNS))


@excel_function(table=TABLE, model=MODEL, as_of=AS_OF, columns=COLUMNS)
def pscore_flags(table: Grid, model: Any = None, as_of: Any = None, columns: Any = None) -> Grid:
    """Data-quality records from reading and scoring the table; row and column count from its top-left cell."""
    data, result = _score_table(table, model, as_of)
    records = quality_records(result, data, data.issues)
    return table_cells(records, names_arg(columns, FLAG_COLUMNS))


# ------------------------------------------------------------------ row functions


def _score_row(row: Grid, header: Grid, scoring_model: ScoringModel, as_of: Any) -> ScoreResult | None:
    """One partner scored alone (None for a blank row); same path as a batch of one."""
    day = as_of_arg(as_of)
    frame = row_layout(header, scoring_model).frame(line(row, "row"))
    return None if frame is None else score(frame, scoring_model, as_of=day)


def _column(name: str, row: Grid, header: Grid, scoring_model: ScoringModel, as_of: Any) -> Cell:
    result = _score_row(row, header, scoring_model, as_of)
    return None if result is None else cell(result[name][0])


def _first(name: str, row: Grid, header: Grid, model: Any, as_of: Any) -> Cell:
    """The first item of a ``"a; b; c"`` text column (drivers, actions)."""
    text = _column(name, row, header, model_arg(model), as_of)
    return text.split("; ", 1)[0] if text else None


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_revenue_score(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The partner's revenue score (0-100): how much revenue the onboarding data points to."""
    return _column("revenue_score", row, header, model_arg(model), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_engagement_score(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The partner's engagement score (0-100): how likely it is to stay actively engaged."""
    return _column("engagement_score", row, header, model_arg(model), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_composite_score(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The partner's composite score (0-100), the mix of revenue and engagement that sets the tier."""
    return _column("composite_score", row, header, model_arg(model), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_tier(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The partner's tier (from its composite score), or Unscored without usable data."""
    return _column("tier", row, header, model_arg(model), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_quadrant(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The partner's quadrant: high or low revenue against high or low engagement."""
    return _column("quadrant", row, header, model_arg(model), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF,
                direction="Optional. up (default): the metric adding most points; down: the one costing most.")
def pscore_top_driver(row: Grid, header: Grid, model: Any = None, as_of: Any = None, direction: Any = None) -> Cell:
    """The metric that moves the partner's composite score most, with its points, e.g. Deals won +6.1."""
    way = choice_arg(direction, "direction", ("up", "down"))
    return _first(f"drivers_{way}", row, header, model, as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_next_action(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """The first recommended action for the partner from the model's playbook (blank if none applies)."""
    return _first("actions", row, header, model, as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF)
def pscore_engagement_probability(row: Grid, header: Grid, model: Any = None, as_of: Any = None) -> Cell:
    """Probability (0-1) that the partner is still engaged at the horizon. Needs a calibrated model."""
    return _column("engagement_probability", row, header, calibrated(model_arg(model)), as_of)


@excel_function(row=ROW, header=HEADER, model=MODEL, as_of=AS_OF,
                bound="Optional. expected (default), low or high: the 80% interval's ends.")
def pscore_expected_revenue(row: Grid, header: Grid, model: Any = None, as_of: Any = None, bound: Any = None) -> Cell:
    """Expected revenue over the horizon, or an end of its 80% interval. Needs a calibrated model."""
    which = choice_arg(bound, "bound", ("expected", "low", "high"))
    name = "expected_revenue" if which == "expected" else f"expected_revenue_{which}"
    return _column(name, row, header, calibrated(model_arg(model)), as_of)


# ------------------------------------------------------------------ what-if and info


@excel_function(row=ROW, header=HEADER,
                weights="Two columns: metric (id or label; revenue.<id> for one outcome) and its new weight.",
                model=MODEL, as_of=AS_OF)
def pscore_whatif(row: Grid, header: Grid, weights: Grid, model: Any = None, as_of: Any = None) -> Grid:
    """The partner's scores and tier now and under other metric weights. Spills 3 rows by 5 columns; a 6th with a calibrated model says if its calibration applies."""
    base = model_arg(model)
    changed = weights_arg(weights, base)
    calibrated = changed.calibration != "none"
    out: Grid = [["", *WHATIF_COLUMNS, *([CALIBRATION] if calibrated else [])]]
    rows = (("current", base, True), ("what-if", changed.model, changed.calibration == "kept"))
    for label, scoring_model, applies in rows:
        result = _score_row(row, header, scoring_model, as_of)
        scores = [None if result is None else cell(result[c][0]) for c in WHATIF_COLUMNS]
        out.append([label, *scores, *([CALIBRATION_APPLIES[applies]] if calibrated else [])])
    return out


INFO_ITEMS = ("name", "version", "hash", "label", "effective_date", "calibrated", "calibration_date", "calibration_n",
              "source")


@excel_function(model=MODEL, item="Optional. One of: " + ", ".join(INFO_ITEMS) + ". Blank: all, as two columns.")
def pscore_model_info(model: Any = None, item: Any = None) -> Any:
    """The model in use: name, version, content hash and whether it carries a calibration."""
    scoring_model = model_arg(model)
    calibration = getattr(scoring_model.spec, "calibration", None)
    info = {
        "name": scoring_model.spec.name, "version": scoring_model.version, "hash": scoring_model.hash,
        "label": scoring_model.label, "effective_date": scoring_model.spec.effective_date,
        "calibrated": calibration is not None, "calibration_date": None if calibration is None else calibration.date,
        "calibration_n": None if calibration is None else calibration.n, "source": scoring_model.source,
    }
    if scalar(item, "item") is None:
        return [[key, cell(value)] for key, value in info.items()]
    return cell(info[choice_arg(item, "item", INFO_ITEMS)])


# ------------------------------------------------------------------ scores over time


@excel_function(history="The History table with its header row: partner_id, period and metric columns.",
                partners="The partner table with its header row (segments, onboarding start).",
                partner_id="The partner's ID.", start="Optional. Compare from the snapshot at or before this date. "
                "Blank: a quarter before 'end'.", end="Optional. Up to the snapshot at or before this date. Blank: the latest.",
                model=MODEL, score="Optional. composite (default), revenue or engagement.")
def pscore_change(history: Grid, partners: Grid, partner_id: Any, start: Any = None, end: Any = None,
                  model: Any = None, score: Any = None) -> Grid:
    """A partner's score change between two History snapshots and its top three reasons, in parts that add up to it (docs/history.md). Spills 2 rows."""
    from xlplugin.excel.change import change_cells

    return change_cells(history, partners, partner_id, start, end, model, score)
