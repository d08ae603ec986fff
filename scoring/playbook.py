"""The action playbook: which interventions each partner's scores and flags call for.

Rules are data (model file ``playbook``); this module evaluates every rule on every partner at once
and keeps, per partner, the ``max_actions`` matching rules with the lowest priority number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from scoring.compiled import Compiled
from scoring.patterns import patterns
from scoring.model.schema import Condition, Rule

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
            "detail": [x.detail for x in picked], "partner_detail": [x.partner_detail for x in picked],
            "internal_only": [x.internal_only for x in picked], "owner_role": [x.owner_role for x in picked],
            "levers": [", ".join(x.levers) for x in picked], "priority": [x.priority for x in picked],
        })


Test = Callable[[Any, np.ndarray, Callable[[str], np.ndarray]], np.ndarray]


def evaluate(c: Compiled, columns, sub: np.ndarray, flag: Callable[[str], np.ndarray]) -> Evaluated:
    """Evaluate the playbook on scored partners.

    ``columns[name]`` gives the scores as shown (rounded), so a rule never disagrees with the number
    a user sees; ``sub`` is the ``(M, n)`` sub-score matrix; ``flag(name)`` a per-partner boolean
    array for every flag name.
    """
    rules, tests = _plan(c)
    n = sub.shape[1]
    limit = c.spec.playbook.max_actions
    chosen = np.zeros((len(rules), n), dtype=bool)
    taken = np.zeros(n, dtype=np.int64)
    for j, (all_of, any_of) in enumerate(tests):
        hit = taken < limit
        for test in all_of:
            hit &= test(columns, sub, flag)
        if any_of:
            hit &= np.logical_or.reduce([test(columns, sub, flag) for test in any_of])
        chosen[j] = hit
        taken += hit
    codes, examples = patterns(chosen)
    phrased = np.array(["; ".join(rules[j].action for j in np.flatnonzero(chosen[:, e])) for e in examples], dtype=object)
    return Evaluated(rules, chosen, phrased[codes])


def _plan(c: Compiled) -> tuple[list[Rule], list[tuple[list[Test], list[Test]]]]:
    """Rules in priority order, each condition turned into a ready test once per model."""
    found = c.playbook_cache.get("plan")
    if found is None:
        rules = sorted(c.spec.playbook.rules, key=lambda r: r.priority)  # stable: ties keep file order
        index = {m: i for i, m in enumerate(c.metric_ids)}
        tests = [([_test(x, index) for x in r.when.all], [_test(x, index) for x in r.when.any]) for r in rules]
        found = c.playbook_cache["plan"] = (rules, tests)
    return found


def _test(cond: Condition, index: dict[str, int]) -> Test:
    op, value, field = cond.op, cond.value, cond.field
    if field == "flag":
        name = str(value)
        return lambda columns, sub, flag: flag(name)
    if field.startswith("metric:"):
        j = index[field.removeprefix("metric:")]

        def get(columns, sub):
            return sub[j]
    else:
        def get(columns, sub):
            return columns[field]
    if op == "missing":
        return lambda columns, sub, flag: np.isnan(get(columns, sub))
    if op == "present":
        return lambda columns, sub, flag: ~np.isnan(get(columns, sub))
    if op in ("in", "not in"):
        options = list(value)
        negate = op == "not in"
        return lambda columns, sub, flag: np.logical_or.reduce([get(columns, sub) == v for v in options]) ^ negate
    compare = _COMPARE[op]
    if isinstance(value, str):  # stage, tier, quadrant
        return lambda columns, sub, flag: compare(get(columns, sub), value).astype(bool)
    number = float(value)
    if op == "!=":  # NaN (no data) compares False with every operator but !=
        return lambda columns, sub, flag: compare(get(columns, sub), number) & ~np.isnan(get(columns, sub))
    return lambda columns, sub, flag: compare(get(columns, sub), number)
