"""The coaching pilot and the actions partner managers took: experiment arms and the Interventions log.

Treatment is assigned at random within each partner type, so a read-out can recover the true effect
(:data:`TREATMENT_EFFECT`, applied in :mod:`scoring.synthetic.outcomes`); other actions follow the
need visible in each partner's latest data, as a manager's choices would.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.synthetic.arrays import words
from scoring.synthetic.metrics import METRICS
from scoring.synthetic.months import DAYS_PER_MONTH, Calendar, add_months
from scoring.synthetic.people import PARTNER_TYPES, People

EXPERIMENT = "coaching-pilot-2026"
EXPERIMENT_SHARE = 0.4
EXPERIMENT_LAUNCH_MONTHS = 9  # before as_of
TREATMENT_EFFECT = 0.08  # added to the probability of engaged_12m

COACHING = "Targeted coaching and accelerated training"
COACHING_NOTE = f"{EXPERIMENT} treatment arm: fortnightly coaching"
# Other actions, with notes a partner manager might write (one starts with "+", like real notes do).
ACTION_NOTES: dict[str, tuple[str, ...]] = {
    "Certification bootcamp": ("+2 exam vouchers requested", "Two sellers booked on the next bootcamp"),
    "Co-invest with market development funds": ("50/50 co-funded demand campaign", "MDF request approved"),
    "Enrol in the accelerated training track": ("Two-week training sprint agreed", "Remaining modules scheduled"),
    "Agree a joint marketing plan": ("Planning workshop held", "First campaign committed"),
    "Agree a lead-response SLA": ("24h response SLA proposed", "Named contact for inbound leads"),
    "Onboarding concierge": ("Weekly check-in until onboarding is done",),
    "Technical pre-sales support on open deals": ("Solutions engineer paired on the largest deals",),
}
ACTIONS = tuple(ACTION_NOTES)
OTHER_ACTION_SHARE = 0.125  # of partners outside the treatment arm


def assign_experiment(rng: np.random.Generator, people: People, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Stratified by partner type: EXPERIMENT_SHARE of each type, alternately treatment/control in random order.

    A partner is assigned when the pilot launched or, if later, within two weeks of its start.
    """
    n = len(people.ids)
    arm = np.full(n, None, dtype=object)
    for t in range(len(PARTNER_TYPES)):
        idx = rng.permutation(np.flatnonzero(people.type_code == t))
        k = int(round(EXPERIMENT_SHARE * len(idx)))
        arm[idx[:k]] = np.where(np.arange(k) % 2 == 0, "treatment", "control")
    launch = add_months(np.array([np.datetime64(as_of, "D")]), -EXPERIMENT_LAUNCH_MONTHS)[0]
    enrolled = np.maximum(people.start, launch) + rng.integers(0, 15, size=n)
    return arm, np.minimum(enrolled, np.datetime64(as_of, "D"))


def experiments_frame(people: People, arm: np.ndarray, assigned: np.ndarray) -> pd.DataFrame:
    idx = np.flatnonzero(arm != None)  # noqa: E711 - elementwise on an object array
    return pd.DataFrame(
        {"partner_id": people.ids[idx], "experiment": EXPERIMENT, "arm": arm[idx], "assigned": assigned[idx]}
    )


def draw_interventions(
    rng: np.random.Generator,
    people: People,
    grid: dict[str, np.ndarray],
    cal: Calendar,
    arm: np.ndarray,
    assigned: np.ndarray,
) -> pd.DataFrame:
    """The pilot's coaching for every treated partner, plus one action for some others, chosen by visible need."""
    n = len(people.ids)
    as_of = np.datetime64(cal.as_of, "D")
    treated = np.flatnonzero(arm == "treatment")
    coached_since = (as_of - assigned[treated]).astype(np.int64)

    latest = {m: grid[m][:, -1] for m in METRICS}
    months = cal.age_days / DAYS_PER_MONTH
    with np.errstate(invalid="ignore"):
        need = {
            "Certification bootcamp": (latest["certification_status"] < 2) & (months >= 3),
            "Co-invest with market development funds": latest["deals_won"] >= 5,
            "Enrol in the accelerated training track": latest["training_completion_rate"] < 0.5,
            "Agree a joint marketing plan": (latest["joint_marketing_plan"] == 0) & (months >= 2),
            "Agree a lead-response SLA": latest["responsiveness_hours"] > 48,
            "Onboarding concierge": months < 3,
            "Technical pre-sales support on open deals": (latest["pipeline_value"] > 200_000)
            & (latest["deal_conversion_rate"] < 0.15),
        }
    weights = 0.2 + 2.8 * np.column_stack([need[a] for a in ACTIONS])
    u = rng.random((4, n))
    cumulative = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    others = np.flatnonzero((arm != "treatment") & (u[1] < OTHER_ACTION_SHARE))
    action = (u[0][:, None] > cumulative).sum(axis=1)[others]
    offset = rng.uniform(0.25, 1.1, n)[others] * np.maximum(cal.age_days[others], 30)
    date = cal.start[others] + np.round(offset).astype(np.int64) + 7
    since = (as_of - date).astype(np.int64)
    status = np.where(since < 0, "planned", np.where((since < 45) | (u[2][others] < 0.15), "in progress", "done"))
    first_note = words(tuple(ACTION_NOTES[a][0] for a in ACTIONS))
    last_note = words(tuple(ACTION_NOTES[a][-1] for a in ACTIONS))
    notes = np.where(u[3][others] < 0.5, first_note[action], last_note[action])

    coached = len(treated)
    frame = pd.DataFrame(
        {
            "partner_id": np.concatenate([people.ids[treated], people.ids[others]]),
            "action": np.concatenate([np.full(coached, COACHING, dtype=object), words(ACTIONS)[action]]),
            "date": np.concatenate([assigned[treated], date]),
            "status": np.concatenate([np.where(coached_since < 90, "in progress", "done"), status]),
            "notes": np.concatenate([np.full(coached, COACHING_NOTE, dtype=object), notes]),
        }
    )
    return frame.sort_values(["partner_id", "date"], kind="stable", ignore_index=True)
