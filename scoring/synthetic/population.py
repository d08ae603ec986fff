"""A whole synthetic partner population: every sheet of a demo workbook as a frame, plus the hidden
truth that produced it, drawn in one fixed order from one seed.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order and vectorised
over partners (Python loops run over months, segments, name pools or error kinds only), so the same
arguments always give the same frames, and 10,000 partners take seconds. The model decides which
metrics the frames carry and the segment demand on revenue; it never changes what is drawn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.model.load import ScoringModel, load_model
from scoring.synthetic.experiment import TREATMENT_EFFECT, assign_experiment, draw_interventions, experiments_frame
from scoring.synthetic.frames import history_frame, inject_errors, metric_columns, partners_frame
from scoring.synthetic.latent import draw_latent, draw_timeline
from scoring.synthetic.metrics import blank_cells, draw_execution, draw_results, draw_strategic
from scoring.synthetic.milestones import draw_milestones
from scoring.synthetic.months import calendar
from scoring.synthetic.outcomes import draw_outcomes
from scoring.synthetic.people import draw_people


@dataclass(frozen=True)
class DemoData:
    """A synthetic partner workbook as frames, plus the hidden truth that generated it."""

    partners: pd.DataFrame
    history: pd.DataFrame
    milestones: pd.DataFrame
    outcomes: pd.DataFrame
    interventions: pd.DataFrame
    experiments: pd.DataFrame
    truth: pd.DataFrame
    as_of: dt.date
    seed: int
    model: ScoringModel  # whose metrics the frames carry and whose segment adjustments revenue follows
    treatment_effect: float = TREATMENT_EFFECT  # what the pilot adds to the engagement probability


def generate(n_partners: int = 300, seed: int = 0, as_of: dt.date | None = None,
             model: "ScoringModel | str" = "default", treatment_effect: float = TREATMENT_EFFECT) -> DemoData:
    """Draw a synthetic partner population; deterministic given ``(n_partners, seed, as_of, model)``.

    ``as_of`` defaults to today. ``truth`` holds the latent variables and true outcome
    probabilities per partner, so calibration and experiment read-outs can be checked. ``model``
    (a name, path or loaded model) gives the metric columns, in its order, and the segment
    adjustment revenue follows; a metric the simulator cannot draw is an error. ``treatment_effect``
    (default :data:`TREATMENT_EFFECT`, 0.08) is what the coaching pilot adds to a treated partner's
    probability of engagement: 0 plants a null experiment, and no other number drawn changes.
    """
    if not -1 <= treatment_effect <= 1:
        raise ValueError("treatment_effect must lie between -1 and 1 (a change in probability)")
    if n_partners < 1:
        raise ValueError("n_partners must be at least 1")
    model = load_model(model)
    columns = metric_columns(model)
    as_of = _as_date(as_of)
    rng = np.random.default_rng(seed)

    people = draw_people(rng, n_partners, as_of)
    latent = draw_latent(rng, n_partners)
    cal = calendar(as_of, people.start)
    timeline = draw_timeline(rng, latent)
    results, leads, won = draw_results(rng, latent, people, timeline, cal)
    grid = {**draw_strategic(rng, latent, people, cal), **draw_execution(rng, latent, timeline, cal), **results}
    grid = blank_cells(rng, grid, cal)
    milestones = draw_milestones(rng, people, timeline, leads, won, cal)
    arm, assigned = assign_experiment(rng, people, as_of)
    truth, outcomes = draw_outcomes(rng, people, latent, arm, assigned, as_of, model, treatment_effect)
    interventions = draw_interventions(rng, people, grid, cal, arm, assigned)

    partners = partners_frame(people, grid, columns)
    history, last_rows = history_frame(people, grid, cal, columns)
    truth["injected_error"] = inject_errors(rng, people, grid, partners, history, last_rows)
    return DemoData(
        partners=partners,
        history=history,
        milestones=milestones,
        outcomes=outcomes,
        interventions=interventions,
        experiments=experiments_frame(people, arm, assigned),
        truth=truth,
        as_of=as_of,
        seed=seed,
        model=model,
        treatment_effect=treatment_effect,
    )


def _as_date(value: dt.date | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    return value
