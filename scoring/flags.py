"""Data-quality and status flags: what is wrong or uncertain about a partner's score.

Metric-level flags (missing, invalid_value, out_of_range) come from normalisation; row-level flags
(low coverage, unknown segment, onboarding date problems, provisional) from the engine. Both are
kept as boolean masks so playbook rules can test them and adapters can list them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.compiled import Compiled
from scoring.patterns import patterns
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


def row_flags(spec: ModelSpec, *, coverage, no_data, unknown_segment, months) -> dict[str, np.ndarray]:
    """Row-level flags as boolean arrays keyed by flag name."""
    with np.errstate(invalid="ignore"):
        return {
            "no_data": no_data,
            "low_coverage": (coverage < spec.coverage.minimum) & ~no_data,
            "unknown_segment": unknown_segment,
            "missing_onboarding_start": np.isnan(months),
            "future_onboarding_start": months < 0,
            "provisional": months < spec.provisional.min_months,
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


#: Per flag: what is wrong and what the scorecard did about it (``{...}`` filled per record).
RECORD_TEXT = {
    "missing": ("no value", "left out; weights re-normalised over the metrics present"),
    "invalid_value": ("not a valid value for this metric", "left out; weights re-normalised over the metrics present"),
    "out_of_range": ("outside the valid range {lo:g} to {hi:g}", "left out; weights re-normalised over the metrics present"),
    "no_data": ("no usable metric", "not scored"),
    "low_coverage": ("only {coverage:.0%} of the scorecard's weight has data (minimum {minimum:.0%})",
                     "scored on the metrics present and flagged"),
    "unknown_segment": ("not a {column} the model knows ({known})", "scored with the base weights"),
    "missing_onboarding_start": ("no readable onboarding start date", "scored in the first stage"),
    "future_onboarding_start": ("onboarding starts after the scoring date", "scored in the first stage"),
    "provisional": ("fewer than {months:g} months since onboarding start", "score shown as provisional"),
}


def table(c: Compiled, core, partner_ids, coverage) -> pd.DataFrame:
    """Long format: one row per (partner, flag[, metric or segment column]) with the offending value
    and the record's problem and action (see :data:`RECORD_TEXT`)."""
    partners, status, rows = core.partners, core.status, core.row_flags
    ids = np.asarray(partner_ids, dtype=object)
    index = np.asarray(partners.index)
    spec = c.spec
    parts = []

    def add(flag, r, column, values, problems, action):
        parts.append(pd.DataFrame({"_pos": r, "row": index[r], "partner_id": ids[r], "flag": flag, "column": column,
                                   "value": values, "problem": problems, "action": action}))

    for name in METRIC_FLAGS:
        problem, action = RECORD_TEXT[name]
        for j in np.flatnonzero(status[name].any(axis=1)):
            metric = spec.metrics[j]
            r = np.flatnonzero(status[name][j])
            cells = partners[metric.id].to_numpy(dtype=object)[r] if metric.id in partners.columns else None
            lo, hi = metric.valid_range or (0, 0)
            add(name, r, metric.id, cells, problem.format(lo=lo, hi=hi), action)
    for dim, unknown in core.unknown_segment.items():
        r = np.flatnonzero(unknown)
        problem, action = RECORD_TEXT["unknown_segment"]
        known = ", ".join(spec.segmentation.dimensions[dim])
        add("unknown_segment", r, dim, core.segment_values[dim][r], problem.format(column=dim, known=known), action)
    for name in ROW_FLAGS:
        if name == "unknown_segment":
            continue
        r = np.flatnonzero(rows[name])
        problem, action = RECORD_TEXT[name]
        problems = [problem.format(coverage=coverage[i], minimum=spec.coverage.minimum,
                                   months=spec.provisional.min_months) for i in r] if "{" in problem else problem
        add(name, r, None, None, problems, action)
    found = pd.concat(parts, ignore_index=True)
    return found.sort_values("_pos", kind="stable").drop(columns="_pos").reset_index(drop=True)
