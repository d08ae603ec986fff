"""Data-quality and status flags: what is wrong or uncertain about a partner's score.

Metric-level flags (missing, invalid_value, out_of_range) come from normalisation; row-level flags
(low coverage, unknown segment, onboarding date problems, provisional) from the engine. Both are
kept as boolean masks so playbook rules can test them and adapters can list them. A blank the
programme did not record yet (before a metric's ``since`` date) is not ``missing``: see
:func:`unrecorded`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.compiled import Compiled
from scoring.patterns import patterns
from scoring.quality import wording
from scoring.model.schema import ModelSpec

METRIC_FLAGS = ("missing", "invalid_value", "out_of_range")
ROW_FLAGS = (
    "no_data",
    "low_coverage",
    "unknown_segment",
    "missing_onboarding_start",
    "future_onboarding_start",
    "provisional",
)
_METRIC_TEXT = {"missing": "missing", "invalid_value": "invalid", "out_of_range": "out of range"}
_ROW_TEXT = {
    "no_data": "no usable metrics",
    "low_coverage": "low coverage",
    "unknown_segment": "unknown segment",
    "missing_onboarding_start": "no onboarding start date",
    "future_onboarding_start": "onboarding start after the scoring date",
    "provisional": "provisional",
}


@dataclass(frozen=True)
class Unrecorded:
    """A metric with a ``since`` date: the partners onboarded before it, and which of them are blank."""

    index: int  # the metric's position in the model
    before: np.ndarray  # (n,) bool: onboarded before ``since``, so not expected to have a value
    blank: np.ndarray  # (n,) bool: of those, the ones without a value (not flagged ``missing``)


def unrecorded(c: Compiled, starts: np.ndarray, missing: np.ndarray) -> list[Unrecorded]:
    """The metrics with a ``since`` date, and the partners not expected to have them.

    The programme did not record such a metric for partners onboarded before that date, so their
    blank is not flagged ``missing`` (cleared in ``missing``, in place) and the engine leaves the
    metric's weight out of their coverage unless they have a usable value anyway (which is scored
    as usual; an unreadable one is flagged as usual). A partner without a usable onboarding start
    (``starts`` NaT) is expected to have every metric. Empty, and free, when no metric has a date.
    """
    found = []
    for j, since in c.since:
        before = starts < since  # NaT compares False: expected
        found.append(Unrecorded(j, before, before & missing[j]))
        missing[j] &= ~before
    return found


def row_flags(spec: ModelSpec, *, coverage, no_data, unknown_segment, months, observations=None) -> dict[str, np.ndarray]:
    """Row-level flags as boolean arrays keyed by flag name. ``observations`` (History snapshots per
    partner, None without History) makes a score provisional below the model's ``stability.min_periods``
    too, besides the months rule."""
    too_few = False if observations is None else np.asarray(observations) < spec.stability.min_periods
    with np.errstate(invalid="ignore"):
        return {
            "no_data": no_data,
            "low_coverage": (coverage < spec.coverage.minimum) & ~no_data,
            "unknown_segment": unknown_segment,
            "missing_onboarding_start": np.isnan(months),
            "future_onboarding_start": months < 0,
            "provisional": (months < spec.provisional.min_months) | too_few,
        }


def describe(c: Compiled, status: dict[str, np.ndarray], rows: dict[str, np.ndarray]) -> np.ndarray:
    """One line per partner, e.g. ``missing: Pipeline value, Deals won | low coverage``.

    Partners share few distinct flag patterns, so each pattern is phrased once and broadcast.
    """
    bits = np.concatenate([*(status[k] for k in METRIC_FLAGS), np.stack([rows[k] for k in ROW_FLAGS])])
    codes, examples = patterns(bits)
    m = len(c.labels)
    texts = []
    for example in examples:
        row = bits[:, example]
        parts = []
        for k, name in enumerate(METRIC_FLAGS):
            hit = [c.labels[j] for j in np.flatnonzero(row[k * m:(k + 1) * m])]
            if hit:
                parts.append(f"{_METRIC_TEXT[name]}: {', '.join(hit)}")
        parts += [_ROW_TEXT[name] for k, name in enumerate(ROW_FLAGS) if row[len(METRIC_FLAGS) * m + k]]
        texts.append(" | ".join(parts))
    return np.array(texts, dtype=object)[codes]


#: Row flags about the onboarding start cell: their records point at that cell.
ONBOARDING_FLAGS = ("missing_onboarding_start", "future_onboarding_start")


def table(c: Compiled, core, partner_ids, coverage) -> pd.DataFrame:
    """Long format: one row per (partner, flag[, metric, segment or onboarding start column]) with the
    offending value and the record's problem and action (worded by :func:`scoring.quality.wording`)."""
    partners, status, rows = core.partners, core.status, core.row_flags
    ids = np.asarray(partner_ids, dtype=object)
    index = np.asarray(partners.index)
    spec = c.spec
    parts = []

    def add(flag, r, column, values, problems, action):
        parts.append(pd.DataFrame({"_pos": r, "row": index[r], "partner_id": ids[r], "flag": flag, "column": column,
                                   "value": values, "problem": problems, "action": action}))

    def cells(column, r):
        return partners[column].to_numpy(dtype=object)[r] if column in partners.columns else None

    for name in METRIC_FLAGS:
        for j in np.flatnonzero(status[name].any(axis=1)):
            metric = spec.metrics[j]
            r = np.flatnonzero(status[name][j])
            lo, hi = metric.valid_range or (0, 0)
            add(name, r, metric.id, cells(metric.id, r), *wording(name, lo=lo, hi=hi))
    for dim, unknown in core.unknown_segment.items():
        r = np.flatnonzero(unknown)
        known = ", ".join(spec.segmentation.dimensions[dim])
        add("unknown_segment", r, dim, core.segment_values[dim][r], *wording("unknown_segment", column=dim, known=known))
    for name in ROW_FLAGS:
        if name == "unknown_segment":
            continue
        r = np.flatnonzero(rows[name])
        periods = spec.stability.min_periods
        fields = {"minimum": spec.coverage.minimum, "months": spec.provisional.min_months,
                  "periods": f" or fewer than {periods} History snapshots" if periods else ""}
        if name == "low_coverage":  # the coverage differs per partner
            texts = [wording(name, coverage=coverage[i], **fields) for i in r]
            problems, action = [t[0] for t in texts], texts[0][1] if texts else ""
        else:
            problems, action = wording(name, **fields)
        column = "onboarding_start" if name in ONBOARDING_FLAGS and "onboarding_start" in partners.columns else None
        add(name, r, column, cells(column, r) if column else None, problems, action)
    found = pd.concat(parts, ignore_index=True)
    return found.sort_values("_pos", kind="stable").drop(columns="_pos").reset_index(drop=True)
