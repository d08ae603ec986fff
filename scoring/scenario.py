"""Scenario planning: the same partners, on the same date, scored by model A and by model B.

Before a model change is published, :func:`run_scenario` says what it would do: how partners move
between tiers (a migration matrix, counts and shares), whether the ranking survives (Spearman and
Kendall rank correlation), which partners change tier or quadrant and the three metrics that moved
each most (:func:`scoring.moves.metric_moves`), which recommended actions are gained and lost,
and how each budget pool's allocation by tier and segment changes (:mod:`scoring.budget`). Every
result is a tidy frame, so the CLI, the workbook, the PDF and the QBR pack show the same numbers.

Budget: each side is allocated with its own model's ``budget`` section; a side whose model has
none uses the other's, so a weight change alone still shows its budget impact under the same rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from scoring import budget as budgets
from scoring.engine import UNSCORED, score, to_date
from scoring.model.diff import ModelDiff, diff_models
from scoring.model.load import ScoringModel, load_model
from scoring.moves import metric_moves, top_moves
from scoring.result import ScoreResult

__all__ = ["Scenario", "run_scenario"]

MOVER_COLUMNS = ("partner_id", "partner_name", "segment", "stage", "tier_a", "tier_b", "quadrant_a", "quadrant_b",
                 "composite_a", "composite_b", "change")


@dataclass
class Scenario:
    """What model B would change against model A for the same partners and date."""

    a: ScoreResult
    b: ScoreResult
    diff: ModelDiff
    migration: pd.DataFrame  # counts: rows tier under A, columns tier under B (Unscored last)
    shares: pd.DataFrame  # each row of ``migration`` as shares of its row total
    correlation: pd.DataFrame  # measure (spearman, kendall), value, partners
    movers: pd.DataFrame  # partners whose tier or quadrant changes, with the three metrics that moved them most
    actions: pd.DataFrame  # per action: recommended under A, under B, gained, lost
    action_changes: pd.DataFrame  # per partner and action gained or lost
    budget_by_tier: pd.DataFrame
    budget_by_segment: pd.DataFrame
    budget_totals: pd.DataFrame  # per pool and side: total, allocated, partners, left

    @property
    def as_of(self) -> dt.date:
        return self.a.as_of

    def summary(self) -> list[str]:
        """The headline findings in sentences."""
        n = len(self.a)
        tier_moves = int((self.movers["tier_a"] != self.movers["tier_b"]).sum())
        quadrant_moves = int((self.movers["quadrant_a"] != self.movers["quadrant_b"]).sum())
        corr = self.correlation.set_index("measure")["value"]
        lines = [f"{n} partners as of {self.as_of.isoformat()}: A = {self.a.model.label}, B = {self.b.model.label}.",
                 self.diff.summary() + ".",
                 f"{tier_moves} partners ({_pct(tier_moves, n)}) change tier and {quadrant_moves} ({_pct(quadrant_moves, n)}) "
                 f"change quadrant; rank correlation of composite scores: Spearman {_fmt(corr.get('spearman'))}, "
                 f"Kendall {_fmt(corr.get('kendall'))}."]
        up = down = 0
        order = {t: k for k, t in enumerate([*(t.id for t in self.a.model.spec.tiers), UNSCORED])}
        for _, row in self.movers.iterrows():
            if row["tier_a"] != row["tier_b"] and row["tier_a"] in order and row["tier_b"] in order:
                up += order[row["tier_b"]] < order[row["tier_a"]]
                down += order[row["tier_b"]] > order[row["tier_a"]]
        if tier_moves:
            lines.append(f"{up} move to a better tier, {down} to a lower one.")
        gained, lost = int(self.actions["gained"].sum()), int(self.actions["lost"].sum())
        lines.append(f"Recommended actions: {gained} gained and {lost} lost across partners.")
        totals = self.budget_totals
        for pool in dict.fromkeys(totals["pool"]) if len(totals) else ():
            rows = totals[totals["pool"] == pool].set_index("side")
            unit = rows["unit"].iloc[0]
            shifted = self.budget_by_tier[(self.budget_by_tier["pool"] == pool)
                                          & (self.budget_by_tier["tier"] != "Total")]["difference"].abs().sum() / 2
            lines.append(f"Budget {rows['label'].iloc[0]}: {_amount(rows.loc['A', 'allocated'])} allocated under A, "
                         f"{_amount(rows.loc['B', 'allocated'])} under B (total {_amount(rows.loc['B', 'total'])}"
                         f"{' ' + unit if unit else ''}); {_amount(shifted)} moves between tiers.")
        return lines


def run_scenario(partners: pd.DataFrame, model_a: "ScoringModel | str", model_b: "ScoringModel | str",
                 as_of: "dt.date | str | None" = None) -> Scenario:
    """Score ``partners`` with both models on ``as_of`` and compare (see the module docstring)."""
    model_a, model_b = load_model(model_a), load_model(model_b)
    as_of = to_date(as_of)
    a, b = score(partners, model_a, as_of), score(partners, model_b, as_of)
    tiers_a, tiers_b = np.asarray(a["tier"], dtype=object), np.asarray(b["tier"], dtype=object)
    order = list(dict.fromkeys([*(t.id for t in model_a.spec.tiers), *(t.id for t in model_b.spec.tiers), UNSCORED]))
    migration = pd.crosstab(pd.Categorical(tiers_a, categories=order), pd.Categorical(tiers_b, categories=order),
                            dropna=False).reindex(index=order, columns=order, fill_value=0)
    if migration.loc[UNSCORED].sum() == 0 and migration[UNSCORED].sum() == 0:  # nobody unscored: no empty row
        migration = migration.drop(index=UNSCORED, columns=UNSCORED)
    migration.index.name, migration.columns.name = "tier_a", "tier_b"
    sizes = migration.sum(axis=1).replace(0, np.nan)
    shares = migration.div(sizes, axis=0).fillna(0.0)
    movers = _movers(a, b)
    actions, action_changes = _actions(a, b)
    by_tier, by_segment, totals = _budget(a, b)
    return Scenario(a, b, diff_models(model_a, model_b), migration, shares, _correlation(a, b), movers, actions,
                    action_changes, by_tier, by_segment, totals)


def _correlation(a: ScoreResult, b: ScoreResult) -> pd.DataFrame:
    x, y = np.asarray(a["composite_score"], dtype=float), np.asarray(b["composite_score"], dtype=float)
    both = ~(np.isnan(x) | np.isnan(y))
    n = int(both.sum())
    if n >= 2 and np.ptp(x[both]) > 0 and np.ptp(y[both]) > 0:
        spearman = float(stats.spearmanr(x[both], y[both]).statistic)
        kendall = float(stats.kendalltau(x[both], y[both]).statistic)
    elif n >= 2 and np.array_equal(x[both], y[both]):
        spearman = kendall = 1.0
    else:
        spearman = kendall = float("nan")
    return pd.DataFrame({"measure": ["spearman", "kendall"], "value": [spearman, kendall], "partners": [n, n]})


def _movers(a: ScoreResult, b: ScoreResult) -> pd.DataFrame:
    tier_a, tier_b = np.asarray(a["tier"], dtype=object), np.asarray(b["tier"], dtype=object)
    quad_a, quad_b = np.asarray(a["quadrant"], dtype=object), np.asarray(b["quadrant"], dtype=object)
    moved = np.flatnonzero((tier_a != tier_b) | (quad_a != quad_b))
    frame = pd.DataFrame({
        "partner_id": a["partner_id"][moved], "partner_name": a["partner_name"][moved], "segment": a["segment"][moved],
        "stage": a["stage"][moved], "tier_a": tier_a[moved], "tier_b": tier_b[moved], "quadrant_a": quad_a[moved],
        "quadrant_b": quad_b[moved], "composite_a": a["composite_score"][moved],
        "composite_b": b["composite_score"][moved]})
    frame["change"] = np.round(frame["composite_b"] - frame["composite_a"], 1)
    if len(moved):
        labels = {m.id: m.label for m in (*b.model.spec.metrics, *a.model.spec.metrics)}
        moves = metric_moves(a, b, positions=moved)
        top = top_moves(moves, labels).reset_index(drop=True)
    else:
        top = pd.DataFrame({f"{kind}_{k}": [] for k in (1, 2, 3) for kind in ("metric", "points")})
    frame = pd.concat([frame.reset_index(drop=True), top[[f"{kind}_{k}" for k in (1, 2, 3) for kind in ("metric", "points")]]],
                      axis=1)
    return frame.sort_values("change", key=lambda s: -s.abs(), kind="stable", ignore_index=True)


def _actions(a: ScoreResult, b: ScoreResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per action (by its text, as partners and managers see it): partners recommended it under A
    and B, gained and lost; and one row per partner and action gained or lost."""
    sides = []
    for result in (a, b):
        rules, chosen = result.recommended()
        by_action: dict[str, np.ndarray] = {}
        for k, rule in enumerate(rules):
            by_action[rule.action] = by_action.get(rule.action, np.zeros(chosen.shape[1], bool)) | chosen[k]
        sides.append(by_action)
    names = list(dict.fromkeys([*sides[0], *sides[1]]))
    empty = np.zeros(len(a), bool)
    ids = np.asarray(a["partner_id"], dtype=object)
    counts, changes = [], []
    for k, action in enumerate(names):
        before, after = sides[0].get(action, empty), sides[1].get(action, empty)
        gained, lost = after & ~before, before & ~after
        counts.append({"action": action, "recommended_a": int(before.sum()), "recommended_b": int(after.sum()),
                       "gained": int(gained.sum()), "lost": int(lost.sum())})
        for kind, mask in (("gained", gained), ("lost", lost)):
            where = np.flatnonzero(mask)
            changes.append(pd.DataFrame({"_p": where, "_k": k, "partner_id": ids[where], "action": action,
                                         "change": kind}))
    table = pd.DataFrame(counts, columns=["action", "recommended_a", "recommended_b", "gained", "lost"])
    table["net"] = table["gained"] - table["lost"]
    changed = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=["_p", "_k", "partner_id",
                                                                                            "action", "change"])
    changed = changed.sort_values(["_p", "change", "_k"], kind="stable").drop(columns=["_p", "_k"]).reset_index(drop=True)
    return table, changed


def _budget(a: ScoreResult, b: ScoreResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    budget_a = a.model.spec.budget or b.model.spec.budget
    budget_b = b.model.spec.budget or a.model.spec.budget
    alloc_a = budgets.allocate(a, budget_a) if budget_a else None
    alloc_b = budgets.allocate(b, budget_b) if budget_b else None
    totals = [t.assign(side=side) for side, alloc in (("A", alloc_a), ("B", alloc_b)) if alloc is not None
              for t in [alloc.totals()]]
    total = pd.concat(totals, ignore_index=True) if totals else pd.DataFrame(
        columns=["pool", "label", "unit", "rule", "mode", "total", "allocated", "partners", "left", "side"])
    return budgets.compare(alloc_a, alloc_b, "tier"), budgets.compare(alloc_a, alloc_b, "segment"), total


def _pct(k: int, n: int) -> str:
    return f"{k / n * 100:.1f}%" if n else "0%"


def _fmt(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"


def _amount(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
