"""From drawn values to the sheets' frames: the model's metrics in its order and in their natural
units, one row per partner (Partners) and per partner and month (History), with a few realistic
data errors planted for data-quality checks to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.model.load import ScoringModel
from scoring.model.schema import Metric, OrdinalNorm
from scoring.synthetic.arrays import words
from scoring.synthetic.metrics import LEVEL_STEPS, METRIC_FORMATS, METRICS
from scoring.synthetic.months import Calendar
from scoring.synthetic.people import People

ERROR_SHARE = 0.01
ERROR_KINDS = ("training above 1", "negative pipeline", "partner_type typo", "text in deals_won")
TYPE_TYPOS = {"reseller": "Resellr", "integrator": "Integrater", "referral": "Referal", "marketplace": "Marketplce"}


@dataclass(frozen=True)
class Column:
    """How one metric's drawn values are written: its kind (see METRIC_FORMATS) and, for a level
    metric, the model's words for its levels, lowest first."""

    metric: str
    kind: str
    levels: tuple[str, ...] = ()

    def __call__(self, values: np.ndarray) -> "np.ndarray | pd.api.extensions.ExtensionArray":
        """Grid values -> a column in the metric's natural unit (blank stays blank)."""
        blank = np.isnan(values)
        if self.kind == "yes/no":
            return np.where(blank, None, np.where(values > 0.5, "Yes", "No"))
        if self.kind == "level":
            labels = words(self.levels)[np.where(blank, 0, values).astype(np.int64)]
            return np.where(blank, None, labels)
        if self.kind == "integer":
            return pd.array(values, dtype="Float64").astype("Int64")
        return values


def metric_columns(model: ScoringModel) -> list[Column]:
    """The model's metrics, in the model's order, each as the simulator writes it.

    A metric the simulator cannot draw is an error naming it, rather than a blank column that
    would pass for missing data.
    """
    unknown = [m.id for m in model.spec.metrics if m.id not in METRIC_FORMATS]
    if unknown:
        raise ValueError(f"{model.label}: synthetic data has no values for metric {', '.join(unknown)} "
                         f"(it draws {', '.join(METRICS)})")
    return [Column(m.id, METRIC_FORMATS[m.id], _levels(model, m) if METRIC_FORMATS[m.id] == "level" else ())
            for m in model.spec.metrics]


def _levels(model: ScoringModel, metric: Metric) -> tuple[str, ...]:
    """A level metric's words from the model's ordinal map, lowest score first (``in progress`` -> ``In progress``)."""
    norm = metric.normalization
    levels = sorted(norm.map, key=norm.map.__getitem__) if isinstance(norm, OrdinalNorm) else []
    if len(levels) != LEVEL_STEPS:
        raise ValueError(f"{model.label}: synthetic data draws {LEVEL_STEPS} levels of {metric.id}, "
                         f"but the model's normalization has {len(levels) or 'no'} ordinal levels")
    return tuple(level.capitalize() for level in levels)


def partners_frame(people: People, grid: dict[str, np.ndarray], columns: list[Column]) -> pd.DataFrame:
    frame = {
        "partner_id": people.ids,
        "partner_name": people.names,
        "partner_type": people.partner_type,
        "region": people.region,
        "country": people.country,
        "onboarding_start": people.start,
        "owner": people.owner,
    }
    frame.update({c.metric: c(grid[c.metric][:, -1]) for c in columns})
    return pd.DataFrame(frame)


def history_frame(people: People, grid: dict[str, np.ndarray], cal: Calendar,
                  columns: list[Column]) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly snapshots, partner by partner; also returns each partner's last (as_of) row."""
    rows, months = np.nonzero(cal.shown)
    frame = {"partner_id": people.ids[rows], "period": cal.month_ends[months]}
    frame.update({c.metric: c(grid[c.metric][rows, months]) for c in columns})
    last_rows = np.cumsum(np.bincount(rows, minlength=len(people.ids))) - 1
    return pd.DataFrame(frame), last_rows


def inject_errors(
    rng: np.random.Generator, people: People, grid: dict[str, np.ndarray], partners: pd.DataFrame,
    history: pd.DataFrame, last_rows: np.ndarray,
) -> np.ndarray:
    """Plant a few realistic data errors (in Partners and the matching last History row) for data-quality checks.

    About ERROR_SHARE of partners, at least one per kind. Returns a description per partner ("" where
    nothing was planted), for ``truth`` and the About sheet. A metric the model does not have gets no error.
    """
    n = len(partners)
    chosen = rng.choice(n, size=min(n, max(len(ERROR_KINDS), round(ERROR_SHARE * n))), replace=False)
    over_one, negative, typo, text = (chosen[k :: len(ERROR_KINDS)] for k in range(len(ERROR_KINDS)))
    described = np.full(n, "", dtype=object)
    for frame in (partners, history):  # a text cell makes the column mixed, as in a real export
        if "deals_won" in frame:
            frame["deals_won"] = frame["deals_won"].astype(object).where(frame["deals_won"].notna(), None)

    def plant(idx: np.ndarray, column: str, values, *, history_too: bool = True) -> None:
        if column not in partners:
            return
        values = np.broadcast_to(np.asarray(values), idx.shape)
        partners.loc[idx, column] = values
        if history_too:
            history.loc[last_rows[idx], column] = values
        described[idx] = [f"{column} = {v!r}" for v in values.tolist()]

    plant(over_one, "training_completion_rate", np.round(rng.uniform(1.1, 1.6, len(over_one)), 2))
    pipeline = grid["pipeline_value"][negative, -1]
    plant(negative, "pipeline_value", -np.where(pipeline > 0, pipeline, 25_000).astype(np.int64))
    misspelt = np.array([TYPE_TYPOS[t] for t in people.partner_type[typo]], dtype=object)
    plant(typo, "partner_type", misspelt, history_too=False)
    plant(text, "deals_won", "n/a")
    return described
