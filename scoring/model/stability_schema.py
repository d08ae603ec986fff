"""Pydantic schema of a model file's optional ``stability`` section: how scores behave over time.

Scores drive coaching hours, training budget and MDF, so a partner's published score must not jump
on one noisy month, must say when it rests on too few observations, and must not rest silently on
old data. The section states all of it as data: smoothing (moving average or EWMA), the minimum
number of History periods before a score is final, the guardrail on the published score's move per
period, and what happens to a value older than its metric's ``interval_days`` (kept, decayed toward
the baseline, or left out of coverage). Every default leaves today's scores exactly as they are.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scoring.model.schema import Strict

__all__ = ["Smoothing", "Stability", "StaleRule"]

StaleRule = Literal["keep", "decay", "drop"]


class Smoothing(Strict):
    """``none``; ``moving_average`` over the last ``periods`` History periods the partner has a score
    in; or ``ewma``: ``smoothed = alpha * raw + (1 - alpha) * previous smoothed``."""

    method: Literal["none", "moving_average", "ewma"] = "none"
    periods: int = Field(default=3, ge=1, le=60)
    alpha: float = Field(default=0.5, gt=0, le=1)


class Stability(Strict):
    smoothing: Smoothing = Smoothing()
    #: A partner with fewer History periods than this (up to the scoring date) is provisional, as
    #: well as by ``provisional.min_months``; 0: only the months rule.
    min_periods: int = Field(default=0, ge=0, le=120)
    #: The published score moves at most this many points per period (a ``data_correction`` row
    #: is let through); None: no guardrail.
    max_change: float | None = Field(default=None, gt=0, le=100)
    #: A value older than its metric's ``interval_days`` is flagged stale and kept, decayed toward the
    #: drivers' baseline, or dropped (left out like a missing value, lowering coverage).
    stale: StaleRule = "keep"
    #: For ``decay``: days over the interval after which half of the distance to the baseline is
    #: gone; None: the metric's own ``interval_days``.
    decay_half_life_days: int | None = Field(default=None, gt=0, le=3650)

    @model_validator(mode="after")
    def _decay_only(self) -> "Stability":
        if self.decay_half_life_days is not None and self.stale != "decay":
            raise ValueError("decay_half_life_days applies only with stale: decay")
        return self
