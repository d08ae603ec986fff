"""What one partner's PDF scorecard says, as plain data: the template only lays it out.

Everything here is read from :mod:`scoring` results (scores, tiers, drivers, actions, flags,
segment benchmarks, history); nothing is re-computed. The audience is applied here, not in the
template: a ``partner`` scorecard's data never contains the internal forecast, owner, notes or
internal-only actions, so no template slip can print them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup

from scoring import ScoreResult, cells, quality
from scoring.cells import is_null
from scoring.percentiles import MIN_SEGMENT_SIZE, segment_benchmarks
from scoring.compiled import ADJUSTMENT, ADJUSTMENT_LABEL
from scoring.engine import months_between
from scoring.history import TREND_SCORES, trend
from scoring.ledger import top_reasons
from scoring.model.schema import Tier
from scoring.quality import Record

from reports import charts

Audience = Literal["partner", "internal"]
AUDIENCES: tuple[Audience, ...] = ("partner", "internal")
ADJUSTMENT_DEFINITION = {"label": ADJUSTMENT_LABEL, "unit": "points",
                         "definition": "How the partner's segment raises or lowers the score, by the model's "
                                       "factors for that segment."}
OUTCOME_ROWS = (("revenue", "revenue_score"), ("engagement", "engagement_score"), ("composite", "composite_score"))


@dataclass(frozen=True)
class Extras:
    """Optional workbook sheets a scorecard draws on, in canonical columns (see xlplugin.reader)."""

    history_scores: pd.DataFrame | None = None  # scoring.history.score_history output
    milestones: pd.DataFrame | None = None  # partner_id, milestone, date
    interventions: pd.DataFrame | None = None  # partner_id, action, date, status, notes (internal)
    #: the partner sheet's data-quality records (scoring.quality.records with fold_absent=False);
    #: by default the scorecard's flags alone
    quality: Sequence[Record] | None = None
    #: why each score moved since the snapshot the trend compares with (scoring.history.since_snapshot)
    changes: pd.DataFrame | None = None


def build(result: ScoreResult, positions: Sequence[int], audience: Audience, extras: Extras = Extras(),
          partners: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """One scorecard card per partner at ``positions`` (row positions in ``result``).

    ``partners`` is the scored input frame (same rows as ``result``); it supplies onboarding start,
    region and the owner (internal audience only).
    """
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience '{audience}' (choose {' or '.join(AUDIENCES)})")
    positions = [int(p) for p in positions]
    batch = _Batch(result, positions, extras, partners, audience)
    return [batch.card(p) for p in positions]


class _Batch:
    """Per-batch lookups (drivers, actions, flags, benchmarks) grouped once, read per partner.

    Everything is turned into plain records for the selected partners only: a batch reads hundreds
    of cards, pandas row access costs per call, and a selection may be a few partners of thousands.
    """

    def __init__(self, result: ScoreResult, positions: list[int], extras: Extras, partners: pd.DataFrame | None,
                 audience: Audience):
        self.result, self.extras, self.audience = result, extras, audience
        self.internal = audience == "internal"
        self.spec = result.model.spec
        frame = result.frame.iloc[positions]
        self.rows = dict(zip(positions, frame.to_dict("records")))
        self.info = dict(zip(positions, partners.iloc[positions].to_dict("records"))) if partners is not None else {}
        self.labels = {m.id: m for m in self.spec.metrics}
        self.metric_labels = {m.id: m.label for m in self.spec.metrics}
        self.index = index = pd.Index(result.frame.index)
        self.layer_labels = [(layer.id, layer.label) for layer in self.spec.layers]
        self.outcomes = {o.id: o.label for o in self.spec.outcomes}
        self.bench = dict(zip(positions, segment_benchmarks(result).iloc[positions].to_dict("records")))
        history = extras.history_scores if extras.history_scores is not None else pd.DataFrame(
            columns=["partner_id", "period", "months_since_start", *TREND_SCORES])
        self.history: dict[str, list[dict[str, Any]]] = {}
        for record in history.to_dict("records"):
            self.history.setdefault(str(record["partner_id"]), []).append(record)
        self.trend = dict(zip(positions, trend(history, frame["partner_id"], frame, result.as_of).to_dict("records")))
        self.drivers = _grouped(result.top_drivers(), index, positions)
        self.actions = _grouped(result.actions, index, positions)
        self.records = self._records(extras, partners, index, positions)
        self.milestones = _by_partner(extras.milestones)
        self.interventions = _by_partner(extras.interventions) if self.internal else {}
        # stage names without their "(3-9 months)": the chart's axis already shows the months
        self.stages = [(s.max_months, nxt.label.split(" (")[0]) for s, nxt in zip(self.spec.stages, self.spec.stages[1:])]
        self.thresholds = [(t.min_score, t.id) for t in self.spec.tiers if t.min_score > 0]
        self.tier_definition = {"label": "Tier", "unit": "", "definition": _tier_rule(self.spec.tiers)}
        self.tiers = {t.id: t for t in self.spec.tiers}
        self.stage_labels = {s.id: s.label for s in self.spec.stages}
        self.calibrated = self.internal and self.spec.calibration is not None
        self.moves = _moves(extras.changes)

    def card(self, i: int) -> dict[str, Any]:
        row = self.rows[i]
        pid = _text(row["partner_id"])  # "" for a partner without an ID: it gets no PDF (scorecard_inputs says why)
        shown = self._shown_metrics(i)
        card = {
            "audience": self.audience,
            "partner": self._partner(i, row),
            "scores": self._scores(i, row),
            "tier": self._tier(row["tier"]),
            "quadrant": row["quadrant"] or "",
            "stage": self.stage_labels.get(row["stage"], str(row["stage"])),
            "months": _number(row["months_since_start"]),
            "provisional": bool(row["provisional"]),
            "moved": self.moves.get(pid),
            "coverage": _number(row["coverage"]),
            "layers": [{"label": label, "revenue": _number(row[f"revenue_{lid}"]),
                        "engagement": _number(row[f"engagement_{lid}"])} for lid, label in self.layer_labels],
            "drivers": self._drivers(i),
            "benchmark": self._benchmark(i, row),
            "actions": self._actions(i),
            "data_notes": self._data_notes(i),
            "definitions": [*({"label": m.label, "definition": m.definition, "unit": m.unit}
                              for m in self.spec.metrics if m.id in shown),
                            *([ADJUSTMENT_DEFINITION] if ADJUSTMENT in shown else []), self.tier_definition],
            "baseline": self.spec.drivers.baseline,  # drivers are points above or below it
            "metric_count": len(self.spec.metrics),
            "tier_lines": bool(self.thresholds),  # the trajectory draws the tier thresholds
            "prediction": self._prediction(row) if self.calibrated else None,
            "interventions": self.interventions.get(pid, []),
            "model": {"label": f"{self.spec.name} {self.spec.version}", "hash": self.result.model.hash,
                      "as_of": self.result.as_of},
        }
        self._charts(card)
        return card

    # -------------------------------------------------------------- sections

    def _partner(self, i: int, row: dict[str, Any]) -> dict[str, Any]:
        info = self.info.get(i, {})
        start = info.get("onboarding_start")
        pid = _text(row["partner_id"])
        return {
            "id": pid,
            "row": self.index[i],  # where the partner is on its sheet
            "name": _text(row["partner_name"]) or pid,
            "segment": _text(row["segment"]),
            "region": _text(info.get("region")),
            "country": _text(info.get("country")),
            "onboarding_start": _date(start),
            "owner": _text(info.get("owner")) if self.internal else "",
        }

    def _scores(self, i: int, row: dict[str, Any]) -> list[dict[str, Any]]:
        change = self.trend[i]
        since = change["trend_period"]
        return [{"key": key, "label": self.outcomes.get(key, "Composite score"), "value": _number(row[column]),
                 "change": _number(change[f"{column}_change"]), "since": since}
                for key, column in OUTCOME_ROWS]

    def _tier(self, tier_id: str) -> dict[str, str]:
        tier = self.tiers.get(tier_id)
        if tier is None:
            return {"id": tier_id, "scored": False, "label": "Not scored",
                    "description": "Too little usable data to score."}
        return {"id": tier.id, "scored": True, "label": tier.label, "description": tier.description}

    def _drivers(self, i: int) -> dict[str, list[tuple[str, float]]]:
        rows = self.drivers.get(i, [])
        return {d: [(r["label"], float(r["points"])) for r in rows if r["direction"] == d] for d in ("up", "down")}

    def _benchmark(self, i: int, row: dict[str, Any]) -> dict[str, Any]:
        b = self.bench[i]
        size = int(b["segment_size"])
        rows = [{"key": key, "label": label, "value": _number(row[column]),
                 "percentile": _number(b[f"{key}_segment_percentile"]), "p25": _number(b[f"{key}_segment_p25"]),
                 "median": _number(b[f"{key}_segment_median"]), "p75": _number(b[f"{key}_segment_p75"])}
                for (key, column), label in zip(OUTCOME_ROWS[:2], ("Revenue", "Engagement"))]
        available = all(r["median"] is not None for r in rows)
        return {"segment": _text(row["segment"]), "size": size, "available": available, "rows": rows,
                "min_size": MIN_SEGMENT_SIZE}

    def _actions(self, i: int) -> list[dict[str, str]]:
        rows = self.actions.get(i, [])
        if self.internal:
            return [{"action": r["action"], "detail": r["detail"], "owner_role": r["owner_role"]} for r in rows]
        return [{"action": r["action"], "detail": r["partner_detail"], "owner_role": ""}
                for r in rows if not r["internal_only"]]

    def _records(self, extras: Extras, partners: pd.DataFrame | None, index: pd.Index,
                 positions: list[int]) -> dict[Any, list[Record]]:
        """Data-quality records per row of the selected partners."""
        rows = set(index[positions])
        found = extras.quality if extras.quality is not None else quality.records(
            self.result, partners, fold_absent=False, rows=rows)
        out: dict[Any, list[Record]] = {}
        for record in found:
            if record.row in rows:
                out.setdefault(record.row, []).append(record)
        return out

    def _data_notes(self, i: int) -> list[str]:
        shown = [r for r in self.records.get(self.index[i], []) if r.flag != "provisional"]  # shown by the scores
        notes = quality.notes(shown, self.metric_labels, located=self.internal)
        if self.trend[i]["stale"]:
            last = self.trend[i]["latest_period"]
            notes.append(f"Latest monthly snapshot is from {last:%d %b %Y}; the trend may be out of date.")
        return notes

    def _shown_metrics(self, i: int) -> set[str]:
        """Metrics the scorecard shows as drivers: their definitions are printed (data notes only name
        the missing ones)."""
        return {str(r["metric"]) for r in self.drivers.get(i, []) if r["metric"] in self.labels or r["metric"] == ADJUSTMENT}

    def _prediction(self, row: dict[str, Any]) -> dict[str, Any]:
        return {"probability": _number(row["engagement_probability"]), "expected": _number(row["expected_revenue"]),
                "low": _number(row["expected_revenue_low"]), "high": _number(row["expected_revenue_high"]),
                "horizon": self.spec.horizon_months}

    def _charts(self, card: dict[str, Any]) -> None:
        """Add the SVG charts (trusted markup from :mod:`reports.charts`) to ``card``."""
        pid = card["partner"]["id"]
        points = [(h["months_since_start"], _number(h["revenue_score"]), _number(h["engagement_score"]))
                  for h in self.history.get(pid, []) if not _missing(h["months_since_start"])]
        revenue, engagement = card["scores"][0]["value"], card["scores"][1]["value"]
        if card["months"] is not None and (revenue is not None or engagement is not None):
            points.append((card["months"], revenue, engagement))
        points.sort(key=lambda p: p[0])
        marks = self._milestones(pid, card["partner"]["onboarding_start"])
        card["milestones"] = [name for _, name in marks]  # numbered in the chart, named beneath it
        numbered = [(month, str(k)) for k, (month, _) in enumerate(marks, start=1)]
        height = 112 if card["moved"] else 140  # room for why the score moved, on the same page
        card["trajectory"] = Markup(charts.trajectory(points, numbered, self.stages, self.thresholds,
                                                      width=560, height=height))
        card["layer_chart"] = Markup(charts.layer_bars([(l["label"], l["revenue"], l["engagement"])
                                                        for l in card["layers"]]))
        rows = [*card["drivers"]["up"], *card["drivers"]["down"]]
        card["driver_rows"] = [{"label": label, "points": points} for label, points in rows]
        card["driver_chart"] = Markup(charts.driver_bars(rows)) if rows else ""
        bench = card["benchmark"]["rows"]
        card["benchmark_chart"] = Markup(charts.benchmark([(r["label"], r["value"], r["median"], r["p25"], r["p75"])
                                                           for r in bench]))

    def _milestones(self, pid: str, start: dt.date | None) -> list[tuple[float, str]]:
        reached = [r for r in self.milestones.get(pid, []) if r.get("date") is not None and r["date"] <= self.result.as_of]
        if start is None or not reached:
            return []
        months = months_between(np.datetime64(start, "D"), np.array([r["date"] for r in reached], dtype="datetime64[D]"))
        return sorted((float(m), str(r["milestone"])) for m, r in zip(months, reached) if not math.isnan(m))


# ------------------------------------------------------------------ helpers


def _moves(changes: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """Partner ID -> why its composite score moved since the snapshot its trend compares with: the
    dates, the change and the ledger's top three reasons, in the ledger's own words (partner-safe)."""
    if changes is None or changes.empty:
        return {}
    composite = changes[changes["score"] == "composite"].drop_duplicates("partner_id")
    reasons = top_reasons(changes).groupby("partner_id", sort=False)["reason"].agg(list)
    return {str(r["partner_id"]): {"since": r["from_period"], "until": r["to_period"], "change": _number(r["change"]),
                                   "reasons": reasons.get(r["partner_id"], [])}
            for r in composite.to_dict("records") if r["partner_id"] in reasons.index}


def _tier_rule(tiers: Sequence[Tier]) -> str:
    """``composite score A at 75+, B at 60+, C at 45+, otherwise D.``: the model's tiers in words."""
    ordered = sorted(tiers, key=lambda t: -t.min_score)
    rule = ", ".join(f"{t.id} at {t.min_score:g}+" for t in ordered if t.min_score > 0)
    lowest = ordered[-1].id if ordered else ""
    return f"composite score {rule}, otherwise {lowest}."


def _grouped(frame: pd.DataFrame, index: pd.Index, positions: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Long-format result table as records per selected partner row position, in the table's order."""
    out: dict[int, list[dict[str, Any]]] = {}
    if frame.empty:
        return out
    where = index.get_indexer(frame["row"])
    selected = np.isin(where, positions)
    for at, record in zip(where[selected], frame[selected].to_dict("records")):
        out.setdefault(int(at), []).append(record)
    return out


def _by_partner(frame: pd.DataFrame | None) -> dict[str, list[dict[str, Any]]]:
    if frame is None or frame.empty or "partner_id" not in frame:
        return {}
    records = frame.assign(date=[_date(d) for d in frame["date"]]) if "date" in frame else frame
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records.to_dict("records"):
        pid = record.get("partner_id")
        if pid is not None and not _missing(pid):
            out.setdefault(str(pid), []).append({k: (None if _missing(v) else v) for k, v in record.items()})
    for rows in out.values():
        rows.sort(key=lambda r: (r.get("date") is None, r.get("date") or dt.date.min))
    return out


def _missing(value: Any) -> bool:
    return is_null(value)


def _number(value: Any) -> float | None:
    if _missing(value):
        return None
    return float(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value).strip()


def _date(value: Any) -> dt.date | None:
    """A date cell as a date, read by the one cell parser (None when blank or not a date)."""
    return cells.date(value)[0]