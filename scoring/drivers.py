"""Top drivers: which metrics push a partner's score above or below the baseline, in points.

Contributions come from the engine (they add up exactly to score minus baseline); this module only
ranks them and phrases the top few as text such as ``Deals won +6.1; Pipeline value +3.4``.
"""

from __future__ import annotations

import numpy as np

from scoring.compiled import POINT_STEPS, Compiled


_CHUNK = 32768  # partners per block: a block's transposed copy stays in cache


def top(contributions: np.ndarray, top_n: int, positive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index and points of the ``top_n`` largest (or most negative) contributions per partner.

    ``contributions`` is ``(K, n)``; results are ``(top_n, n)``. Ties go to the metric listed first
    in the model (argmax returns the first maximum), so the same input always names the same
    drivers. Points are rounded to 0.1; a slot whose rounded points are not strictly positive
    (negative) is empty: index -1.
    """
    n = contributions.shape[1]
    idx = np.empty((top_n, n), dtype=np.int64)
    points = np.empty((top_n, n))
    for start in range(0, n, _CHUNK):
        block = contributions[:, start:start + _CHUNK].T
        work = block.copy() if positive else -block
        rows = np.arange(len(block))
        for k in range(top_n):
            best = np.argmax(work, axis=1)
            idx[k, start:start + len(block)] = best
            points[k, start:start + len(block)] = block[rows, best]
            work[rows, best] = -np.inf
    points = np.round(points, 1)
    keep = points > 0 if positive else points < 0
    return np.where(keep, idx, -1), np.where(keep, points, 0.0)


def describe(c: Compiled, contributions: np.ndarray, top_n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(up, down)`` text per partner, e.g. ``Deals won +6.1; Pipeline value +3.4``."""
    empty = len(c.phrases) - 1
    texts = []
    for positive in (True, False):
        idx, points = top(contributions, top_n, positive)
        # Every "label +x.x" a slot can show is pre-phrased in the compiled model: look it up by code.
        codes = np.where(idx >= 0, idx * POINT_STEPS + np.rint(points * 10).astype(np.int64) + POINT_STEPS // 2, empty)
        text = c.phrases[codes[0]]
        for k in range(1, top_n):
            text = text + c.separated_phrases[codes[k]]
        texts.append(text)
    return texts[0], texts[1]
