"""The action playbook: which interventions each partner's scores and flags call for.

Rules are data (model file ``playbook``); this module evaluates every rule on every partner at once
and keeps, per partner, the ``max_actions`` matching rules with the lowest priority number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compiled import Compiled
from .patterns import patterns
from .schema import Condition, Rule

_COMPARE = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}


@dataclass(frozen=True)
class Evaluated:
    """Rules in priority order and, per partner, which of them were chosen."""

    rules: list[Rule]
    chosen: np.ndarray  # (R, n) bool
    text: np.ndarray  # (n,) "Action; Action"

    def table(self, index, partner_ids) -> pd.DataFrame:
        """Long format: one row per (partner, recommended action), best first; ``row`` is the index label."""
        ids = np.asarray(partner_ids, dtype=object)
        rule_idx, r = np.nonzero(self.chosen)
        order = np.lexsort((rule_idx, r))  # by partner, then priority
        rule_idx, r = rule_idx[order], r[order]
        rank = np.ones(len(r), dtype=np.int64)
        for i in range(1, len(r)):
            if r[i] == r[i - 1]:
                rank[i] = rank[i - 1] + 1
        picked = [self.rules[i] for i in rule_idx]
        return pd.DataFrame({
            "row": np.asarray(index)[r], "partner_id": ids[r], "rank": rank,
            "rule": [x.id for x in picked], "action": [x.action for x in picked],
            "detail": [x.detail for x in picked], "owner_role": [x.owner_role for x in picked],
            "levers": [", ".join(x.levers) for x in picked], "priority": [x.priority for x in picked],
        })


def evaluate(c: Compiled, columns: dict[str, np.ndarray], sub: np.ndarray, flags: dict[str, np.ndarray]) -> Evaluated:
    """Evaluate the playbook on scored partners.

    ``columns`` holds the scores as shown (rounded), so a rule never disagrees with the number a
    user sees; ``sub`` is the ``(M, n)`` sub-score matrix; ``flags`` maps every flag name to a
    per-partner boolean array.
    """
    rules = sorted(c.spec.playbook.rules, key=lambda r: r.priority)  # stable: ties keep file order
    n = sub.shape[1]
    index = {m: i for i, m in enumerate(c.metric_ids)}

    def values(field: str) -> np.ndarray:
        return sub[index[field.removeprefix("metric:")]] if field.startswith("metric:") else columns[field]

    chosen = np.zeros((len(rules), n), dtype=bool)
    taken = np.zeros(n, dtype=np.int64)
    for j, rule in enumerate(rules):
        hit = _rule(rule, values, flags, n) & (taken < c.spec.playbook.max_actions)
        chosen[j] = hit
        taken += hit
    codes, examples = patterns(chosen)
    phrased = np.array(["; ".join(rules[j].action for j in np.flatnonzero(chosen[:, e])) for e in examples], dtype=object)
    return Evaluated(rules, chosen, phrased[codes])


def _rule(rule: Rule, values, flags, n: int) -> np.ndarray:
    result = np.ones(n, dtype=bool)
    for cond in rule.when.all:
        result &= _condition(cond, values, flags)
    if rule.when.any:
        result &= np.logical_or.reduce([_condition(cond, values, flags) for cond in rule.when.any])
    return result


def _condition(cond: Condition, values, flags) -> np.ndarray:
    op, value = cond.op, cond.value
    if cond.field == "flag":
        return np.asarray(flags[str(value)], dtype=bool)
    column = values(cond.field)
    if op == "missing":
        return np.isnan(column)
    if op == "present":
        return ~np.isnan(column)
    if op in ("in", "not in"):
        hit = np.logical_or.reduce([column == v for v in value])
        return hit if op == "in" else ~hit
    if column.dtype == object:  # stage, tier, quadrant
        return _COMPARE[op](column, value).astype(bool)
    hit = _COMPARE[op](column, float(value))  # NaN (no data) compares False...
    return hit & ~np.isnan(column) if op == "!=" else hit  # ...except with !=
