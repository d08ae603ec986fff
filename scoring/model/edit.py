"""The one way to derive a model from another: other weights, path -> value edits, the next version.

What-if weights in Excel, the Model sheet, calibration's peer scorecards and ``pscore model export``
all derive models here, so they agree on three rules:

* an edited model is validated like a model file, its problems named by path;
* a stored calibration is kept only if the scorecard it was fitted to is unchanged (its
  ``scorecard`` hash, :func:`scoring.calibration.predict.scorecard_hash`); otherwise it is dropped,
  because its predictions belong to other scores, and :class:`Derived` says which happened;
* a new version is the next minor version of a ``MAJOR.MINOR.PATCH`` version (:func:`next_version`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from scoring.calibration.predict import scorecard_hash
from scoring.model.load import ModelError, ScoringModel, format_path, from_dict

#: What became of the base model's calibration: it had none, it still applies, or it was dropped.
CalibrationFate = Literal["none", "kept", "dropped"]
#: Why a version is bumped, recorded in a non-numeric version: ``2026a`` -> ``2026a+cal.20261124``.
Reason = Literal["cal", "edit"]

__all__ = ["CalibrationFate", "Derived", "Reason", "next_version", "release", "with_overrides", "with_weights",
           "without_calibration"]

_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = re.compile(rf"{_KEY}(?:\.{_KEY}|\[\d+\])*")
_STEP = re.compile(rf"({_KEY})|\[(\d+)\]")


@dataclass(frozen=True)
class Derived:
    """A model derived from another, and what became of the other's calibration."""

    model: ScoringModel
    calibration: CalibrationFate


def with_overrides(model: ScoringModel, changes: Mapping[str, Any], *, label: str | None = None,
                   source: str = "edited model") -> Derived:
    """``model`` with each ``path -> value`` of ``changes`` set, e.g. ``weights.revenue.deals_won: 9``
    or ``tiers[0].min_score: 80`` (the paths of the model file, as problems name them).

    A path must lead through existing sections and list items; its last key may be new to a mapping
    (a weight for a metric that had none). ``label`` names the edits: the derived model is called
    ``<base name> + <label>`` when they change anything. Raises :class:`ModelError` naming each bad path.
    """
    data = model.spec.model_dump(mode="json")
    problems = []
    for path, value in changes.items():
        problem = _set(data, path, value)
        if problem:
            problems.append(f"{path}: {problem}")
    if problems:
        raise ModelError(source, problems)
    return _derive(model, data, label, source)


def with_weights(model: ScoringModel, weights: Mapping[str, Mapping[str, float]], *, segment_weights: bool = True,
                 label: str | None = None, source: str = "variant") -> Derived:
    """``model`` with other base weights (``{outcome: {metric: weight}}``, replacing the old ones
    whole); ``segment_weights=False`` also drops segment weight overrides."""
    data = model.spec.model_dump(mode="json")
    data["weights"] = {outcome: dict(given) for outcome, given in weights.items()}
    if not segment_weights:
        for segment in data["segments"]:
            segment["weights"] = {}
    return _derive(model, data, label, source)


def without_calibration(model: ScoringModel) -> ScoringModel:
    """The scorecard alone, e.g. to fit a new calibration that must not depend on the old one."""
    if model.spec.calibration is None:
        return model
    return ScoringModel(model.spec.model_copy(update={"calibration": None}), model.source)


def release(model: ScoringModel, *, date: dt.date, reason: Reason, author: str, change: str, rationale: str,
            name: str | None = None, source: str = "new model version") -> ScoringModel:
    """``model`` as the next version of itself: :func:`next_version`, effective ``date``, with a
    changelog entry; ``name`` replaces the model's name (e.g. without a ``+ workbook overrides``)."""
    data = model.spec.model_dump(mode="json")
    data.update(version=next_version(model.spec.version, date, reason), effective_date=date.isoformat(),
                changelog=[*data["changelog"], {"date": date.isoformat(), "author": author, "change": change,
                                                "rationale": rationale}])
    if name is not None:
        data["name"] = name
    return from_dict(data, source)


def next_version(version: str, date: dt.date, reason: Reason) -> str:
    """``1.0.0`` -> ``1.1.0`` (the scores' meaning is kept, so it is never a major step); any other
    scheme gets ``+<reason>.YYYYMMDD`` in place of an earlier such suffix (``2026a`` ->
    ``2026a+cal.20261124``)."""
    found = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if found:
        return f"{found[1]}.{int(found[2]) + 1}.0"
    base = re.sub(r"\+(cal|edit)\.\d{8}$", "", version)
    return f"{base}+{reason}.{date:%Y%m%d}"


def _derive(model: ScoringModel, data: dict, label: str | None, source: str) -> Derived:
    """Validate ``data`` as ``model``'s successor and apply the calibration rule (module docstring)."""
    if label is not None and data != model.spec.model_dump(mode="json"):
        data["name"] = f"{model.spec.name.removesuffix(f' + {label}')} + {label}"
    derived = from_dict(data, source)
    calibration = model.spec.calibration
    if calibration is None:
        return Derived(derived, "none")
    if scorecard_hash(derived.spec) == calibration.scorecard:
        return Derived(derived, "kept")
    return Derived(without_calibration(derived), "dropped")


def _set(data: dict, path: str, value: Any) -> str | None:
    """Set ``path`` in ``data``; the problem with the path, if any."""
    if not _PATH.fullmatch(path):
        return "not a model-file path (e.g. weights.revenue.deals_won or tiers[0].min_score)"
    steps: list[str | int] = [key if key else int(index) for key, index in _STEP.findall(path)]
    node: Any = data
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if isinstance(node, dict) and isinstance(step, str) and (last or step in node):
            child = None if last else node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            child = None if last else node[step]
        else:
            return f"no such setting in the model ({format_path(tuple(steps[:i + 1]))} does not exist)"
        if last:
            node[step] = value
        elif not isinstance(child, (dict, list)):
            return f"no such setting in the model ({format_path(tuple(steps[:i + 1]))} is a value, not a section)"
        else:
            node = child
    return None
