"""The hidden truth behind every synthetic partner: quality, engagement propensity and the onboarding
timeline they drive.

Nothing here is written to a workbook directly; the metrics, milestones and outcomes are drawn from
it, which is what gives them real, learnable signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.synthetic.arrays import lognormal

NEVER = 10**6  # day offset of an event that never happens
TRAINING_COMPLETE = 0.9  # completion share that counts as "training complete"


@dataclass(frozen=True)
class Latent:
    """Hidden partner traits: quality q and engagement propensity e, both standard normal."""

    q: np.ndarray
    e: np.ndarray


def draw_latent(rng: np.random.Generator, n: int) -> Latent:
    q, eps = rng.standard_normal((2, n))
    return Latent(q=q, e=0.6 * q + 0.8 * eps)


@dataclass(frozen=True)
class Timeline:
    """Day offsets (from onboarding start) of onboarding events; NEVER if the partner never gets there."""

    kickoff: np.ndarray
    training_level: np.ndarray  # share of training the partner eventually completes
    training_days: np.ndarray  # days from kickoff to reach training_level
    training_complete: np.ndarray
    cert_started: np.ndarray
    certified: np.ndarray
    advanced: np.ndarray
    jmp: np.ndarray


def draw_timeline(rng: np.random.Generator, lat: Latent) -> Timeline:
    """Better partners move through onboarding sooner; weak ones stall and never reach some steps."""
    q, e = lat.q, lat.e
    z = rng.standard_normal((9, len(q)))
    drive = (q + e) / 2
    kickoff = event(np.clip(lognormal(10, -0.2 * e + 0.4 * z[0]), 2, 60), True)
    level = np.clip(0.85 + 0.2 * q + 0.2 * e + 0.15 * z[1], 0.05, 1.0)
    duration = np.clip(lognormal(75, -0.3 * drive + 0.3 * z[2]), 20, 360)
    trained = level >= TRAINING_COMPLETE
    training_complete = event(kickoff + duration * TRAINING_COMPLETE / level, trained)

    cert = 0.6 * q + 0.4 * e + 0.6 * z[3]
    cert_started = event(kickoff + np.clip(lognormal(30, -0.3 * cert + 0.3 * z[4]), 7, 200), cert >= -1.5)
    certified_at = np.maximum.reduce(
        [kickoff + lognormal(150, -0.45 * cert + 0.3 * z[5]), cert_started + 30, training_complete + 7]
    )
    certified = event(certified_at, (cert >= -0.6) & trained)
    advanced = event(certified + lognormal(200, -0.3 * cert + 0.3 * z[6]), (cert >= 0.5) & (certified < NEVER))

    plan = 0.5 * q + 0.5 * e + 0.5 * z[7]
    jmp = event(kickoff + np.clip(lognormal(80, -0.4 * plan + 0.3 * z[8]), 7, 600), plan >= -0.9)
    return Timeline(kickoff, level, duration, training_complete, cert_started, certified, advanced, jmp)


def event(day: np.ndarray, reached) -> np.ndarray:
    """Whole-day offsets of an event, NEVER where it is not reached."""
    return np.where(reached, np.ceil(day), NEVER).astype(np.int64)
