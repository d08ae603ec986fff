"""The metric values of every synthetic partner in every month: strategic fit, execution and early
results, drawn from the latent traits and the onboarding timeline, then blanked like real records.

This module knows how to draw each metric of the default scorecard; which of them a workbook shows,
in what order and with which words, comes from the model (:mod:`scoring.synthetic.frames`).
"""

from __future__ import annotations

import numpy as np

from scoring.synthetic.arrays import lognormal, score_1_5, sigmoid
from scoring.synthetic.latent import Latent, Timeline
from scoring.synthetic.months import GRID_MONTHS, Calendar
from scoring.synthetic.people import (
    CONTRACT_SIZE_FACTOR, LEADS_FACTOR, PARTNER_TYPES, REACH_FACTOR, VELOCITY_FACTOR, People,
)

# Metric id -> how the simulator writes its values, in the order they are drawn.
METRIC_FORMATS = {
    "market_alignment": "integer",
    "channel_reach": "integer",
    "product_adoption_potential": "integer",
    "scalable_channel_access": "yes/no",
    "onboarding_completion_days": "integer",
    "training_completion_rate": "decimal",
    "certification_status": "level",
    "joint_marketing_plan": "yes/no",
    "responsiveness_hours": "decimal",
    "collaboration_frequency": "integer",
    "marketing_commitment_adherence": "decimal",
    "partner_feedback": "integer",
    "manager_assessment": "integer",
    "qualified_leads": "integer",
    "first_quarter_activities": "integer",
    "deal_conversion_rate": "decimal",
    "deals_won": "integer",
    "average_contract_size": "integer",
    "deal_velocity_days": "integer",
    "pipeline_value": "integer",
}
METRICS = tuple(METRIC_FORMATS)
LEVEL_STEPS = 4  # a level metric counts the steps reached: none, in progress, certified, advanced

MISSING_RATE = 0.04
MISSING_RATE_BY_METRIC = {"partner_feedback": 0.12}
# Results are often not yet recorded for new partners: extra blank rate at month 0, halving monthly.
YOUNG_RESULTS_MISSING = 0.35
YOUNG_RESULTS_METRICS = ("qualified_leads", "first_quarter_activities", "deals_won", "pipeline_value")


def _constant(values: np.ndarray, cal: Calendar) -> np.ndarray:
    return np.broadcast_to(values.astype(float)[:, None], cal.days.shape)


def draw_strategic(rng: np.random.Generator, lat: Latent, people: People, cal: Calendar) -> dict[str, np.ndarray]:
    """Fit metrics: assessed at signing from quality, constant afterwards."""
    q, e = lat.q, lat.e
    z = rng.standard_normal((4, len(q)))
    reach = lognormal(300, 0.7 * q + 0.6 * z[1]) * np.asarray(REACH_FACTOR)[people.type_code]
    marketplace = people.type_code == PARTNER_TYPES.index("marketplace")
    scalable = -0.5 + 0.9 * q + 0.6 * z[3] + 3.0 * marketplace > 0
    return {
        "market_alignment": _constant(score_1_5(3 + 0.9 * q + 0.7 * z[0]), cal),
        "channel_reach": _constant(np.round(np.clip(reach, 5, 200_000)), cal),
        "product_adoption_potential": _constant(score_1_5(3 + 0.8 * q + 0.2 * e + 0.7 * z[2]), cal),
        "scalable_channel_access": _constant(scalable, cal),
    }


def draw_execution(rng: np.random.Generator, lat: Latent, tl: Timeline, cal: Calendar) -> dict[str, np.ndarray]:
    """Capability metrics: ramp up through onboarding; contact metrics follow engagement and vary monthly."""
    q, e = lat.q[:, None], lat.e[:, None]
    days, months = cal.days, cal.months
    z = rng.standard_normal((6, len(lat.q), 1))
    u = rng.standard_normal((3,) + days.shape)

    onboarding_total = np.clip(lognormal(75, -0.25 * q - 0.4 * e + 0.3 * z[0]), 14, 600)
    progress = np.clip((days - tl.kickoff[:, None]) / tl.training_days[:, None], 0, 1)
    training = np.floor(tl.training_level[:, None] * progress * 100 + 1e-9) / 100
    certification = sum((days >= t[:, None]).astype(float) for t in (tl.cert_started, tl.certified, tl.advanced))
    jmp = days >= tl.jmp[:, None]
    settled_in = 1 - np.exp(-np.maximum(months, 0) / 2)
    responsiveness = np.clip(lognormal(24, -0.8 * e - 0.15 * q + 0.2 * z[1] + 0.15 * u[0]), 0.5, 500)
    contacts = lognormal(3.2, 0.9 * e + 0.1 * q + 0.15 * z[2]) * (0.5 + 0.5 * settled_in)
    adherence = sigmoid(0.6 + 0.5 * q + 1.0 * e + 0.3 * z[3] + 0.2 * u[1])
    target = 3 + 0.55 * q + 0.45 * e + 0.6 * z[5]
    return {
        "onboarding_completion_days": np.round(np.minimum(onboarding_total, days)),
        "training_completion_rate": training,
        "certification_status": certification,
        "joint_marketing_plan": jmp.astype(float),
        "responsiveness_hours": np.round(responsiveness, 1),
        "collaboration_frequency": rng.poisson(contacts).astype(float),
        "marketing_commitment_adherence": np.where(jmp, np.round(adherence, 2), np.nan),
        "partner_feedback": _survey(rng, e, q, z[4], months),
        "manager_assessment": score_1_5(3 + (target - 3) * settled_in + 0.3 * u[2]),
    }


def _survey(rng: np.random.Generator, e: np.ndarray, q: np.ndarray, z: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Partner satisfaction: a survey one month in, then quarterly; each wave adds its own noise."""
    wave = np.floor((months - 1) / 3)
    wave_noise = rng.standard_normal((len(e), GRID_MONTHS // 3 + 1))
    picked = np.take_along_axis(wave_noise, np.clip(wave, 0, None).astype(np.int64), axis=1)
    return np.where(wave >= 0, score_1_5(3.4 + 1.1 * e + 0.1 * q + 0.25 * z + 0.25 * picked), np.nan)


def _rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing sum over the last ``window`` months (along axis 1)."""
    total = np.cumsum(x, axis=1)
    total[:, window:] -= total[:, :-window].copy()
    return total


def _lag(x: np.ndarray, months: int) -> np.ndarray:
    """Monthly counts shifted ``months`` later (zeros before), e.g. the leads that can close this month."""
    return np.pad(x, ((0, 0), (months, 0)))[:, : x.shape[1]]


def draw_results(
    rng: np.random.Generator, lat: Latent, people: People, tl: Timeline, cal: Calendar
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Early results: leads after kickoff, deals closing two months later, pipeline and deal size.

    Returns the metrics plus the monthly lead and won-deal counts (milestones need them).
    """
    q, e = lat.q, lat.e
    t = people.type_code
    z = rng.standard_normal((7, len(q)))
    months = cal.months

    lead_rate = lognormal(3.5, 0.6 * q + 0.25 * e + 0.35 * z[0]) * np.asarray(LEADS_FACTOR)[t]
    selling = cal.days > tl.kickoff[:, None]
    leads = rng.poisson(lead_rate[:, None] * np.clip((months - 0.5) / 3, 0, 1) * selling)
    conversion = sigmoid(-1.7 + 0.6 * q + 0.15 * e + 0.4 * z[1])
    closable = _lag(leads, 2)
    won = rng.binomial(closable, conversion[:, None])
    deals = np.cumsum(won, axis=1)
    qualified = _rolling_sum(leads, 3)
    closable_6m = _rolling_sum(closable, 6)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(closable_6m > 0, np.round(_rolling_sum(won, 6) / closable_6m, 2), np.nan)
    settle = 1 / np.sqrt(np.maximum(deals, 1))  # averages settle as deals accumulate
    size = lognormal(18_000, 0.35 * q + 0.45 * z[2]) * np.asarray(CONTRACT_SIZE_FACTOR)[t]
    velocity = lognormal(70, -0.2 * q + 0.3 * z[3]) * np.asarray(VELOCITY_FACTOR)[t]
    has_deals = deals > 0
    average_size = size[:, None] * np.exp(0.5 * z[4, :, None] * settle)
    median_velocity = velocity[:, None] * np.exp(0.25 * z[5, :, None] * settle)
    pipeline_noise = np.exp(0.3 * rng.standard_normal(cal.days.shape))
    quarter = np.clip(months, 0, 3)
    activity = lognormal(5, 0.8 * e + 0.3 * q + 0.15 * z[6])
    activities = np.cumsum(rng.poisson(activity[:, None] * np.diff(quarter, axis=1, prepend=0) / 3), axis=1)
    metrics = {
        "qualified_leads": qualified.astype(float),
        "first_quarter_activities": activities.astype(float),
        "deal_conversion_rate": rate,
        "deals_won": deals.astype(float),
        "average_contract_size": np.where(has_deals, np.round(average_size, -2), np.nan),
        "deal_velocity_days": np.where(has_deals, np.round(median_velocity), np.nan),
        "pipeline_value": np.round(qualified * (1 - 0.5 * conversion[:, None]) * size[:, None] * pipeline_noise, -2),
    }
    return metrics, leads, won


def blank_cells(rng: np.random.Generator, grid: dict[str, np.ndarray], cal: Calendar) -> dict[str, np.ndarray]:
    """Blank cells at random (more for the survey), and results of young partners more often."""
    u = rng.random((len(METRICS),) + cal.days.shape)
    young = YOUNG_RESULTS_MISSING * 0.5 ** np.maximum(cal.months, 0)
    blanked = {}
    for j, metric in enumerate(METRICS):
        rate = MISSING_RATE_BY_METRIC.get(metric, MISSING_RATE) + (young if metric in YOUNG_RESULTS_METRICS else 0)
        blanked[metric] = np.where(u[j] < rate, np.nan, grid[metric])
    return blanked
