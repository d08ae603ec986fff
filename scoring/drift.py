"""Population stability: has the population of partners shifted since then (a period, or the
calibration's cohort)?

For every input metric, each score and the tiers, the population stability index

    PSI = sum over bins of (share_now - share_then) * ln(share_now / share_then)

on bins taken from *then*: deciles of a numeric variable (fewer where values repeat), a bin per
category of an ordinal or boolean one. Every bin count gets 0.5 added before shares are taken, so an
empty bin neither divides by zero nor dominates. Bands: below 0.10 stable, 0.10 to 0.25 investigate,
0.25 and above shifted.

PSI grows by chance on small samples (about ``(1/n_then + 1/n_now) x (bins - 1)`` on average), so
every row also gives the PSI that two samples of these sizes from *one* population exceed only 5% of
the time (``chance_psi``: 400 parametric bootstrap draws from the baseline's shares, seeded). When
that is 0.10 or more, the bands do not mean much at these counts and the row says so
(``small_sample``). A variable counts as shifted when its PSI is 0.25 or more *and* above
``chance_psi``. Coverage (share of partners with a value) is compared beside it, then and now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.compiled import KIND_BOOLEAN, KIND_ORDINAL, compile_model
from scoring.engine import score
from scoring.model.drift_schema import Baseline, StoredDistribution
from scoring.model.load import ScoringModel, load_model
from scoring.normalize import extract
from scoring.table import PartnerTable

__all__ = ["BANDS", "SCORES", "SHIFTED", "STABLE", "Drift", "Population", "baseline", "band", "compare",
           "population", "psi"]

STABLE, SHIFTED = 0.10, 0.25
BANDS = ("stable", "investigate", "shifted")
SCORES = ("revenue_score", "engagement_score", "composite_score")
#: Any fixed onboarding start serves to score partners ``months`` in: only the months between count.
REFERENCE_START = dt.date(2000, 1, 1)
BINS = 10
SMOOTHING = 0.5
DRAWS = 400
CHANCE_QUANTILE = 0.95


@dataclass(frozen=True)
class Population:
    """A population's values: per metric (NaN where blank or unusable; a category's mapped value for
    ordinal and boolean metrics), per score, and tiers."""

    n: int
    metrics: dict[str, np.ndarray]
    categorical: frozenset[str]  # metric ids compared by category
    labels: dict[str, str]  # variable -> label
    scores: dict[str, np.ndarray]
    tiers: np.ndarray
    tier_order: tuple[str, ...]
    names: dict[str, dict[str, str]]  # categorical metric -> stored category ("40") -> its name ("in progress")


def population(partners: pd.DataFrame, model: "ScoringModel | str", as_of: "dt.date | str | None" = None,
               *, months: int | None = None) -> Population:
    """The population of ``partners`` scored as of ``as_of``, or each ``months`` after its onboarding
    start (the stage a calibration's cohort was scored at)."""
    model = load_model(model)
    c = compile_model(model)
    values, missing, invalid = extract(PartnerTable(partners), c.metric_ids, c.lookups)
    with np.errstate(invalid="ignore"):
        bad = missing | invalid | (values < c.valid_lo[:, None]) | (values > c.valid_hi[:, None])
    values = np.where(bad, np.nan, values)
    if months is not None:  # every partner at the same point of onboarding, as calibration scores its cohort
        result = score(partners.assign(onboarding_start=REFERENCE_START), model,
                       as_of=(pd.Timestamp(REFERENCE_START) + pd.DateOffset(months=months)).date())
    else:
        result = score(partners, model, as_of=as_of)
    frame = {name: result[name] for name in (*SCORES, "tier")}  # only what is compared: cheap for many
    categorical = frozenset(c.metric_ids[j] for j, k in enumerate(c.kind) if k in (KIND_ORDINAL, KIND_BOOLEAN))
    labels = {**dict(zip(c.metric_ids, c.labels)), "revenue_score": "Revenue score",
              "engagement_score": "Engagement score", "composite_score": "Composite score"}
    return Population(
        n=len(partners), metrics={m: values[j] for j, m in enumerate(c.metric_ids)}, categorical=categorical,
        labels=labels, scores={s: np.asarray(frame[s], dtype=float) for s in SCORES},
        tiers=np.asarray(frame["tier"], dtype=object), tier_order=(*(t.id for t in model.spec.tiers), "Unscored"),
        names={m.id: _names(m) for m in model.spec.metrics if m.id in categorical},
    )


def _names(metric) -> dict[str, str]:
    """A category's name by its stored value: an ordinal's map key (the first with that score), Yes/No."""
    mapped = getattr(metric.normalization, "map", None)
    if mapped is None:
        return {"1": "Yes", "0": "No"}
    out: dict[str, str] = {}
    for name, value in mapped.items():
        out.setdefault(_category(float(value)), name)
    return out


def baseline(pop: Population) -> Baseline:
    """What a calibration stores of its cohort: quantile bins and shares, category shares, tier shares."""
    metrics = {m: _distribution(v, m in pop.categorical) for m, v in pop.metrics.items()}
    scores = {s: _distribution(v, False) for s, v in pop.scores.items()}
    tiers = pd.Series(pop.tiers).value_counts(normalize=True)
    return Baseline(n=max(pop.n, 1), metrics=metrics, scores=scores,
                    tiers={t: round(float(tiers.get(t, 0.0)), 6) for t in pop.tier_order if t in tiers})


def _distribution(values: np.ndarray, categorical: bool) -> StoredDistribution:
    present = values[~np.isnan(values)]
    coverage = round(len(present) / len(values), 6) if len(values) else 0.0
    if categorical:
        cats, counts = np.unique(present, return_counts=True)
        shares = _shares(counts)
        return StoredDistribution(kind="categorical", n=len(present), coverage=coverage,
                                  categories=[_category(v) for v in cats], shares=shares)
    edges = _edges(present)
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
    return StoredDistribution(kind="numeric", n=len(present), coverage=coverage, edges=[float(e) for e in edges],
                              shares=_shares(counts))


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    if not total:
        return [0.0] * len(counts)
    shares = np.round(counts / total, 6)
    shares[np.argmax(shares)] += round(1.0 - shares.sum(), 6)  # add up to 1 after rounding
    return [float(s) for s in shares]


def _edges(present: np.ndarray) -> np.ndarray:
    """Inner cut points: the deciles, each at most once (repeated values make fewer bins)."""
    if not len(present):
        return np.array([])
    cuts = np.quantile(present, np.arange(1, BINS) / BINS, method="lower")
    return np.unique(cuts[cuts < present.max()])


def _category(value: float) -> str:
    return f"{value:g}"


def band(value: float) -> str:
    """``stable`` (< 0.10), ``investigate`` (0.10 to 0.25) or ``shifted`` (>= 0.25); '' without a PSI."""
    if np.isnan(value):
        return ""
    return BANDS[0] if value < STABLE else BANDS[1] if value < SHIFTED else BANDS[2]


def psi(then_counts: np.ndarray, now_counts: np.ndarray) -> np.ndarray:
    """PSI of count vectors (last axis: bins), each bin count plus :data:`SMOOTHING`; broadcasts."""
    a = np.asarray(then_counts, dtype=float) + SMOOTHING
    b = np.asarray(now_counts, dtype=float) + SMOOTHING
    a /= a.sum(axis=-1, keepdims=True)
    b /= b.sum(axis=-1, keepdims=True)
    return ((b - a) * np.log(b / a)).sum(axis=-1)


def chance_psi(shares: np.ndarray, n_then: int, n_now: int, seed: int = 0) -> float:
    """The PSI two samples of ``n_then`` and ``n_now`` from one population with these bin ``shares``
    exceed only 5% of the time (parametric bootstrap, :data:`DRAWS` draws, seeded)."""
    if n_then < 1 or n_now < 1 or len(shares) < 2:
        return np.nan
    rng = np.random.default_rng(seed)
    p = np.asarray(shares, dtype=float)
    p = p / p.sum()
    draws = psi(rng.multinomial(n_then, p, size=DRAWS), rng.multinomial(n_now, p, size=DRAWS))
    return float(np.quantile(draws, CHANCE_QUANTILE))


@dataclass(frozen=True)
class Drift:
    """Population stability between *then* and *now*, as tidy tables.

    ``table``: one row per variable: ``variable``, ``label``, ``group`` (input, score or tier), ``psi``,
    ``band``, ``n_then``, ``n_now``, ``chance_psi``, ``small_sample``, ``shifted``, ``coverage_then``,
    ``coverage_now``. ``bins``: per variable and bin, ``share_then`` and ``share_now``. ``tiers``:
    share of partners per tier then and now. ``then`` and ``now`` name the two populations.
    """

    table: pd.DataFrame
    bins: pd.DataFrame
    tiers: pd.DataFrame
    then: str
    now: str

    def shifted(self, group: str = "input") -> pd.DataFrame:
        """The rows of ``group`` that shifted (PSI >= 0.25 and above what chance gives), largest first."""
        rows = self.table[(self.table["group"] == group) & self.table["shifted"]]
        return rows.sort_values("psi", ascending=False, kind="stable")

    def summary(self) -> list[str]:
        """Plain sentences: how many inputs and scores are in each band, which shifted, and the rule."""
        lines = [f"Population stability from {self.then} to {self.now}."]
        for group, word in (("input", "inputs"), ("score", "scores")):
            rows = self.table[self.table["group"] == group]
            if rows.empty:
                continue
            counts = rows["band"].value_counts()
            lines.append(f"{len(rows)} {word}: " + ", ".join(f"{int(counts.get(b, 0))} {b}" for b in BANDS) + ".")
            moved = self.shifted(group)
            if len(moved):
                lines.append(f"Shifted (PSI >= {SHIFTED:g}): " + ", ".join(
                    f"{label} {value:.2f}" for label, value in zip(moved["label"], moved["psi"])) + ".")
        small = self.table[self.table["small_sample"]]
        if len(small):
            lines.append(f"Small samples ({len(small)} of {len(self.table)} rows): a PSI of {STABLE:g} or more "
                         f"arises by chance in more than 5% of samples of these sizes from one population, so "
                         f"their bands do not mean much.")
        return lines


def compare(then: "Population | Baseline", now: Population, *, then_label: str = "then",
            now_label: str = "now") -> Drift:
    """PSI of every input metric, each score and the tiers between ``then`` (a population, or a
    calibration's stored baseline) and ``now``; bins from ``then``."""
    base = then if isinstance(then, Baseline) else baseline(then)
    rows, bins = [], []
    for group, stored, current in (("input", base.metrics, now.metrics), ("score", base.scores, now.scores)):
        for name, dist in stored.items():
            if name not in current:
                continue
            row, shares = _compare(dist, current[name], now.names.get(name, {}))
            label = now.labels.get(name, name)
            rows.append({"variable": name, "label": label, "group": group, **row})
            bins += [{"variable": name, "label": label, **s} for s in shares]
    tiers = _tiers(base, now)
    if len(tiers):
        n_then, n_now = base.n, now.n
        value = float(psi(tiers["share_then"].to_numpy() * n_then, tiers["share_now"].to_numpy() * n_now))
        chance = chance_psi(tiers["share_then"].to_numpy(), n_then, n_now)
        rows.append({"variable": "tier", "label": "Tier", "group": "tier", **_row(value, chance, n_then, n_now,
                                                                                1.0, 1.0)})
    table = pd.DataFrame(rows, columns=["variable", "label", "group", "psi", "band", "n_then", "n_now", "chance_psi",
                                        "small_sample", "shifted", "coverage_then", "coverage_now"])
    return Drift(table, pd.DataFrame(bins, columns=["variable", "label", "bin", "share_then", "share_now"]), tiers,
                 then_label, now_label)


def _compare(dist: StoredDistribution, values: np.ndarray, named: dict[str, str] | None = None) -> tuple[dict, list[dict]]:
    present = values[~np.isnan(values)]
    coverage_now = len(present) / len(values) if len(values) else np.nan
    if dist.kind == "numeric":
        edges = np.asarray(dist.edges, dtype=float)
        counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=len(edges) + 1)
        names = _bin_names(edges)
        shares = np.asarray(dist.shares, dtype=float)
    else:
        seen = [_category(v) for v in present]
        categories = list(dist.categories) + sorted(set(seen) - set(dist.categories))
        position = {c: k for k, c in enumerate(categories)}
        counts = np.bincount([position[s] for s in seen], minlength=len(categories)).astype(float)
        names = [(named or {}).get(c, c) for c in categories]
        shares = np.r_[np.asarray(dist.shares, dtype=float), np.zeros(len(categories) - len(dist.categories))]
    n_then, n_now = dist.n, len(present)
    if n_then and n_now:
        value = float(psi(shares * n_then, counts))
        chance = chance_psi(shares, n_then, n_now)
    else:
        value = chance = np.nan
    now_shares = counts / n_now if n_now else np.full(len(counts), np.nan)
    row = _row(value, chance, n_then, n_now, dist.coverage, coverage_now)
    return row, [{"bin": b, "share_then": float(t), "share_now": float(w)} for b, t, w in zip(names, shares, now_shares)]


def _row(value: float, chance: float, n_then: int, n_now: int, coverage_then: float, coverage_now: float) -> dict:
    small = bool(np.isnan(chance) or chance >= STABLE)
    return {"psi": round(value, 4) if not np.isnan(value) else np.nan, "band": band(value), "n_then": int(n_then),
            "n_now": int(n_now), "chance_psi": round(chance, 4) if not np.isnan(chance) else np.nan,
            "small_sample": small, "shifted": bool(value >= SHIFTED and (np.isnan(chance) or value > chance)),
            "coverage_then": round(float(coverage_then), 4), "coverage_now": round(float(coverage_now), 4)}


def _bin_names(edges: np.ndarray) -> list[str]:
    """``<= 3``, ``3 - 7``, ``> 7``: what each quantile bin holds."""
    if not len(edges):
        return ["all values"]
    shown = [f"{e:,.4g}" for e in edges]
    return [f"<= {shown[0]}", *(f"{a} - {b}" for a, b in zip(shown, shown[1:])), f"> {shown[-1]}"]


def _tiers(base: Baseline, now: Population) -> pd.DataFrame:
    current = pd.Series(now.tiers).value_counts(normalize=True)
    names = [t for t in now.tier_order if t in base.tiers or t in current]
    return pd.DataFrame({"tier": names, "share_then": [float(base.tiers.get(t, 0.0)) for t in names],
                         "share_now": [float(current.get(t, 0.0)) for t in names]})
