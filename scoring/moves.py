"""Why a partner's score differs between two scorings of the same data: per metric, the change in
its contribution, and the few metrics that moved the score most.

Each metric contributes ``effective weight x (sub-score - baseline)`` points and a partner's
contributions add up to its score minus the baseline (:mod:`scoring.engine`), so the change in the
score between model A and model B is exactly the sum of the changes in contributions (plus the
change in the baseline, if the models' baselines differ). The scenario report names the three
largest. A change ledger may later give the same numbers for changes over time; until then this is
the one public function that attributes a score change to metrics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.compiled import ADJUSTMENT, ADJUSTMENT_LABEL
from scoring.result import ScoreResult

__all__ = ["BASELINE", "metric_moves", "top_moves"]

#: The pseudo-metric for a change of the drivers' baseline between the two models.
BASELINE = "baseline"


def metric_moves(a: ScoreResult, b: ScoreResult, outcome: str = "composite",
                 positions: "np.ndarray | None" = None) -> pd.DataFrame:
    """Per partner (rows, the results' index) and metric (columns, by id, the segment adjustment
    and ``baseline`` last): points B's ``outcome`` score gains over A's from that metric.

    The row sums equal B's unrounded score minus A's (NaN where either side is unscored). ``a`` and
    ``b`` must score the same partners in the same order; ``positions`` keeps only those partners
    (0-based), which is cheaper than computing everyone's.
    """
    if len(a) != len(b):
        raise ValueError(f"the two scorings have {len(a)} and {len(b)} partners; a comparison needs the same partners")
    take = slice(None) if positions is None else np.asarray(positions, dtype=np.int64)
    sides = []
    for result in (a, b):  # metric-major (M + 1, n) points, the segment adjustment last, as the engine keeps them
        points = result._contrib(outcome)[:, take]
        sides.append(dict(zip([*result._c.metric_ids, ADJUSTMENT], points)))
    metrics = list(dict.fromkeys([*[m for m in sides[0] if m != ADJUSTMENT], *[m for m in sides[1] if m != ADJUSTMENT],
                                  ADJUSTMENT]))
    n = len(a) if positions is None else len(take)
    zero = np.zeros(n)
    moves = np.column_stack([sides[1].get(m, zero) - sides[0].get(m, zero) for m in metrics]) if n else \
        np.zeros((0, len(metrics)))
    key = "composite" if outcome == "composite" else outcome
    scored = ~(np.isnan(a._core.scores[key][take]) | np.isnan(b._core.scores[key][take]))
    baseline = np.where(scored, b.baseline - a.baseline, np.nan)
    moves[~scored] = np.nan
    return pd.DataFrame(np.column_stack([moves, baseline]), index=a.index[take], columns=[*metrics, BASELINE])


def top_moves(moves: pd.DataFrame, labels: dict[str, str] | None = None, top_n: int = 3) -> pd.DataFrame:
    """The ``top_n`` metrics with the largest moves (by size) per partner: ``metric_1`` (label),
    ``points_1`` (signed points), ... ; empty where fewer metrics moved (by 0.05 points or more)."""
    labels = {ADJUSTMENT: ADJUSTMENT_LABEL, BASELINE: "Driver baseline", **(labels or {})}
    values = np.nan_to_num(moves.to_numpy())
    names = np.array([labels.get(c, c) for c in moves.columns], dtype=object)
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top_n]
    out = {}
    for k in range(min(top_n, values.shape[1])):
        idx = order[:, k]
        points = np.round(values[np.arange(len(values)), idx], 1)
        moved = np.abs(values[np.arange(len(values)), idx]) >= 0.05
        out[f"metric_{k + 1}"] = np.where(moved, names[idx], "")
        out[f"points_{k + 1}"] = np.where(moved, points, np.nan)
    return pd.DataFrame(out, index=moves.index)
