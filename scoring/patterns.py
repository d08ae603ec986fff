"""Group partners by identical boolean patterns (flags set, actions chosen) to phrase each pattern once.

Turning masks into text per partner is the slow part of a large batch; most partners share one of a
few hundred patterns, so text is built per distinct pattern and broadcast. Hash-based factorising
keeps this linear in the number of partners.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_WORD = 62  # bits per int64 word, leaving the sign bit alone


def patterns(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``bits`` of shape ``(K, n)``: each partner's pattern code and one example partner per code.

    Codes are numbered in order of first appearance, so ``examples`` is increasing and the result
    does not depend on anything but the input.
    """
    k, n = bits.shape
    codes = np.zeros(n, dtype=np.int64)
    for start in range(0, max(k, 1), _WORD):
        word = np.zeros(n, dtype=np.int64)
        for b, row in enumerate(bits[start:start + _WORD]):
            word |= row.astype(np.int64) << b
        word_codes, distinct = _factorize(word)
        codes, _ = _factorize(codes * distinct + word_codes)
    examples = np.empty(codes.max() + 1 if n else 0, dtype=np.int64)
    examples[codes[::-1]] = np.arange(n - 1, -1, -1)  # last write wins: the first occurrence
    return codes, examples


def _factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes in order of first appearance and their count; a dict beats pandas' hashing for a few rows."""
    if len(values) > 16:
        codes, uniques = pd.factorize(values)
        return codes, len(uniques)
    seen: dict = {}
    codes = np.array([seen.setdefault(v, len(seen)) for v in values.tolist()], dtype=np.int64)
    return codes, len(seen)
