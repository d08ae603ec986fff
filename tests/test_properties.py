"""Properties that must hold for any input: bounded scores, monotone metrics, no crash on junk."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import load_model, score
from scoring.model.schema import BooleanNorm, OrdinalNorm

from tests.conftest import AS_OF, TYPICAL, partners, started

MODEL = load_model("default")
METRICS = {m.id: m for m in MODEL.spec.metrics}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def valid_value(metric) -> st.SearchStrategy:
    norm = metric.normalization
    if isinstance(norm, BooleanNorm):
        return st.sampled_from(["Yes", "No", 1, 0, True, False])
    if isinstance(norm, OrdinalNorm):
        return st.sampled_from(list(norm.map))
    lo, hi = metric.valid_range or (0.0, max(norm.floor, norm.target) * 3)
    return st.floats(lo, hi, allow_nan=False)


junk = st.one_of(st.none(), st.just(float("nan")), st.text(max_size=6), st.floats(-1e12, 1e12),
                 st.booleans(), st.integers(-10**6, 10**6))
any_value = {mid: st.one_of(valid_value(m), junk) for mid, m in METRICS.items()}


@st.composite
def partner(draw, values=any_value):
    row = {mid: draw(strategy) for mid, strategy in values.items()}
    row["partner_type"] = draw(st.sampled_from(["reseller", "integrator", "referral", "marketplace", "Other", None]))
    row["region"] = draw(st.sampled_from(["NA", "EMEA", "APAC", "LATAM", "Mars", None]))
    row["onboarding_start"] = draw(st.one_of(st.none(), st.floats(-2, 30).map(started)))
    return row


@SETTINGS
@given(st.lists(partner(), min_size=1, max_size=8))
def test_scores_stay_in_range_whatever_the_input(rows):
    result = score(partners(*rows), MODEL, as_of=AS_OF)
    frame = result.frame
    for column in ("revenue_score", "engagement_score", "composite_score"):
        values = frame[column].to_numpy(dtype=float)
        assert np.all(np.isnan(values) | ((values >= 0) & (values <= 100)))
    assert np.all((frame["coverage"] >= 0) & (frame["coverage"] <= 1))
    assert set(frame["tier"]) <= {"A", "B", "C", "D", "Unscored"}
    unscored = frame["tier"] == "Unscored"
    assert (frame.loc[unscored, "flags"].str.contains("no usable metrics")).all()
    assert frame.loc[~unscored, "composite_score"].notna().all()
    assert len(result.top_drivers()) >= 0 and len(result.flags) >= 0


def _step_up(metric, value, draw):
    """A strictly better value of ``metric`` than ``value``, staying valid."""
    norm = metric.normalization
    if isinstance(norm, BooleanNorm):
        return "Yes" if metric.direction == "higher" else "No"
    if isinstance(norm, OrdinalNorm):
        better = [k for k, v in norm.map.items() if v >= norm.map[value]]
        return draw(st.sampled_from(better))
    lo, hi = metric.valid_range or (0.0, max(norm.floor, norm.target) * 3)
    if metric.direction == "higher":
        return draw(st.floats(value, hi, allow_nan=False))
    return draw(st.floats(lo, value, allow_nan=False))


@SETTINGS
@given(st.data())
def test_improving_a_metric_never_lowers_the_outcomes_it_informs(data):
    values = {mid: st.one_of(valid_value(m), st.none()) for mid, m in METRICS.items()}
    row = data.draw(partner(values))
    metric = METRICS[data.draw(st.sampled_from(sorted(METRICS)))]
    start = data.draw(valid_value(metric))
    if isinstance(metric.normalization, BooleanNorm):
        start = "No" if metric.direction == "higher" else "Yes"
    better = _step_up(metric, start, data.draw)
    before = score(partners({**row, metric.id: start}), MODEL, as_of=AS_OF).raw_scores.iloc[0]
    after = score(partners({**row, metric.id: better}), MODEL, as_of=AS_OF).raw_scores.iloc[0]
    for outcome in metric.informs:
        assert after[outcome] >= before[outcome] - 1e-9, (metric.id, start, better, outcome)


@SETTINGS
@given(st.data())
def test_drivers_always_add_up(data):
    rows = data.draw(st.lists(partner(), min_size=1, max_size=5))
    result = score(partners(*rows), MODEL, as_of=AS_OF)
    for outcome in ("revenue", "engagement", "composite"):
        total = result.contributions[outcome].sum(axis=1).to_numpy() + result.baseline
        raw = result.raw_scores[outcome].to_numpy()
        scored = ~np.isnan(raw)
        assert np.allclose(total[scored], raw[scored], atol=1e-9)
        assert np.allclose(total[~scored], result.baseline)  # nothing to explain


def test_typical_partner_is_fully_covered():
    result = score(partners(), MODEL, as_of=AS_OF)
    assert result["coverage"][0] == 1.0 and not math.isnan(result["composite_score"][0])
    assert set(TYPICAL) == set(METRICS)
