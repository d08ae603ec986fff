"""Pydantic schema of a model file's optional ``calibration`` section.

A calibration turns the revenue and engagement scores of *this* scorecard into predictions: a
probability of being engaged at the horizon and an expected revenue with an interval. It is
written by ``pscore calibrate`` and validated as strictly as the rest of the model file, because a
hand-edited or truncated map would otherwise print confident but wrong numbers in every report.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from scoring.model.schema import Score, Strict
from scoring.model.drift_schema import Baseline

__all__ = ["DEFAULT_WINDOW_MONTHS", "Backtest", "Calibration", "EngagementMap", "Estimate", "Logistic", "RevenueBand", "RevenueMap"]

Probability = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]

#: Months after onboarding start at which partners are scored for a new calibration: past the 0-3
#: month onboarding stage, with the horizon still ahead, and within the 18 months of History a
#: typical export (and the demo) keeps for partners whose 12-month outcome is known.
DEFAULT_WINDOW_MONTHS = 6
#: Longest lists a calibration may hold: isotonic knots (a fit on 100,000 partners has a few hundred)
#: and revenue bands (``pscore calibrate`` writes at most 5).
MAX_KNOTS = 10_000
MAX_BANDS = 100


class EngagementMap(Strict):
    """Engagement score (0-100) -> probability of being engaged at the horizon, never decreasing.

    ``logistic`` (Platt scaling): ``p = 1 / (1 + exp(-(intercept + slope * score)))``.
    ``isotonic``: straight lines between the ``(scores, probabilities)`` knots, flat beyond the ends.
    """

    method: Literal["logistic", "isotonic"]
    intercept: float | None = None
    slope: float | None = Field(default=None, ge=0)
    scores: list[Score] = Field(default=[], max_length=MAX_KNOTS)
    probabilities: list[Probability] = Field(default=[], max_length=MAX_KNOTS)

    @model_validator(mode="after")
    def _complete(self) -> "EngagementMap":
        if self.method == "logistic":
            if self.intercept is None or self.slope is None:
                raise ValueError("a logistic map needs intercept and slope")
            if self.scores or self.probabilities:
                raise ValueError("a logistic map takes no scores/probabilities knots")
        else:
            if self.intercept is not None or self.slope is not None:
                raise ValueError("an isotonic map takes no intercept/slope")
            _check_knots(self.scores, self.probabilities)
        return self


def _check_knots(scores: list[float], probabilities: list[float]) -> None:
    if len(scores) < 2 or len(scores) != len(probabilities):
        raise ValueError("an isotonic map needs at least two knots, as many scores as probabilities")
    if any(b <= a for a, b in zip(scores, scores[1:])):
        raise ValueError("isotonic knot scores must be strictly increasing")
    if any(b < a for a, b in zip(probabilities, probabilities[1:])):
        raise ValueError("isotonic knot probabilities must never decrease")


class Logistic(Strict):
    """``p = 1 / (1 + exp(-(intercept + slope * score)))``."""

    intercept: float
    slope: float


class RevenueBand(Strict):
    """Revenue scores up to ``upper`` (above the previous band's): the 80% interval of actual revenue
    as multiples of expected revenue, from out-of-sample residuals of ``n`` partners."""

    upper: Score
    low: float = Field(ge=0)
    high: float = Field(ge=0)
    n: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "RevenueBand":
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


class RevenueMap(Strict):
    """Revenue score -> expected revenue at the horizon, as a hurdle model.

    ``expected = P(revenue > 0) * E[revenue | revenue > 0]`` with ``P`` logistic in the score
    (``positive``) and ``E[revenue | > 0] = smearing * exp(log_intercept + log_slope * score)``: a
    log-linear fit to the partners who had revenue, ``smearing`` turning its median into a mean.
    Zero-inflated, heavy-tailed revenue is what partner programmes see; one curve on raw revenue
    would be dragged around by a few large partners.
    """

    method: Literal["hurdle"]
    positive: Logistic
    log_intercept: float
    log_slope: float
    smearing: float = Field(gt=0)
    interval: Probability = 0.8
    bands: list[RevenueBand] = Field(min_length=1, max_length=MAX_BANDS)

    @model_validator(mode="after")
    def _bands_cover_scores(self) -> "RevenueMap":
        uppers = [b.upper for b in self.bands]
        if any(b <= a for a, b in zip(uppers, uppers[1:])):
            raise ValueError("band uppers must be strictly increasing")
        if uppers[-1] != 100:
            raise ValueError("the last band must end at 100 so every score has an interval")
        return self


class Estimate(Strict):
    """A back-test figure with its bootstrap 95% interval."""

    value: float
    low: float
    high: float


class Backtest(Strict):
    """Headline figures of the time-based back-test: fitted on earlier cohorts, measured on later ones."""

    test_from: dt.date  # first onboarding date of the test cohorts
    n_train: int = Field(ge=1)
    n_test: int = Field(ge=1)
    auc: Estimate
    brier: Estimate
    ece: Estimate
    normalized_gini: Estimate
    spearman: Estimate
    top_decile_capture: Estimate


class Calibration(Strict):
    """What ``pscore calibrate`` learnt from past cohorts, and how well it did."""

    date: dt.date
    horizon_months: int = Field(gt=0)
    window_months: int = Field(ge=0)  # scores taken this many months after onboarding start (0: at sign-up)
    n: int = Field(ge=1)  # partners with outcomes the maps were fitted on
    n_engaged: Count
    scorecard: str = Field(pattern=r"^[0-9a-f]{12}$")  # hash of the scoring parts the maps belong to
    engagement: EngagementMap
    revenue: RevenueMap
    backtest: Backtest
    #: Metrics left out of every fit: no value, or one value only, among the partners with outcomes.
    not_calibrated: list[str] = Field(default=[], max_length=MAX_KNOTS)
    #: The cohort's input and score distributions, for population stability (scoring.drift).
    baseline: Baseline | None = None
