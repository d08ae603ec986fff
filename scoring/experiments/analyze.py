"""An experiment's read-out: its arms (the ``Experiments`` sheet), its outcomes, and every estimate.

Outcomes, per partner of the experiment:

- **engagement** and **revenue**: ``engaged_<H>m`` and ``revenue_<H>m`` from the ``Outcomes`` sheet
  (``H`` the model's horizon), for partners assigned before their outcome window closed (onboarding
  start + H months): a partner whose window had closed when it was assigned could not be affected,
  and counting it would dilute the effect;
- **score change**: the composite score at the read-out date minus the composite score at
  assignment (the partner's latest ``History`` snapshot on or before its assignment date, scored as
  of that snapshot).

For each outcome: the difference treated - control with Welch and percentile-bootstrap 95%
intervals, a randomisation-inference p-value (re-assigning arms within the recorded strata; exact
when there are at most 20,000 possible assignments), CUPED with the composite score at assignment
as covariate (and by how much it narrows the interval), the minimum detectable effect at this
sample size (80% power) and a verdict in words. Difference-in-differences compares the mean
composite score before and after assignment across arms (History), with a check of pre-period
trends. Attrition (assigned partners without the outcome) and balance (pre-period scores) are
reported per arm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from scoring.engine import score, to_date
from scoring.experiments import stats
from scoring.experiments.assign import CONTROL, IMBALANCE, TREATMENT, balance
from scoring.history import score_history
from scoring.model.load import ScoringModel, load_model

__all__ = ["Analysis", "OUTCOMES", "analyze", "arms_of", "pre_scores"]

OUTCOMES = ("engagement", "revenue", "score change")
RESULT_COLUMNS = ["outcome", "n_treatment", "n_control", "mean_treatment", "mean_control", "effect", "welch_low",
                  "welch_high", "bootstrap_low", "bootstrap_high", "p_value", "p_exact", "cuped_effect", "cuped_low",
                  "cuped_high", "cuped_narrowing", "mde", "verdict"]


@dataclass(frozen=True)
class Analysis:
    """Everything the read-out found, as tidy frames and sentences."""

    name: str
    as_of: dt.date
    model_label: str
    results: pd.DataFrame  # one row per outcome (RESULT_COLUMNS)
    did: pd.DataFrame  # difference-in-differences on composite score trajectories
    attrition: pd.DataFrame  # per outcome and arm: assigned, analysed, share analysed
    balance: pd.DataFrame  # pre-period covariates per arm with standardised mean differences
    lines: tuple[str, ...]

    def result(self, outcome: str) -> pd.Series:
        return self.results.set_index("outcome").loc[outcome]


def arms_of(experiments: pd.DataFrame, name: str) -> pd.DataFrame:
    """The experiment's rows: ``partner_id, arm`` (treatment or control), ``assigned`` (date) and
    ``stratum`` (blank when not recorded); one row per partner."""
    for column in ("partner_id", "experiment", "arm"):
        if column not in experiments.columns:
            raise ValueError(f"the Experiments sheet has no {column} column")
    names = experiments["experiment"].astype(str).str.strip()
    rows = experiments[names == name.strip()].copy()
    if rows.empty:
        known = ", ".join(sorted(set(names[names != "nan"])))
        raise ValueError(f"no experiment named '{name}' on the Experiments sheet (experiments: {known or 'none'})")
    arm = rows["arm"].astype(str).str.strip().str.lower().replace({"treated": TREATMENT, "test": TREATMENT})
    bad = sorted(set(arm) - {TREATMENT, CONTROL})
    if bad:
        raise ValueError(f"experiment '{name}': arm must be treatment or control, not {', '.join(bad)}")
    rows["arm"] = arm
    rows["partner_id"] = rows["partner_id"].astype(str).str.strip()
    if rows["partner_id"].duplicated().any():
        twice = rows.loc[rows["partner_id"].duplicated(), "partner_id"].iloc[0]
        raise ValueError(f"experiment '{name}': partner {twice} is assigned more than once")
    rows["assigned"] = [_date(v) for v in rows["assigned"]] if "assigned" in rows.columns else None
    rows["stratum"] = rows["stratum"].astype(object).where(rows["stratum"].notna(), "") if "stratum" in rows.columns else ""
    return rows[["partner_id", "arm", "assigned", "stratum"]].reset_index(drop=True)


def _date(value) -> dt.date | None:
    try:
        return to_date(value) if value is not None and value == value else None
    except ValueError:
        return None


def pre_scores(arms: pd.DataFrame, partners: pd.DataFrame, history: pd.DataFrame | None,
               model: ScoringModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per experiment partner, the scores at assignment (latest History snapshot on or before the
    assignment date); and every snapshot of those partners scored (for trajectories)."""
    columns = ["partner_id", "pre_period", "pre_composite", "pre_revenue", "pre_engagement"]
    if history is None or history.empty or "period" not in history.columns:
        return pd.DataFrame({"partner_id": arms["partner_id"]}).assign(pre_period=None, pre_composite=np.nan,
                                                                       pre_revenue=np.nan, pre_engagement=np.nan), \
            pd.DataFrame(columns=["partner_id", "period", "composite_score"])
    ids = set(arms["partner_id"])
    mine = history[history["partner_id"].astype(str).str.strip().isin(ids)].copy()
    mine["partner_id"] = mine["partner_id"].astype(str).str.strip()
    people = partners.copy()
    people["partner_id"] = people["partner_id"].astype(str).str.strip()
    scored = score_history(mine, people, model)
    scored = scored.merge(arms[["partner_id", "assigned"]], on="partner_id")
    before = scored[[a is not None and p <= a for p, a in zip(scored["period"], scored["assigned"])]]
    latest = before.sort_values("period", kind="stable").drop_duplicates("partner_id", keep="last")
    pre = latest.rename(columns={"period": "pre_period", "composite_score": "pre_composite",
                                 "revenue_score": "pre_revenue", "engagement_score": "pre_engagement"})[columns]
    pre = pd.DataFrame({"partner_id": arms["partner_id"]}).merge(pre, on="partner_id", how="left")
    return pre, scored


def analyze(experiments: pd.DataFrame, partners: pd.DataFrame, name: str, model: "ScoringModel | str" = "default",
            outcomes: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
            as_of: "dt.date | str | None" = None, resamples: int = 10_000, seed: int = 0,
            permutations: int = stats.PERMUTATIONS) -> Analysis:
    """Read out experiment ``name`` (see the module docstring)."""
    model = load_model(model)
    as_of = to_date(as_of)
    horizon = model.spec.horizon_months
    arms = arms_of(experiments, name)
    people = partners.copy()
    people["partner_id"] = people["partner_id"].astype(str).str.strip()
    people = people.drop_duplicates("partner_id")
    unknown = sorted(set(arms["partner_id"]) - set(people["partner_id"]))
    arms = arms[arms["partner_id"].isin(people["partner_id"])].reset_index(drop=True)
    if arms.empty:
        raise ValueError(f"experiment '{name}': none of its partners is on the partner sheet")
    pre, trajectories = pre_scores(arms, people, history, model)
    data = arms.merge(pre, on="partner_id", how="left")
    here = people.set_index("partner_id").loc[data["partner_id"]].reset_index()
    now = score(here, model, as_of)
    data["composite_now"] = np.asarray(now["composite_score"], dtype=float)
    starts = pd.to_datetime(here["onboarding_start"], errors="coerce") if "onboarding_start" in here else pd.Series(pd.NaT, index=here.index)
    window_end = (starts + pd.DateOffset(months=horizon)).dt.date
    data["in_window"] = [a is not None and e is not None and e == e and a < e for a, e in zip(data["assigned"], window_end)]
    if outcomes is not None and "partner_id" in outcomes.columns:
        found = outcomes.copy()
        found["partner_id"] = found["partner_id"].astype(str).str.strip()
        found = found.drop_duplicates("partner_id").set_index("partner_id")
        for outcome, column in (("engagement", f"engaged_{horizon}m"), ("revenue", f"revenue_{horizon}m")):
            values = pd.to_numeric(found[column], errors="coerce") if column in found.columns else pd.Series(dtype=float)
            data[outcome] = data["partner_id"].map(values).astype(float)
            data.loc[~data["in_window"], outcome] = np.nan
    else:
        data["engagement"] = data["revenue"] = np.nan
    data["score change"] = data["composite_now"] - data["pre_composite"]
    early = np.array([a is None or a >= as_of for a in data["assigned"]])
    data.loc[early, list(OUTCOMES)] = np.nan  # assigned on or after the read-out date: no after yet
    treated = (data["arm"] == TREATMENT).to_numpy()
    strata = data["stratum"].astype(str).to_numpy() if (data["stratum"].astype(str) != "").any() else None

    rows, attrition = [], []
    for k, outcome in enumerate(OUTCOMES):
        y = data[outcome].to_numpy(float)
        has = ~np.isnan(y)
        for arm_name, mask in ((TREATMENT, treated), (CONTROL, ~treated)):
            attrition.append({"outcome": outcome, "arm": arm_name, "assigned": int(mask.sum()),
                              "analysed": int((mask & has).sum()),
                              "share_analysed": float((mask & has).sum() / mask.sum()) if mask.sum() else np.nan})
        rows.append(_estimate(outcome, y[has & treated], y[has & ~treated], data["pre_composite"].to_numpy(float),
                              has, treated, None if strata is None else strata[has], resamples, seed + k,
                              permutations))
    results = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    did = _did(data[~early], trajectories, treated[~early])
    attrition = pd.DataFrame(attrition)
    covariates = data[["pre_composite", "pre_revenue", "pre_engagement"]].rename(columns={
        "pre_composite": "composite score at assignment", "pre_revenue": "revenue score at assignment",
        "pre_engagement": "engagement score at assignment"})
    table = balance(covariates, treated)
    lines = _lines(name, model, as_of, data, treated, results, did, attrition, table, unknown)
    return Analysis(name, as_of, model.label, results, did, attrition, table, tuple(lines))


def _estimate(outcome: str, t: np.ndarray, c: np.ndarray, pre: np.ndarray, has: np.ndarray, treated: np.ndarray,
              strata: np.ndarray | None, resamples: int, seed: int, permutations: int) -> dict:
    row = {"outcome": outcome, "n_treatment": len(t), "n_control": len(c),
           "mean_treatment": float(t.mean()) if len(t) else np.nan, "mean_control": float(c.mean()) if len(c) else np.nan}
    if len(t) < 2 or len(c) < 2:
        return {**row, "verdict": f"Too few partners with an {outcome} outcome to estimate an effect "
                                  f"({len(t)} treated, {len(c)} control)." if outcome[0] in "aeiou" else
                                  f"Too few partners with a {outcome} outcome to estimate an effect "
                                  f"({len(t)} treated, {len(c)} control)."}
    welch = stats.welch(t, c)
    boot = stats.bootstrap(t, c, resamples, seed)
    y = np.concatenate([t, c])
    arm = np.concatenate([np.ones(len(t), bool), np.zeros(len(c), bool)])
    order_strata = None
    if strata is not None:  # strata of the analysed partners, in the same treated-then-control order
        order_strata = np.concatenate([strata[treated[has]], strata[~treated[has]]])
    p, exact = stats.randomisation_p(y, arm, order_strata, permutations, seed=seed)
    x = pre[has]
    adjusted, _ = stats.cuped(t, c, x[treated[has]], x[~treated[has]])
    narrowing = 1 - adjusted.width / welch.width if welch.width > 0 else 0.0
    detectable = stats.mde(t, c)
    row.update(effect=welch.effect, welch_low=welch.low, welch_high=welch.high, bootstrap_low=boot.low,
               bootstrap_high=boot.high, p_value=p, p_exact=exact, cuped_effect=adjusted.effect, cuped_low=adjusted.low,
               cuped_high=adjusted.high, cuped_narrowing=narrowing, mde=detectable)
    use_cuped = np.isfinite(x).mean() >= 0.5
    row["verdict"] = _verdict(outcome, adjusted if use_cuped else welch, p, detectable, use_cuped)
    return row


def _unit(outcome: str, value: float, signed: bool = True) -> str:
    if outcome == "engagement":
        return f"{value * 100:+.1f} percentage points" if signed else f"{abs(value) * 100:.1f} percentage points"
    if outcome == "revenue":
        return f"{value:+,.0f}" if signed else f"{abs(value):,.0f}"
    return f"{value:+.1f} points" if signed else f"{abs(value):.1f} points"


def _verdict(outcome: str, estimate: stats.Estimate, p: float, detectable: float, cuped: bool) -> str:
    which = "CUPED-adjusted" if cuped else "Welch"
    interval = f"95% CI {_unit(outcome, estimate.low)} to {_unit(outcome, estimate.high)}, {which}; p = {p:.3f}"
    if estimate.low > 0 or estimate.high < 0:
        direction = "raised" if estimate.effect > 0 else "lowered"
        return f"Treatment {direction} {outcome} by {_unit(outcome, estimate.effect, False)} ({interval})."
    bound = max(abs(estimate.low), abs(estimate.high))
    return (f"No detectable effect on {outcome}: {_unit(outcome, estimate.effect)} ({interval}); an effect smaller than "
            f"{_unit(outcome, bound, False)} cannot be ruled out (detectable at 80% power with this sample: "
            f"{_unit(outcome, detectable, False)}).")


def _did(data: pd.DataFrame, trajectories: pd.DataFrame, treated: np.ndarray) -> pd.DataFrame:
    """Per partner, mean composite after assignment minus mean before (History snapshots), compared
    across arms; and the same for the pre-period trend (last minus first snapshot before assignment)."""
    columns = ["measure", "n_treatment", "n_control", "effect", "low", "high", "p_value"]
    if trajectories.empty:
        return pd.DataFrame(columns=columns)
    frame = trajectories[trajectories["partner_id"].isin(set(data["partner_id"]))].copy()
    frame = frame.dropna(subset=["composite_score"])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["post"] = [a is not None and p > a for p, a in zip(frame["period"], frame["assigned"])]
    means = frame.groupby(["partner_id", "post"])["composite_score"].mean().unstack()
    pre = frame[~frame["post"]].sort_values("period", kind="stable").groupby("partner_id")["composite_score"]
    trend = (pre.last() - pre.first()).where(pre.count() >= 2)
    arm = pd.Series(treated, index=data["partner_id"])
    out = []
    for measure, values in (("difference-in-differences (mean after - mean before)",
                             (means.get(True) - means.get(False)) if True in means and False in means else pd.Series(dtype=float)),
                            ("pre-period trend (last - first snapshot before assignment)", trend)):
        values = values.dropna()
        is_t = arm.reindex(values.index).fillna(False).astype(bool).to_numpy()
        t, c = values.to_numpy()[is_t], values.to_numpy()[~is_t]
        estimate = stats.welch(t, c)
        p = float(scipy_stats.ttest_ind(t, c, equal_var=False).pvalue) if len(t) > 1 and len(c) > 1 else np.nan
        out.append({"measure": measure, "n_treatment": len(t), "n_control": len(c), "effect": estimate.effect,
                    "low": estimate.low, "high": estimate.high, "p_value": p})
    return pd.DataFrame(out, columns=columns)


def _lines(name: str, model: ScoringModel, as_of: dt.date, data: pd.DataFrame, treated: np.ndarray,
           results: pd.DataFrame, did: pd.DataFrame, attrition: pd.DataFrame, table: pd.DataFrame,
           unknown: list[str]) -> list[str]:
    out = [f"Experiment {name}: {int(treated.sum())} treatment and {int((~treated).sum())} control partners, read out "
           f"as of {as_of.isoformat()} with {model.label}."]
    if unknown:
        out.append(f"{len(unknown)} assigned partner(s) are not on the partner sheet and are left out: "
                   f"{', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}.")
    early = int(sum(a is None or a >= as_of for a in data["assigned"]))
    if early:
        out.append(f"{early} partner(s) have no assignment date before {as_of.isoformat()}: nothing to read out for them "
                   "yet (read the experiment out after it has run).")
    outside = int((~data["in_window"]).sum())
    if outside:
        out.append(f"{outside} partner(s) were assigned after their {model.spec.horizon_months}-month outcome window "
                   "had closed (or have no onboarding start): left out of the engagement and revenue read-outs.")
    out.extend(results["verdict"].tolist())
    for outcome, rows in attrition.groupby("outcome", sort=False):
        shares = rows.set_index("arm")["share_analysed"]
        counts = rows.set_index("arm")[["assigned", "analysed"]]
        if counts["analysed"].sum() == 0:
            continue
        gap = abs(shares.get(TREATMENT, np.nan) - shares.get(CONTROL, np.nan))
        if counts["assigned"].min() > 0:
            table_ = np.array([[counts.loc[a, "analysed"], counts.loc[a, "assigned"] - counts.loc[a, "analysed"]]
                               for a in (TREATMENT, CONTROL)])
            p = scipy_stats.fisher_exact(table_)[1] if (table_.sum(axis=0) > 0).all() else 1.0
            if gap > 0.05 and p < 0.05:
                out.append(f"Attrition differs between arms for {outcome}: {shares[TREATMENT]:.0%} of treated and "
                           f"{shares[CONTROL]:.0%} of control partners have it (p = {p:.3f}); the estimate may be biased.")
    imbalanced = table[table["imbalanced"]]
    if len(imbalanced):
        out.append("Imbalance at assignment: " + "; ".join(f"{r.covariate} SMD {r.smd:+.2f}" for r in imbalanced.itertuples())
                   + f" (above {IMBALANCE:g}); the CUPED estimate adjusts for the composite score.")
    if len(did):
        first, trend = did.iloc[0], did.iloc[1]
        if first["n_treatment"] > 1 and first["n_control"] > 1:
            out.append(f"Difference-in-differences on composite scores: {first['effect']:+.1f} points (95% CI "
                       f"{first['low']:+.1f} to {first['high']:+.1f}).")
        if trend["n_treatment"] > 1 and trend["n_control"] > 1 and (trend["low"] > 0 or trend["high"] < 0):
            out.append(f"Pre-period trends differ between arms ({trend['effect']:+.1f} points): the parallel-trends "
                       "assumption behind difference-in-differences is doubtful.")
    return out
