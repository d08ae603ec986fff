"""Where a partner stands in its segment: percentiles and the segment's quartiles, per outcome.

A scorecard compares a partner with its peers without naming them. Quartiles of a handful of
partners would give away individual scores, so a segment smaller than :data:`MIN_SEGMENT_SIZE`
gets no statistics (NaN) and reports say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.result import ScoreResult, percentile

__all__ = ["MIN_SEGMENT_SIZE", "segment_benchmarks"]

MIN_SEGMENT_SIZE = 5
OUTCOME_SCORES = {"revenue": "revenue_score", "engagement": "engagement_score", "composite": "composite_score"}


def segment_benchmarks(result: ScoreResult, min_size: int = MIN_SEGMENT_SIZE) -> pd.DataFrame:
    """One row per partner (the result's index): ``segment_size`` (scored partners in the segment)
    and per outcome ``<o>_segment_percentile``, ``<o>_segment_p25``, ``<o>_segment_median``,
    ``<o>_segment_p75``; NaN where the partner is unscored or the segment is below ``min_size``."""
    segment = np.asarray(result["segment"], dtype=object)
    scored = ~np.isnan(result["composite_score"])
    columns = ["segment_size", *(f"{o}_segment_{s}" for o in OUTCOME_SCORES
                                 for s in ("percentile", "p25", "median", "p75"))]
    if not scored.any():
        return pd.DataFrame({c: 0 if c == "segment_size" else np.nan for c in columns}, index=result.frame.index)
    codes, _ = pd.factorize(segment, use_na_sentinel=False)
    size = np.bincount(codes[scored], minlength=codes.max() + 1)[codes]
    large = size >= min_size
    out = {"segment_size": np.where(scored, size, 0)}
    for outcome, column in OUTCOME_SCORES.items():
        values = np.asarray(result[column], dtype=float)
        out[f"{outcome}_segment_percentile"] = np.where(large, percentile(values, segment), np.nan)
        quartiles = pd.Series(values[scored]).groupby(codes[scored]).quantile([0.25, 0.5, 0.75]).unstack()
        quartiles = quartiles.reindex(range(codes.max() + 1))
        for q, name in ((0.25, "p25"), (0.5, "median"), (0.75, "p75")):
            stat = quartiles[q].to_numpy(dtype=float)[codes]
            out[f"{outcome}_segment_{name}"] = np.where(large & scored, np.round(stat, 1), np.nan)
    return pd.DataFrame(out, index=result.frame.index)
