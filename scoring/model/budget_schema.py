"""Pydantic schema of a model file's optional ``budget`` section: the programme's resource pools
and how each is shared out among partners.

A pool (market development funds, training budget, coaching hours, technical enablement...) has a
total and one allocation rule: **by tier** (an amount or a weight per partner of each tier) or **by
action lever** (per recommended playbook action that draws on the pool's lever). In ``share`` mode
the whole total is divided in proportion to the partners' weights, so the pool total is conserved
whatever the scores; in ``fixed`` mode each partner gets its amount and the total is the budget the
sum is compared with (over or under). Cross references (tiers, rules, levers) are checked in
:mod:`scoring.model.checks`; the allocation itself is :mod:`scoring.budget`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from scoring.model.schema import MAX_MAGNITUDE, MAX_PARTS, MAX_RULES, Lever, Strict

__all__ = ["Budget", "Pool"]

Amount = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE)]


class Pool(Strict):
    """One budget pool: what it is, how much there is, and who gets how much of it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1)
    unit: str = ""
    total: Amount
    rule: Literal["by_tier", "by_lever"]
    mode: Literal["share", "fixed"] = "share"
    #: by_tier: per partner of each tier, its weight (share mode) or its amount (fixed mode); a tier not
    #: listed gets nothing.
    tiers: dict[str, Amount] = Field(default={}, max_length=MAX_PARTS)
    #: by_lever: the lever whose recommended actions draw on the pool.
    lever: Lever | None = None
    #: by_lever: weight or amount per recommended action, by playbook rule id; other rules with the
    #: lever count ``per_action``.
    rules: dict[str, Amount] = Field(default={}, max_length=MAX_RULES)
    per_action: Amount = 1.0


class Budget(Strict):
    """The programme's pools."""

    currency: str = ""
    pools: list[Pool] = Field(min_length=1, max_length=MAX_PARTS)
