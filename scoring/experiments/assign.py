"""Stratified random assignment, reproducible from a seed, and the balance table of its arms.

Within each stratum (a combination of the ``strata`` columns' values) the partners, in partner-ID
order, are shuffled by ``numpy.random.default_rng(seed)`` and the first ``floor(fraction x size)``
(plus one more with probability equal to the fraction's remainder) are treated: every stratum is
balanced to within one partner of its share, and the same partners, seed and settings always give
the same arms whatever the row order of the sheet.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.experiments.stats import smd

__all__ = ["Assignment", "IMBALANCE", "assign", "balance"]

TREATMENT, CONTROL = "treatment", "control"
#: |standardised mean difference| above which a covariate counts as imbalanced.
IMBALANCE = 0.1


@dataclass(frozen=True)
class Assignment:
    """Arms for one experiment: ``frame`` has ``partner_id, experiment, arm, assigned, stratum``."""

    name: str
    seed: int
    fraction: float
    strata: tuple[str, ...]
    frame: pd.DataFrame
    balance: pd.DataFrame

    def lines(self) -> list[str]:
        arms = self.frame["arm"].value_counts()
        sizes = self.frame.groupby("stratum")["arm"].agg(lambda a: (a == TREATMENT).sum())
        worst = self.balance.loc[self.balance["smd"].abs().idxmax()] if len(self.balance) and \
            self.balance["smd"].notna().any() else None
        out = [f"Experiment {self.name}: {int(arms.get(TREATMENT, 0))} treatment, {int(arms.get(CONTROL, 0))} control "
               f"(fraction {self.fraction:g}, seed {self.seed}"
               + (f", {len(sizes)} strata by {', '.join(self.strata)})" if self.strata else ", no strata)")]
        if worst is not None:
            flagged = int((self.balance["smd"].abs() > IMBALANCE).sum())
            out.append(f"Balance: largest |standardised mean difference| {abs(worst['smd']):.3f} ({worst['covariate']}); "
                       + (f"{flagged} covariate(s) above {IMBALANCE:g}: consider stratifying on them or another seed."
                          if flagged else f"all within {IMBALANCE:g}."))
        return out


def assign(partners: pd.DataFrame, name: str, fraction: float = 0.5, seed: int = 0, strata: tuple[str, ...] = (),
           date: dt.date | None = None, covariates: pd.DataFrame | None = None) -> Assignment:
    """Assign every partner of ``partners`` (one row each, with ``partner_id`` and the ``strata``
    columns) to treatment or control; ``covariates`` (same rows) make the balance table."""
    if not name or not str(name).strip():
        raise ValueError("the experiment needs a name")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction: {fraction:g} must lie between 0 and 1 (the share of partners treated)")
    missing = [s for s in strata if s not in partners.columns]
    if missing:
        raise ValueError(f"strata: no column {', '.join(missing)} (columns: {', '.join(map(str, partners.columns))})")
    ids = partners["partner_id"]
    usable = ids.notna() & (ids.astype(str).str.strip() != "")
    frame = partners[usable]
    if frame["partner_id"].astype(str).duplicated().any():
        raise ValueError("partner IDs must be unique to assign arms")
    if len(frame) < 2:
        raise ValueError("an experiment needs at least 2 partners")
    key = (frame[list(strata)].astype(object).where(frame[list(strata)].notna(), "").astype(str).agg(" / ".join, axis=1)
           if strata else pd.Series("all", index=frame.index))
    order = np.lexsort((frame["partner_id"].astype(str).to_numpy(), key.to_numpy()))
    rng = np.random.default_rng(seed)
    arm = np.empty(len(frame), dtype=object)
    keys = key.to_numpy()[order]
    for stratum in pd.unique(keys):
        members = order[keys == stratum]
        target = fraction * len(members)
        n_treated = math.floor(target) + int(rng.random() < target - math.floor(target))
        shuffled = members[rng.permutation(len(members))]
        arm[shuffled[:n_treated]] = TREATMENT
        arm[shuffled[n_treated:]] = CONTROL
    out = pd.DataFrame({"partner_id": frame["partner_id"].to_numpy(), "experiment": name, "arm": arm,
                        "assigned": date or dt.date.today(), "stratum": key.to_numpy()})
    table = balance(covariates.loc[frame.index] if covariates is not None else pd.DataFrame(index=frame.index),
                    arm == TREATMENT)
    return Assignment(name, seed, fraction, tuple(strata), out, table)


def balance(covariates: pd.DataFrame, treated: np.ndarray) -> pd.DataFrame:
    """Per covariate: mean in each arm, partners with a value, and the standardised mean difference;
    a text covariate gives one row per category (its share in each arm)."""
    treated = np.asarray(treated, bool)
    rows = []
    for column in covariates.columns:
        values = covariates[column]
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().sum() >= max(2, 0.5 * values.notna().sum()):
            x = numeric.to_numpy(float)
            rows.append(_row(str(column), x, treated))
        else:
            text = values.astype(object).where(values.notna(), "(blank)").astype(str)
            for category in sorted(text.unique())[:20]:
                rows.append(_row(f"{column} = {category}", (text == category).to_numpy(float), treated))
    return pd.DataFrame(rows, columns=["covariate", "mean_treatment", "mean_control", "n_treatment", "n_control", "smd",
                                       "imbalanced"])


def _row(name: str, x: np.ndarray, treated: np.ndarray) -> dict:
    t, c = x[treated], x[~treated]
    value = smd(t, c)
    return {"covariate": name, "mean_treatment": float(np.nanmean(t)) if np.isfinite(t).any() else np.nan,
            "mean_control": float(np.nanmean(c)) if np.isfinite(c).any() else np.nan,
            "n_treatment": int(np.isfinite(t).sum()), "n_control": int(np.isfinite(c).sum()), "smd": value,
            "imbalanced": bool(abs(value) > IMBALANCE) if value == value else False}
