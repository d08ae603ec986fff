"""The results of pscore's other parts that a QBR pack shows, gathered for :class:`reports.qbr.Review`.

A pack shows what the rest of pscore computes, never a second computation of it: why each partner
moved (the change ledger, :func:`scoring.history.since_snapshot`, from last quarter's snapshot),
the budget pools' allocation (:func:`scoring.budget.allocate`), population stability
(:func:`scoring.monitoring.monitor`), experiment read-outs (:func:`scoring.experiments.analyze`) and
the interventions registry (:func:`scoring.interventions.intervention_registry`). Each result is
absent when its data is (no History, no budget section, no Experiments sheet...), and the pack
then leaves its section out. The sections here are plain tables of text; the template lays them out.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from scoring import budget as budgets
from scoring.experiments import analyze
from scoring.history import since_snapshot
from scoring.interventions import ALL_TIERS, intervention_registry
from scoring.ledger import top_reasons
from scoring.monitoring import MonitorError, monitor
from scoring.quarters import Quarter

from reports.job import Inputs

__all__ = ["EXPERIMENT_RESAMPLES", "gather", "ledger_reasons"]

#: Bootstrap resamples per experiment read-out in a pack (the read-out command's default is 10,000;
#: a pack prints intervals to whole points, which 2,000 resamples settle).
EXPERIMENT_RESAMPLES = 2000


def ledger_reasons(inputs: Inputs, quarter: Quarter,
                   positions: Sequence[int] | None = None) -> dict[str, list[tuple[str, float]]] | None:
    """Partner ID -> the change ledger's top three reasons (label, points) its composite moved since
    its last History snapshot on or before the previous quarter's end; None without History."""
    if inputs.history is None or "period" not in inputs.history or inputs.history.empty:
        return None
    result = inputs.result
    partners = inputs.partners if positions is None else inputs.partners.iloc[list(positions)]
    ids = set(partners["partner_id"].astype(str)) if "partner_id" in partners.columns else set()
    history = inputs.history[inputs.history["partner_id"].astype(str).isin(ids)]
    ledger = since_snapshot(history, partners, result.model, result.as_of, before=quarter.previous().end)
    if ledger.empty:
        return {}
    out: dict[str, list[tuple[str, float]]] = {}
    for row in top_reasons(ledger).itertuples():
        out.setdefault(str(row.partner_id), []).append((str(row.label), float(row.points)))
    return out


def gather(inputs: Inputs, quarter: Quarter, *, experiments: pd.DataFrame | None = None,
           outcomes: pd.DataFrame | None = None) -> tuple[dict[str, list[tuple[str, float]]] | None, dict[str, Any]]:
    """The programme pack's ``(reasons, results)``: every result whose data exists, by section name."""
    results: dict[str, Any] = {}
    for name, section in (("budget", _budget(inputs)), ("psi", _psi(inputs)),
                          ("experiments", _experiments(inputs, experiments, outcomes)),
                          ("registry", _registry(inputs, experiments, outcomes))):
        if section is not None:
            results[name] = section
    return ledger_reasons(inputs, quarter), results


def _budget(inputs: Inputs) -> dict[str, Any] | None:
    """Each pool's allocation by tier (and its total and rule), from the model's budget section."""
    allocation = budgets.allocate(inputs.result)
    if allocation is None:
        return None
    by_tier = budgets.compare(allocation, None, by="tier")
    by_tier = by_tier[by_tier["tier"] != "Total"]
    tiers = [t for t in allocation.tier_order if t in set(by_tier["tier"])]
    rows = []
    for pool in allocation.totals().itertuples():
        mine = by_tier[by_tier["pool"] == pool.pool].set_index("tier")["amount_a"]
        rule = "by tier" if pool.rule == "by_tier" else "by action lever"
        rows.append([pool.label, f"{rule}, {pool.mode}", *(_amount(mine.get(t, 0.0)) for t in tiers),
                     _amount(pool.allocated), f"{_amount(pool.total)} {pool.unit or ''}".strip()])
    return {"lead": "Each pool shared out among this quarter's scored partners by the model's budget section: "
                    "'share' divides the whole total in proportion, 'fixed' gives each partner its amount.",
            "columns": ["Pool", "Rule", *tiers, "Allocated", "Total"], "rows": rows}


def _psi(inputs: Inputs) -> dict[str, Any] | None:
    """Population stability of the inputs and scores: since calibration when the model stores a
    baseline, else between History's first month and today."""
    try:
        found = monitor(inputs.partners, inputs.result.model, inputs.history, as_of=inputs.result.as_of)
    except MonitorError:
        return None
    table = found.drift.table
    rows = [[str(r.label), _fixed(r.psi, 3), str(r.band), _count(r.n_then), _count(r.n_now),
             "small sample" if bool(r.small_sample) else ""] for r in table.itertuples()]
    return {"lead": f"Population stability (PSI) from {found.then} to {found.now}. Under 0.10 stable, "
                    "0.10-0.25 worth investigating, 0.25 or more shifted.",
            "columns": ["Input or score", "PSI", "Band", "Then", "Now", ""], "rows": rows}


def _experiments(inputs: Inputs, experiments: pd.DataFrame | None,
                 outcomes: pd.DataFrame | None) -> dict[str, Any] | None:
    """Each experiment on the Experiments sheet read out: effect, interval and verdict per outcome."""
    if experiments is None or experiments.empty or "experiment" not in experiments.columns:
        return None
    rows = []
    for name in sorted({str(v).strip() for v in experiments["experiment"].dropna() if str(v).strip()}):
        try:
            found = analyze(experiments, inputs.partners, name, inputs.result.model, outcomes, inputs.history,
                            as_of=inputs.result.as_of, resamples=EXPERIMENT_RESAMPLES)
        except ValueError:
            continue  # an experiment that cannot be read out yet (no arm analysed) is left out
        for r in found.results.itertuples():
            rows.append([name, str(r.outcome), f"{int(r.n_treatment)} / {int(r.n_control)}",
                         _effect(str(r.outcome), r.effect, r.welch_low, r.welch_high), str(r.verdict)])
    if not rows:
        return None
    return {"lead": "Treatment minus control per outcome, with 95% intervals (pscore experiment analyze).",
            "columns": ["Experiment", "Outcome", "Partners (treated / control)", "Effect", "Verdict"], "rows": rows}


def _registry(inputs: Inputs, experiments: pd.DataFrame | None, outcomes: pd.DataFrame | None) -> dict[str, Any] | None:
    """Per action across tiers: recommended, received, and what happened after, labelled as the
    registry labels it (observational unless an experiment assigned the action)."""
    if inputs.interventions is None or inputs.interventions.empty:
        return None
    try:
        table = intervention_registry(inputs.partners, inputs.interventions, inputs.result.model, inputs.result.as_of,
                                      history=inputs.history, outcomes=outcomes, experiments=experiments)
    except ValueError:
        return None
    overall = table[table["category"] == ALL_TIERS]
    if overall.empty:
        return None
    rows = [[str(r.action), _count(r.recommended), _count(r.received), _signed(r.score_change_effect),
             str(r.evidence)] for r in overall.itertuples()]
    return {"lead": "What happened after each action: the later score change of partners who received it against "
                    "comparable partners who were recommended it but did not.",
            "columns": ["Action", "Recommended", "Received", "Score change vs comparable", "Evidence"], "rows": rows}


def _effect(outcome: str, effect: float, low: float, high: float) -> str:
    """An effect with its 95% interval in the outcome's unit: percentage points of engagement,
    currency units of revenue, points of score change."""
    if any(v is None or math.isnan(v) for v in (effect, low, high)):
        return ""
    if outcome == "engagement":
        return f"{effect * 100:+.1f} pp ({low * 100:+.1f} to {high * 100:+.1f})"
    if outcome == "revenue":
        return f"{effect:+,.0f} ({low:+,.0f} to {high:+,.0f})"
    return f"{effect:+.1f} points ({low:+.1f} to {high:+.1f})"


def _amount(value: float) -> str:
    return f"{value:,.0f}"


def _fixed(value: float, places: int) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{places}f}"


def _signed(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:+.1f}"


def _count(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
