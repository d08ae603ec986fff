"""Anomalies planted at known places in synthetic partners, so the anomaly checks' recall can be
measured (and their false positives, on the same data before planting).

Each kind is planted on its own partners, drawn at random, with a stated size:

* **outlier**: a count or amount on the Partners sheet (and the partner's latest History row)
  multiplied by :data:`OUTLIER_FACTOR`, as a slip of units does (thousands entered as units; the
  median of the column where the value is 0 or blank);
* **jump**: one History snapshot in the middle of a partner's history (with a value before it)
  multiplied by :data:`JUMP_FACTOR`, as two extra zeros do;
* **gaming**: a self-reported metric improved in the latest snapshot and on the Partners sheet --
  partner satisfaction from 3 or less (now and in the snapshot before) to 5, or onboarding completion from 120 days or more to 15 --
  with nothing else changed;
* **impossible**: a partner at most 2 months in with more deals won than qualified leads;
* **duplicate**: a partner's row again under a new ID, its name in capitals with ``Ltd`` added.

The synthetic data's own planted reading errors (an ``n/a``, a share above 1) stay: they are not
anomalies, and the checks must not count them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.synthetic.population import DemoData

__all__ = ["JUMP_FACTOR", "OUTLIER_FACTOR", "OUTLIER_VALUES", "Planted", "plant"]

OUTLIER_FACTOR = 1000.0
OUTLIER_METRICS = ("channel_reach", "pipeline_value", "average_contract_size", "qualified_leads")
JUMP_FACTOR = 100.0
JUMP_METRICS = ("pipeline_value", "qualified_leads", "channel_reach", "average_contract_size")


@dataclass(frozen=True)
class Planted:
    """The frames with anomalies planted, and where: ``truth`` has ``kind``, ``sheet`` (partners or
    history), ``index`` (the row's label in that frame), ``partner_id`` and ``metric``."""

    partners: pd.DataFrame
    history: pd.DataFrame
    truth: pd.DataFrame


def plant(data: DemoData, per_kind: int = 50, seed: int = 0) -> Planted:
    """``per_kind`` anomalies of each kind (fewer where too few partners qualify), on distinct partners."""
    rng = np.random.default_rng(seed)
    partners = data.partners.copy()
    history = data.history.copy()
    for frame in (partners, history):
        for column in (*OUTLIER_METRICS, *JUMP_METRICS, "partner_feedback", "onboarding_completion_days",
                       "deals_won", "qualified_leads"):
            if column in frame:
                frame[column] = frame[column].astype(object)
    ids = partners["partner_id"].to_numpy(dtype=object)
    latest = history.reset_index().sort_values("period").groupby("partner_id")["index"].last()
    snapshots = history.groupby("partner_id").size()
    free = np.ones(len(partners), dtype=bool)
    truth: list[tuple[str, str, object, str, str]] = []

    def take(eligible: np.ndarray) -> np.ndarray:
        pool = np.flatnonzero(eligible & free)
        chosen = rng.choice(pool, size=min(per_kind, len(pool)), replace=False)
        free[chosen] = False
        return np.sort(chosen)

    def number(frame: pd.DataFrame, row, column: str) -> float:
        value = frame.at[row, column]
        try:
            return float(value)
        except (TypeError, ValueError):
            return np.nan

    # outliers
    for pos in take(np.ones(len(partners), dtype=bool)):
        metric = OUTLIER_METRICS[rng.integers(len(OUTLIER_METRICS))]
        row = partners.index[pos]
        current = number(partners, row, metric)
        positive = pd.to_numeric(partners[metric], errors="coerce")
        base = current if current > 0 else float(positive[positive > 0].median())
        value = round(base * OUTLIER_FACTOR)
        partners.at[row, metric] = value
        if ids[pos] in latest.index:
            history.at[latest[ids[pos]], metric] = value
        truth.append(("outlier", "partners", row, ids[pos], metric))
    # jumps, in the middle of a history
    long = np.array([snapshots.get(pid, 0) >= 6 for pid in ids])
    for pos in take(long):
        rows = history.index[history["partner_id"] == ids[pos]]
        for metric in rng.permutation(JUMP_METRICS):
            both = [at for before, at in zip(rows, rows[1:])
                    if number(history, before, metric) > 0 and number(history, at, metric) > 0]
            if both:
                at = both[len(both) // 2]
                history.at[at, metric] = round(number(history, at, metric) * JUMP_FACTOR)
                truth.append(("jump", "history", at, ids[pos], metric))
                break
    # possible gaming: a self-reported improvement on today's values only
    before = history.reset_index().sort_values("period").groupby("partner_id")["index"].nth(-2)
    before = pd.Series(before.to_numpy(), index=history.loc[before.to_numpy(), "partner_id"].to_numpy())
    feedback = np.array([number(partners, r, "partner_feedback") <= 3 and pid in before.index
                         and number(history, before[pid], "partner_feedback") <= 3
                         for r, pid in zip(partners.index, ids)])
    slow = np.array([number(partners, r, "onboarding_completion_days") >= 120 for r in partners.index])
    has_history = np.array([pid in latest.index and snapshots.get(pid, 0) >= 2 for pid in ids])
    for pos in take((feedback | slow) & has_history):
        row = partners.index[pos]
        metric, value = ("partner_feedback", 5) if feedback[pos] else ("onboarding_completion_days", 15)
        partners.at[row, metric] = value
        history.at[latest[ids[pos]], metric] = value
        truth.append(("gaming", "partners", row, ids[pos], metric))
    # impossible: young partners with more deals than leads
    starts = pd.to_datetime(partners["onboarding_start"])
    young = ((pd.Timestamp(data.as_of) - starts).dt.days < 60).to_numpy()
    for pos in take(young):
        row = partners.index[pos]
        leads = number(partners, row, "qualified_leads")
        leads = 0.0 if np.isnan(leads) else leads
        partners.at[row, "qualified_leads"] = int(leads)
        partners.at[row, "deals_won"] = int(leads) + 3
        truth.append(("impossible", "partners", row, ids[pos], "deals_won"))
    # duplicates: a copy under a new ID
    copies = []
    for k, pos in enumerate(take(np.ones(len(partners), dtype=bool))):
        copy = partners.iloc[pos].copy()
        copy["partner_id"] = f"D{k + 1:05d}"
        copy["partner_name"] = f"{str(copy['partner_name']).upper()} Ltd"
        copies.append(copy)
        truth.append(("duplicate", "partners", partners.index[pos], ids[pos], "partner_name"))
    if copies:
        start = int(partners.index.max()) + 1
        added = pd.DataFrame(copies).set_axis(range(start, start + len(copies)))
        partners = pd.concat([partners, added])
    return Planted(partners, history, pd.DataFrame(truth, columns=["kind", "sheet", "index", "partner_id", "metric"]))
