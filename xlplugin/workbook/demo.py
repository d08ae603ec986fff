"""Synthetic partner workbooks for demos, tutorials and tests (``pscore demo``).

Real partner data is confidential, yet every part of pscore (scoring, calibration, back-tests,
experiment read-outs, PDFs) needs a realistic workbook to show. This module draws one from a
documented latent process, so the metrics carry real, learnable signal about the outcomes and any
analysis can be checked against the hidden truth that produced the data (``DemoData.truth``).
The process is described in docs/demo-data.md.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order and vectorised
over partners (Python loops run over months, segments, name pools or error kinds only), so the same
arguments always give the same frames and the same workbook bytes, and 10,000 partners take seconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from xlplugin.workbook.save import FORMULA_PREFIXES, atomic_save, cell_value

# ------------------------------------------------------------------ segments and identities

PARTNER_TYPES = ("reseller", "integrator", "referral", "marketplace")
TYPE_SHARES = (0.40, 0.25, 0.20, 0.15)
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.38, 0.32, 0.18, 0.12)

# Segment effects, indexed like PARTNER_TYPES: integrators sell larger and slower contracts,
# referral partners pass many small leads, marketplaces reach many accounts.
CONTRACT_SIZE_FACTOR = (1.0, 2.2, 0.6, 0.8)
LEADS_FACTOR = (1.0, 0.7, 1.6, 1.3)
REACH_FACTOR = (1.0, 0.6, 0.8, 3.0)
VELOCITY_FACTOR = (1.0, 1.5, 0.8, 0.7)
REVENUE_LOG_SHIFT = (0.0, 0.4, -0.4, -0.1)
# Regional demand on revenue, indexed like REGIONS; matches the adjustments in the default model.
REGION_DEMAND = (1.0, 1.0, 1.05, 0.95)

COUNTRIES: dict[str, tuple[tuple[str, float], ...]] = {
    "NA": (("United States", 0.85), ("Canada", 0.15)),
    "EMEA": (
        ("United Kingdom", 0.22), ("Germany", 0.20), ("France", 0.15), ("Netherlands", 0.09),
        ("Spain", 0.08), ("Italy", 0.07), ("Sweden", 0.06), ("Poland", 0.06),
        ("United Arab Emirates", 0.04), ("South Africa", 0.03),
    ),
    "APAC": (("Japan", 0.25), ("Australia", 0.25), ("India", 0.20), ("Singapore", 0.15), ("South Korea", 0.15)),
    "LATAM": (("Brazil", 0.40), ("Mexico", 0.30), ("Argentina", 0.10), ("Chile", 0.10), ("Colombia", 0.10)),
}

# Partner managers work one region each.
OWNERS: dict[str, tuple[str, ...]] = {
    "NA": ("Alex Morgan", "Jordan Lee"),
    "EMEA": ("Camille Laurent", "Jonas Weber"),
    "APAC": ("Kenji Sato", "Priya Raman"),
    "LATAM": ("Lucía Fernández", "Rafael Costa"),
}

NAME_HEADS = (
    "Summit", "Bluewater", "Northstar", "Ironbridge", "Silverline", "Redwood", "Harbor", "Cobalt",
    "Keystone", "Granite", "Evergreen", "Brightpath", "Clearwater", "Pinnacle", "Lighthouse", "Oakridge",
    "Crescent", "Meridian", "Trident", "Vanguard", "Atlas", "Horizon", "Falcon", "Sterling", "Cascade",
    "Beacon", "Copperleaf", "Stonegate", "Riverbend", "Westbrook", "Eastgate", "Highland", "Juniper",
    "Maple", "Orion", "Polaris", "Quantum", "Sapphire", "Tidewater", "Upland", "Willow", "Aspen",
    "Blackrock", "Canyon", "Driftwood", "Ember", "Foxglove", "Glacier", "Hawthorn", "Indigo", "Kestrel",
    "Lakeside", "Monarch", "Nimbus", "Obsidian", "Prairie", "Redstone", "Seaside", "Thornfield", "Vertex",
)
NAME_CORES = (
    "Data", "Cloud", "Systems", "Digital", "Networks", "Analytics", "Software", "IT", "Infotech",
    "Computing", "Security", "Integration", "Tech", "Logic", "Connect", "Stack", "Code", "Insight",
    "Ops", "Grid",
)
NAME_TAILS = (
    "Solutions", "Partners", "Group", "Inc.", "LLC", "Ltd", "Services", "Labs", "& Co.", "Associates",
    "Consulting", "Works", "Collective", "Advisors",
)


@dataclass(frozen=True)
class LocalNames:
    """Company names in a country's own language: real partner lists are never plain ASCII."""

    countries: tuple[str, ...]
    heads: tuple[str, ...]
    tails: tuple[str, ...]
    separator: str = " "

    def pool(self) -> np.ndarray:
        return np.array([h + self.separator + t for h in self.heads for t in self.tails], dtype=object)


LOCAL_NAMES = (
    LocalNames(
        ("Germany",),
        ("Nordlicht", "Bergwerk", "Rheintal", "Alpenblick", "Elbufer", "Schwarzwald", "Hanse", "Isartal", "Weißdorn"),
        ("Systemhaus GmbH", "Datentechnik GmbH", "IT-Lösungen GmbH", "Netzwerke GmbH", "Informatik AG"),
    ),
    LocalNames(
        ("France",),
        ("Société Générale", "Société Lyonnaise", "Société Bretonne", "Groupe Étoile", "Hélios", "Azur"),
        ("Informatique", "Réseaux & Données", "Solutions Numériques SARL", "Conseil SAS"),
    ),
    LocalNames(
        ("Spain", "Mexico", "Argentina", "Chile", "Colombia"),
        ("Tecnología", "Soluciones", "Informática", "Sistemas", "Servicios Digitales"),
        ("Andina", "del Pacífico", "Peñalara", "Águila", "Cóndor", "Ibérica", "Austral"),
    ),
    LocalNames(
        ("Brazil",),
        ("Soluções", "Integração", "Tecnologia", "Informática", "Sistemas"),
        ("Paulista Ltda", "Carioca Ltda", "São Francisco Ltda", "Amazônia Ltda", "Ipê Ltda"),
    ),
    LocalNames(("Sweden",), ("Ström", "Fjäll", "Skärgård", "Älvdal", "Norrsken"), ("Datakonsult AB", "IT-Partner AB")),
    LocalNames(("Poland",), ("Łódź", "Kraków", "Wisła", "Gdańsk"), ("Systemy Informatyczne Sp. z o.o.", "Technologie")),
    LocalNames(
        ("Japan",),
        ("東京", "大阪", "名古屋", "横浜", "福岡", "札幌", "京都", "神戸"),
        ("クラウド株式会社", "データ株式会社", "システム株式会社", "ネットワークス株式会社", "ソリューションズ株式会社"),
        separator="",
    ),
    LocalNames(
        ("South Korea",), ("서울", "부산", "한강"), ("클라우드 주식회사", "데이터 주식회사", "시스템 주식회사"), separator=""
    ),
)
LOCAL_NAME_SHARE = 0.2  # of partners in a country with a local name pool

# ------------------------------------------------------------------ metrics

# Metric id -> how its values are written, in the default model's catalog order.
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
CERTIFICATION_LEVELS = ("None", "In progress", "Certified", "Advanced")

MISSING_RATE = 0.04
MISSING_RATE_BY_METRIC = {"partner_feedback": 0.12}
# Results are often not yet recorded for new partners: extra blank rate at month 0, halving monthly.
YOUNG_RESULTS_MISSING = 0.35
YOUNG_RESULTS_METRICS = ("qualified_leads", "first_quarter_activities", "deals_won", "pipeline_value")

# ------------------------------------------------------------------ time

DAYS_PER_MONTH = 365.25 / 12
GRID_MONTHS = 25  # every month from the earliest possible onboarding start to the as_of month
HISTORY_MONTHS = 18
OUTCOME_MONTHS = 12
NEVER = 10**6  # day offset of an event that never happens

MILESTONES = (
    "contract signed",
    "kickoff",
    "training complete",
    "certified",
    "first registered deal",
    "first closed deal",
    "joint marketing plan adopted",
)
TRAINING_COMPLETE = 0.9  # completion share that counts as "training complete"

# ------------------------------------------------------------------ experiment, outcomes, errors

EXPERIMENT = "coaching-pilot-2026"
EXPERIMENT_SHARE = 0.4
EXPERIMENT_LAUNCH_MONTHS = 9  # before as_of
TREATMENT_EFFECT = 0.08  # added to the probability of engaged_12m
REVENUE_SIGMA = 0.8

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

ERROR_SHARE = 0.01
ERROR_KINDS = ("training above 1", "negative pipeline", "partner_type typo", "text in deals_won")
TYPE_TYPOS = {"reseller": "Resellr", "integrator": "Integrater", "referral": "Referal", "marketplace": "Marketplce"}


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


def generate(n_partners: int = 300, seed: int = 0, as_of: dt.date | None = None) -> DemoData:
    """Draw a synthetic partner population; deterministic given ``(n_partners, seed, as_of)``.

    ``as_of`` defaults to today. ``truth`` holds the latent variables and true outcome
    probabilities per partner, so calibration and experiment read-outs can be checked.
    """
    if n_partners < 1:
        raise ValueError("n_partners must be at least 1")
    as_of = _as_date(as_of)
    rng = np.random.default_rng(seed)

    people = _draw_people(rng, n_partners, as_of)
    latent = _draw_latent(rng, n_partners)
    cal = _calendar(as_of, people.start)
    timeline = _draw_timeline(rng, latent)
    results, leads, won = _results(rng, latent, people, timeline, cal)
    grid = {**_strategic(rng, latent, people, cal), **_execution(rng, latent, timeline, cal), **results}
    grid = _blank_cells(rng, grid, cal)
    milestones = _milestones(rng, people, timeline, leads, won, cal)
    arm, assigned = _assign_experiment(rng, people, as_of)
    truth, outcomes = _outcomes(rng, people, latent, arm, assigned, as_of)
    interventions = _interventions(rng, people, grid, cal, arm, assigned)

    partners = _partners_frame(people, grid)
    history, last_rows = _history_frame(people, grid, cal)
    truth["injected_error"] = _inject_errors(rng, people, partners, history, last_rows)
    return DemoData(
        partners=partners,
        history=history,
        milestones=milestones,
        outcomes=outcomes,
        interventions=interventions,
        experiments=_experiments_frame(people, arm, assigned),
        truth=truth,
        as_of=as_of,
        seed=seed,
    )


def _as_date(value: dt.date | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _words(words: tuple[str, ...]) -> np.ndarray:
    """Object array, so that string columns take any length and concatenate with ``+``."""
    return np.asarray(words, dtype=object)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _score_1_5(x: np.ndarray) -> np.ndarray:
    """A 1-5 assessment: rounded and clipped, as a person would tick it."""
    return np.clip(np.round(x), 1, 5)


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Calendar month arithmetic on ``datetime64[D]`` (end-of-month days are clamped)."""
    return (pd.DatetimeIndex(days) + pd.DateOffset(months=months)).to_numpy().astype("datetime64[D]")


# ------------------------------------------------------------------ who the partners are


@dataclass(frozen=True)
class _People:
    """Observable identity of each partner (arrays of length n)."""

    ids: np.ndarray
    names: np.ndarray
    type_code: np.ndarray
    region_code: np.ndarray
    country: np.ndarray
    owner: np.ndarray
    start: np.ndarray  # datetime64[D]

    @property
    def partner_type(self) -> np.ndarray:
        return _words(PARTNER_TYPES)[self.type_code]

    @property
    def region(self) -> np.ndarray:
        return _words(REGIONS)[self.region_code]


def _draw_people(rng: np.random.Generator, n: int, as_of: dt.date) -> _People:
    type_code = rng.choice(len(PARTNER_TYPES), size=n, p=TYPE_SHARES)
    region_code = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    country = np.empty(n, dtype=object)
    owner = np.empty(n, dtype=object)
    for r, region in enumerate(REGIONS):
        idx = np.flatnonzero(region_code == r)
        names, weights = zip(*COUNTRIES[region])
        country[idx] = rng.choice(_words(names), size=len(idx), p=np.divide(weights, sum(weights)))
        owner[idx] = rng.choice(_words(OWNERS[region]), size=len(idx))
    earliest = _shift_years(as_of, -2)
    offsets = rng.integers(0, (as_of - earliest).days + 1, size=n)
    start = np.datetime64(as_of, "D") - offsets
    ids = np.array([f"P{i:05d}" for i in range(1, n + 1)], dtype=object)
    return _People(ids, _draw_names(rng, country), type_code, region_code, country, owner, start)


def _draw_names(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Distinct company-like names; some partners in non-English countries get a local name."""
    n = len(country)
    per_head = len(NAME_CORES) * len(NAME_TAILS)
    combos = len(NAME_HEADS) * per_head
    codes = rng.choice(combos, size=n, replace=n > combos)
    head, rest = np.divmod(codes, per_head)
    core, tail = np.divmod(rest, len(NAME_TAILS))
    names = _words(NAME_HEADS)[head] + " " + _words(NAME_CORES)[core] + " " + _words(NAME_TAILS)[tail]
    local = rng.random(n) < LOCAL_NAME_SHARE
    for pool in LOCAL_NAMES:
        idx = np.flatnonzero(local & np.isin(country, pool.countries))
        chosen = rng.permutation(pool.pool())[: len(idx)]
        names[idx[: len(chosen)]] = chosen
    return names


@dataclass(frozen=True)
class _Latent:
    """Hidden partner traits: quality q and engagement propensity e, both standard normal."""

    q: np.ndarray
    e: np.ndarray


def _draw_latent(rng: np.random.Generator, n: int) -> _Latent:
    q, eps = rng.standard_normal((2, n))
    return _Latent(q=q, e=0.6 * q + 0.8 * eps)


# ------------------------------------------------------------------ the monthly grid


@dataclass(frozen=True)
class _Calendar:
    """Monthly snapshots shared by all partners: GRID_MONTHS months ending with the as_of month.

    Each month is observed at its last day, except the current month, observed at as_of.
    """

    as_of: dt.date
    month_starts: np.ndarray  # (K,) datetime64[D]
    month_ends: np.ndarray  # (K,) datetime64[D]
    start: np.ndarray  # (n,) onboarding start, datetime64[D]
    days: np.ndarray  # (n, K) days from onboarding start to each snapshot; < 0 before the start

    @property
    def months(self) -> np.ndarray:
        return self.days / DAYS_PER_MONTH

    @property
    def shown(self) -> np.ndarray:
        """Snapshots that go into History: since onboarding start, at most the last HISTORY_MONTHS."""
        recent = np.arange(self.days.shape[1]) >= self.days.shape[1] - HISTORY_MONTHS
        return (self.days >= 0) & recent

    @property
    def age_days(self) -> np.ndarray:
        """Days from onboarding start to as_of."""
        return self.days[:, -1]


def _calendar(as_of: dt.date, start: np.ndarray) -> _Calendar:
    months = np.datetime64(as_of, "M") - np.arange(GRID_MONTHS - 1, -1, -1)
    month_starts = months.astype("datetime64[D]")
    month_ends = (months + 1).astype("datetime64[D]") - 1
    snapshot = np.minimum(month_ends, np.datetime64(as_of, "D"))
    days = (snapshot[None, :] - start[:, None]).astype(np.int64)
    return _Calendar(as_of, month_starts, month_ends, start, days)


@dataclass(frozen=True)
class _Timeline:
    """Day offsets (from onboarding start) of onboarding events; NEVER if the partner never gets there."""

    kickoff: np.ndarray
    training_level: np.ndarray  # share of training the partner eventually completes
    training_days: np.ndarray  # days from kickoff to reach training_level
    training_complete: np.ndarray
    cert_started: np.ndarray
    certified: np.ndarray
    advanced: np.ndarray
    jmp: np.ndarray


def _draw_timeline(rng: np.random.Generator, lat: _Latent) -> _Timeline:
    """Better partners move through onboarding sooner; weak ones stall and never reach some steps."""
    q, e = lat.q, lat.e
    z = rng.standard_normal((9, len(q)))
    drive = (q + e) / 2
    kickoff = _event(np.clip(_lognormal(10, -0.2 * e + 0.4 * z[0]), 2, 60), True)
    level = np.clip(0.85 + 0.2 * q + 0.2 * e + 0.15 * z[1], 0.05, 1.0)
    duration = np.clip(_lognormal(75, -0.3 * drive + 0.3 * z[2]), 20, 360)
    trained = level >= TRAINING_COMPLETE
    training_complete = _event(kickoff + duration * TRAINING_COMPLETE / level, trained)

    cert = 0.6 * q + 0.4 * e + 0.6 * z[3]
    cert_started = _event(kickoff + np.clip(_lognormal(30, -0.3 * cert + 0.3 * z[4]), 7, 200), cert >= -1.5)
    certified_at = np.maximum.reduce(
        [kickoff + _lognormal(150, -0.45 * cert + 0.3 * z[5]), cert_started + 30, training_complete + 7]
    )
    certified = _event(certified_at, (cert >= -0.6) & trained)
    advanced = _event(certified + _lognormal(200, -0.3 * cert + 0.3 * z[6]), (cert >= 0.5) & (certified < NEVER))

    plan = 0.5 * q + 0.5 * e + 0.5 * z[7]
    jmp = _event(kickoff + np.clip(_lognormal(80, -0.4 * plan + 0.3 * z[8]), 7, 600), plan >= -0.9)
    return _Timeline(kickoff, level, duration, training_complete, cert_started, certified, advanced, jmp)


def _lognormal(median: float, shift: np.ndarray) -> np.ndarray:
    """``median * exp(shift)``: durations, counts and sizes are right-skewed; ``shift`` moves them per partner."""
    return median * np.exp(shift)


def _event(day: np.ndarray, reached) -> np.ndarray:
    """Whole-day offsets of an event, NEVER where it is not reached."""
    return np.where(reached, np.ceil(day), NEVER).astype(np.int64)


def _constant(values: np.ndarray, cal: _Calendar) -> np.ndarray:
    return np.broadcast_to(values.astype(float)[:, None], cal.days.shape)


def _strategic(rng: np.random.Generator, lat: _Latent, people: _People, cal: _Calendar) -> dict[str, np.ndarray]:
    """Fit metrics: assessed at signing from quality, constant afterwards."""
    q, e = lat.q, lat.e
    z = rng.standard_normal((4, len(q)))
    reach = _lognormal(300, 0.7 * q + 0.6 * z[1]) * np.asarray(REACH_FACTOR)[people.type_code]
    marketplace = people.type_code == PARTNER_TYPES.index("marketplace")
    scalable = -0.5 + 0.9 * q + 0.6 * z[3] + 3.0 * marketplace > 0
    return {
        "market_alignment": _constant(_score_1_5(3 + 0.9 * q + 0.7 * z[0]), cal),
        "channel_reach": _constant(np.round(np.clip(reach, 5, 200_000)), cal),
        "product_adoption_potential": _constant(_score_1_5(3 + 0.8 * q + 0.2 * e + 0.7 * z[2]), cal),
        "scalable_channel_access": _constant(scalable, cal),
    }


def _execution(rng: np.random.Generator, lat: _Latent, tl: _Timeline, cal: _Calendar) -> dict[str, np.ndarray]:
    """Capability metrics: ramp up through onboarding; contact metrics follow engagement and vary monthly."""
    q, e = lat.q[:, None], lat.e[:, None]
    days, months = cal.days, cal.months
    z = rng.standard_normal((6, len(lat.q), 1))
    u = rng.standard_normal((3,) + days.shape)

    onboarding_total = np.clip(_lognormal(75, -0.25 * q - 0.4 * e + 0.3 * z[0]), 14, 600)
    progress = np.clip((days - tl.kickoff[:, None]) / tl.training_days[:, None], 0, 1)
    training = np.floor(tl.training_level[:, None] * progress * 100 + 1e-9) / 100
    certification = sum((days >= t[:, None]).astype(float) for t in (tl.cert_started, tl.certified, tl.advanced))
    jmp = days >= tl.jmp[:, None]
    settled_in = 1 - np.exp(-np.maximum(months, 0) / 2)
    responsiveness = np.clip(_lognormal(24, -0.8 * e - 0.15 * q + 0.2 * z[1] + 0.15 * u[0]), 0.5, 500)
    contacts = _lognormal(3.2, 0.9 * e + 0.1 * q + 0.15 * z[2]) * (0.5 + 0.5 * settled_in)
    adherence = _sigmoid(0.6 + 0.5 * q + 1.0 * e + 0.3 * z[3] + 0.2 * u[1])
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
        "manager_assessment": _score_1_5(3 + (target - 3) * settled_in + 0.3 * u[2]),
    }


def _survey(rng: np.random.Generator, e: np.ndarray, q: np.ndarray, z: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Partner satisfaction: a survey one month in, then quarterly; each wave adds its own noise."""
    wave = np.floor((months - 1) / 3)
    wave_noise = rng.standard_normal((len(e), GRID_MONTHS // 3 + 1))
    picked = np.take_along_axis(wave_noise, np.clip(wave, 0, None).astype(np.int64), axis=1)
    return np.where(wave >= 0, _score_1_5(3.4 + 1.1 * e + 0.1 * q + 0.25 * z + 0.25 * picked), np.nan)


def _rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing sum over the last ``window`` months (along axis 1)."""
    total = np.cumsum(x, axis=1)
    total[:, window:] -= total[:, :-window].copy()
    return total


def _lag(x: np.ndarray, months: int) -> np.ndarray:
    """Monthly counts shifted ``months`` later (zeros before), e.g. the leads that can close this month."""
    return np.pad(x, ((0, 0), (months, 0)))[:, : x.shape[1]]


def _results(
    rng: np.random.Generator, lat: _Latent, people: _People, tl: _Timeline, cal: _Calendar
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Early results: leads after kickoff, deals closing two months later, pipeline and deal size.

    Returns the metrics plus the monthly lead and won-deal counts (milestones need them).
    """
    q, e = lat.q, lat.e
    t = people.type_code
    z = rng.standard_normal((7, len(q)))
    months = cal.months

    lead_rate = _lognormal(3.5, 0.6 * q + 0.25 * e + 0.35 * z[0]) * np.asarray(LEADS_FACTOR)[t]
    selling = cal.days > tl.kickoff[:, None]
    leads = rng.poisson(lead_rate[:, None] * np.clip((months - 0.5) / 3, 0, 1) * selling)
    conversion = _sigmoid(-1.7 + 0.6 * q + 0.15 * e + 0.4 * z[1])
    closable = _lag(leads, 2)
    won = rng.binomial(closable, conversion[:, None])
    deals = np.cumsum(won, axis=1)
    qualified = _rolling_sum(leads, 3)
    closable_6m = _rolling_sum(closable, 6)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(closable_6m > 0, np.round(_rolling_sum(won, 6) / closable_6m, 2), np.nan)
    settle = 1 / np.sqrt(np.maximum(deals, 1))  # averages settle as deals accumulate
    size = _lognormal(18_000, 0.35 * q + 0.45 * z[2]) * np.asarray(CONTRACT_SIZE_FACTOR)[t]
    velocity = _lognormal(70, -0.2 * q + 0.3 * z[3]) * np.asarray(VELOCITY_FACTOR)[t]
    has_deals = deals > 0
    average_size = size[:, None] * np.exp(0.5 * z[4, :, None] * settle)
    median_velocity = velocity[:, None] * np.exp(0.25 * z[5, :, None] * settle)
    pipeline_noise = np.exp(0.3 * rng.standard_normal(cal.days.shape))
    quarter = np.clip(months, 0, 3)
    activity = _lognormal(5, 0.8 * e + 0.3 * q + 0.15 * z[6])
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


def _blank_cells(rng: np.random.Generator, grid: dict[str, np.ndarray], cal: _Calendar) -> dict[str, np.ndarray]:
    """Blank cells at random (more for the survey), and results of young partners more often."""
    u = rng.random((len(METRICS),) + cal.days.shape)
    young = YOUNG_RESULTS_MISSING * 0.5 ** np.maximum(cal.months, 0)
    blanked = {}
    for j, metric in enumerate(METRICS):
        rate = MISSING_RATE_BY_METRIC.get(metric, MISSING_RATE) + (young if metric in YOUNG_RESULTS_METRICS else 0)
        blanked[metric] = np.where(u[j] < rate, np.nan, grid[metric])
    return blanked


# ------------------------------------------------------------------ milestones


def _first_day(rng: np.random.Generator, counts: np.ndarray, cal: _Calendar, not_before: np.ndarray) -> np.ndarray:
    """Day offset of the first event in monthly ``counts``: a random day of that month, not before ``not_before``."""
    rows = np.arange(len(counts))
    month = np.argmax(counts > 0, axis=1)
    month_start = (cal.month_starts[month] - cal.start).astype(np.int64)
    lo = np.maximum(month_start, not_before)
    hi = cal.days[rows, month]
    day = lo + np.floor(rng.random(len(counts)) * (hi - lo + 1)).astype(np.int64)
    return np.where(counts.any(axis=1), day, NEVER)


def _milestones(
    rng: np.random.Generator, people: _People, tl: _Timeline, leads: np.ndarray, won: np.ndarray, cal: _Calendar
) -> pd.DataFrame:
    """Milestones reached by as_of, one row each, in the order they happened."""
    registered = _first_day(rng, leads, cal, tl.kickoff + 1)
    closed = _first_day(rng, won, cal, registered + 1)
    days = np.column_stack(
        [np.zeros_like(tl.kickoff), tl.kickoff, tl.training_complete, tl.certified, registered, closed, tl.jmp]
    )
    rows, kinds = np.nonzero(days <= cal.age_days[:, None])
    dates = cal.start[rows] + days[rows, kinds]
    order = np.lexsort((kinds, dates, rows))
    return pd.DataFrame(
        {
            "partner_id": people.ids[rows[order]],
            "milestone": _words(MILESTONES)[kinds[order]],
            "date": dates[order],
        }
    )


# ------------------------------------------------------------------ experiment and outcomes


def _assign_experiment(rng: np.random.Generator, people: _People, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Stratified by partner type: EXPERIMENT_SHARE of each type, alternately treatment/control in random order.

    A partner is assigned when the pilot launched or, if later, within two weeks of its start.
    """
    n = len(people.ids)
    arm = np.full(n, None, dtype=object)
    for t in range(len(PARTNER_TYPES)):
        idx = rng.permutation(np.flatnonzero(people.type_code == t))
        k = int(round(EXPERIMENT_SHARE * len(idx)))
        arm[idx[:k]] = np.where(np.arange(k) % 2 == 0, "treatment", "control")
    launch = _add_months(np.array([np.datetime64(as_of, "D")]), -EXPERIMENT_LAUNCH_MONTHS)[0]
    enrolled = np.maximum(people.start, launch) + rng.integers(0, 15, size=n)
    return arm, np.minimum(enrolled, np.datetime64(as_of, "D"))


def _experiments_frame(people: _People, arm: np.ndarray, assigned: np.ndarray) -> pd.DataFrame:
    idx = np.flatnonzero(arm != None)  # noqa: E711 - elementwise on an object array
    return pd.DataFrame(
        {"partner_id": people.ids[idx], "experiment": EXPERIMENT, "arm": arm[idx], "assigned": assigned[idx]}
    )


def _outcomes(
    rng: np.random.Generator, people: _People, lat: _Latent, arm: np.ndarray, assigned: np.ndarray, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """True outcome probabilities for everyone (truth), realised outcomes for the cohort whose window has closed."""
    q, e = lat.q, lat.e
    window_end = _add_months(people.start, OUTCOME_MONTHS)
    treated = arm == "treatment"
    base = _sigmoid(-0.3 + 1.1 * e + 0.7 * q)
    p_engaged = np.minimum(base + TREATMENT_EFFECT * (treated & (assigned < window_end)), 1.0)
    p_positive = _sigmoid(0.2 + 1.2 * q)
    segment = np.asarray(REVENUE_LOG_SHIFT)[people.type_code] + np.log(np.asarray(REGION_DEMAND)[people.region_code])
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


# ------------------------------------------------------------------ interventions


def _interventions(
    rng: np.random.Generator,
    people: _People,
    grid: dict[str, np.ndarray],
    cal: _Calendar,
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
    first_note = _words(tuple(ACTION_NOTES[a][0] for a in ACTIONS))
    last_note = _words(tuple(ACTION_NOTES[a][-1] for a in ACTIONS))
    notes = np.where(u[3][others] < 0.5, first_note[action], last_note[action])

    coached = len(treated)
    frame = pd.DataFrame(
        {
            "partner_id": np.concatenate([people.ids[treated], people.ids[others]]),
            "action": np.concatenate([np.full(coached, COACHING, dtype=object), _words(ACTIONS)[action]]),
            "date": np.concatenate([assigned[treated], date]),
            "status": np.concatenate([np.where(coached_since < 90, "in progress", "done"), status]),
            "notes": np.concatenate([np.full(coached, COACHING_NOTE, dtype=object), notes]),
        }
    )
    return frame.sort_values(["partner_id", "date"], kind="stable", ignore_index=True)


# ------------------------------------------------------------------ frames


def _metric_column(values: np.ndarray, metric: str) -> "np.ndarray | pd.api.extensions.ExtensionArray":
    """Grid values -> a column in the metric's natural unit (blank stays blank)."""
    kind = METRIC_FORMATS[metric]
    blank = np.isnan(values)
    if kind == "yes/no":
        return np.where(blank, None, np.where(values > 0.5, "Yes", "No"))
    if kind == "level":
        labels = _words(CERTIFICATION_LEVELS)[np.where(blank, 0, values).astype(np.int64)]
        return np.where(blank, None, labels)
    if kind == "integer":
        return pd.array(values, dtype="Float64").astype("Int64")
    return values


def _partners_frame(people: _People, grid: dict[str, np.ndarray]) -> pd.DataFrame:
    columns = {
        "partner_id": people.ids,
        "partner_name": people.names,
        "partner_type": people.partner_type,
        "region": people.region,
        "country": people.country,
        "onboarding_start": people.start,
        "owner": people.owner,
    }
    columns.update({m: _metric_column(grid[m][:, -1], m) for m in METRICS})
    return pd.DataFrame(columns)


def _history_frame(people: _People, grid: dict[str, np.ndarray], cal: _Calendar) -> tuple[pd.DataFrame, np.ndarray]:
    """Monthly snapshots, partner by partner; also returns each partner's last (as_of) row."""
    rows, months = np.nonzero(cal.shown)
    columns = {"partner_id": people.ids[rows], "period": cal.month_ends[months]}
    columns.update({m: _metric_column(grid[m][rows, months], m) for m in METRICS})
    last_rows = np.cumsum(np.bincount(rows, minlength=len(people.ids))) - 1
    return pd.DataFrame(columns), last_rows


def _inject_errors(
    rng: np.random.Generator, people: _People, partners: pd.DataFrame, history: pd.DataFrame, last_rows: np.ndarray
) -> np.ndarray:
    """Plant a few realistic data errors (in Partners and the matching last History row) for data-quality checks.

    About ERROR_SHARE of partners, at least one per kind. Returns a description per partner ("" where
    nothing was planted), for ``truth`` and the About sheet.
    """
    n = len(partners)
    chosen = rng.choice(n, size=min(n, max(len(ERROR_KINDS), round(ERROR_SHARE * n))), replace=False)
    over_one, negative, typo, text = (chosen[k :: len(ERROR_KINDS)] for k in range(len(ERROR_KINDS)))
    described = np.full(n, "", dtype=object)
    for frame in (partners, history):  # a text cell makes the column mixed, as in a real export
        frame["deals_won"] = frame["deals_won"].astype(object).where(frame["deals_won"].notna(), None)

    def plant(idx: np.ndarray, column: str, values, *, history_too: bool = True) -> None:
        values = np.broadcast_to(np.asarray(values), idx.shape)
        partners.loc[idx, column] = values
        if history_too:
            history.loc[last_rows[idx], column] = values
        described[idx] = [f"{column} = {v!r}" for v in values.tolist()]

    plant(over_one, "training_completion_rate", np.round(rng.uniform(1.1, 1.6, len(over_one)), 2))
    pipeline = partners["pipeline_value"].to_numpy(dtype=float, na_value=np.nan)[negative]
    plant(negative, "pipeline_value", -np.where(pipeline > 0, pipeline, 25_000).astype(np.int64))
    misspelt = np.array([TYPE_TYPOS[t] for t in people.partner_type[typo]], dtype=object)
    plant(typo, "partner_type", misspelt, history_too=False)
    plant(text, "deals_won", "n/a")
    return described


# ------------------------------------------------------------------ workbook


def write_workbook(data: DemoData, path: "str | Path") -> Path:
    """Write the demo workbook (About first, then one sheet per frame; ``truth`` stays out).

    Saved atomically, with document and archive dates fixed to as_of, so the same data gives the
    same bytes.
    """
    wb = Workbook(write_only=True)  # fast for 100,000+ rows
    _write_about(wb.create_sheet("About"), data)
    for title, frame in (
        ("Partners", data.partners),
        ("History", data.history),
        ("Milestones", data.milestones),
        ("Outcomes", data.outcomes),
        ("Interventions", data.interventions),
        ("Experiments", data.experiments),
    ):
        _write_table(wb.create_sheet(title), frame)
    return atomic_save(wb, path, stamp=dt.datetime.combine(data.as_of, dt.time()))


BOLD = Font(bold=True)


def _bold(ws, value: object) -> Cell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = BOLD
    return cell


def _write_table(ws, frame: pd.DataFrame) -> None:
    """Bold header, frozen below it, columns sized to their content, dates as dates."""
    columns = [_column_values(ws, frame[c]) for c in frame.columns]
    for j, (name, values) in enumerate(zip(frame.columns, columns), start=1):
        sample = [len(str(v)) for v in values[:500] if v is not None]
        ws.column_dimensions[get_column_letter(j)].width = min(max([len(name), *sample]) + 2, 50)
    ws.freeze_panes = "A2"
    ws.append([_bold(ws, name) for name in frame.columns])
    for row in zip(*columns):
        ws.append(row)


def _column_values(ws, column: pd.Series) -> list:
    """Column -> plain Python cell values, following excel_io.set_cell's rules without a cell object per value."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        values = column.dt.date.to_numpy(dtype=object, copy=True)
    else:
        values = column.to_numpy(dtype=object, copy=True)
    values[column.isna().to_numpy()] = None
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_datetime64_any_dtype(column.dtype):
        return values.tolist()
    return [_text_safe(ws, cell_value(v)) for v in values]


def _text_safe(ws, value: object) -> object:
    """Text that Excel would read as a formula is forced to a plain string cell, as set_cell does."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _write_about(ws, data: DemoData) -> None:
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 120
    for label, text in _about_lines(data):
        ws.append([_bold(ws, label) if label else None, text])


def _about_lines(data: DemoData) -> list[tuple[str, object]]:
    errors = data.truth.loc[data.truth["injected_error"] != "", ["partner_id", "injected_error"]]
    sheets = {
        "Partners": "One row per partner: id, name, partner_type, region, country, onboarding_start, owner "
        "and the latest value of every metric of the default model.",
        "History": "Monthly snapshots of every metric (period = month end; the current month is observed at the "
        f"as-of date), from the onboarding month, at most the last {HISTORY_MONTHS} months.",
        "Milestones": "Onboarding milestones reached by the as-of date, with dates: " + ", ".join(MILESTONES) + ".",
        "Outcomes": f"Realised results of the {len(data.outcomes)} partners who started at least {OUTCOME_MONTHS} "
        f"months before the as-of date: revenue_12m (USD in the {OUTCOME_MONTHS} months after onboarding start) "
        "and engaged_12m (1 = still engaged).",
        "Interventions": "Actions planned, in progress or done for about 30% of partners: the pilot's coaching for "
        "every treated partner, and one action chosen by need for some others.",
        "Experiments": f"{EXPERIMENT}: about {EXPERIMENT_SHARE:.0%} of partners, stratified by partner_type, "
        "randomly assigned to treatment or control (50/50).",
    }
    process = [
        "Each partner has a hidden quality q ~ N(0,1) and engagement propensity e = 0.6 q + 0.8 eps, eps ~ N(0,1).",
        "Strategic metrics follow q; execution metrics mix q and e (responsiveness, collaboration frequency and "
        "partner feedback mostly e); results metrics follow q and grow with months since onboarding start.",
        "Segments: integrators sign larger contracts, referral partners bring more leads and smaller deals, "
        "marketplaces reach more accounts; revenue is x1.05 in APAC and x0.95 in LATAM.",
        f"engaged_12m ~ Bernoulli(sigmoid(-0.3 + 1.1 e + 0.7 q)), plus {TREATMENT_EFFECT * 100:.0f} percentage "
        "points for treated partners assigned before their outcome window ended.",
        "revenue_12m = 0 with probability 1 - sigmoid(0.2 + 1.2 q), otherwise lognormal with log-mean "
        f"10.3 + 0.9 q + segment effect and sigma {REVENUE_SIGMA}.",
        f"Blank cells: about {MISSING_RATE:.0%} of metric values at random, "
        f"{MISSING_RATE_BY_METRIC['partner_feedback']:.0%} of partner_feedback, more results of partners in their "
        "first months; rates and averages stay blank until there is something to divide.",
        "The hidden variables (q, e, true outcome probabilities, treatment effect) are not in this workbook.",
    ]
    return [
        ("SYNTHETIC DEMO DATA", "Generated by `pscore demo`: synthetic partners and numbers, not real companies."),
        ("Seed", data.seed),
        ("Partners (n_partners)", len(data.partners)),
        ("As of", data.as_of),
        ("", None),
        ("Sheets", None),
        *sheets.items(),
        ("", None),
        ("How it was made", process[0]),
        *[("", line) for line in process[1:]],
        ("", None),
        ("Injected data errors", f"{len(errors)} deliberate errors, to try data-quality checks on (in Partners, "
         "and for metrics also in the partner's last History row):"),
        *errors.itertuples(index=False, name=None),
    ]
