"""Pydantic schema of a model file's optional ``anomalies`` section: how implausible values are found
and what is done with them.

Values that are valid (inside the metric's range) can still be implausible: far from their segment,
a jump no earlier change makes plausible, a self-reported figure that leaps while independently
recorded ones stay put, combinations that cannot both be true, one partner under two IDs.
:mod:`scoring.anomalies` finds them; this section holds the thresholds. Every field has a default,
so a model without the section checks with the defaults, and spelling a default out changes nothing
(not even the model's hash).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scoring.model.schema import Strict

__all__ = ["AnomalySettings", "Comparison", "ImpossibleRule"]

#: Largest threshold a robust z-score may be given: beyond it nothing real is ever flagged.
MAX_THRESHOLD = 100.0
MAX_RULES = 100


class Comparison(Strict):
    """``left op right``: ``left`` a metric id, ``right`` a metric id or a number, on the values as read
    (a boolean metric is 1 or 0, an ordinal one its mapped score)."""

    left: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    right: str | float


class ImpossibleRule(Strict):
    """Values that cannot all be true at once: every comparison under ``all`` holds (and the partner is
    at most ``max_months`` into onboarding, when given). The record sits on the first comparison's
    ``left`` metric; ``reason`` says in words why the combination is impossible."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    all: list[Comparison] = Field(min_length=1, max_length=10)
    max_months: float | None = Field(default=None, gt=0)
    reason: str = Field(min_length=1)


class AnomalySettings(Strict):
    """Thresholds of the anomaly checks (docs/model-file.md, section ``anomalies``).

    Robust z-scores are distances from the median in units of 1.4826 x the median absolute deviation
    (the standard deviation, for normal data).
    """

    #: ``keep``: an anomalous value is scored and flagged; ``leave_out``: it is left out of the score
    #: like an unreadable value (weights re-normalise) and the record says so. Either way it is listed.
    action: Literal["keep", "leave_out"] = "keep"
    #: a value this many robust z-scores from its segment's median is an outlier
    outlier_threshold: float = Field(default=5.0, gt=0, le=MAX_THRESHOLD)
    #: fewest partners with a value in a segment to judge outliers within it (else: among all partners)
    min_group: int = Field(default=30, ge=5, le=1_000_000)
    #: a change between two snapshots this many robust z-scores from the metric's usual change is a jump
    jump_threshold: float = Field(default=6.0, gt=0, le=MAX_THRESHOLD)
    #: a self-reported metric whose sub-score rises this many points (0-100) between two snapshots ...
    gaming_points: float = Field(default=40.0, gt=0, le=100)
    #: ... while the independent metrics' sub-scores rise less than this on average is possible gaming
    corroboration: float = Field(default=10.0, ge=-100, le=100)
    #: the catalog's ``source`` values whose figures the partner reports about itself
    self_reported: list[str] = Field(default=["partner portal", "survey"], max_length=50)
    #: the ``source`` values recorded independently of the partner
    independent: list[str] = Field(default=["CRM", "LMS"], max_length=50)
    #: rules of impossible combinations; absent: the built-in rules whose metrics the model has
    #: (:data:`scoring.anomalies.BUILT_IN_RULES`); ``[]``: none
    impossible: list[ImpossibleRule] | None = Field(default=None, max_length=MAX_RULES)
    #: report partners with the same name and country (or region) under different IDs
    duplicates: bool = True

    @model_validator(mode="after")
    def _disjoint(self) -> "AnomalySettings":
        both = {s.casefold() for s in self.self_reported} & {s.casefold() for s in self.independent}
        if both:
            raise ValueError(f"a source cannot be both self-reported and independent: {', '.join(sorted(both))}")
        return self


def check(spec) -> list[tuple[tuple, str]]:
    """Cross-reference problems of the section: rules naming metrics the model does not have."""
    known = {m.id for m in spec.metrics}
    problems = []
    for i, rule in enumerate(spec.anomalies.impossible or []):
        for k, part in enumerate(rule.all):
            for side in ("left", "right"):
                name = getattr(part, side)
                if isinstance(name, str) and name not in known:
                    problems.append((("anomalies", "impossible", i, "all", k, side),
                                     f"unknown metric '{name}' (a metric id of this model, or a number on the right)"))
    return problems
