"""One boundary for numeric failures inside calibration: ``error: <metric or step>: <what> (<what to do>)``.

Fitting runs scikit-learn and scipy on data nobody has looked at: an all-empty column, a constant
one, a category held by one partner. Their own messages ("window shape cannot be larger than input
array shape") name neither the metric nor the cause, so every fitting step runs inside
:func:`step`, which turns such a failure into a :class:`CalibrationError` that does.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

__all__ = ["CalibrationError", "step"]

#: What goes wrong inside numeric libraries on unusual data; anything else is a bug and stays one.
_NUMERIC = (ValueError, FloatingPointError, ZeroDivisionError, OverflowError, IndexError, np.linalg.LinAlgError)


class CalibrationError(ValueError):
    """A fitting step failed on this data; the message names the metric or step and what to do."""


@contextmanager
def step(name: str, advice: str) -> Iterator[None]:
    """Run one fitting step; a numeric failure becomes ``<name>: could not be fitted on this data (<advice>)``.

    The library's own message is kept as the exception's cause (``raise ... from``) for whoever
    debugs, never shown as the user's error line.
    """
    try:
        yield
    except CalibrationError:
        raise
    except _NUMERIC as exc:
        raise CalibrationError(f"{name}: could not be fitted on this data ({advice})") from exc
