"""Pydantic schema of a calibration's stored ``baseline``: the distributions of the calibration
cohort's inputs and scores, which later populations are compared with (population stability, PSI).

Written by ``pscore calibrate`` and ``pscore fit`` (:func:`scoring.drift.baseline`) and read by
``pscore monitor`` and ``pscore score``; validated like the rest of the model file, because a
truncated list of shares would otherwise report a shift that is not there.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from scoring.model.schema import Strict

__all__ = ["Baseline", "StoredDistribution"]

Share = Annotated[float, Field(ge=0, le=1)]
MAX_BINS = 1000


class StoredDistribution(Strict):
    """One variable's distribution: numeric as shares of quantile bins (``edges`` are the inner cut
    points, a value ``v`` falls in the first bin whose edge is ``>= v``), categorical as shares of
    ``categories``; ``n`` values present, ``coverage`` the share of partners with one."""

    kind: Literal["numeric", "categorical"]
    n: int = Field(ge=0)
    coverage: Share
    edges: list[float] = Field(default=[], max_length=MAX_BINS)
    categories: list[str] = Field(default=[], max_length=MAX_BINS)
    shares: list[Share] = Field(max_length=MAX_BINS + 1)

    @model_validator(mode="after")
    def _consistent(self) -> "StoredDistribution":
        bins = len(self.edges) + 1 if self.kind == "numeric" else len(self.categories)
        if len(self.shares) != bins:
            raise ValueError(f"needs {bins} shares (one per bin or category), has {len(self.shares)}")
        if self.kind == "numeric" and any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError("edges must be strictly increasing")
        if self.kind == "categorical" and self.edges:
            raise ValueError("a categorical distribution takes no edges")
        if self.n and abs(sum(self.shares) - 1) > 1e-3:
            raise ValueError("shares must add up to 1")
        return self


class Baseline(Strict):
    """The calibration cohort's distributions: every input metric, each score and the tier shares."""

    n: int = Field(ge=1)  # partners in the cohort
    metrics: dict[str, StoredDistribution]
    scores: dict[str, StoredDistribution]
    tiers: dict[str, Share]
