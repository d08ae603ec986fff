"""Pydantic schema of the scoring model file.

The model file is the single source of truth for what a score means, so it is validated strictly:
unknown keys are rejected (a typo must not silently fall back to a default), numbers are checked
field by field, and cross references (weights, rules, segments -> metrics) are checked in
:mod:`scoring.model.checks` after this structural pass.

Every number must be finite, and weights, normalisation points and list lengths have upper bounds
(below, and in docs/model-file.md): a weight of 1e308 or a changelog of 700,000 entries is a
mistake or an attack, never a model, and would otherwise overflow the scorecard or take minutes
to check.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

__all__ = ["MAX_WEIGHT", "BooleanNorm", "ChangelogEntry", "LinearNorm", "LogNorm", "Metric", "ModelSpec", "OrdinalNorm", "PiecewiseNorm", "Rule", "Segment", "Tier"]

#: Weights are relative (within a layer, between layers, between outcomes): 0 to this.
MAX_WEIGHT = 1000.0
#: Largest magnitude of a normalisation floor/target or a valid-range end: beyond 1e15 a float no
#: longer counts in whole units, so no real metric is measured there.
MAX_MAGNITUDE = 1e15
#: Longest lists a model file may hold (segments: :data:`MAX_SEGMENTS`).
MAX_CHANGELOG = 1000
MAX_METRICS = 200
MAX_PARTS = 20  # layers, stages, tiers, segmentation dimensions
MAX_SEGMENTS = 60
MAX_RULES = 200
MAX_CONDITIONS = 50  # per rule, under all and under any
MAX_NAMES = 500  # aliases of a metric, ordinal categories, values of a segmentation dimension

Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]
Score = Annotated[float, Field(ge=0, le=100)]
Magnitude = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]

Lever = Literal["coaching_hours", "training_budget", "mdf", "technical_enablement", "none"]


class Strict(BaseModel):
    """Base for every model-file section: unknown keys are an error, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ChangelogEntry(Strict):
    date: dt.date
    author: str = Field(min_length=1)
    change: str = Field(min_length=1)
    rationale: str = Field(min_length=1)


class Layer(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str = ""


class Outcome(Strict):
    id: Literal["revenue", "engagement"]
    label: str
    description: str = ""


class LinearNorm(Strict):
    """Sub-score rises linearly from 0 at ``floor`` to 100 at ``target``.

    For a lower-is-better metric the target is the *smaller* number (e.g. 30 days is the target,
    180 days the floor); :mod:`scoring.model.checks` checks the order against the direction,
    for log normalisation too.
    """

    kind: Literal["linear"]
    floor: Magnitude
    target: Magnitude


class LogNorm(Strict):
    """Like linear, on log(1 + value): for counts and money where doubling matters more than adding."""

    kind: Literal["log"]
    floor: float = Field(ge=0, le=MAX_MAGNITUDE)
    target: float = Field(ge=0, le=MAX_MAGNITUDE)


class OrdinalNorm(Strict):
    """Categories mapped to sub-scores, e.g. certification levels. Matching ignores case and spacing."""

    kind: Literal["ordinal"]
    map: dict[str, Score] = Field(min_length=2, max_length=MAX_NAMES)


class BooleanNorm(Strict):
    """Yes scores 100, no scores 0 (reversed for a lower-is-better metric)."""

    kind: Literal["boolean"]


class PiecewiseNorm(Strict):
    """Straight lines between ``[value, score]`` points, flat beyond the first and last.

    What a monotone binning of outcomes writes, in a form a person can read and edit: values
    strictly increasing, scores never falling for a higher-is-better metric and never rising for a
    lower-is-better one (both checked in :mod:`scoring.model.checks`, which knows the direction).
    """

    kind: Literal["piecewise"]
    points: list[tuple[Magnitude, Score]] = Field(min_length=2, max_length=MAX_NAMES)


Normalization = Annotated[
    Union[LinearNorm, LogNorm, OrdinalNorm, BooleanNorm, PiecewiseNorm], Field(discriminator="kind")
]


class Metric(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    unit: str
    layer: str
    informs: list[Literal["revenue", "engagement"]] = Field(min_length=1)
    direction: Literal["higher", "lower"]
    normalization: Normalization
    valid_range: tuple[Magnitude, Magnitude] | None = None
    source: str
    owner: str
    interval_days: int = Field(gt=0)
    rationale: str = Field(min_length=1)
    aliases: list[str] = Field(default=[], max_length=MAX_NAMES)
    #: The day the programme started recording this metric: a partner onboarded before it is not
    #: expected to have a value (no ``missing`` flag, not in its coverage), see docs/model-file.md.
    since: dt.date | None = None

    @model_serializer(mode="wrap")
    def _without_unset_since(self, handler):
        """Leave ``since`` out of a dump while it is unset, so a model written before it existed
        dumps (and hashes, for its stored calibration) exactly as it did."""
        data = handler(self)
        if self.since is None and isinstance(data, dict):
            data.pop("since", None)
        return data

    @field_validator("valid_range")
    @classmethod
    def _ordered(cls, rng: tuple[float, float] | None) -> tuple[float, float] | None:
        if rng is not None and rng[0] >= rng[1]:
            raise ValueError("minimum must be less than maximum")
        return rng


class Stage(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    max_months: float | None = Field(default=None, gt=0)
    layer_weights: dict[str, Weight] = Field(max_length=MAX_PARTS)


class Segmentation(Strict):
    primary: str
    dimensions: dict[str, Annotated[list[str], Field(max_length=MAX_NAMES)]] = Field(min_length=1, max_length=MAX_PARTS)


class NormOverride(Strict):
    """Segment-specific floor/target for a linear or log metric."""

    floor: Magnitude
    target: Magnitude


class Segment(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    when: dict[str, str] = Field(min_length=1)
    weights: dict[Literal["revenue", "engagement"], dict[str, Weight]] = {}
    normalization: dict[str, NormOverride] = {}
    adjustment: dict[Literal["revenue", "engagement"], Annotated[float, Field(gt=0)]] = {}


class Bounds(Strict):
    min: float = Field(gt=0)
    max: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Bounds":
        if self.min > 1 or self.max < 1:
            raise ValueError("bounds must contain 1.0 (no adjustment)")
        return self


class Tier(Strict):
    id: str = Field(min_length=1)
    label: str
    min_score: Score
    description: str = ""


class QuadrantLabels(Strict):
    high_revenue_high_engagement: str
    high_revenue_low_engagement: str
    low_revenue_high_engagement: str
    low_revenue_low_engagement: str


class Quadrants(Strict):
    revenue_threshold: Score
    engagement_threshold: Score
    labels: QuadrantLabels


class Drivers(Strict):
    baseline: Score = 50
    top_n: int = Field(default=3, ge=1, le=10)


class Coverage(Strict):
    minimum: float = Field(default=0.6, ge=0, le=1)


class Provisional(Strict):
    min_months: float = Field(default=3, ge=0)


class Condition(Strict):
    field: str
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in", "has", "missing", "present"]
    value: float | str | list[str] | None = None


class When(Strict):
    all: list[Condition] = Field(default=[], max_length=MAX_CONDITIONS)
    any: list[Condition] = Field(default=[], max_length=MAX_CONDITIONS)

    @model_validator(mode="after")
    def _not_empty(self) -> "When":
        if not self.all and not self.any:
            raise ValueError("a rule needs at least one condition under 'all' or 'any'")
        return self


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: When
    action: str = Field(min_length=1)
    detail: str = ""
    #: The next step as said to the partner in a scorecard sent to them; ``detail`` is internal.
    partner_detail: str = ""
    #: Never shown to the partner (e.g. "reassess the partnership"); internal reports still list it.
    internal_only: bool = False
    owner_role: str = Field(min_length=1)
    levers: list[Lever] = Field(min_length=1)
    priority: int = Field(ge=0)


class Playbook(Strict):
    max_actions: int = Field(default=3, ge=1, le=20)
    rules: list[Rule] = Field(default=[], max_length=MAX_RULES)


# Imported here, not at the top: the calibration and stability schemas build on ``Strict`` and ``Score`` above.
from scoring.model.calibration_schema import Calibration  # noqa: E402
from scoring.model.budget_schema import Budget  # noqa: E402
from scoring.model.stability_schema import Stability  # noqa: E402
from scoring.model.anomalies_schema import AnomalySettings  # noqa: E402


class ModelSpec(Strict):
    """The whole model file."""

    schema_version: Literal[1]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective_date: dt.date
    description: str = ""
    changelog: list[ChangelogEntry] = Field(min_length=1, max_length=MAX_CHANGELOG)
    layers: list[Layer] = Field(min_length=1, max_length=MAX_PARTS)
    outcomes: list[Outcome] = Field(min_length=2, max_length=2)
    horizon_months: int = Field(default=12, gt=0)
    metrics: list[Metric] = Field(min_length=1, max_length=MAX_METRICS)
    weights: dict[Literal["revenue", "engagement"], dict[str, Weight]]
    stages: list[Stage] = Field(min_length=1, max_length=MAX_PARTS)
    composite_weights: dict[Literal["revenue", "engagement"], Weight]
    segmentation: Segmentation
    segments: list[Segment] = Field(default=[], max_length=MAX_SEGMENTS)
    adjustment_bounds: Bounds = Bounds(min=0.8, max=1.25)
    tiers: list[Tier] = Field(min_length=1, max_length=MAX_PARTS)
    quadrants: Quadrants
    drivers: Drivers = Drivers()
    coverage: Coverage = Coverage()
    provisional: Provisional = Provisional()
    playbook: Playbook = Playbook()
    calibration: Calibration | None = None
    budget: Budget | None = None
    anomalies: AnomalySettings = AnomalySettings()
    #: Left out of a dump while it holds only defaults, so a model without one writes as before.
    stability: Stability = Field(default=Stability(), exclude_if=lambda value: value == Stability())

    @model_serializer(mode="wrap")
    def _without_unset_budget(self, handler):
        """Leave ``budget`` out of a dump while it is unset, so a model without one dumps as before."""
        data = handler(self)
        if self.budget is None and isinstance(data, dict):
            data.pop("budget", None)
        return data
