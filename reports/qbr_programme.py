"""What the programme's QBR pack says, as plain data: the template only lays it out.

Each section is one small function returning None when its data is absent (no History: no
migration matrix and no movers; an uncalibrated model: no calibration figures; no budget section,
no Experiments sheet: no budget or experiment sections), so the pack leaves it out and ``pack["used"]`` names what it drew on. Every figure comes from
:mod:`scoring.programme_review` and :mod:`scoring.review`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from markupsafe import Markup

from scoring import programme_review as figures
from scoring.engine import UNSCORED
from scoring.history import score_history, trend
from scoring.quarters import Quarter
from scoring.review import scores_at

from reports import qbr_charts
from reports.qbr import Review, history_until

__all__ = ["MOVERS", "build_programme"]

#: Partners listed as top movers each way.
MOVERS = 10


def build_programme(review: Review) -> dict[str, Any]:
    """The programme pack for ``review``'s quarter, over every partner of its result."""
    context = _Context(review)
    sections = [(name, build(context)) for name, build in SECTIONS]
    spec = review.inputs.result.model.spec
    model = review.inputs.result.model
    return {
        "kind": "programme", "audience": "internal", "quarter": review.quarter.label,
        "quarter_id": str(review.quarter), "previous_quarter": review.quarter.previous().label,
        "model": {"label": f"{spec.name} {spec.version}", "hash": model.hash, "as_of": review.inputs.result.as_of},
        "partners": len(review.inputs.result), "source": review.inputs.source,
        "sections": [dict(s, id=name) for name, s in sections if s is not None], "used": context.used,
    }


class _Context:
    """The programme's figures shared by several sections, computed once."""

    def __init__(self, review: Review):
        self.review = review
        inputs = review.inputs
        self.result = result = inputs.result
        self.quarter: Quarter = review.quarter
        self.used: list[str] = []
        self.history = None
        rows = history_until(inputs.history, result.as_of)
        if rows is not None and not rows.empty:
            self.history = score_history(rows, inputs.partners, result.model)
        ids = np.asarray(result["partner_id"], dtype=object)
        self.previous = scores_at(self.history, ids, self.quarter.previous().end) if self.history is not None else None
        if self.previous is not None and self.previous["period"].isna().all():
            self.previous = None

    def uses(self, name: str) -> None:
        if name not in self.used:
            self.used.append(name)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


# ------------------------------------------------------------------ sections (None: left out)


def _tiers(ctx: _Context) -> dict[str, Any]:
    table = figures.tier_distribution(ctx.result)
    chart = qbr_charts.tier_bars([(f"Tier {t}" if t != UNSCORED else t, int(n))
                                  for t, n in zip(table["tier"], table["partners"])])
    return {"title": "Tier distribution", "rows": _records(table), "chart": Markup(chart),
            "total": int(table["partners"].sum())}


def _migration(ctx: _Context) -> dict[str, Any] | None:
    if ctx.previous is None:
        return None
    ctx.uses("History")
    matrix = figures.migration(ctx.result, ctx.previous["tier"].to_numpy(dtype=object))
    moved = [(b, n) for b in matrix.index for n in matrix.columns if "Total" not in (b, n)]
    order = list(matrix.columns[:-1])
    up = sum(int(matrix.loc[b, n]) for b, n in moved if b in order and n in order and order.index(n) < order.index(b))
    down = sum(int(matrix.loc[b, n]) for b, n in moved if b in order and n in order and order.index(n) > order.index(b))
    return {"title": f"Tier migration since the end of {ctx.quarter.previous().label}",
            "columns": list(matrix.columns), "rows": [{"tier": b, "cells": [int(v) for v in matrix.loc[b]]}
                                                      for b in matrix.index],
            "up": up, "down": down, "day": ctx.quarter.previous().end}


def _segments(ctx: _Context) -> dict[str, Any]:
    return {"title": "Scores by segment", "rows": _records(figures.segment_scores(ctx.result)),
            "min_size": figures.MIN_SEGMENT_SIZE}


def _movers(ctx: _Context) -> dict[str, Any] | None:
    if ctx.previous is None:
        return None
    ctx.uses("History")
    reasons = None
    if ctx.review.reasons is not None:
        ctx.uses("change ledger")
        reasons = {pid: "; ".join(f"{label} {points:+.1f}" for label, points in found)
                   for pid, found in ctx.review.reasons.items()}
    moved = figures.movers(ctx.result, ctx.previous["composite_score"].to_numpy(dtype=float), MOVERS, reasons)
    if moved["up"].empty and moved["down"].empty:
        return None
    return {"title": "Top movers", "up": _records(moved["up"]), "down": _records(moved["down"]),
            "reasons": reasons is not None, "n": MOVERS}


def _coaching(ctx: _Context) -> dict[str, Any] | None:
    rule, table = figures.coaching(ctx.result)
    if table.empty:
        return None
    return {"title": "High potential, low engagement: coaching", "rule": rule, "rows": _records(table)}


def _low_fit(ctx: _Context) -> dict[str, Any] | None:
    rule, table = figures.low_fit(ctx.result)
    if table.empty:
        return None
    return {"title": "Low fit: to review", "rule": rule, "rows": _records(table)}


def _watch(ctx: _Context) -> dict[str, Any] | None:
    stale = np.zeros(len(ctx.result), dtype=bool)
    if ctx.history is not None:
        stale = trend(ctx.history, ctx.result["partner_id"], ctx.result.frame, ctx.result.as_of)["stale"].to_numpy(dtype=bool)
    table = figures.watch_list(ctx.result, stale)
    if table.empty:
        return None
    return {"title": "Provisional and stale scores", "rows": _records(table)}


def _budget(ctx: _Context) -> dict[str, Any] | None:
    """Budget allocation by tier and segment, from the model's budget pools when they exist."""
    found = ctx.review.results.get("budget")
    if found is None:
        return None
    ctx.uses("budget pools")
    return {"title": "Budget allocation", **found}


def _forecast(ctx: _Context) -> dict[str, Any]:
    calibrated, table = figures.forecast_rollup(ctx.result)
    return {"title": "Forecast by segment", "calibrated": calibrated, "rows": _records(table),
            "horizon": ctx.result.model.spec.horizon_months,
            "threshold": ctx.result.model.spec.quadrants.revenue_threshold}


def _health(ctx: _Context) -> dict[str, Any]:
    health = figures.model_health(ctx.result)
    quality = figures.quality_summary(ctx.result)
    psi = ctx.review.results.get("psi")
    if psi is not None:
        ctx.uses("population stability")
    return {"title": "Model health", "calibration": None if health is None else {
        "date": health.date, "n": health.n, "horizon": health.horizon_months,
        "figures": [{"label": l, "value": v, "low": lo, "high": hi} for l, v, lo, hi in health.figures]},
        "quality": _records(quality), "partners": len(ctx.result), "psi": psi}


def _interventions(ctx: _Context) -> dict[str, Any] | None:
    since = ctx.quarter.previous().start
    table = figures.interventions_summary(ctx.review.inputs.interventions, since, ctx.result.as_of)
    if table is None:
        return None
    ctx.uses("Interventions")
    return {"title": "Interventions", "rows": _records(table), "since": since, "until": ctx.result.as_of}


def _registry(ctx: _Context) -> dict[str, Any] | None:
    """The interventions registry: what happened after each action, when Interventions exist."""
    found = ctx.review.results.get("registry")
    if found is None:
        return None
    ctx.uses("interventions registry")
    return {"title": "What happened after the actions", **found}


def _experiments(ctx: _Context) -> dict[str, Any] | None:
    """Experiment read-outs, when an experiments result exists."""
    found = ctx.review.results.get("experiments")
    if found is None:
        return None
    ctx.uses("experiments")
    return {"title": "Experiment read-outs", **found}


def _changelog(ctx: _Context) -> dict[str, Any]:
    entries = sorted(ctx.result.model.spec.changelog, key=lambda e: e.date, reverse=True)
    return {"title": "Model changelog", "rows": [{"date": e.date, "author": e.author, "change": e.change,
                                                   "rationale": e.rationale} for e in entries]}


SECTIONS: list[tuple[str, Callable[[_Context], dict[str, Any] | None]]] = [
    ("tiers", _tiers),
    ("migration", _migration),
    ("segments", _segments),
    ("movers", _movers),
    ("coaching", _coaching),
    ("low_fit", _low_fit),
    ("watch", _watch),
    ("budget", _budget),
    ("forecast", _forecast),
    ("health", _health),
    ("interventions", _interventions),
    ("registry", _registry),
    ("experiments", _experiments),
    ("changelog", _changelog),
]
