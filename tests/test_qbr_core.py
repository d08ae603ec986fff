"""The quarterly review's core: quarters, the path to the next tier (checked against the engine),
the executive summary's sentences and the programme's figures."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from scoring import score
from scoring import programme_review as programme
from scoring.next_tier import QUARTER_DAYS, paths_to_next_tier, shown_value
from scoring.quarters import Quarter, quarter_of
from scoring.review import (Previous, Standing, Trend, after_actions, metric_benchmarks, monthly_trend, partners_at,
                            scores_at, summary)

from tests.conftest import AS_OF, TYPICAL, partners, started


# ------------------------------------------------------------------ quarters

@pytest.mark.parametrize("text, year, number", [("2026Q3", 2026, 3), ("2026-q1", 2026, 1), ("Q4 2025", 2025, 4)])
def test_quarters_are_read_as_people_write_them(text, year, number):
    assert Quarter.parse(text) == Quarter(year, number)


@pytest.mark.parametrize("text", ["2026Q5", "Q3", "2026-09-30", ""])
def test_a_bad_quarter_says_how_to_write_one(text):
    with pytest.raises(ValueError, match="use YYYYQn"):
        Quarter.parse(text)


def test_quarter_days_and_neighbours():
    q = Quarter.parse("2026Q1")
    assert (q.start, q.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert q.previous() == Quarter(2025, 4) and q.previous().end == dt.date(2025, 12, 31)
    assert Quarter(2025, 4).next() == q and str(q) == "2026Q1" and q.label == "Q1 2026"
    assert quarter_of(dt.date(2026, 11, 1)) == Quarter(2026, 4)


# ------------------------------------------------------------------ path to the next tier

def _weak(**values) -> pd.DataFrame:
    return partners({"partner_id": "P1", **values})


def test_a_path_reaches_the_next_tier_when_scored_by_the_engine(model):
    frame = partners({}, {"deals_won": 0, "pipeline_value": 20000, "qualified_leads": 2},
                     {"training_completion_rate": 0.3, "certification_status": "None", "responsiveness_hours": 80},
                     {"deal_conversion_rate": 0.06, "collaboration_frequency": 1})
    paths = paths_to_next_tier(frame, model, AS_OF)
    result = score(frame, model, as_of=AS_OF)
    tiers = {t.id: t.min_score for t in model.spec.tiers}
    checked = 0
    for i, path in enumerate(paths):
        if path is None:
            assert result["tier"][i] == "A"
            continue
        assert path.reachable and path.steps
        assert path.threshold == min(v for v in tiers.values() if v > tiers[result["tier"][i]])
        changed = frame.iloc[[i]].copy()
        for step in path.steps:
            changed[step.metric] = [step.target]
            metric = next(m for m in model.spec.metrics if m.id == step.metric)
            if isinstance(step.target, float):
                lo, hi = metric.valid_range
                assert lo <= step.target <= hi
                assert (step.target > step.current) == (metric.direction == "higher"), step
            assert step.points > 0 and metric.interval_days <= QUARTER_DAYS
        after = score(changed, model, as_of=AS_OF)
        assert after["composite_score"][0] == path.after >= path.threshold
        assert after["tier"][0] == path.next_tier
        checked += 1
    assert checked >= 3


def test_the_path_is_the_fewest_improvements(model):
    """No single metric at its best value reaches the tier when the path asks for two or more."""
    frame = partners({"deals_won": 0, "pipeline_value": 5000, "qualified_leads": 1, "deal_conversion_rate": 0.05,
                      "training_completion_rate": 0.3, "certification_status": "None", "market_alignment": 2,
                      "responsiveness_hours": 60, "channel_reach": 50})
    path = paths_to_next_tier(frame, model, AS_OF)[0]
    assert path is not None and len(path.steps) >= 2
    best = {"deals_won": 15, "pipeline_value": 1e6, "qualified_leads": 40, "deal_conversion_rate": 0.35,
            "training_completion_rate": 0.9, "certification_status": "Advanced", "responsiveness_hours": 4,
            "collaboration_frequency": 4, "onboarding_completion_days": 30, "marketing_commitment_adherence": 1.0,
            "manager_assessment": 5, "average_contract_size": 1e5, "deal_velocity_days": 30}
    singles = pd.concat([frame.assign(**{k: [v]}) for k, v in best.items()], ignore_index=True)
    assert (score(singles, model, as_of=AS_OF)["composite_score"] < path.threshold).all()


def test_lower_is_better_metrics_are_lowered(model):
    frame = _weak(responsiveness_hours=90, onboarding_completion_days=170, **{
        k: v for k, v in TYPICAL.items() if k not in ("responsiveness_hours", "onboarding_completion_days")})
    path = paths_to_next_tier(frame, model, AS_OF)[0]
    lowered = [s for s in path.steps if s.metric in ("responsiveness_hours", "onboarding_completion_days")]
    for step in lowered:
        assert step.target < step.current
    assert path.steps


def test_top_tier_and_unscored_partners_have_no_path(model):
    best = {"market_alignment": 5, "channel_reach": 5000, "product_adoption_potential": 5, "deals_won": 30,
            "pipeline_value": 2e6, "qualified_leads": 60, "deal_conversion_rate": 0.4, "training_completion_rate": 1,
            "certification_status": "Advanced", "collaboration_frequency": 5, "first_quarter_activities": 9,
            "average_contract_size": 2e5, "partner_feedback": 5, "manager_assessment": 5}
    frame = partners(best, {m.id: None for m in model.spec.metrics})
    assert score(frame, model, as_of=AS_OF)["tier"][0] == "A"
    assert paths_to_next_tier(frame, model, AS_OF) == [None, None]


def test_the_stage_at_the_due_date_applies(model):
    """A partner two months in is scored at the date its commitments are due, in the stage it will be in then."""
    frame = partners({"onboarding_start": started(2), "deals_won": 0, "pipeline_value": 1000, "market_alignment": 2,
                      "product_adoption_potential": 2, "channel_reach": 50})
    by = dt.date(2027, 3, 31)
    path = paths_to_next_tier(frame, model, AS_OF, by=by)[0]
    assert path.baseline != path.composite
    assert path.composite == score(frame, model, as_of=AS_OF)["composite_score"][0]
    assert path.baseline == score(frame, model, as_of=by)["composite_score"][0]
    assert path.by == by


def test_one_partner_gets_the_path_it_gets_in_a_batch(model):
    frame = partners({}, {"deals_won": 1}, {"pipeline_value": 10000}, {"certification_status": "In progress"})
    batch = paths_to_next_tier(frame, model, AS_OF)
    alone = [paths_to_next_tier(frame.iloc[[i]], model, AS_OF)[0] for i in range(len(frame))]
    assert batch == alone


@pytest.mark.parametrize("value, unit, shown", [(0.42, "share", "42%"), (420000.0, "USD", "420,000 USD"),
                                                (12.0, "days", "12 days"), (4.0, "score 1-5", "4"),
                                                ("advanced", "level", "Advanced")])
def test_values_are_shown_in_their_unit(value, unit, shown):
    assert shown_value(value, unit) == shown


# ------------------------------------------------------------------ summary sentences

STANDING = Standing(name="Acme", tier="B", tier_label="Develop", composite=64.2, revenue=68.0, engagement=58.3,
                    quadrant="Revenue at risk", segment="reseller", segment_percentile=72.0)


def test_the_summary_says_where_the_partner_stands_and_what_changed():
    previous = Previous("Q3 2026", dt.date(2026, 9, 30), dt.date(2026, 9, 30), composite=59.1, tier="C")
    text = " ".join(summary(STANDING, previous, None, trend=Trend(1.26, 6, (0, 0), (6, 7.56))))
    assert ("Acme is in tier B (Develop) with a composite score of 64.2 (revenue 68.0, engagement 58.3); "
            "Revenue at risk. That is the 72nd percentile of reseller partners.") in text
    assert "Since the end of Q3 2026 the composite score rose 5.1 points from 59.1, moving up from tier C to tier B." in text
    assert "rising by about 1.3 points a month" in text


def test_the_ledger_reasons_replace_the_trend_when_given():
    previous = Previous("Q3 2026", dt.date(2026, 9, 30), None)
    text = " ".join(summary(STANDING, previous, None, reasons=[("Deals won", 3.2), ("Responsiveness", -1.0)],
                            trend=Trend(1.0, 6, (0, 0), (6, 6))))
    assert "The main reasons: Deals won +3.2; Responsiveness -1.0." in text and "a month" not in text
    assert "There is no score for the end of Q3 2026" in text


def test_the_summary_names_the_path(model):
    frame = partners({"deals_won": 1, "pipeline_value": 20000})
    path = paths_to_next_tier(frame, model, AS_OF)[0]
    text = " ".join(summary(STANDING, None, path))
    assert f"Reaching tier {path.next_tier} ({path.threshold:g}+) by 1 Nov 2026 takes" in text
    assert path.steps[0].sentence in text
    assert summary(STANDING, None, None, top_tier=True)[-1] == "Tier B is the top tier; the aim is to keep it."


def test_monthly_trend_is_a_least_squares_slope():
    found = monthly_trend([(1, 40.0), (2, 42.0), (3, 44.0), (4, None), (5, 48.0)], 5.0)
    assert found.n == 4 and found.slope == pytest.approx(2.0)
    assert found.start == (1.0, pytest.approx(40.0)) and found.end == (5.0, pytest.approx(48.0))
    assert monthly_trend([(1, 40.0), (5, 48.0)], 5.0) is None
    last = monthly_trend([(0, 10.0), (10, 40.0), (11, 41.0), (12, 42.0)], 12.0, window=6)
    assert (last.slope, last.n) == (pytest.approx(1.0), 3)


def test_scores_at_takes_the_latest_recent_snapshot():
    history = pd.DataFrame({"partner_id": ["P1", "P1", "P2", "P3"],
                            "period": [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 5, 31)],
                            "months_since_start": [1, 2, 3, 4], "revenue_score": [1.0, 2.0, 3.0, 4.0],
                            "engagement_score": [1.0, 2.0, 3.0, 4.0], "composite_score": [1.0, 2.0, 3.0, 4.0],
                            "tier": ["D", "C", "B", "A"]})
    found = scores_at(history, ["P1", "P2", "P3", "P4"], dt.date(2026, 9, 30))
    assert list(found["composite_score"].fillna(-1)) == [2.0, -1, -1, -1]
    assert list(found["tier"]) == ["C", None, None, None]


# ------------------------------------------------------------------ programme figures

def test_programme_tables_add_up(model):
    frame = partners(*({"deals_won": k, "partner_type": t} for k, t in zip(range(12), itertools.cycle(
        ["reseller", "integrator", "referral"]))), {m.id: None for m in model.spec.metrics})
    result = score(frame, model, as_of=AS_OF)
    dist = programme.tier_distribution(result)
    assert dist["partners"].sum() == len(frame) and dist["share"].sum() == pytest.approx(1.0)
    assert dist["tier"].iloc[-1] == "Unscored"
    before = np.array(["A", "B", "C", "D", None, "B", "B", "C", "D", "D", "A", None, "C"], dtype=object)
    matrix = programme.migration(result, before)
    assert matrix.loc["Total", "Total"] == len(frame)
    assert matrix.loc["No score", "Total"] == 2
    now = result["composite_score"]
    previous = np.where(np.arange(len(frame)) % 2 == 0, now - 3.0, now + 2.0)
    moved = programme.movers(result, previous, n=3)
    assert list(moved["up"]["change"]) == [3.0, 3.0, 3.0] and list(moved["down"]["change"]) == [-2.0] * 3
    segments = programme.segment_scores(result)
    assert segments["partners"].iloc[-1] == 12 and segments["segment"].iloc[-1] == "All partners"
    calibrated, rollup = programme.forecast_rollup(result)
    assert not calibrated and "expected" not in rollup and rollup["partners"].iloc[-1] == 12
    assert programme.model_health(result) is None
    flags = programme.quality_summary(result)
    assert flags.loc[flags["flag"] == "missing", "partners"].iloc[0] == 1


def test_metric_benchmarks_are_segment_medians_of_large_enough_segments():
    frame = pd.DataFrame({"deals_won": [1, 2, 3, 4, 5, "6", None, 7], "partner_type": ["r"] * 7 + ["i"]})
    found = metric_benchmarks(frame, frame["partner_type"], ["deals_won", "absent"], min_size=5)
    assert found == {"deals_won": {"r": (3.5, 6)}}


def test_after_actions_compares_the_snapshot_before_each_action_with_now():
    points = [(dt.date(2026, 5, 31), 40.04), (dt.date(2026, 6, 30), 45.0), (dt.date(2026, 7, 31), None)]
    found = after_actions(points, [dt.date(2026, 7, 15), dt.date(2026, 5, 1), None], 50.0)
    assert found == [(45.0, 5.0), (None, None), (None, None)]


def test_partners_at_takes_each_partners_snapshot_of_the_day():
    frame = pd.DataFrame({"partner_id": ["P1", "P2", "P3"], "deals_won": [9, 9, 9], "region": ["NA"] * 3},
                         index=[2, 3, 4])
    history = pd.DataFrame({"partner_id": ["P1", "P1", "P2", "P3"], "deals_won": [1, 2, 3, 4],
                            "period": ["2026-08-31", "2026-09-30", "2026-10-31", "2026-05-31"]})
    found, taken = partners_at(frame, history, dt.date(2026, 9, 30), ["deals_won", "pipeline_value"])
    assert list(taken) == [True, False, False]
    assert list(found["deals_won"]) == [2, 9, 9] and list(found.index) == [2, 3, 4]
    assert list(found["region"]) == ["NA"] * 3 and "pipeline_value" not in found


def test_every_demo_partners_path_is_confirmed_by_the_engine(model):
    """On 120 synthetic partners (messy values, every stage and segment): each path's values lie in
    the metric's valid range and move in its better direction, and the engine puts the partner in
    the next tier with them, by the due date."""
    from scoring.synthetic import generate

    frame = generate(n_partners=120, seed=7, as_of=AS_OF).partners
    by = dt.date(2027, 3, 31)
    paths = paths_to_next_tier(frame, model, AS_OF, by=by)
    metrics = {m.id: m for m in model.spec.metrics}
    found = 0
    for i, path in enumerate(paths):
        if path is None or not path.steps:
            continue
        changed = frame.iloc[[i]].copy()
        for step in path.steps:
            metric = metrics[step.metric]
            if isinstance(step.target, float):
                if metric.valid_range is not None:
                    assert metric.valid_range[0] <= step.target <= metric.valid_range[1], step
                assert (step.target > step.current) == (metric.direction == "higher"), step
            changed[step.metric] = pd.Series([step.target], index=changed.index, dtype=object)
        after = score(changed, model, as_of=by)
        assert after["tier"][0] == path.next_tier and after["composite_score"][0] == path.after, (i, path)
        found += 1
    assert found >= 40
