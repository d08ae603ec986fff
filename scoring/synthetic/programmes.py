"""Synthetic marketplace seller programmes that the analyst's scorecard gets wrong, with the truth
that produced them: data for checking whether calibration learns from outcomes rather than from its
own assumptions.

The demo generator (:mod:`scoring.synthetic.population`) draws metrics and outcomes from one latent
process that the default model describes well. A programme here mimics a real marketplace's
seller-onboarding export instead (like the public Olist "closed deals" data): about 800 sellers signed
over a year, nine sign-up attributes, sales over the following year. It comes with an analyst's model
written before any outcome was known (``scoring/synthetic/marketplace.yaml``, :func:`analyst_model`),
which departs from the truth in documented ways. :class:`ProgrammeOptions` chooses which departures a
programme has; :data:`PRESETS` names the cases (:func:`preset`).

The process (docs/demo-data.md, "Marketplace programmes", has the tables):

- Sellers sign on uniformly random days over ``signing_months`` from ``signed_from``; the export is
  dated ``as_of``. Partner type (reseller 70%, manufacturer 27%, other 3%), region, and the sign-up
  answers are drawn independently (only ``has_gtin`` depends on partner type), each with fixed shares
  (:mod:`scoring.synthetic.marketplace`).
- Engagement: ``P(engaged_12m) = sigmoid(eta)`` with, noise-free,
  ``eta = -1.525 + sum of category effects (lead_type, lead_behaviour_profile, business_segment)
  + catalog(declared_product_catalog_size) + declared(declared_monthly_revenue)
  [+ partner-type shift + region effect]``, where ``catalog(s) = 0.9 (1 - exp(-s / 80)) - 0.45``
  saturates and ``declared(r) = 0.6 [r >= 50,000] - 0.15 [r = 0]`` is a step. Category effects are
  centred (share-weighted mean 0). ``has_company``, ``has_gtin`` and ``average_stock`` have no effect.
  The truth is a function of what the export records, so ``p_engaged`` is the best any model can do.
- Revenue is a hurdle: ``P(revenue_12m > 0) = sigmoid(r0 + (eta + 1.525))``, tied to the same latent;
  if positive, ``revenue_12m = exp(mu + sigma z) x tail`` with
  ``mu = 9.0 + 0.5 (eta + 1.525) + 0.25 log1p(declared_monthly_revenue / 1000) [+ 0.3 manufacturer]``.
  ``lognormal``: r0 = 0, sigma = 0.8, no tail. ``heavy``: r0 = -1.3 (most sellers sell nothing),
  sigma = 1.3, and 5% of sellers with revenue multiply it by ``1 + Lomax(1.3)`` (infinite variance).
  Engagement and revenue are drawn independently given ``eta``.
- Outcomes exist for sellers whose 12 months have passed by ``as_of``; the rest are recent partners
  without outcomes.

Where the analyst's model departs from the truth:

- ``category_order="wrong"``: the true category effects are in their own order, not the model's ordinal
  maps: ``industry`` (rated 70) has the second-worst lead-type effect, ``cat`` (rated lowest, 10) the
  best behaviour profile, ``computers`` and ``audio_video_electronics`` (rated highest) are below average.
  With ``"analyst"`` the same effect sizes are reassigned to follow the model's order.
- ``segment_effects``: partner type shifts the logit (resellers engage at about 26%, manufacturers 11%,
  other 18%) and region adds a small effect; the model has ``partner_type`` and ``region`` only as
  segmentation dimensions, with no adjustment.
- ``late_metrics``: these answers are recorded only for sellers signed in the last ``late_months`` of the
  signing period, which is after every seller with an outcome; the model weights them for everyone.
- Always: numeric effects are saturating or a step where the model has a log normalisation; the model's
  weights are the analyst's guesses, not the truth's sizes; and it weights three answers with no effect.

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order whatever the options, so
the options change what the data means and shows, not the draws: the same seed gives the same sellers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from scoring.model.load import ScoringModel, load_model
from scoring.model.schema import OrdinalNorm
from scoring.synthetic import marketplace as mp
from scoring.synthetic.arrays import sigmoid, words

__all__ = [
    "DEFAULT_PRESET", "OUTCOME_MONTHS", "PRESETS", "Programme", "ProgrammeOptions", "analyst_model",
    "generate_programme", "preset",
]

OUTCOME_MONTHS = 12
MODEL_FILE = "marketplace.yaml"

#: Revenue: log-mean at an average seller, and each mode's hurdle shift, sigma and tail.
REVENUE_LOG_MEAN = 9.0
REVENUE_MODES = {  # name: (hurdle shift r0, sigma, share of sellers with sales who get the tail)
    "lognormal": (0.0, 0.8, 0.0),
    "heavy": (-1.3, 1.3, 0.05),
}
TAIL_SHAPE = 1.3  # Lomax shape of the heavy tail: below 2, so its variance is infinite
MANUFACTURER_REVENUE_SHIFT = 0.3

NAME_HEADS = ("Casa", "Loja", "Mundo", "Empório", "Ponto", "Central", "Estação", "Vila", "Bazar", "Galeria",
              "Oficina", "Rede")
NAME_CORES = ("do Lar", "da Beleza", "Auto", "Pet", "Tech", "das Ferramentas", "Gourmet", "Digital", "Verde",
              "Brasil", "Nobre", "Real")
NAME_TAILS = ("Ltda", "ME", "Comércio", "Distribuidora", "Store", "EIRELI")


def _months_after(day: dt.date, months: int) -> dt.date:
    """Calendar months later (earlier if negative); a day past the month's end is clamped to it."""
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


@dataclass(frozen=True)
class ProgrammeOptions:
    """Which programme to draw: its size and dates, and where its truth departs from the analyst's model.

    ``name`` labels the case in reports. ``category_order`` is ``"analyst"`` (true category effects
    follow the model's ordinal maps) or ``"wrong"`` (their own order). ``segment_effects`` gives partner
    type and region true effects the model has no weight for. ``late_metrics`` are recorded only for
    sellers signed in the last ``late_months`` of signing (an error if that would include a seller with
    an outcome). ``history`` adds a monthly History sheet; without it the export is sign-up data only.
    ``revenue`` is ``"lognormal"`` or ``"heavy"`` (zero-inflated, heavy-tailed).
    """

    name: str = "signup_only"
    n_partners: int = 800
    seed: int = 0
    signed_from: dt.date = dt.date(2024, 11, 1)
    signing_months: int = 12
    as_of: dt.date = dt.date(2026, 6, 30)
    category_order: Literal["analyst", "wrong"] = "analyst"
    segment_effects: bool = False
    late_metrics: tuple[str, ...] = ()
    late_months: int = 3
    history: bool = False
    revenue: Literal["lognormal", "heavy"] = "lognormal"

    def __post_init__(self) -> None:
        """Refuse options that cannot describe a programme, naming the option and why."""
        if self.n_partners < 1:
            raise ValueError("n_partners must be at least 1")
        if self.signing_months < 1:
            raise ValueError("signing_months must be at least 1")
        if self.as_of < self.signed_until:
            raise ValueError(f"as_of {self.as_of} is before the last signing day {self.signed_until}")
        if self.category_order not in ("analyst", "wrong"):
            raise ValueError(f"category_order must be 'analyst' or 'wrong', not {self.category_order!r}")
        if self.revenue not in REVENUE_MODES:
            raise ValueError(f"revenue must be one of {', '.join(REVENUE_MODES)}, not {self.revenue!r}")
        unknown = [m for m in self.late_metrics if m not in mp.LATE_METRICS]
        if unknown:
            raise ValueError(f"late_metrics: {', '.join(unknown)} cannot be late (choose from {', '.join(mp.LATE_METRICS)})")
        if self.late_metrics and self.late_since <= self.outcome_cutoff:
            raise ValueError(f"late metrics from {self.late_since} would be recorded for sellers with outcomes "
                             f"(signed up to {self.outcome_cutoff}); use fewer late_months or a later as_of")

    @property
    def signed_until(self) -> dt.date:
        """The last signing day."""
        return _months_after(self.signed_from, self.signing_months) - dt.timedelta(days=1)

    @property
    def outcome_cutoff(self) -> dt.date:
        """The last onboarding start whose OUTCOME_MONTHS have passed by ``as_of``."""
        return _months_after(self.as_of, -OUTCOME_MONTHS)

    @property
    def late_since(self) -> dt.date:
        """First onboarding start for which the late metrics are recorded."""
        return _months_after(self.signed_from, self.signing_months - self.late_months)


_ALL_DEPARTURES = dict(category_order="wrong", segment_effects=True, late_metrics=mp.LATE_METRICS, revenue="heavy")

#: The named cases. Each departs from the sign-up-only default in one way, except ``marketplace``,
#: the export of a real programme, which has all of them.
PRESETS: dict[str, ProgrammeOptions] = {
    "signup_only": ProgrammeOptions(),
    "history": ProgrammeOptions(name="history", history=True),
    "wrong_order": ProgrammeOptions(name="wrong_order", category_order="wrong"),
    "partner_type": ProgrammeOptions(name="partner_type", segment_effects=True),
    "late_metrics": ProgrammeOptions(name="late_metrics", late_metrics=mp.LATE_METRICS),
    "small": ProgrammeOptions(name="small", n_partners=330),
    "heavy_revenue": ProgrammeOptions(name="heavy_revenue", revenue="heavy"),
    "marketplace": ProgrammeOptions(name="marketplace", **_ALL_DEPARTURES),
}
DEFAULT_PRESET = "signup_only"


def preset(name: str = DEFAULT_PRESET, **changes) -> ProgrammeOptions:
    """A named case's options, with ``changes`` (e.g. ``seed=3``, ``n_partners=20000``) applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown programme {name!r} (known: {', '.join(PRESETS)})")
    return dataclasses.replace(PRESETS[name], **changes)


@dataclass(frozen=True)
class Programme:
    """A programme's export as frames named like the workbook's sheets, and the truth behind it.

    ``partners``: partner_id, partner_name, onboarding_start, partner_type, region, then the model's
    metrics in its order. ``history``: partner_id, period and the metrics, one row per month from the
    onboarding month (None for sign-up-only data). ``outcomes``: partner_id, engaged_12m, revenue_12m for
    sellers whose 12 months have passed. ``truth``: per partner its onboarding_start, has_outcome, the
    engagement logit ``eta``, ``p_engaged``, ``p_revenue_positive`` and ``expected_revenue``. ``effects``:
    per categorical metric and segment dimension, each category's true effect on ``eta``, its share and
    the analyst's sub-score (NaN for segments and for categories the model does not map).
    """

    partners: pd.DataFrame
    history: pd.DataFrame | None
    outcomes: pd.DataFrame
    truth: pd.DataFrame
    effects: pd.DataFrame
    options: ProgrammeOptions
    model: ScoringModel  # the analyst's

    @property
    def as_of(self) -> dt.date:
        """The export date: what the data is current to."""
        return self.options.as_of


def analyst_model() -> ScoringModel:
    """The analyst's scorecard for the marketplace programmes (shipped as package data)."""
    with resources.as_file(resources.files("scoring.synthetic").joinpath(MODEL_FILE)) as path:
        return load_model(path)


def generate_programme(options: "ProgrammeOptions | str" = DEFAULT_PRESET) -> Programme:
    """Draw a programme; deterministic given its options (a preset name is looked up in PRESETS)."""
    if isinstance(options, str):
        options = preset(options)
    model = analyst_model()
    rng = np.random.default_rng(options.seed)
    n = options.n_partners

    start = _signing_days(rng, options)
    type_code = mp.PARTNER_TYPE.draw(rng, n)
    region_code = mp.REGION.draw(rng, n)
    codes = {a.id: a.draw(rng, n) for a in mp.CATEGORICAL}
    has_company = rng.random(n) < mp.HAS_COMPANY_SHARE
    gtin_share = np.array([mp.HAS_GTIN_SHARE[t] for t in mp.PARTNER_TYPE.categories])[type_code]
    has_gtin = rng.random(n) < gtin_share
    catalog = np.maximum(np.round(mp.CATALOG_MEDIAN * np.exp(mp.CATALOG_SIGMA * rng.standard_normal(n))), 1.0)
    declares = rng.random(n) < mp.DECLARING_SHARE
    declared = np.where(declares, np.round(
        mp.DECLARED_MEDIAN * np.exp(mp.DECLARED_SIGMA * rng.standard_normal(n)), -2), 0.0)
    names = _names(rng, n)
    u_engaged, u_positive, u_tail = rng.random((3, n))
    z, lomax = rng.standard_normal(n), rng.pareto(TAIL_SHAPE, n)

    effects = _effects(model, options)
    eta = np.full(n, mp.ENGAGEMENT_INTERCEPT)
    for attribute in mp.CATEGORICAL:
        eta += effects[attribute.id][codes[attribute.id]]
    eta += mp.catalog_effect(catalog) + mp.declared_effect(declared)
    if options.segment_effects:
        eta += effects["partner_type"][type_code] + effects["region"][region_code]

    partner_type = words(mp.PARTNER_TYPE.categories)[type_code]
    r0, sigma, tail_share = REVENUE_MODES[options.revenue]
    lift = eta - mp.ENGAGEMENT_INTERCEPT
    p_engaged, p_positive = sigmoid(eta), sigmoid(r0 + lift)
    log_mean = REVENUE_LOG_MEAN + 0.5 * lift + 0.25 * np.log1p(declared / 1000.0)
    if options.segment_effects:
        log_mean += MANUFACTURER_REVENUE_SHIFT * (partner_type == "manufacturer")
    tail = np.where(u_tail < tail_share, 1.0 + lomax, 1.0)
    revenue = np.where(u_positive < p_positive, np.round(np.exp(log_mean + sigma * z) * tail), 0.0)
    tail_mean = 1.0 + tail_share / (TAIL_SHAPE - 1.0)  # the mean of 1 + Lomax(a) is 1 + 1 / (a - 1)

    known = start <= np.datetime64(options.outcome_cutoff, "D")
    ids = np.array([f"S{i:05d}" for i in range(1, n + 1)], dtype=object)
    values = {
        "lead_type": words(mp.LEAD_TYPE.categories)[codes["lead_type"]],
        "lead_behaviour_profile": words(mp.LEAD_BEHAVIOUR_PROFILE.categories)[codes["lead_behaviour_profile"]],
        "business_segment": words(mp.BUSINESS_SEGMENT.categories)[codes["business_segment"]],
        "has_company": has_company.astype(object),
        "has_gtin": has_gtin.astype(object),
        "average_stock": words(mp.AVERAGE_STOCK.categories)[codes["average_stock"]],
        "declared_product_catalog_size": pd.array(catalog, dtype="Int64"),
        "declared_monthly_revenue": pd.array(declared, dtype="Int64"),
    }
    recorded = start >= np.datetime64(options.late_since, "D")
    for metric in options.late_metrics:
        values[metric] = np.where(recorded, values[metric], None)
    partners = pd.DataFrame({
        "partner_id": ids,
        "partner_name": names,
        "onboarding_start": pd.to_datetime(start),
        "partner_type": partner_type,
        "region": words(mp.REGION.categories)[region_code],
        **{m.id: values[m.id] for m in model.spec.metrics},
    })
    truth = pd.DataFrame({
        "partner_id": ids,
        "onboarding_start": pd.to_datetime(start),
        "has_outcome": known,
        "eta": eta,
        "p_engaged": p_engaged,
        "p_revenue_positive": p_positive,
        "expected_revenue": p_positive * np.exp(log_mean + sigma**2 / 2) * tail_mean,
    })
    outcomes = pd.DataFrame({
        "partner_id": ids[known],
        "engaged_12m": (u_engaged < p_engaged)[known].astype(np.int64),
        "revenue_12m": revenue[known].astype(np.int64),
    })
    history = _history(partners, model, options.as_of) if options.history else None
    return Programme(partners, history, outcomes, truth, _effects_table(model, effects), options, model)


def _signing_days(rng: np.random.Generator, options: ProgrammeOptions) -> np.ndarray:
    """Uniformly random signing days over the signing period, as ``datetime64[D]``."""
    first = np.datetime64(options.signed_from, "D")
    days = (options.signed_until - options.signed_from).days + 1
    return first + rng.integers(0, days, size=options.n_partners)


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Shop-like seller names, distinct while there are enough combinations (864)."""
    combos = len(NAME_HEADS) * len(NAME_CORES) * len(NAME_TAILS)
    codes = rng.choice(combos, size=n, replace=n > combos)
    head, rest = np.divmod(codes, len(NAME_CORES) * len(NAME_TAILS))
    core, tail = np.divmod(rest, len(NAME_TAILS))
    return words(NAME_HEADS)[head] + " " + words(NAME_CORES)[core] + " " + words(NAME_TAILS)[tail]


def _analyst_map(model: ScoringModel, metric: str) -> dict[str, float]:
    """The model's ordinal map of ``metric`` ({} for a metric it does not map, such as a segment)."""
    norm = next((m.normalization for m in model.spec.metrics if m.id == metric), None)
    return dict(norm.map) if isinstance(norm, OrdinalNorm) else {}


def _effects(model: ScoringModel, options: ProgrammeOptions) -> dict[str, np.ndarray]:
    """True effect per category code, per attribute, for this programme's category order.

    ``"analyst"`` keeps each attribute's effect sizes but hands them out in the order of the model's map
    (the category the analyst rates k-th lowest gets the k-th lowest effect); both orders are centred.
    """
    found = {}
    for attribute in mp.CATEGORICAL:
        effects = np.asarray(attribute.effects, dtype=float)
        if options.category_order == "analyst":
            scores = _analyst_map(model, attribute.id)
            rank = np.argsort(np.argsort([scores[c] for c in attribute.categories], kind="stable"), kind="stable")
            effects = np.sort(effects)[rank]
        found[attribute.id] = attribute.centred(effects)
    found["partner_type"] = np.asarray(mp.PARTNER_TYPE.effects, dtype=float)
    found["region"] = np.asarray(mp.REGION.effects, dtype=float)
    return found


def _effects_table(model: ScoringModel, effects: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per category of each categorical metric and segment dimension, for comparing fitted points."""
    rows = []
    for attribute in (*mp.CATEGORICAL, mp.PARTNER_TYPE, mp.REGION):
        scores = _analyst_map(model, attribute.id)
        for k, category in enumerate(attribute.categories):
            rows.append({"metric": attribute.id, "category": category, "effect": float(effects[attribute.id][k]),
                         "share": attribute.shares[k], "analyst": scores.get(category, np.nan)})
    return pd.DataFrame(rows)


def _history(partners: pd.DataFrame, model: ScoringModel, as_of: dt.date) -> pd.DataFrame:
    """One row per partner and month, from its onboarding month to the as-of month, observed at the month's
    end (the current month at as_of): sign-up answers do not change, so every row repeats the Partners row."""
    start = partners["onboarding_start"].to_numpy().astype("datetime64[M]")
    last = np.datetime64(as_of, "M")
    counts = (last - start).astype(np.int64) + 1
    rows = np.repeat(np.arange(len(partners)), counts)
    months = start[rows] + (np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts))
    period = np.minimum((months + 1).astype("datetime64[D]") - 1, np.datetime64(as_of, "D"))
    metrics = [m.id for m in model.spec.metrics]
    frame = partners.iloc[rows][["partner_id", *metrics]].reset_index(drop=True)
    frame.insert(1, "period", pd.to_datetime(period))
    return frame
