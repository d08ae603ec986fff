"""Small array helpers the simulator's modules share: word arrays and the shapes of drawn values."""

from __future__ import annotations

import numpy as np


def words(values: tuple[str, ...]) -> np.ndarray:
    """Object array, so that string columns take any length and concatenate with ``+``."""
    return np.asarray(values, dtype=object)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def score_1_5(x: np.ndarray) -> np.ndarray:
    """A 1-5 assessment: rounded and clipped, as a person would tick it."""
    return np.clip(np.round(x), 1, 5)


def lognormal(median: float, shift: np.ndarray) -> np.ndarray:
    """``median * exp(shift)``: durations, counts and sizes are right-skewed; ``shift`` moves them per partner."""
    return median * np.exp(shift)
