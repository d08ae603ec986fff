"""What became of each synthetic partner: true outcome probabilities for everyone, realised revenue
and engagement for the partners whose outcome window has closed.

Segment demand on revenue is the model's own segment adjustment, so a model scores the demo's
segments the way the data was made.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring import segments
from scoring.compiled import OUTCOMES, compile_model
from scoring.model.load import ScoringModel
from scoring.synthetic.arrays import sigmoid
from scoring.synthetic.experiment import TREATMENT_EFFECT
from scoring.synthetic.latent import Latent
from scoring.synthetic.months import add_months
from scoring.synthetic.people import REVENUE_LOG_SHIFT, People
from scoring.table import PartnerTable

OUTCOME_MONTHS = 12
REVENUE_SIGMA = 0.8


def revenue_factor(model: ScoringModel, people: People) -> np.ndarray:
    """Each partner's revenue adjustment factor in ``model`` (1.0 where no segment adjusts revenue),
    combined and bounded as scoring does it."""
    compiled = compile_model(model)
    member = segments.membership(compiled, PartnerTable(pd.DataFrame(
        {"partner_type": people.partner_type, "region": people.region})))
    return segments.combo_tables(compiled, member).factors[OUTCOMES.index("revenue")][member.group]


def draw_outcomes(
    rng: np.random.Generator, people: People, lat: Latent, arm: np.ndarray, assigned: np.ndarray, as_of: dt.date,
    model: ScoringModel, treatment_effect: float = TREATMENT_EFFECT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """True outcome probabilities for everyone (truth), realised outcomes for the cohort whose window has
    closed; ``treatment_effect`` is added to the engagement probability of treated partners assigned
    within their window."""
    q, e = lat.q, lat.e
    window_end = add_months(people.start, OUTCOME_MONTHS)
    treated = arm == "treatment"
    base = sigmoid(-0.3 + 1.1 * e + 0.7 * q)
    p_engaged = np.clip(base + treatment_effect * (treated & (assigned < window_end)), 0.0, 1.0)
    p_positive = sigmoid(0.2 + 1.2 * q)
    segment = np.asarray(REVENUE_LOG_SHIFT)[people.type_code] + np.log(revenue_factor(model, people))
    log_mean = 10.3 + 0.9 * q + segment
    u = rng.random((2, len(q)))
    revenue = np.where(u[1] < p_positive, np.round(np.exp(log_mean + REVENUE_SIGMA * rng.standard_normal(len(q)))), 0.0)
    truth = pd.DataFrame(
        {
            "partner_id": people.ids,
            "quality": q,
            "engagement_propensity": e,
            "p_engaged": p_engaged,
            "p_revenue_positive": p_positive,
            "expected_revenue": p_positive * np.exp(log_mean + REVENUE_SIGMA**2 / 2),
            "treated": treated,
            "treatment_effect": p_engaged - base,
        }
    )
    old = window_end <= np.datetime64(as_of, "D")
    outcomes = pd.DataFrame(
        {
            "partner_id": people.ids[old],
            "revenue_12m": revenue[old].astype(np.int64),
            "engaged_12m": (u[0] < p_engaged)[old].astype(np.int64),
        }
    )
    return truth, outcomes
