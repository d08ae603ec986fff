"""Budget allocation: each pool of a model's ``budget`` section shared out among scored partners.

A pool allocates **by tier** (each partner's weight or amount is its tier's) or **by action lever**
(each recommended playbook action that uses the pool's lever adds the rule's weight or amount). In
``share`` mode the pool's total is divided in proportion to the weights, so everything is allocated
whenever anyone qualifies (the total is conserved); in ``fixed`` mode every partner gets its amount
and the sum is compared with the total. Unscored partners get nothing. The schema is
:mod:`scoring.model.budget_schema`; the scenario report compares two models' allocations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.engine import UNSCORED
from scoring.model.budget_schema import Budget, Pool
from scoring.result import ScoreResult

__all__ = ["Allocation", "allocate", "compare"]


@dataclass(frozen=True)
class Allocation:
    """Per pool, what each partner gets (``amounts``: pools x partners), and the pools themselves."""

    budget: Budget
    amounts: np.ndarray
    partner_id: np.ndarray
    tier: np.ndarray
    segment: np.ndarray
    tier_order: tuple[str, ...]  # the model's tiers, best first

    def frame(self) -> pd.DataFrame:
        """Long format: one row per (pool, partner) with an amount above zero."""
        pools, partners = np.nonzero(self.amounts > 0)
        return pd.DataFrame({"pool": np.array([p.id for p in self.budget.pools], dtype=object)[pools],
                             "partner_id": self.partner_id[partners], "tier": self.tier[partners],
                             "segment": self.segment[partners], "amount": self.amounts[pools, partners]})

    def totals(self) -> pd.DataFrame:
        """Per pool: its total, what was allocated, to how many partners, and what is left (negative: over)."""
        rows = []
        for k, pool in enumerate(self.budget.pools):
            allocated = float(self.amounts[k].sum())
            rows.append({"pool": pool.id, "label": pool.label, "unit": pool.unit or self.budget.currency,
                         "rule": pool.rule, "mode": pool.mode, "total": pool.total, "allocated": allocated,
                         "partners": int((self.amounts[k] > 0).sum()), "left": pool.total - allocated})
        return pd.DataFrame(rows, columns=["pool", "label", "unit", "rule", "mode", "total", "allocated", "partners",
                                           "left"])


def allocate(result: ScoreResult, budget: Budget | None = None) -> Allocation | None:
    """Each pool of ``budget`` (default: the scoring model's own) shared out among ``result``'s
    partners; ``None`` when there is no budget."""
    budget = budget if budget is not None else result.model.spec.budget
    if budget is None:
        return None
    tiers = np.asarray(result["tier"], dtype=object)
    scored = tiers != UNSCORED
    n = len(tiers)
    levers = None
    amounts = np.zeros((len(budget.pools), n))
    for k, pool in enumerate(budget.pools):
        if pool.rule == "by_tier":
            weights = np.zeros(n)
            for tier, value in pool.tiers.items():
                weights[tiers == tier] = value
        else:
            if levers is None:
                levers = _actions(result)
            weights = _lever_weights(pool, levers, n)
        weights[~scored] = 0.0
        amounts[k] = _shared(pool, weights)
    return Allocation(budget, amounts, np.asarray(result["partner_id"], dtype=object), tiers,
                      np.asarray(result["segment"], dtype=object), tuple(t.id for t in result.model.spec.tiers))


def _actions(result: ScoreResult) -> pd.DataFrame:
    """The recommended actions with each partner's position and the rule's levers as a tuple."""
    actions = result.actions
    positions = pd.Index(result.frame.index).get_indexer(actions["row"])
    return pd.DataFrame({"position": positions, "rule": actions["rule"].to_numpy(),
                         "levers": [tuple(x.split(", ")) for x in actions["levers"]]})


def _lever_weights(pool: Pool, actions: pd.DataFrame, n: int) -> np.ndarray:
    uses = np.fromiter((pool.lever in levers for levers in actions["levers"]), dtype=bool, count=len(actions))
    picked = actions[uses]
    each = picked["rule"].map(lambda rule: pool.rules.get(rule, pool.per_action)).to_numpy(dtype=float)
    return np.bincount(picked["position"].to_numpy(), weights=each, minlength=n).astype(float)


def _shared(pool: Pool, weights: np.ndarray) -> np.ndarray:
    if pool.mode == "fixed":
        return weights
    total = weights.sum()
    return pool.total * weights / total if total > 0 else np.zeros_like(weights)


def compare(a: Allocation | None, b: Allocation | None, by: str = "tier") -> pd.DataFrame:
    """Per pool and tier (``by="tier"``) or segment (``by="segment"``): partners and amount under A
    and under B, and the difference B - A; a ``Total`` row per pool closes each block."""
    columns = ["pool", by, "partners_a", "amount_a", "partners_b", "amount_b", "difference"]
    if a is None and b is None:
        return pd.DataFrame(columns=columns)
    budget = (a or b).budget
    frames = []
    for k, pool in enumerate(budget.pools):
        sides = []
        for side in (a, b):
            if side is None or k >= len(side.budget.pools):
                sides.append(pd.DataFrame(columns=["partners", "amount"]))
                continue
            groups = side.tier if by == "tier" else side.segment
            frame = pd.DataFrame({by: groups, "amount": side.amounts[k], "got": side.amounts[k] > 0})
            sides.append(frame.groupby(by, sort=False).agg(partners=("got", "sum"), amount=("amount", "sum")))
        joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="outer").fillna(0.0)
        order = _order(joined.index, a, b, by)
        joined = joined.reindex(order)
        joined = joined[(joined[["partners_a", "partners_b"]].sum(axis=1) > 0)
                        | (joined[["amount_a", "amount_b"]].abs().sum(axis=1) > 0)]
        total = joined.sum(numeric_only=True).to_frame().T
        total.index = pd.Index(["Total"], name=by)
        block = pd.concat([joined, total])
        block["difference"] = block["amount_b"] - block["amount_a"]
        block.insert(0, "pool", pool.id)
        frames.append(block.rename_axis(by).reset_index())
    out = pd.concat(frames, ignore_index=True)[columns]
    for column in ("partners_a", "partners_b"):
        out[column] = out[column].astype(int)
    return out


def _order(groups, a: Allocation | None, b: Allocation | None, by: str) -> list:
    """Tiers best first (A's order, then B's new ones), Unscored last; segments alphabetically."""
    found = list(groups)
    if by != "tier":
        return sorted(found, key=lambda g: (g is None, str(g)))
    ranked = list(dict.fromkeys([*(a.tier_order if a else ()), *(b.tier_order if b else ())]))
    return sorted(found, key=lambda t: (ranked.index(t) if t in ranked else len(ranked), str(t)))
