"""Cross-reference checks on a structurally valid model file.

Pydantic checks each field on its own; these checks need the whole file (does the metric a weight
names exist? do tiers descend?). Each problem is returned as ``(path, message)`` so the loader can
print ``weights.revenue.foo: unknown metric 'foo'`` and the YAML line it sits on.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from scoring.model.schema import Condition, LinearNorm, LogNorm, ModelSpec, PiecewiseNorm
from scoring.model import anomalies_schema  # after the schema, which imports it

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

#: Flags the engine can raise per partner; playbook rules may test them with ``op: has``.
FLAGS = (
    "missing",
    "out_of_range",
    "invalid_value",
    "unknown_segment",
    "low_coverage",
    "no_data",
    "missing_onboarding_start",
    "future_onboarding_start",
    "provisional",
)

NUMERIC_FIELDS = ("revenue_score", "engagement_score", "composite_score", "coverage", "months_since_start")
CATEGORY_FIELDS = ("stage", "tier", "quadrant")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def check(spec: ModelSpec) -> list[Problem]:
    """Every cross-reference problem in ``spec``, in file order."""
    return [
        *_duplicates(spec),
        *_metrics(spec),
        *_weights(spec),
        *_stages(spec),
        *_composite(spec),
        *_segments(spec),
        *_tiers(spec),
        *_rules(spec),
        *_budget(spec),
        *anomalies_schema.check(spec),
    ]


def _dupes(ids: list[str], *section: str) -> Iterator[Problem]:
    for ident, n in Counter(ids).items():
        if n > 1:
            yield (*section, ids.index(ident), "id"), f"duplicate id '{ident}' ({n} times)"


def _duplicates(spec: ModelSpec) -> Iterator[Problem]:
    yield from _dupes([m.id for m in spec.metrics], "metrics")
    yield from _dupes([x.id for x in spec.layers], "layers")
    yield from _dupes([o.id for o in spec.outcomes], "outcomes")
    yield from _dupes([s.id for s in spec.stages], "stages")
    yield from _dupes([s.id for s in spec.segments], "segments")
    yield from _dupes([t.id for t in spec.tiers], "tiers")
    yield from _dupes([r.id for r in spec.playbook.rules], "playbook", "rules")
    if spec.budget is not None:
        yield from _dupes([p.id for p in spec.budget.pools], "budget", "pools")


def _order_problem(direction: str, floor: float, target: float) -> str | None:
    if direction == "higher" and target <= floor:
        return "must be greater than floor"
    if direction == "lower" and target >= floor:
        return "must be less than floor for a lower-is-better metric"
    return None


def _metrics(spec: ModelSpec) -> Iterator[Problem]:
    layers = {x.id for x in spec.layers}
    for i, m in enumerate(spec.metrics):
        if m.layer not in layers:
            yield ("metrics", i, "layer"), f"unknown layer '{m.layer}' (known: {', '.join(sorted(layers))})"
        norm = m.normalization
        if isinstance(norm, (LinearNorm, LogNorm)):
            problem = _order_problem(m.direction, norm.floor, norm.target)
            if problem:
                yield ("metrics", i, "normalization", "target"), problem
        elif isinstance(norm, PiecewiseNorm):
            yield from _piecewise(m.direction, norm, ("metrics", i, "normalization", "points"))


def _piecewise(direction: str, norm: PiecewiseNorm, path: Path) -> Iterator[Problem]:
    """Values strictly increasing; scores never falling (higher is better) or never rising (lower):
    a score that turned back would reward a worse value than a better one."""
    for k in range(1, len(norm.points)):
        (before, was), (value, now) = norm.points[k - 1], norm.points[k]
        if value <= before:
            yield (*path, k, 0), f"values must be strictly increasing ({value:g} after {before:g})"
        if direction == "higher" and now < was:
            yield (*path, k, 1), f"scores must not fall for a higher-is-better metric ({now:g} after {was:g})"
        if direction == "lower" and now > was:
            yield (*path, k, 1), f"scores must not rise for a lower-is-better metric ({now:g} after {was:g})"


def _weights(spec: ModelSpec) -> Iterator[Problem]:
    metrics = {m.id: m for m in spec.metrics}
    for outcome in ("revenue", "engagement"):
        given = spec.weights.get(outcome)
        if given is None:
            yield ("weights",), f"missing weights for outcome '{outcome}'"
            continue
        for metric_id, w in given.items():
            if metric_id not in metrics:
                yield ("weights", outcome, metric_id), f"unknown metric '{metric_id}'"
            elif outcome not in metrics[metric_id].informs:
                yield (
                    ("weights", outcome, metric_id),
                    f"metric '{metric_id}' does not inform {outcome} (add {outcome} to its 'informs')",
                )
        for m in spec.metrics:
            if outcome in m.informs and given.get(m.id, 0) <= 0:
                yield ("weights", outcome), f"metric '{m.id}' informs {outcome} but has no positive weight"
        if not any(w > 0 for w in given.values()):
            yield ("weights", outcome), "at least one weight must be positive"


def _stages(spec: ModelSpec) -> Iterator[Problem]:
    layers = [x.id for x in spec.layers]
    previous = 0.0
    for i, st in enumerate(spec.stages):
        last = i == len(spec.stages) - 1
        for key in st.layer_weights:
            if key not in layers:
                yield ("stages", i, "layer_weights", key), f"unknown layer '{key}'"
        for key in layers:
            if key not in st.layer_weights:
                yield ("stages", i, "layer_weights"), f"missing weight for layer '{key}'"
        if sum(st.layer_weights.values()) <= 0:
            yield ("stages", i, "layer_weights"), "at least one layer weight must be positive"
        if last and st.max_months is not None:
            yield ("stages", i, "max_months"), "the last stage is open-ended: remove max_months"
        if not last:
            if st.max_months is None:
                yield ("stages", i, "max_months"), "required on every stage but the last"
            elif st.max_months <= previous:
                yield ("stages", i, "max_months"), f"must be greater than the previous stage's ({previous:g})"
            else:
                previous = st.max_months


def _composite(spec: ModelSpec) -> Iterator[Problem]:
    for outcome in ("revenue", "engagement"):
        if outcome not in spec.composite_weights:
            yield ("composite_weights",), f"missing weight for '{outcome}'"
    if sum(spec.composite_weights.values()) <= 0:
        yield ("composite_weights",), "at least one weight must be positive"


def _segments(spec: ModelSpec) -> Iterator[Problem]:
    dims = spec.segmentation.dimensions
    metrics = {m.id: m for m in spec.metrics}
    if spec.segmentation.primary not in dims:
        yield ("segmentation", "primary"), f"'{spec.segmentation.primary}' is not one of the dimensions"
    bounds = spec.adjustment_bounds
    for i, seg in enumerate(spec.segments):
        for column, value in seg.when.items():
            if column not in dims:
                yield ("segments", i, "when", column), f"unknown dimension '{column}' (known: {', '.join(dims)})"
            elif value not in dims[column]:
                yield ("segments", i, "when", column), f"'{value}' is not a known {column} ({', '.join(dims[column])})"
        for outcome, ws in seg.weights.items():
            for metric_id in ws:
                if metric_id not in metrics:
                    yield ("segments", i, "weights", outcome, metric_id), f"unknown metric '{metric_id}'"
                elif outcome not in metrics[metric_id].informs:
                    yield (
                        ("segments", i, "weights", outcome, metric_id),
                        f"metric '{metric_id}' does not inform {outcome}",
                    )
        for metric_id, override in seg.normalization.items():
            path = ("segments", i, "normalization", metric_id)
            metric = metrics.get(metric_id)
            if metric is None:
                yield path, f"unknown metric '{metric_id}'"
            elif not isinstance(metric.normalization, (LinearNorm, LogNorm)):
                yield path, (f"only linear or log metrics take floor/target overrides ('{metric_id}' is "
                             f"{metric.normalization.kind}): remove the override")
            else:
                problem = _order_problem(metric.direction, override.floor, override.target)
                if problem:
                    yield (*path, "target"), problem
                if isinstance(metric.normalization, LogNorm) and min(override.floor, override.target) < 0:
                    yield path, "log normalisation needs non-negative floor and target"
        for outcome, factor in seg.adjustment.items():
            if not bounds.min <= factor <= bounds.max:
                yield (
                    ("segments", i, "adjustment", outcome),
                    f"{factor:g} is outside adjustment_bounds [{bounds.min:g}, {bounds.max:g}]",
                )


def _tiers(spec: ModelSpec) -> Iterator[Problem]:
    for i in range(1, len(spec.tiers)):
        if spec.tiers[i].min_score >= spec.tiers[i - 1].min_score:
            yield ("tiers", i, "min_score"), "tiers must be listed best first with strictly decreasing min_score"
    if spec.tiers[-1].min_score != 0:
        yield ("tiers", len(spec.tiers) - 1, "min_score"), "the last tier must start at 0 so every score has a tier"


def _rules(spec: ModelSpec) -> Iterator[Problem]:
    known = {
        "stage": [s.id for s in spec.stages],
        "tier": [t.id for t in spec.tiers],
        "quadrant": list(spec.quadrants.labels.model_dump().values()),
    }
    metrics = {m.id for m in spec.metrics}
    for i, rule in enumerate(spec.playbook.rules):
        for group in ("all", "any"):
            for j, cond in enumerate(getattr(rule.when, group)):
                path = ("playbook", "rules", i, "when", group, j)
                yield from ((path + sub, msg) for sub, msg in _condition(cond, metrics, known))


def _condition(cond: Condition, metrics: set[str], known: dict[str, list[str]]) -> Iterator[Problem]:
    field, op, value = cond.field, cond.op, cond.value
    if field.startswith("metric:"):
        metric_id = field.removeprefix("metric:")
        if metric_id not in metrics:
            yield ("field",), f"unknown metric '{metric_id}'"
        elif op in ("missing", "present"):
            if value is not None:
                yield ("value",), f"'{op}' takes no value"
        elif op not in COMPARISONS or not isinstance(value, (int, float)):
            yield ("op",), "a metric sub-score is compared with <, <=, >, >=, ==, != and a number 0-100"
    elif field in NUMERIC_FIELDS:
        if op not in COMPARISONS or not isinstance(value, (int, float)):
            yield ("op",), f"'{field}' is compared with <, <=, >, >=, ==, != and a number"
    elif field in CATEGORY_FIELDS:
        values = value if isinstance(value, list) else [value]
        if op in ("in", "not in") and not isinstance(value, list):
            yield ("value",), f"'{op}' takes a list"
        elif op not in ("==", "!=", "in", "not in"):
            yield ("op",), f"'{field}' is tested with ==, !=, in or not in"
        for v in values:
            if v not in known[field]:
                yield ("value",), f"unknown {field} '{v}' (known: {', '.join(known[field])})"
    elif field == "flag":
        if op != "has":
            yield ("op",), "flags are tested with 'has'"
        if value not in FLAGS:
            yield ("value",), f"unknown flag '{value}' (known: {', '.join(FLAGS)})"
    else:
        fields = [*NUMERIC_FIELDS, *CATEGORY_FIELDS, "flag", "metric:<id>"]
        yield ("field",), f"unknown field '{field}' (known: {', '.join(fields)})"


def _budget(spec: ModelSpec) -> Iterator[Problem]:
    """Each pool's rule names what it allocates by: known tiers, or a lever some rule uses."""
    if spec.budget is None:
        return
    tiers = [t.id for t in spec.tiers]
    rules = {r.id: r for r in spec.playbook.rules}
    for i, pool in enumerate(spec.budget.pools):
        path = ("budget", "pools", i)
        if pool.rule == "by_tier":
            if not pool.tiers:
                yield (*path, "tiers"), f"a by_tier pool needs an amount or weight per tier (tiers: {', '.join(tiers)})"
            for tier in pool.tiers:
                if tier not in tiers:
                    yield (*path, "tiers", tier), f"unknown tier '{tier}' (known: {', '.join(tiers)})"
            for key in ("lever", "rules"):
                if getattr(pool, key):
                    yield (*path, key), f"a by_tier pool takes no {key}; use rule: by_lever"
        else:
            if pool.lever in (None, "none"):
                yield (*path, "lever"), "a by_lever pool needs a lever (coaching_hours, training_budget, mdf, technical_enablement)"
                continue
            if pool.tiers:
                yield (*path, "tiers"), "a by_lever pool takes no tiers; use rule: by_tier"
            using = [r.id for r in spec.playbook.rules if pool.lever in r.levers]
            if not using:
                yield (*path, "lever"), f"no playbook rule uses the lever '{pool.lever}'"
            for rule_id in pool.rules:
                if rule_id not in rules:
                    yield (*path, "rules", rule_id), f"unknown playbook rule '{rule_id}'"
                elif pool.lever not in rules[rule_id].levers:
                    yield (*path, "rules", rule_id), (f"rule '{rule_id}' does not use the lever '{pool.lever}' "
                                                      f"(its levers: {', '.join(rules[rule_id].levers)})")
