"""Which segments each partner belongs to, and the weights and adjustments that follow from that.

Segments override the base model for the partners they match. Overrides are resolved per distinct
*combination* of matched segments (a handful in practice), then broadcast to partners, so a million
partners cost a few small tables, not a million weight dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.compiled import OUTCOMES, Compiled
from scoring.cells import category_key, per_unique
from scoring.table import PartnerTable


@dataclass(frozen=True)
class Membership:
    """Segment membership of every partner."""

    matrix: np.ndarray  # (n, n_segments) bool
    unknown: dict[str, np.ndarray]  # dimension -> (n,) bool: value blank or not a known value
    values: dict[str, np.ndarray]  # dimension -> (n,) object: canonical spelling of each value
    combos: np.ndarray  # (k,) int: distinct membership combinations as segment bit codes
    group: np.ndarray  # (n,) index into combos


def membership(c: Compiled, table: PartnerTable) -> Membership:
    spec = c.spec
    n = table.n
    values: dict[str, np.ndarray] = {}
    unknown: dict[str, np.ndarray] = {}
    for dim, known in spec.segmentation.dimensions.items():
        canonical = {category_key(v): v for v in known}
        if dim in table:
            vals = per_unique(table.objects(dim), lambda v, c=canonical: c.get(category_key(v), str(v).strip()))
        else:
            vals = np.full(n, None, dtype=object)
        values[dim] = vals
        unknown[dim] = ~np.isin(vals, known)
    matrix = np.zeros((n, len(spec.segments)), dtype=bool)
    for j, seg in enumerate(spec.segments):
        hit = np.ones(n, dtype=bool)
        for dim, value in seg.when.items():
            hit &= values[dim] == value
        matrix[:, j] = hit
    combos, group = _groups(matrix)
    return Membership(matrix, unknown, values, combos, group)


def _groups(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct segment combinations as bit codes ``(k,)`` and each partner's index into them."""
    bits = np.arange(matrix.shape[1], dtype=np.int64)
    codes = matrix.astype(np.int64) @ (np.int64(1) << bits)  # the schema caps segments at 60
    unique, inverse = np.unique(codes, return_inverse=True)
    return unique, inverse.reshape(-1)


@dataclass(frozen=True)
class ComboTables:
    """Per segment combination: metric weights ``(2, k, M)``, total weight per layer ``(2, L, k)``
    and adjustment factors ``(2, k)``, outcomes in ``OUTCOMES`` order."""

    weights: np.ndarray
    layer_total: np.ndarray
    factors: np.ndarray


def combo_tables(c: Compiled, member: Membership) -> ComboTables:
    """Tables for the combinations present, each built once per model (partners share a few)."""
    rows = [_combo(c, int(code)) for code in member.combos] or [_combo(c, 0)]  # no partners: any shape will do
    return ComboTables(
        weights=np.stack([r[0] for r in rows], axis=1),
        layer_total=np.stack([r[1] for r in rows], axis=2),
        factors=np.stack([r[2] for r in rows], axis=1),
    )


def _combo(c: Compiled, code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    found = c.combo_cache.get(code)
    if found is None:
        active = [(code >> s) & 1 == 1 for s in range(len(c.spec.segments))]
        weights = np.stack([c.base_weights[o].copy() for o in OUTCOMES])  # (2, M)
        factors = np.ones(len(OUTCOMES))
        for k, outcome in enumerate(OUTCOMES):
            for s, j, w in c.segment_weights[outcome]:  # later segments override earlier ones
                if active[s]:
                    weights[k, j] = w
            for s, factor in enumerate(c.segment_factors[outcome]):
                if active[s]:
                    factors[k] *= factor
        bounds = c.spec.adjustment_bounds
        layer_total = np.stack([weights[:, mask].sum(axis=1) for mask in c.layer_masks], axis=1)  # (2, L)
        found = c.combo_cache[code] = (weights, layer_total, np.clip(factors, bounds.min, bounds.max))
    return found
