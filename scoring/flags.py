"""Data-quality and status flags: what is wrong or uncertain about a partner's score.

Metric-level flags (missing, invalid_value, out_of_range) come from normalisation; row-level flags
(low coverage, unknown segment, onboarding date problems, provisional) from the engine. Both are
kept as boolean masks so playbook rules can test them and adapters can list them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .compiled import Compiled
from .patterns import patterns
from .schema import ModelSpec

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


def any_metric_flag(status: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per partner: does any metric carry each metric-level flag (for ``flag has missing`` rules)."""
    return {name: status[name].any(axis=0) for name in METRIC_FLAGS}


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


def table(c: Compiled, partners: pd.DataFrame, partner_ids, status, rows) -> pd.DataFrame:
    """Long format: one row per (partner, flag[, metric]) with the offending cell value."""
    ids = np.asarray(partner_ids, dtype=object)
    index = np.asarray(partners.index)
    metric_ids = np.array(c.metric_ids, dtype=object)
    parts = []
    for name in METRIC_FLAGS:
        j, r = np.nonzero(status[name])
        values = np.full(len(r), None, dtype=object)
        for col in np.unique(j):
            if c.metric_ids[col] in partners.columns:
                sel = j == col
                values[sel] = partners[c.metric_ids[col]].to_numpy(dtype=object)[r[sel]]
        parts.append(pd.DataFrame({"_pos": r, "row": index[r], "partner_id": ids[r], "flag": name,
                                   "metric": metric_ids[j], "value": values}))
    for name in ROW_FLAGS:
        r = np.flatnonzero(rows[name])
        parts.append(pd.DataFrame({"_pos": r, "row": index[r], "partner_id": ids[r], "flag": name,
                                   "metric": None, "value": None}))
    found = pd.concat(parts, ignore_index=True)
    return found.sort_values("_pos", kind="stable").drop(columns="_pos").reset_index(drop=True)
