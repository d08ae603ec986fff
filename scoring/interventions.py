"""The interventions registry: for each action of the playbook (and each tier it was recommended
in), how many partners were recommended it, how many received it, and what happened after.

The playbook is evaluated on every partner as it was on a **reference date** (``since``; by default
six months before the read-out): each partner's latest ``History`` snapshot on or before it, scored
as of that date. A partner *received* an action when the ``Interventions`` sheet records it (status
other than ``planned``) between the reference date and the read-out. What happened after is the
change in composite score from the reference date to the read-out, and the outcomes (``engaged_<H>m``,
``revenue_<H>m``) of partners whose outcome window was still open at the reference date.

Partners who received an action are compared with partners who were recommended it but did not
receive it, **matched** exactly on segment, stage and score band (10 composite points) at the
reference date: the effect is the treated-weighted mean over the matched cells of (treated mean -
comparison mean), with a normal 95% interval. That is **observational, not causal**: managers
choose whom to treat. An action assigned by an experiment (the treatment arm of an ``Experiments``
entry received it and the comparison arm did not) shows the experiment's randomised estimate
instead (:func:`scoring.experiments.analyze`).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from scoring.engine import UNSCORED, score, to_date
from scoring.model.load import ScoringModel, load_model

__all__ = ["ALL_TIERS", "COLUMNS", "OBSERVATIONAL", "intervention_registry", "linked_experiments"]

OBSERVATIONAL = "observational, not causal"
ALL_TIERS = "all tiers"  # the category row of an action across every tier
BAND = 10  # composite points per score band for matching
LINK_SHARE = 0.8  # an experiment assigns an action when this share of its treated received it, and of receivers are treated
COLUMNS = ["action", "rule", "category", "recommended", "received", "received_of_recommended", "received_not_recommended",
           "matched_treated", "matched_comparison", "score_change_received", "score_change_comparison",
           "score_change_effect", "score_change_low", "score_change_high", "engagement_effect", "engagement_low",
           "engagement_high", "revenue_effect", "revenue_low", "revenue_high", "evidence", "experiment",
           "experiment_engagement_effect", "experiment_engagement_low", "experiment_engagement_high",
           "experiment_score_change_effect", "experiment_score_change_low", "experiment_score_change_high", "note"]


def _snapshots(partners: pd.DataFrame, history: pd.DataFrame | None, since: dt.date) -> pd.DataFrame:
    """Each partner as it was on ``since``: its latest History row on or before it, with the partner
    sheet's static columns (segments, onboarding start)."""
    people = partners.copy()
    people["partner_id"] = people["partner_id"].astype(str).str.strip()
    people = people.drop_duplicates("partner_id")
    if history is None or history.empty or "period" not in history.columns:
        return people.iloc[0:0]
    rows = history.dropna(subset=["partner_id", "period"]).copy()
    rows["partner_id"] = rows["partner_id"].astype(str).str.strip()
    rows["_period"] = [to_date(p) for p in rows["period"]]
    rows = rows[rows["_period"] <= since].sort_values("_period", kind="stable").drop_duplicates("partner_id", keep="last")
    static = [c for c in ("partner_name", "partner_type", "region", "onboarding_start") if c in people.columns]
    metrics = [c for c in rows.columns if c not in (*static, "period", "_period")]
    return rows[metrics].merge(people[["partner_id", *static]], on="partner_id").reset_index(drop=True)


def linked_experiments(interventions: pd.DataFrame, experiments: pd.DataFrame | None) -> dict[str, str]:
    """Action -> experiment that assigned it: at least :data:`LINK_SHARE` of the experiment's treated
    partners received the action, at least that share of its receivers (among the experiment's
    partners) are treated, and under a fifth of its control partners received it."""
    if experiments is None or experiments.empty or not {"experiment", "arm", "partner_id"} <= set(experiments.columns):
        return {}
    found = {}
    arms = experiments.assign(partner_id=experiments["partner_id"].astype(str).str.strip(),
                              arm=experiments["arm"].astype(str).str.strip().str.lower())
    got = interventions.assign(partner_id=interventions["partner_id"].astype(str).str.strip())
    for name, rows in arms.groupby("experiment", sort=True):
        treated = set(rows.loc[rows["arm"] == "treatment", "partner_id"])
        control = set(rows.loc[rows["arm"] == "control", "partner_id"])
        if not treated:
            continue
        for action, receivers in got.groupby("action", sort=True)["partner_id"]:
            receivers = set(receivers)
            inside = receivers & (treated | control)
            if (len(receivers & treated) >= LINK_SHARE * len(treated) and inside
                    and len(inside & treated) >= LINK_SHARE * len(inside)
                    and len(receivers & control) < 0.2 * max(len(control), 1)):
                found.setdefault(str(action), str(name))
    return found


def intervention_registry(partners: pd.DataFrame, interventions: pd.DataFrame, model: "ScoringModel | str" = "default",
                          as_of: "dt.date | str | None" = None, *, history: pd.DataFrame | None = None,
                          outcomes: pd.DataFrame | None = None, experiments: pd.DataFrame | None = None,
                          since: "dt.date | str | None" = None, resamples: int = 2000) -> pd.DataFrame:
    """One row per action and category (``all tiers``, then each tier at the reference date), with
    the columns :data:`COLUMNS` (see the module docstring)."""
    model = load_model(model)
    as_of = to_date(as_of)
    since = to_date(since) if since is not None else (pd.Timestamp(as_of) - pd.DateOffset(months=6)).date()
    if since >= as_of:
        raise ValueError(f"since: {since.isoformat()} must be before the read-out date {as_of.isoformat()}")
    for column in ("partner_id", "action"):
        if column not in interventions.columns:
            raise ValueError(f"the Interventions sheet has no {column} column")
    current = partners.copy()
    current["partner_id"] = current["partner_id"].astype(str).str.strip()
    current = current.drop_duplicates("partner_id").reset_index(drop=True)
    snap = _snapshots(current, history, since)
    before = score(snap, model, as_of=since) if len(snap) else None
    now = score(current, model, as_of=as_of)
    now_composite = pd.Series(np.asarray(now["composite_score"], float), index=current["partner_id"])

    log = interventions.copy()
    log["partner_id"] = log["partner_id"].astype(str).str.strip()
    log["_date"] = [_date(v) for v in log["date"]] if "date" in log.columns else None
    status = log["status"].astype(str).str.strip().str.lower() if "status" in log.columns else pd.Series("done", index=log.index)
    done = log[(status != "planned").to_numpy() & np.array([d is None or (since <= d <= as_of) for d in log["_date"]], bool)]
    links = linked_experiments(log, experiments)
    experiment_rows = _experiment_estimates(links, experiments, current, model, as_of, outcomes, history, resamples)

    if before is not None:
        frame = pd.DataFrame({"partner_id": np.asarray(before["partner_id"], dtype=object).astype(str),
                              "segment": before["segment"], "stage": before["stage"], "tier": before["tier"],
                              "composite": np.asarray(before["composite_score"], float)})
        frame["band"] = np.floor(frame["composite"] / BAND).where(frame["composite"].notna())
        frame["score_change"] = frame["partner_id"].map(now_composite).to_numpy() - frame["composite"]
        frame = _with_outcomes(frame, snap, outcomes, model, since)
        actions = before.actions
        recommended = pd.DataFrame({"partner_id": np.asarray(before["partner_id"], dtype=object)[
            pd.Index(before.frame.index).get_indexer(actions["row"])].astype(str), "rule": actions["rule"].to_numpy(),
            "action": actions["action"].to_numpy()})
    else:
        frame = pd.DataFrame(columns=["partner_id", "segment", "stage", "tier", "composite", "band", "score_change"])
        recommended = pd.DataFrame(columns=["partner_id", "rule", "action"])
    rules = {r.action: r.id for r in model.spec.playbook.rules}
    names = list(dict.fromkeys([*rules, *sorted(set(done["action"].astype(str)))]))
    tiers = [t.id for t in model.spec.tiers]
    rows = []
    for action in names:
        rec_ids = set(recommended.loc[recommended["action"] == action, "partner_id"])
        got_ids = set(done.loc[done["action"].astype(str) == action, "partner_id"])
        ever = set(log.loc[log["action"].astype(str) == action, "partner_id"])
        for category in [ALL_TIERS, *tiers]:
            pool = frame if category == ALL_TIERS else frame[frame["tier"] == category]
            in_pool = set(pool["partner_id"])
            rec = rec_ids & in_pool
            if category != ALL_TIERS and not rec:
                continue
            treated = pool[pool["partner_id"].isin(rec & got_ids)]
            comparison = pool[pool["partner_id"].isin(rec - ever)]
            row = {"action": action, "rule": rules.get(action, ""), "category": category, "recommended": len(rec),
                   "received": len(got_ids & in_pool) if category != ALL_TIERS else len(got_ids),
                   "received_of_recommended": len(rec & got_ids),
                   "received_not_recommended": len((got_ids & in_pool) - rec_ids)}
            row.update(_matched(treated, comparison))
            if action in links:
                row.update(evidence=f"experiment {links[action]}", experiment=links[action],
                           **experiment_rows.get(links[action], {}))
            else:
                row.update(evidence=OBSERVATIONAL, experiment="")
            row["note"] = _note(row, before is None)
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _date(value) -> dt.date | None:
    try:
        return to_date(value) if value is not None and value == value else None
    except ValueError:
        return None


def _with_outcomes(frame: pd.DataFrame, snap: pd.DataFrame, outcomes: pd.DataFrame | None, model: ScoringModel,
                   since: dt.date) -> pd.DataFrame:
    """Engagement and revenue at the horizon, for partners whose outcome window was open on ``since``."""
    horizon = model.spec.horizon_months
    frame["engagement"] = frame["revenue"] = np.nan
    if outcomes is None or "partner_id" not in outcomes.columns or "onboarding_start" not in snap.columns:
        return frame
    found = outcomes.assign(partner_id=outcomes["partner_id"].astype(str).str.strip()).drop_duplicates("partner_id")
    found = found.set_index("partner_id")
    starts = pd.to_datetime(snap.set_index(snap["partner_id"].astype(str))["onboarding_start"], errors="coerce")
    open_ = (starts + pd.DateOffset(months=horizon)).dt.date.reindex(frame["partner_id"])
    is_open = np.array([e is not None and e == e and e > since for e in open_])
    for name, column in (("engagement", f"engaged_{horizon}m"), ("revenue", f"revenue_{horizon}m")):
        if column in found.columns:
            values = frame["partner_id"].map(pd.to_numeric(found[column], errors="coerce")).astype(float)
            frame[name] = np.where(is_open, values, np.nan)
    return frame


def _matched(treated: pd.DataFrame, comparison: pd.DataFrame) -> dict:
    """Exact matching on segment, stage and score band: per outcome the treated-weighted mean of
    cell differences, with a normal 95% interval."""
    keys = ["segment", "stage", "band"]
    out = {"matched_treated": 0, "matched_comparison": 0}
    if treated.empty or comparison.empty:
        return out
    t, c = treated.dropna(subset=["band"]), comparison.dropna(subset=["band"])
    cells = set(map(tuple, t[keys].astype(str).to_numpy())) & set(map(tuple, c[keys].astype(str).to_numpy()))
    t = t[[tuple(x) in cells for x in t[keys].astype(str).to_numpy()]]
    c = c[[tuple(x) in cells for x in c[keys].astype(str).to_numpy()]]
    out.update(matched_treated=len(t), matched_comparison=len(c))
    for outcome, prefix in (("score_change", "score_change"), ("engagement", "engagement"), ("revenue", "revenue")):
        if outcome not in t.columns:
            continue
        effect, low, high, mean_t, mean_c = _cell_effect(t, c, keys, outcome)
        out[f"{prefix}_effect"], out[f"{prefix}_low"], out[f"{prefix}_high"] = effect, low, high
        if outcome == "score_change":
            out["score_change_received"], out["score_change_comparison"] = mean_t, mean_c
    return out


def _cell_effect(t: pd.DataFrame, c: pd.DataFrame, keys: list[str], outcome: str):
    t, c = t.dropna(subset=[outcome]), c.dropna(subset=[outcome])
    if t.empty or c.empty:
        return (np.nan,) * 5
    gt = t.assign(_k=["|".join(x) for x in t[keys].astype(str).to_numpy()]).groupby("_k")[outcome]
    gc = c.assign(_k=["|".join(x) for x in c[keys].astype(str).to_numpy()]).groupby("_k")[outcome]
    stats_t = gt.agg(["size", "mean", "var"])
    stats_c = gc.agg(["size", "mean", "var"])
    both = stats_t.add_suffix("_t").join(stats_c.add_suffix("_c"), how="inner")
    if both.empty:
        return (np.nan,) * 5
    weight = both["size_t"] / both["size_t"].sum()
    effect = float((weight * (both["mean_t"] - both["mean_c"])).sum())
    pooled_var = pd.concat([t[outcome], c[outcome]]).var()
    var_t = both["var_t"].fillna(pooled_var) / both["size_t"]
    var_c = both["var_c"].fillna(pooled_var) / both["size_c"]
    se = math.sqrt(float((weight ** 2 * (var_t + var_c)).sum()))
    mean_t = float((weight * both["mean_t"]).sum())
    return effect, effect - 1.96 * se, effect + 1.96 * se, mean_t, mean_t - effect


def _experiment_estimates(links: dict[str, str], experiments: pd.DataFrame | None, partners: pd.DataFrame,
                          model: ScoringModel, as_of: dt.date, outcomes, history, resamples: int) -> dict[str, dict]:
    from scoring.experiments import analyze

    out = {}
    for name in sorted(set(links.values())):
        found = analyze(experiments, partners, name, model, outcomes=outcomes, history=history, as_of=as_of,
                        resamples=resamples, permutations=1000).results.set_index("outcome")
        row = {}
        for outcome, prefix in (("engagement", "experiment_engagement"), ("score change", "experiment_score_change")):
            r = found.loc[outcome]
            use = "cuped" if r.get("cuped_effect") == r.get("cuped_effect") else None
            row[f"{prefix}_effect"] = r["cuped_effect"] if use else np.nan
            row[f"{prefix}_low"] = r["cuped_low"] if use else np.nan
            row[f"{prefix}_high"] = r["cuped_high"] if use else np.nan
        out[name] = row
    return out


def _note(row: dict, no_history: bool) -> str:
    if no_history:
        return "no History sheet: recommendations and score changes need monthly snapshots"
    if row["evidence"] != OBSERVATIONAL:
        return f"assigned at random by {row['evidence']}: the experiment's estimate is causal"
    if row["matched_treated"] == 0:
        return "no recommended partner that received it has a comparable partner that did not"
    return (f"{OBSERVATIONAL}: received vs recommended-but-not-received, matched on segment, stage and "
            f"{BAND}-point score band")
