"""A model file turned into the arrays the engine computes with, built once per model content.

Scoring one partner must cost well under a millisecond (an Excel UDF recalculates per row), so
everything that depends only on the model -- weight vectors, normalisation parameters, stage
tables, the phrases used for drivers -- is prepared here once and cached by the model's hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scoring.model.load import ScoringModel
from scoring.cells import FALSE_WORDS, TRUE_WORDS, category_key
from scoring.model.schema import BooleanNorm, LinearNorm, LogNorm, ModelSpec, OrdinalNorm, PiecewiseNorm

__all__ = ["ADJUSTMENT", "ADJUSTMENT_LABEL", "OUTCOMES", "Compiled", "compile_model"]

OUTCOMES = ("revenue", "engagement")
ADJUSTMENT = "segment_adjustment"
ADJUSTMENT_LABEL = "Segment adjustment"
POINT_STEPS = 2001  # driver points are shown to 0.1 within +/-100

KIND_LINEAR, KIND_LOG, KIND_BOOLEAN, KIND_ORDINAL, KIND_PIECEWISE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Compiled:
    spec: ModelSpec
    metric_ids: list[str]
    labels: list[str]
    layer_ids: list[str]
    layer_masks: list[np.ndarray]  # per layer: bool (M,) of its metrics
    layer_index: np.ndarray  # (L, K) metric indices per layer, padded with M (a zero row)
    metric_layer: np.ndarray  # (M,) layer index
    kind: np.ndarray  # (M,) KIND_*
    floor: np.ndarray  # (M,) value scoring 0, on the transformed scale (log1p for log metrics)
    target: np.ndarray  # (M,) value scoring 100, on the same scale
    log_columns: np.ndarray  # (M,) bool
    valid_lo: np.ndarray  # (M,) smallest acceptable value (-inf if none)
    valid_hi: np.ndarray  # (M,) largest acceptable value (+inf if none)
    lookups: dict[int, dict[str, float]]  # metric index -> category key -> value (ordinal score / boolean 0-1)
    piecewise: dict[int, tuple[np.ndarray, np.ndarray]]  # metric index -> (values, scores) of its points
    since: list[tuple[int, np.datetime64]]  # (metric index, first day recorded) of metrics with a since date
    base_weights: dict[str, np.ndarray]  # outcome -> (M,)
    stage_ids: np.ndarray  # (S,) object
    stage_bounds: np.ndarray  # (S-1,) max_months of every stage but the last
    stage_weights: np.ndarray  # (S, L)
    composite: np.ndarray  # (2,) normalised composite weights, in OUTCOMES order
    tier_mins: np.ndarray  # ascending
    tier_ids: np.ndarray  # object, same order as tier_mins
    phrases: np.ndarray  # driver phrases: (M + 1) * POINT_STEPS strings + trailing ""
    separated_phrases: np.ndarray  # the same with a leading "; " (the trailing "" stays empty)
    norm_overrides: list[tuple[int, int, float, float]]  # (segment, metric, floor, target), transformed
    segment_weights: dict[str, list[tuple[int, int, float]]]  # outcome -> (segment, metric, weight)
    segment_factors: dict[str, np.ndarray]  # outcome -> (n_segments,) adjustment factor
    combo_cache: dict = field(default_factory=dict)  # segment combination code -> tables (segments.py)
    playbook_cache: dict = field(default_factory=dict)  # rules as ready tests (playbook.py)


_CACHE: dict[str, Compiled] = {}

def compile_model(model: ScoringModel) -> Compiled:
    """The compiled form of ``model``, cached by content hash."""
    found = _CACHE.get(model.hash)
    if found is None:
        found = _CACHE[model.hash] = _build(model.spec)
    return found


def _build(spec: ModelSpec) -> Compiled:
    metrics = spec.metrics
    m = len(metrics)
    layer_ids = [x.id for x in spec.layers]
    metric_layer = np.array([layer_ids.index(x.layer) for x in metrics])
    kind = np.zeros(m, dtype=np.int8)
    floor, target = np.zeros(m), np.ones(m)
    lo, hi = np.full(m, -np.inf), np.full(m, np.inf)
    lookups: dict[int, dict[str, float]] = {}
    piecewise: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for j, metric in enumerate(metrics):
        norm = metric.normalization
        if metric.valid_range is not None:
            lo[j], hi[j] = metric.valid_range
        if isinstance(norm, LinearNorm):
            kind[j], floor[j], target[j] = KIND_LINEAR, norm.floor, norm.target
        elif isinstance(norm, LogNorm):
            kind[j], floor[j], target[j] = KIND_LOG, np.log1p(norm.floor), np.log1p(norm.target)
            lo[j] = max(lo[j], 0.0)
        elif isinstance(norm, BooleanNorm):  # value 0/1; lower-is-better maps yes to 0
            kind[j] = KIND_BOOLEAN
            floor[j], target[j] = (1.0, 0.0) if metric.direction == "lower" else (0.0, 1.0)
            lookups[j] = {**{w: 1.0 for w in TRUE_WORDS}, **{w: 0.0 for w in FALSE_WORDS}}
        elif isinstance(norm, OrdinalNorm):  # value is already the sub-score
            kind[j], floor[j], target[j] = KIND_ORDINAL, 0.0, 100.0
            lookups[j] = {category_key(k): float(v) for k, v in norm.map.items()}
        elif isinstance(norm, PiecewiseNorm):  # scored by interpolation (normalize.piecewise), not linearly
            kind[j] = KIND_PIECEWISE
            points = np.array(norm.points, dtype=float)
            piecewise[j] = (points[:, 0].copy(), points[:, 1].copy())
    names = [x.label for x in metrics] + [ADJUSTMENT_LABEL]
    phrases = np.array(
        [f"{name} {(step - POINT_STEPS // 2) / 10:+.1f}" for name in names for step in range(POINT_STEPS)] + [""],
        dtype=object,
    )
    cw = np.array([spec.composite_weights[o] for o in OUTCOMES], dtype=float)
    ids = [x.id for x in metrics]
    return Compiled(
        spec=spec,
        metric_ids=[x.id for x in metrics],
        labels=[x.label for x in metrics],
        layer_ids=layer_ids,
        layer_masks=[metric_layer == i for i in range(len(layer_ids))],
        layer_index=_padded([np.flatnonzero(metric_layer == i) for i in range(len(layer_ids))], m),
        metric_layer=metric_layer,
        kind=kind,
        log_columns=kind == KIND_LOG,
        floor=floor,
        target=target,
        valid_lo=lo,
        valid_hi=hi,
        lookups=lookups,
        piecewise=piecewise,
        since=[(j, np.datetime64(x.since, "D")) for j, x in enumerate(metrics) if x.since is not None],
        base_weights={o: np.array([spec.weights[o].get(x.id, 0.0) for x in metrics]) for o in OUTCOMES},
        stage_ids=np.array([s.id for s in spec.stages], dtype=object),
        stage_bounds=np.array([s.max_months for s in spec.stages[:-1]], dtype=float),
        stage_weights=np.array([[s.layer_weights[x] for x in layer_ids] for s in spec.stages], dtype=float),
        composite=cw / cw.sum(),
        tier_mins=np.array([t.min_score for t in spec.tiers])[::-1].copy(),
        tier_ids=np.array([t.id for t in spec.tiers], dtype=object)[::-1].copy(),
        phrases=phrases,
        separated_phrases=np.array([f"; {p}" if p else "" for p in phrases], dtype=object),
        norm_overrides=[
            (s, ids.index(metric_id), *_scale(kind[ids.index(metric_id)], o.floor, o.target))
            for s, seg in enumerate(spec.segments)
            for metric_id, o in seg.normalization.items()
        ],
        segment_weights={
            o: [(s, ids.index(mid), w) for s, seg in enumerate(spec.segments) for mid, w in seg.weights.get(o, {}).items()]
            for o in OUTCOMES
        },
        segment_factors={o: np.array([seg.adjustment.get(o, 1.0) for seg in spec.segments]) for o in OUTCOMES},
    )


def _padded(groups: list[np.ndarray], pad: int) -> np.ndarray:
    width = max(len(g) for g in groups)
    return np.array([[*g, *[pad] * (width - len(g))] for g in groups], dtype=np.int64)


def _scale(kind: int, floor: float, target: float) -> tuple[float, float]:
    return (float(np.log1p(floor)), float(np.log1p(target))) if kind == KIND_LOG else (floor, target)
