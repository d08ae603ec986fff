"""What a partner's QBR pack says, as plain data: the template only lays it out.

A pack is the partner's scorecard (built by :mod:`reports.card`, so the same figures and audience
rules) plus the quarterly review's sections. Each section is one small function that returns None
when the data it needs is absent -- no History, no Interventions, a top-tier partner -- and the
pack then leaves the section out rather than printing it empty. ``pack["used"]`` names the optional
sheets and results the pack drew on. Other results (a change ledger's reasons, say) are wired in
through :class:`Review` with a few lines here, not in the template.

Every sentence and figure comes from :mod:`scoring`: the executive summary from
:mod:`scoring.review`, the path to the next tier from :mod:`scoring.next_tier`, benchmarks and
quarter-end values from :mod:`scoring.review`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup

from scoring import cells
from scoring.engine import months_between
from scoring.history import score_history
from scoring.next_tier import paths_to_next_tier, shown_value
from scoring.quarters import Quarter
from scoring.review import (Previous, Standing, after_actions, metric_benchmarks, metric_value, monthly_trend,
                            scores_at, summary, value_at)

from reports import card as scorecard
from reports import qbr_charts
from reports.job import Inputs

__all__ = ["ENGAGEMENT_METRICS", "PIPELINE_METRICS", "Review", "build_packs", "history_until"]

#: The pipeline-and-revenue section's metrics, and the engagement section's, in the order shown
#: (those the model has; a section whose metrics the model lacks is left out).
PIPELINE_METRICS = ("qualified_leads", "deal_conversion_rate", "deals_won", "average_contract_size",
                    "deal_velocity_days", "pipeline_value")
ENGAGEMENT_METRICS = ("collaboration_frequency", "responsiveness_hours", "marketing_commitment_adherence")


@dataclass(frozen=True)
class Review:
    """What a QBR pack is made from: the scorecard inputs, the quarter, and results from other
    parts of pscore when they exist (absent ones leave their sections out)."""

    inputs: Inputs
    quarter: Quarter
    #: change ledger: partner ID -> its top reasons the score moved, (label, points)
    reasons: Mapping[str, Sequence[tuple[str, float]]] | None = None
    #: further results by name (e.g. anomaly flags), for sections added later
    results: Mapping[str, Any] = field(default_factory=dict)


def build_packs(review: Review, positions: Sequence[int], audience: str) -> list[dict[str, Any]]:
    """One pack per partner at ``positions`` (row positions in the scored result)."""
    inputs, result = review.inputs, review.inputs.result
    positions = [int(p) for p in positions]
    history = _history_scores(inputs, positions)
    extras = scorecard.Extras(history_scores=history, milestones=inputs.milestones,
                              interventions=inputs.interventions, quality=inputs.quality)
    cards = scorecard.build(result, positions, audience, extras, partners=inputs.partners)
    batch = _Batch(review, positions, audience, history)
    return [batch.pack(p, c) for p, c in zip(positions, cards)]


def _history_scores(inputs: Inputs, positions: list[int]) -> pd.DataFrame | None:
    """History up to the scoring date (a past quarter is reviewed without what came after), scored
    for the selected partners only (a few packs from a large workbook)."""
    frame = history_until(inputs.history, inputs.result.as_of)
    if frame is None:
        return None
    ids = set(np.asarray(inputs.result["partner_id"], dtype=object)[positions].astype(str))
    return score_history(frame[frame["partner_id"].astype(str).isin(ids)], inputs.partners, inputs.result.model)


def history_until(history: pd.DataFrame | None, day: dt.date) -> pd.DataFrame | None:
    """The History rows whose period is on or before ``day``; None without a History sheet."""
    if history is None or "period" not in history:
        return None
    keep = [(found := _date(p)) is not None and found <= day for p in history["period"]]
    return history[keep]


class _Batch:
    """Per-batch figures (history, paths, benchmarks) computed once for the selected partners."""

    def __init__(self, review: Review, positions: list[int], audience: str, history: pd.DataFrame | None):
        inputs, result = review.inputs, review.inputs.result
        self.review, self.audience, self.internal = review, audience, audience == "internal"
        self.result, self.spec = result, result.model.spec
        self.quarter = review.quarter
        self.due = review.quarter.next().end
        ids = np.asarray(result["partner_id"], dtype=object)
        self.ids = {p: cells.text(ids[p])[0] or "" for p in positions}
        self.history = history
        self.has_history = self.history is not None and not self.history.empty
        self.previous = (scores_at(self.history, [self.ids[p] for p in positions], self.quarter.previous().end)
                         if self.has_history else None)
        self.row_of = {p: k for k, p in enumerate(positions)}
        paths = paths_to_next_tier(inputs.partners.iloc[positions], result.model, result.as_of, by=self.due)
        self.paths = dict(zip(positions, paths))
        self.metrics = {m.id: m for m in self.spec.metrics}
        shown = [m for m in (*PIPELINE_METRICS, *ENGAGEMENT_METRICS) if m in self.metrics]
        self.benchmarks = metric_benchmarks(inputs.partners, result["segment"], shown)
        self.raw = _metric_history(inputs, [self.ids[p] for p in positions], shown)
        self.partners = inputs.partners
        self.interventions = inputs.interventions
        self.hidden_actions = {r.action for r in self.spec.playbook.rules if r.internal_only}
        self.thresholds = [(t.min_score, t.id) for t in self.spec.tiers if t.min_score > 0]
        self.top_tier = max(self.spec.tiers, key=lambda t: t.min_score).id

    def pack(self, position: int, card: dict[str, Any]) -> dict[str, Any]:
        used: list[str] = []
        context = _Context(self, position, card, used)
        sections = [(name, build(context)) for name, build in SECTIONS]
        return {
            "kind": "partner", "audience": self.audience, "card": card, "partner": card["partner"],
            "quarter": self.quarter.label, "quarter_id": str(self.quarter), "due": self.due,
            "previous_quarter": self.quarter.previous().label, "model": card["model"],
            "sections": [dict(s, id=name) for name, s in sections if s is not None],
            "used": used,
        }


@dataclass
class _Context:
    """One partner's view of the batch, handed to each section function."""

    batch: _Batch
    position: int
    card: dict[str, Any]
    used: list[str]

    @property
    def pid(self) -> str:
        return self.batch.ids[self.position]

    def uses(self, name: str) -> None:
        if name not in self.used:
            self.used.append(name)

    def previous(self) -> dict[str, Any] | None:
        found = self.batch.previous
        if found is None:
            return None
        row = found.iloc[self.batch.row_of[self.position]]
        return row.to_dict()

    def composite_points(self) -> list[tuple[float, float | None, dt.date]]:
        """(months since start, composite, period) of each scored snapshot, then now."""
        history = self.batch.history
        out = []
        if history is not None and not history.empty:
            mine = history[history["partner_id"].astype(str) == self.pid]
            out = [(float(m), _num(c), p) for m, c, p in zip(mine["months_since_start"], mine["composite_score"],
                                                              mine["period"]) if not _missing(m)]
        months = self.card["months"]
        if months is not None:
            out.append((months, self.card["scores"][2]["value"], self.batch.result.as_of))
        return sorted(out, key=lambda p: p[0])


# ------------------------------------------------------------------ sections (None: left out)


def _summary(ctx: _Context) -> dict[str, Any] | None:
    b, c = ctx.batch, ctx.card
    scores = {s["key"]: s["value"] for s in c["scores"]}
    composite_pct = None
    if c["benchmark"]["available"]:
        composite_pct = _composite_percentile(b, ctx.position)
    standing = Standing(name=c["partner"]["name"], tier=c["tier"]["id"], tier_label=c["tier"]["label"],
                        composite=scores["composite"], revenue=scores["revenue"], engagement=scores["engagement"],
                        quadrant=c["quadrant"], segment=c["benchmark"]["segment"], segment_percentile=composite_pct)
    prev = ctx.previous()
    previous = None
    if prev is not None:
        ctx.uses("History")
        previous = Previous(b.quarter.previous().label, b.quarter.previous().end, prev["period"],
                            _num(prev["composite_score"]), prev["tier"] if isinstance(prev["tier"], str) else None)
    reasons = b.review.reasons.get(ctx.pid) if b.review.reasons is not None else None
    if reasons:
        ctx.uses("change ledger")
    points = ctx.composite_points()
    trend = monthly_trend([(m, v) for m, v, _ in points], c["months"]) if b.has_history else None
    path = b.paths.get(ctx.position)
    sentences = summary(standing, previous, path, reasons=reasons, trend=trend,
                        top_tier=c["tier"]["id"] == b.top_tier)
    return {"title": "Executive summary", "sentences": [s for s in sentences if s]}


def _composite_percentile(b: _Batch, position: int) -> float | None:
    value = b.result["segment_percentile"][position]
    return None if _missing(value) else float(value)


def _scorecard(ctx: _Context) -> dict[str, Any]:
    return {"title": "Scorecard"}


def _trajectories(ctx: _Context) -> dict[str, Any] | None:
    b = ctx.batch
    if not b.has_history:
        return None
    ctx.uses("History")
    points = ctx.composite_points()
    if len(points) < 2:
        return None
    trend = monthly_trend([(m, v) for m, v, _ in points], ctx.card["months"])
    chart = qbr_charts.series([(m, v) for m, v, _ in points], trend=(trend.start, trend.end) if trend else None,
                              thresholds=[(s, f"Tier {t}") for s, t in b.thresholds], fixed=(0.0, 100.0),
                              fmt=lambda v: f"{v:.0f}", width=520, height=150, title="Composite score by month")
    return {"title": "Trajectories", "composite_chart": Markup(chart),
            "trend": None if trend is None else {"slope": trend.slope, "n": trend.n}}


def _metric_section(ids: Sequence[str], title: str, key: str) -> Callable[[_Context], dict[str, Any] | None]:
    def build(ctx: _Context) -> dict[str, Any] | None:
        b = ctx.batch
        shown = [m for m in ids if m in b.metrics]
        if not shown:
            return None
        segment = ctx.card["benchmark"]["segment"]
        info = b.partners.iloc[ctx.position]
        rows = []
        for metric_id in shown:
            metric = b.metrics[metric_id]
            now = metric_value(info.get(metric_id)) if metric_id in b.partners.columns else None
            series_points = b.raw.get(ctx.pid, {}).get(metric_id, [])
            previous = value_at([(p, v) for _, v, p in series_points], b.quarter.previous().end) if series_points else None
            bench = b.benchmarks.get(metric_id, {}).get(segment)
            points = [(m, v) for m, v, _ in series_points]
            if now is not None and ctx.card["months"] is not None:
                points.append((ctx.card["months"], now))
            valued = sum(v is not None for _, v in points)
            trend = monthly_trend(points, ctx.card["months"]) if valued >= 3 else None
            chart = qbr_charts.series(points, trend=(trend.start, trend.end) if trend else None,
                                      fmt=_axis(metric.unit), width=170, height=78, title=metric.label)
            rows.append({"label": metric.label, "unit": metric.unit, "now": shown_value(now, metric.unit),
                         "previous": shown_value(previous, metric.unit) if previous is not None else "–",
                         "benchmark": shown_value(bench[0], metric.unit) if bench else "–",
                         "direction": "lower is better" if metric.direction == "lower" else "",
                         "chart": Markup(chart) if valued >= 2 else None})
        if all(r["now"] == "–" and r["previous"] == "–" and r["chart"] is None for r in rows):
            return None  # nothing recorded for the partner: no section of dashes
        if _uses_history(b, ctx.pid, shown):
            ctx.uses("History")
        return {"title": title, "rows": rows, "segment": segment, "key": key,
                "previous_label": f"End of {b.quarter.previous().label}"}

    return build


def _uses_history(b: _Batch, pid: str, shown: Sequence[str]) -> bool:
    return any(b.raw.get(pid, {}).get(m) for m in shown)


def _actions_taken(ctx: _Context) -> dict[str, Any] | None:
    b = ctx.batch
    frame = b.interventions
    if frame is None or frame.empty or "partner_id" not in frame:
        return None
    mine = frame[frame["partner_id"].astype(str) == ctx.pid]
    since = b.quarter.previous().start
    rows = []
    for record in mine.to_dict("records"):
        day = _date(record.get("date"))
        action = cells.text(record.get("action"))[0] or ""
        if day is None or day < since or day > b.result.as_of:
            continue
        if not b.internal and action in b.hidden_actions:
            continue
        rows.append({"date": day, "action": action, "status": cells.text(record.get("status"))[0] or "",
                     "notes": (cells.text(record.get("notes"))[0] or "") if b.internal else ""})
    if not rows:
        return None
    ctx.uses("Interventions")
    rows.sort(key=lambda r: (r["date"], r["action"]))
    points = [(p, v) for _, v, p in ctx.composite_points()]
    now = ctx.card["scores"][2]["value"]
    for row, (before, change) in zip(rows, after_actions(points, [r["date"] for r in rows], now)):
        row["before"], row["change"] = before, change
    return {"title": "Actions taken and what happened after", "rows": rows, "since": since,
            "internal": b.internal}


def _path(ctx: _Context) -> dict[str, Any] | None:
    b = ctx.batch
    path = b.paths.get(ctx.position)
    actions = ctx.card["actions"]
    if path is None and not actions:
        return None
    steps = [] if path is None else [{"label": s.label, "current": shown_value(s.current, s.unit),
                                      "target": shown_value(s.target, s.unit), "points": s.points} for s in path.steps]
    return {"title": "Path to the next tier", "path": None if path is None else {
        "next_tier": path.next_tier, "threshold": path.threshold, "composite": path.composite,
        "baseline": path.baseline, "after": path.after, "by": path.by, "reachable": path.reachable,
        "quarterly": path.quarterly, "gap": path.gap}, "steps": steps, "actions": actions,
        "top": ctx.card["tier"]["id"] == b.top_tier}


SECTIONS: list[tuple[str, Callable[[_Context], dict[str, Any] | None]]] = [
    ("summary", _summary),
    ("scorecard", _scorecard),
    ("trajectories", _trajectories),
    ("pipeline", _metric_section(PIPELINE_METRICS, "Pipeline and revenue", "pipeline")),
    ("engagement", _metric_section(ENGAGEMENT_METRICS, "Engagement", "engagement")),
    ("actions_taken", _actions_taken),
    ("path", _path),
]


# ------------------------------------------------------------------ helpers


def _metric_history(inputs: Inputs, ids: Sequence[str], metric_ids: Sequence[str]
                    ) -> dict[str, dict[str, list[tuple[float, float | None, dt.date]]]]:
    """Per partner and metric: (months since start, value, period) of each History snapshot."""
    history = history_until(inputs.history, inputs.result.as_of)
    if history is None or history.empty:
        return {}
    wanted = set(ids)
    mine = history[history["partner_id"].astype(str).isin(wanted)]
    if mine.empty:
        return {}
    starts = {}
    partners = inputs.partners
    if "onboarding_start" in partners:
        for pid, start in zip(partners["partner_id"].astype(str), partners["onboarding_start"]):
            if pid in wanted:
                starts[pid] = _date(start)
    out: dict[str, dict[str, list]] = {}
    periods = [_date(p) for p in mine["period"]]
    pids = mine["partner_id"].astype(str).tolist()
    for metric_id in metric_ids:
        if metric_id not in mine:
            continue
        for pid, period, value in zip(pids, periods, mine[metric_id]):
            start = starts.get(pid)
            if period is None or start is None:
                continue
            month = float(months_between(np.datetime64(start, "D"), np.datetime64(period, "D")))
            out.setdefault(pid, {}).setdefault(metric_id, []).append((month, metric_value(value), period))
    for metrics in out.values():
        for rows in metrics.values():
            rows.sort(key=lambda r: r[0])
    return out


def _axis(unit: str) -> Callable[[float], str]:
    if unit == "share":
        return lambda v: f"{v * 100:.0f}%"
    return lambda v: f"{v / 1e6:g}M" if abs(v) >= 1e6 else (f"{v / 1e3:g}k" if abs(v) >= 1e3 else f"{v:g}")


def _missing(value: Any) -> bool:
    return cells.is_null(value)


def _num(value: Any) -> float | None:
    if _missing(value):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _date(value: Any) -> dt.date | None:
    """A date cell as a date, read by the one cell parser (None when blank or not a date)."""
    return cells.date(value)[0]