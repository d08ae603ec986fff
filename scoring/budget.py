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
    amounts = np.zeros((len(budget.pools), n))
    for k, pool in enumerate(budget.pools):
        if pool.rule == "by_tier":
            weights = np.zeros(n)
            for tier, value in pool.tiers.items():
                weights[tiers == tier] = value
        else:
            weights = _lever_weights(pool, result)
        weights[~scored] = 0.0
        amounts[k] = _shared(pool, weights)
    return Allocation(budget, amounts, np.asarray(result["partner_id"], dtype=object), tiers,
                      np.asarray(result["segment"], dtype=object), tuple(t.id for t in result.model.spec.tiers))


def _lever_weights(pool: Pool, result: ScoreResult) -> np.ndarray:
    """Per partner, the weights (or amounts) of its recommended actions that use the pool's lever."""
    rules, chosen = result.recommended()
    weights = np.zeros(chosen.shape[1])
    for k, rule in enumerate(rules):
        if pool.lever in rule.levers:
            weights += chosen[k] * pool.rules.get(rule.id, pool.per_action)
    return weights


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
    coded = []
    for side in (a, b):  # factorise the groups once per side; each pool is then two bincounts
        if side is None:
            coded.append(None)
            continue
        codes, groups = pd.factorize(pd.Series(side.tier if by == "tier" else side.segment, dtype=object),
                                     use_na_sentinel=False)
        coded.append((codes, groups))
    frames = []
    for k, pool in enumerate(budget.pools):
        sides = []
        for side, found in zip((a, b), coded):
            if side is None or k >= len(side.budget.pools):
                sides.append(pd.DataFrame(columns=["partners", "amount"], dtype=float))
                continue
            codes, groups = found
            amounts = side.amounts[k]
            sides.append(pd.DataFrame({"partners": np.bincount(codes, weights=amounts > 0, minlength=len(groups)),
                                       "amount": np.bincount(codes, weights=amounts, minlength=len(groups))},
                                      index=pd.Index(groups, name=by)))
        joined = sides[0].add_suffix("_a").join(sides[1].add_suffix("_b"), how="outer").fillna(0.0)
        order = _order(joined.index, a, b, by)
        joined = joined.reindex(order)
        joined = joined[(joined[["partners_a", "partners_b"]].sum(axis=1) > 0)
                        | (joined[["amount_a", "amount_b"]].abs().sum(axis=1) > 0)]
        total = joined.sum(numeric_only=True).to_frame().T
        total.index = pd.Index(["Total"], name=by)
        block = pd.concat([joined, total])
        block["difference"] = block["amount_b"] - block["amount_a"]
        block = block.round({"amount_a": 6, "amount_b": 6, "difference": 6})  # no 1e-11 noise in a table
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
