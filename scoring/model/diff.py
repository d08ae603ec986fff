"""What changed between two models, path by path, in plain words.

``pscore model diff`` and the scenario report both read this. Lists whose items carry an ``id``
(metrics, layers, stages, segments, tiers, playbook rules, budget pools) are compared item by item
by id, not by position, so inserting a rule does not make every later rule look changed; a path
names such an item as ``tiers[B].min_score`` or ``playbook.rules[fund_champions].when``. Other
lists (a rule's conditions, a piecewise normalisation's points, a metric's aliases) are compared
whole. A stored calibration is summarised in one line rather than knot by knot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import pandas as pd

from scoring.model.load import IDENTITY_FIELDS, ScoringModel

__all__ = ["Change", "ModelDiff", "diff_models"]

Kind = str  # "changed", "added", "removed", "reordered"

#: Section of a change as the report groups it, by the first key of its path.
SECTIONS = {
    "weights": "Metric weights", "metrics": "Metrics", "layers": "Layers", "outcomes": "Outcomes",
    "stages": "Stages", "composite_weights": "Composite", "segmentation": "Segments", "segments": "Segments",
    "adjustment_bounds": "Segments", "tiers": "Tiers", "quadrants": "Quadrants", "drivers": "Drivers",
    "coverage": "Thresholds", "provisional": "Thresholds", "horizon_months": "Thresholds",
    "playbook": "Playbook", "calibration": "Calibration", "budget": "Budget",
}
IDENTITY = "Name and version"


@dataclass(frozen=True)
class Change:
    """One difference: where (``path``), what kind, the old and new value, and a sentence saying it."""

    path: str
    kind: Kind
    old: Any
    new: Any
    text: str

    @property
    def section(self) -> str:
        head = self.path.split(".")[0].split("[")[0]
        return IDENTITY if head in IDENTITY_FIELDS else SECTIONS.get(head, head)


@dataclass(frozen=True)
class ModelDiff:
    """The differences between model ``a`` and model ``b`` (empty when they are the same file content)."""

    a: ScoringModel
    b: ScoringModel
    changes: tuple[Change, ...]

    @property
    def identical(self) -> bool:
        return not self.changes

    @property
    def same_scorecard(self) -> bool:
        """Every partner gets the same numbers from both (only names, versions or the changelog differ)."""
        return self.a.hash == self.b.hash

    def frame(self) -> pd.DataFrame:
        """One row per change: ``section, path, change, old, new, text``."""
        return pd.DataFrame([{"section": c.section, "path": c.path, "change": c.kind, "old": _cell(c.old),
                              "new": _cell(c.new), "text": c.text} for c in self.changes],
                            columns=["section", "path", "change", "old", "new", "text"])

    def summary(self) -> str:
        if self.identical:
            return f"identical: {self.a.label} and {self.b.label}"
        scoring = sum(c.section != IDENTITY for c in self.changes)
        if scoring == 0:
            return (f"same scorecard ({self.a.hash}), {len(self.changes)} difference(s) in name, version or "
                    "changelog only")
        return f"{scoring} change(s) to the scorecard ({self.a.hash} -> {self.b.hash})" + (
            f" and {len(self.changes) - scoring} to its name, version or changelog" if scoring < len(self.changes) else "")

    def lines(self) -> list[str]:
        """The report as text: a heading per section, one line per change."""
        out = [f"A: {self.a.label} ({self.a.source})", f"B: {self.b.label} ({self.b.source})", self.summary()]
        section = None
        for change in sorted(self.changes, key=lambda c: (_ORDER.get(c.section, 99), )):
            if change.section != section:
                section = change.section
                out.append(f"{section}:")
            out.append(f"  {_MARK[change.kind]} {change.path}: {change.text}")
        return out


_MARK = {"changed": "~", "added": "+", "removed": "-", "reordered": "~"}
_ORDER = {name: k for k, name in enumerate([IDENTITY, *dict.fromkeys(SECTIONS.values())])}


def diff_models(a: ScoringModel, b: ScoringModel) -> ModelDiff:
    """Every difference between ``a`` and ``b``, in file order, each said in plain words."""
    da, db = a.spec.model_dump(mode="json"), b.spec.model_dump(mode="json")
    names = _Names(da, db)
    changes = []
    for key in dict.fromkeys([*da, *db]):
        old, new = da.get(key), db.get(key)
        if key == "calibration":
            if old != new:
                changes.append(_calibration(old, new))
            continue
        if key == "changelog":
            if old != new:
                changes.append(_changelog(old or [], new or []))
            continue
        for path, kind, x, y in _walk((key,), old, new):
            changes.append(Change(_format(path), kind, x, y, _say(path, kind, x, y, names)))
    return ModelDiff(a, b, tuple(changes))


# ------------------------------------------------------------------ walking two dumps


def _keyed(items: Any) -> bool:
    return (isinstance(items, list) and items and all(isinstance(x, dict) and isinstance(x.get("id"), str)
                                                       for x in items))


def _walk(path: tuple, a: Any, b: Any) -> Iterator[tuple[tuple, Kind, Any, Any]]:
    if a == b:
        return
    if a is None or b is None:
        yield path, "added" if a is None else "removed", a, b
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in dict.fromkeys([*a, *b]):
            if key in a and key in b:
                yield from _walk((*path, key), a[key], b[key])
            elif key in b:
                yield (*path, key), "added", None, b[key]
            else:
                yield (*path, key), "removed", a[key], None
    elif (_keyed(a) or not a) and (_keyed(b) or not b) and (a or b) and isinstance(a, list) and isinstance(b, list):
        ia, ib = {x["id"]: x for x in a}, {x["id"]: x for x in b}
        for ident in dict.fromkeys([*ia, *ib]):
            yield from _walk((*path, ("id", ident)), ia.get(ident), ib.get(ident))
        common_a = [x["id"] for x in a if x["id"] in ib]
        common_b = [x["id"] for x in b if x["id"] in ia]
        if common_a != common_b:
            yield path, "reordered", common_a, common_b
    else:
        yield path, "changed", a, b


def _format(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, tuple):
            out += f"[{part[1]}]"
        elif isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# ------------------------------------------------------------------ plain words


class _Names:
    """Labels of metrics, stages, layers, tiers, segments and rules, from either model."""

    def __init__(self, a: dict, b: dict):
        self.labels: dict[tuple[str, str], str] = {}
        for data in (b, a):  # a's labels win: the reader knows the model they start from
            for section in ("metrics", "stages", "layers", "tiers", "segments"):
                for item in data.get(section) or []:
                    self.labels[(section, item["id"])] = item.get("label") or item["id"]
            for rule in (data.get("playbook") or {}).get("rules") or []:
                self.labels[("rules", rule["id"])] = rule.get("action") or rule["id"]
            for pool in (data.get("budget") or {}).get("pools") or []:
                self.labels[("pools", pool["id"])] = pool.get("label") or pool["id"]

    def __call__(self, section: str, ident: str) -> str:
        return self.labels.get((section, ident), ident)


def _v(value: Any) -> str:
    """A value as a person reads it: numbers without trailing zeros, lists and conditions as text."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        if {"field", "op"} <= set(value):
            return _condition(value)
        if "kind" in value:
            return _normalization(value)
        return ", ".join(f"{k} {_v(x)}" for k, x in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    return str(value)


def _condition(cond: dict) -> str:
    value = cond.get("value")
    return f"{cond['field']} {cond['op']}" + ("" if value is None else f" {_v(value)}")


def _when(when: dict) -> str:
    parts = []
    if when.get("all"):
        parts.append(" and ".join(_condition(c) for c in when["all"]))
    if when.get("any"):
        parts.append("any of (" + "; ".join(_condition(c) for c in when["any"]) + ")")
    return " and ".join(parts) or "nothing"


def _normalization(norm: dict) -> str:
    kind = norm.get("kind")
    if kind in ("linear", "log"):
        return f"{kind} from {_v(norm.get('floor'))} (0) to {_v(norm.get('target'))} (100)"
    if kind == "ordinal":
        return "ordinal " + ", ".join(f"{k} {_v(x)}" for k, x in (norm.get("map") or {}).items())
    if kind == "piecewise":
        return "piecewise " + ", ".join(f"{_v(x)}->{_v(y)}" for x, y in norm.get("points") or [])
    return str(kind)


def _was(kind: Kind, old: Any, new: Any, what: str) -> str:
    """``what: 3 -> 4 (+33%)``, ``what: now 2``, ``what: removed (was 2)``."""
    if kind == "added":
        return f"{what}: now {_v(new)}"
    if kind == "removed":
        return f"{what}: removed (was {_v(old)})"
    text = f"{what}: {_v(old)} -> {_v(new)}"
    if ("weight" in what and isinstance(old, (int, float)) and isinstance(new, (int, float))
            and not isinstance(old, bool) and old):
        text += f" ({(new - old) / abs(old) * 100:+.0f}%)"
    return text


def _say(path: tuple, kind: Kind, old: Any, new: Any, names: _Names) -> str:
    head = path[0]
    ident = path[1][1] if len(path) > 1 and isinstance(path[1], tuple) else None
    rest = path[2:] if ident is not None else path[1:]
    if kind == "reordered":
        return f"the order of {head} changed to {', '.join(new)}"
    if head in ("name", "version", "effective_date", "description"):
        return _was(kind, old, new, head.replace("_", " "))
    if head == "weights" and len(path) == 3:
        return _was(kind, old, new, f"weight of {names('metrics', path[2])} in the {path[1]} score")
    if head == "weights":
        return _was(kind, old, new, f"{path[1]} weights")
    if head == "metrics" and ident is not None:
        label = names("metrics", ident)
        if not rest:
            if kind == "added":
                return f"new metric {label} (layer {new.get('layer')}, informs {', '.join(new.get('informs', []))})"
            return f"metric {label} removed"
        if rest[0] == "normalization":
            if len(rest) == 1 or kind != "changed":
                return _was(kind, old, new, f"normalisation of {label}")
            return _was(kind, old, new, f"normalisation of {label}: {rest[-1]}")
        return _was(kind, old, new, f"{label}: {_format(rest).replace('_', ' ')}")
    if head == "stages" and ident is not None:
        label = names("stages", ident)
        if not rest:
            return f"new stage {label}" if kind == "added" else f"stage {label} removed"
        if rest[0] == "layer_weights" and len(rest) == 2:
            return _was(kind, old, new, f"stage {label}: weight of the {names('layers', rest[1])} layer")
        if rest[0] == "max_months":
            return _was(kind, old, new, f"stage {label} ends at month")
        return _was(kind, old, new, f"stage {label}: {_format(rest)}")
    if head == "composite_weights" and len(path) == 2:
        return _was(kind, old, new, f"composite: weight of {path[1]}")
    if head == "tiers" and ident is not None:
        label = f"tier {ident} ({names('tiers', ident)})"
        if not rest:
            return f"new {label} from composite {_v(new.get('min_score'))}" if kind == "added" else f"{label} removed"
        if rest == ("min_score",):
            return _was(kind, old, new, f"{label} starts at composite score")
        return _was(kind, old, new, f"{label}: {_format(rest)}")
    if head == "quadrants":
        words = {"revenue_threshold": "quadrants: high revenue from", "engagement_threshold": "quadrants: high engagement from"}
        return _was(kind, old, new, words.get(path[-1], f"quadrant label {path[-1].replace('_', ' ')}"))
    if head == "segments" and ident is not None:
        label = f"segment {names('segments', ident)}"
        if not rest:
            return f"new {label} (when {_v(new.get('when'))})" if kind == "added" else f"{label} removed"
        if rest[0] == "weights" and len(rest) == 3:
            return _was(kind, old, new, f"{label}: weight of {names('metrics', rest[2])} in the {rest[1]} score")
        if rest[0] == "normalization" and len(rest) >= 2:
            return _was(kind, old, new, f"{label}: normalisation of {names('metrics', rest[1])} {_format(rest[2:])}".rstrip())
        if rest[0] == "adjustment" and len(rest) == 2:
            return _was(kind, old, new, f"{label}: {rest[1]} adjustment factor")
        return _was(kind, old, new, f"{label}: {_format(rest)}")
    if head == "playbook" and len(path) >= 3 and isinstance(path[2], tuple):
        rule = path[2][1]
        label = f"rule {rule} ({names('rules', rule)})"
        rest = path[3:]
        if not rest:
            if kind == "added":
                return f"new {label}: when {_when(new.get('when', {}))}, priority {new.get('priority')}"
            return f"{label} removed"
        if rest[0] == "when":
            if len(rest) == 1:
                return f"{label}: now when {_when(new)} (was when {_when(old)})"
            return _was(kind, old, new, f"{label}: conditions under '{rest[1]}'")
        return _was(kind, old, new, f"{label}: {_format(rest).replace('_', ' ')}")
    if head == "playbook":
        return _was(kind, old, new, f"playbook: {_format(path[1:]).replace('_', ' ')}")
    if head == "budget":
        if len(path) >= 3 and isinstance(path[2], tuple):
            pool = path[2][1]
            label = f"pool {names('pools', pool)}"
            if len(path) == 3:
                return f"new budget {label} of {_v(new.get('total'))}" if kind == "added" else f"budget {label} removed"
            return _was(kind, old, new, f"budget {label}: {_format(path[3:]).replace('_', ' ')}")
        if len(path) == 1:
            return "budget section added" if kind == "added" else "budget section removed"
        return _was(kind, old, new, f"budget: {_format(path[1:])}")
    words = {"coverage": "minimum coverage before flagging", "provisional": "provisional until month",
             "horizon_months": "outcome horizon (months)", "drivers": "drivers", "adjustment_bounds": "adjustment bounds"}
    return _was(kind, old, new, words.get(head, head) + (f" {_format(path[1:])}" if len(path) > 1 and head not in words else
                                                           (f": {path[-1].replace('_', ' ')}" if len(path) > 1 else "")))


def _calibration(old: dict | None, new: dict | None) -> Change:
    def about(cal: dict) -> str:
        return f"fitted {cal.get('date')} on {cal.get('n')} partners, {cal.get('horizon_months')}-month horizon"

    if old is None:
        return Change("calibration", "added", None, "present", f"calibration added ({about(new)})")
    if new is None:
        return Change("calibration", "removed", "present", None, "calibration removed: no predicted revenue or "
                                                                   "engagement probability")
    changed = sorted(k for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k))
    return Change("calibration", "changed", None, None, f"calibration changed ({', '.join(changed)})")


def _changelog(old: list, new: list) -> Change:
    if new[:len(old)] == old:
        added = new[len(old):]
        text = f"{len(added)} new entr{'y' if len(added) == 1 else 'ies'}: " + "; ".join(
            f"{e.get('date')} {e.get('author')}: {e.get('change')}" for e in added)
        return Change("changelog", "added", None, len(added), text)
    return Change("changelog", "changed", len(old), len(new), f"changelog rewritten ({len(old)} -> {len(new)} entries)")


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str)) else _v(value)
