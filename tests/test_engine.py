"""The scorecard engine: stages, segments, missing data, tiers, drivers, determinism, one-vs-batch."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring import score
from scoring.compiled import compile_model
from scoring.engine import _tiers

from tests.conftest import AS_OF, TYPICAL, partners, started, variant

STRONG_STRATEGY_WEAK_RESULTS = {
    "market_alignment": 5, "channel_reach": 2000, "product_adoption_potential": 5, "scalable_channel_access": "Yes",
    "qualified_leads": 0, "first_quarter_activities": 0, "deal_conversion_rate": 0.05, "deals_won": 0,
    "average_contract_size": 0, "deal_velocity_days": 180, "pipeline_value": 0,
}


def test_stage_follows_months_since_onboarding_start():
    frame = partners(*({"onboarding_start": started(m)} for m in (0.5, 2.9, 3.0, 8.9, 9.0, 20)))
    result = score(frame, as_of=AS_OF)
    assert result["stage"].tolist() == ["onboarding", "onboarding", "ramp", "ramp", "established", "established"]
    assert result["provisional"].tolist() == [True, True, False, False, False, False]


def test_strategic_fit_weighs_most_early_and_results_later():
    early = partners({**STRONG_STRATEGY_WEAK_RESULTS, "onboarding_start": started(1)})
    late = partners({**STRONG_STRATEGY_WEAK_RESULTS, "onboarding_start": started(15)})
    r_early, r_late = score(early, as_of=AS_OF), score(late, as_of=AS_OF)
    assert r_early["revenue_score"][0] > r_late["revenue_score"][0] + 20
    # Same metrics, same layer scores: only the layer weights moved.
    pd.testing.assert_frame_equal(r_early.layer_scores["revenue"], r_late.layer_scores["revenue"])


def test_outcome_score_is_the_stage_weighted_mean_of_layers(model):
    result = score(partners({"onboarding_start": started(6)}), as_of=AS_OF)
    weights = next(s for s in model.spec.stages if s.id == "ramp").layer_weights
    layers = result.layer_scores["revenue"].iloc[0]
    expected = sum(weights[k] * layers[k] for k in weights) / sum(weights.values())
    assert result.raw_scores["revenue"][0] == pytest.approx(expected, abs=1e-12)


def test_segment_target_override_changes_the_sub_score():
    frame = partners({"partner_type": "reseller"}, {"partner_type": "integrator"}, average_contract_size=100000)
    subs = score(frame, as_of=AS_OF).subscores["average_contract_size"]
    assert subs[0] == pytest.approx(100.0)
    assert subs[1] == pytest.approx(100 * np.log1p(100000) / np.log1p(250000))


def test_segment_weight_override_changes_the_outcome_not_the_sub_scores(model_dict):
    frame = partners({"partner_type": "referral"})
    base = score(frame, variant(model_dict), as_of=AS_OF)
    model_dict["segments"][1]["weights"]["revenue"]["qualified_leads"] = 20
    heavier = score(frame, variant(model_dict), as_of=AS_OF)
    pd.testing.assert_frame_equal(base.subscores, heavier.subscores)
    assert base.raw_scores["revenue"][0] != heavier.raw_scores["revenue"][0]
    assert base.raw_scores["engagement"][0] == heavier.raw_scores["engagement"][0]


def test_regional_adjustment_is_bounded_and_shown_as_a_driver():
    frame = partners({"region": "NA"}, {"region": "APAC"}, {"region": "LATAM"})
    result = score(frame, as_of=AS_OF)
    raw = result.raw_scores
    assert raw["revenue"][1] == pytest.approx(min(100, raw["revenue_unadjusted"][1] * 1.05))
    assert raw["revenue"][2] == pytest.approx(raw["revenue_unadjusted"][2] * 0.95)
    adjustment = result.contributions["revenue"]["segment_adjustment"]
    assert adjustment[0] == 0 and adjustment[1] > 0 and adjustment[2] < 0


def test_adjustments_are_clipped_to_the_model_bounds(model_dict):
    model_dict["adjustment_bounds"] = {"min": 0.8, "max": 1.1}
    model_dict["segments"].append({"id": "boost", "label": "Boost", "when": {"partner_type": "reseller"},
                                   "adjustment": {"revenue": 1.1}})
    model_dict["segments"][3]["adjustment"]["revenue"] = 1.1  # APAC: 1.1 * 1.1 = 1.21 -> clipped to 1.1
    result = score(partners({"region": "APAC", "deals_won": 0}), variant(model_dict), as_of=AS_OF)
    assert result.raw_scores["revenue"][0] == pytest.approx(result.raw_scores["revenue_unadjusted"][0] * 1.1)


def test_unknown_segment_is_flagged_and_scored_with_base_weights():
    frame = partners({"partner_type": "reseller"}, {"partner_type": "Resellr"}, {"partner_type": None})
    result = score(frame, as_of=AS_OF)
    assert result.raw_scores["revenue"][1] == result.raw_scores["revenue"][0]
    assert "unknown segment" in result["flags"][1] and "unknown segment" in result["flags"][2]
    assert result["segment"].tolist() == ["reseller", "Resellr", None]
    assert "unknown segment" not in result["flags"][0]


def test_segment_values_match_case_insensitively():
    result = score(partners({"partner_type": " Integrator ", "region": "apac"}), as_of=AS_OF)
    assert result["segment"][0] == "integrator"
    assert result["flags"][0] == ""


def test_missing_metrics_renormalise_weights_over_what_is_present():
    full = partners()
    # Give every execution metric the same sub-score, then drop one: the layer score must not move.
    same = {"onboarding_completion_days": 105, "training_completion_rate": 0.55, "certification_status": None,
            "joint_marketing_plan": None, "responsiveness_hours": 50, "collaboration_frequency": 2,
            "marketing_commitment_adherence": 0.65, "partner_feedback": 3, "manager_assessment": 3}
    base = score(partners(same), as_of=AS_OF)
    base_layer = base.layer_scores["revenue"]["execution"][0]
    dropped = score(partners({**same, "responsiveness_hours": None}), as_of=AS_OF)
    assert base_layer == pytest.approx(50.0)
    assert dropped.layer_scores["revenue"]["execution"][0] == pytest.approx(base_layer)
    assert dropped["coverage"][0] < base["coverage"][0] < 1.0
    assert score(full, as_of=AS_OF)["coverage"][0] == 1.0


def test_a_whole_missing_layer_renormalises_layer_weights():
    no_results = {k: None for k in ("qualified_leads", "first_quarter_activities", "deal_conversion_rate", "deals_won",
                                     "average_contract_size", "deal_velocity_days", "pipeline_value")}
    result = score(partners(no_results), as_of=AS_OF)
    layers = result.layer_scores["revenue"].iloc[0]
    assert math.isnan(layers["results"])
    w = {"strategic": 0.15, "execution": 0.30}  # established stage, results layer absent
    expected = (w["strategic"] * layers["strategic"] + w["execution"] * layers["execution"]) / sum(w.values())
    assert result.raw_scores["revenue"][0] == pytest.approx(expected)


def test_low_coverage_is_flagged_not_zeroed():
    sparse = {k: None for k in TYPICAL if k not in ("market_alignment", "deals_won", "training_completion_rate")}
    result = score(partners(sparse), as_of=AS_OF)
    assert result["coverage"][0] < 0.6
    assert "low coverage" in result["flags"][0]
    assert result["revenue_score"][0] > 30  # scored on the three metrics present, not zeroed
    assert "Complete the partner's data" in result["actions"][0]


def test_partner_without_any_metric_is_unscored():
    nothing = {k: None for k in TYPICAL}
    result = score(partners(nothing, {}), as_of=AS_OF)
    assert math.isnan(result["composite_score"][0]) and result["tier"][0] == "Unscored"
    assert result["quadrant"][0] == "Unscored" and "no usable metrics" in result["flags"][0]
    assert "low coverage" not in result["flags"][0]
    assert result["tier"][1] != "Unscored"
    assert math.isnan(result["percentile"][0]) and result["percentile"][1] == 100


def test_metric_columns_absent_from_the_sheet_are_flagged_missing():
    frame = partners().drop(columns=["pipeline_value", "deals_won"])
    result = score(frame, as_of=AS_OF)
    assert result["flags"][0].startswith("missing: Deals won, Pipeline value")


def test_onboarding_date_problems_are_flagged():
    frame = partners({"onboarding_start": None}, {"onboarding_start": "not a date"}, {"onboarding_start": "2027-02-01"},
                     {"onboarding_start": "2025-03-01"})
    result = score(frame, as_of=AS_OF)
    assert "no onboarding start date" in result["flags"][0] and "no onboarding start date" in result["flags"][1]
    assert "onboarding start after the scoring date" in result["flags"][2]
    assert result["stage"].tolist()[:3] == ["onboarding"] * 3
    assert result["stage"][3] == "established" and result["flags"][3] == ""


@pytest.mark.parametrize("composite, tier", [
    (100.0, "A"), (75.0, "A"), (74.9, "B"), (60.0, "B"), (59.9, "C"), (45.0, "C"), (44.9, "D"), (0.0, "D"),
])
def test_tier_edges(model, composite, tier):
    assert _tiers(compile_model(model), np.array([composite]))[0] == tier


def test_tiers_and_quadrants_follow_the_shown_scores(model):
    rng = np.random.default_rng(3)
    frame = partners(*({"deals_won": int(rng.integers(0, 30)), "collaboration_frequency": float(rng.uniform(0, 4)),
                        "training_completion_rate": float(rng.uniform(0, 1)), "pipeline_value": float(rng.uniform(0, 2e6)),
                        "onboarding_start": started(float(rng.uniform(0, 24)))} for _ in range(300)))
    result = score(frame, as_of=AS_OF).frame
    mins = {t.id: t.min_score for t in model.spec.tiers}
    for row in result.itertuples():
        better = [t for t in model.spec.tiers if row.composite_score >= t.min_score]
        assert row.tier == better[0].id
        assert mins[row.tier] <= row.composite_score
    labels = model.spec.quadrants.labels
    champions = result[(result.revenue_score >= 60) & (result.engagement_score >= 60)]
    assert (champions.quadrant == labels.high_revenue_high_engagement).all()


def test_drivers_add_up_to_score_minus_baseline(demo_frame):
    result = score(demo_frame, as_of=AS_OF)
    for outcome in ("revenue", "engagement", "composite"):
        total = result.contributions[outcome].sum(axis=1) + result.baseline
        scored = result.raw_scores[outcome].notna()
        np.testing.assert_allclose(total[scored], result.raw_scores[outcome][scored], atol=1e-9)


def test_driver_text_names_the_largest_contributions(demo_frame):
    result = score(demo_frame, as_of=AS_OF)
    drivers = result.top_drivers()
    first = drivers[drivers.row == demo_frame.index[0]]
    up = first[first.direction == "up"]
    text = "; ".join(f"{r.label} {r.points:+.1f}" for r in up.itertuples())
    assert result["drivers_up"][0] == text
    contrib = result.contributions["composite"].iloc[0]
    assert up.metric.tolist() == contrib[contrib.round(1) > 0].sort_values(ascending=False, kind="stable").index[:3].tolist()


def test_same_input_same_output(demo_frame):
    a = score(demo_frame, as_of=AS_OF)
    b = score(demo_frame.copy(), as_of=AS_OF)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.flags, b.flags)
    pd.testing.assert_frame_equal(a.actions, b.actions)


def test_row_order_does_not_change_a_partners_result(demo_frame):
    shuffled = demo_frame.sample(frac=1.0, random_state=7)
    a = score(demo_frame, as_of=AS_OF).frame
    b = score(shuffled, as_of=AS_OF).frame.loc[a.index]
    pd.testing.assert_frame_equal(a, b)


def test_a_single_partner_gets_exactly_its_batch_result(demo_frame):
    batch = score(demo_frame, as_of=AS_OF)
    population = ["percentile", "segment_percentile"]  # relative to whoever else is scored
    for i in range(0, len(demo_frame), 7):
        one = score(demo_frame.iloc[[i]], as_of=AS_OF)
        for name in batch.column_names:
            if name in population:
                continue
            a, b = one[name][0], batch[name][i]
            assert a == b or (a != a and b != b), (name, a, b)
        assert one.raw_scores.iloc[0].equals(batch.raw_scores.iloc[i])


def test_percentiles_overall_and_within_segment():
    frame = partners(*({"deals_won": d, "partner_type": t} for d, t in
                       [(0, "reseller"), (5, "reseller"), (20, "reseller"), (20, "integrator")]))
    result = score(frame, as_of=AS_OF)
    order = np.argsort(result["composite_score"])
    assert result["percentile"][order[-1]] == 100 and result["percentile"][order[0]] == 25
    assert result["segment_percentile"][3] == 100  # alone in its segment


def test_empty_and_wrong_inputs():
    empty = score(partners().iloc[0:0], as_of=AS_OF)
    assert len(empty.frame) == 0 and list(empty.frame.columns) == empty.column_names
    with pytest.raises(TypeError, match="DataFrame"):
        score([{"partner_id": "x"}])
    with pytest.raises(ValueError, match="not a date"):
        score(partners(), as_of="24/11/2026")


@pytest.fixture(scope="module")
def demo_frame():
    from scoring.synthetic import generate

    return generate(n_partners=400, seed=11, as_of=AS_OF).partners


LATER = ("deals_won", "pipeline_value", "average_contract_size", "deal_velocity_days", "deal_conversion_rate",
         "qualified_leads", "first_quarter_activities", "partner_feedback", "manager_assessment")


def recorded_since(model_dict, since: str, metrics=LATER):
    """The default model with ``metrics`` recorded only from ``since`` on."""
    for m in model_dict["metrics"]:
        if m["id"] in metrics:
            m["since"] = since
    return variant(model_dict)


def test_a_metric_not_recorded_yet_is_neither_missing_nor_counted_against_coverage(model_dict):
    model = recorded_since(model_dict, "2026-06-01")
    blank = {k: None for k in LATER}
    frame = partners({**blank, "onboarding_start": "2025-11-01"},  # before: not expected
                     {"onboarding_start": "2025-11-01"},  # before, recorded anyway: scored as usual
                     {**blank, "onboarding_start": "2026-07-01"},  # after: expected, so missing
                     {**blank, "onboarding_start": None},  # no usable start: expected
                     {**blank, "onboarding_start": "2025-11-01", "deals_won": "lots"})  # there, unreadable
    result = score(frame, model, as_of=AS_OF)
    before = score(frame, as_of=AS_OF)  # the same partners under the model without dates
    found = result.flags
    missing = found[found.flag == "missing"]
    assert sorted(set(missing.partner_id)) == ["P3", "P4"]
    assert set(missing[missing.partner_id == "P3"].column) == set(LATER)
    assert found[found.flag == "invalid_value"][["partner_id", "column"]].values.tolist() == [["P5", "deals_won"]]
    assert result["coverage"].tolist() == [1.0, 1.0, before["coverage"][2], before["coverage"][3], 1.0]
    assert before["coverage"][0] < 0.6 and "low coverage" in before["flags"][0]
    assert result["flags"][0] == "" and result["flags"][4] == "invalid: Deals won"
    # scoring itself is unchanged: blanks were already left out and weights re-normalised
    pd.testing.assert_frame_equal(result.raw_scores, before.raw_scores)
    assert result.unrecorded["deals_won"].tolist() == [True, False, False, False, False]


def test_coverage_leaves_out_only_the_weight_not_expected(model_dict):
    model = recorded_since(model_dict, "2026-06-01", ("deals_won",))
    frame = partners({"deals_won": None, "pipeline_value": None, "onboarding_start": "2025-11-01"})
    result = score(frame, model, as_of=AS_OF)
    spec = model.spec
    stage = spec.stages[-1].layer_weights  # established
    results = [m.id for m in spec.metrics if m.layer == "results" and m.id != "deals_won"]
    coverage = {}
    for outcome in ("revenue", "engagement"):
        w = spec.weights[outcome]
        total = sum(w.get(m, 0) for m in results)  # deals_won's weight is not expected of this partner
        share = (total - w.get("pipeline_value", 0)) / total  # pipeline_value is, and is blank
        coverage[outcome] = (stage["strategic"] + stage["execution"] + stage["results"] * share) / sum(stage.values())
    cw = spec.composite_weights
    expected = (cw["revenue"] * coverage["revenue"] + cw["engagement"] * coverage["engagement"]) / sum(cw.values())
    assert result["coverage"][0] == round(expected, 3)
    assert result.flags[result.flags.flag == "missing"].column.tolist() == ["pipeline_value"]


def test_a_partner_expected_to_have_nothing_has_no_data_and_zero_coverage(model_dict):
    model = recorded_since(model_dict, "2026-06-01", TYPICAL)
    frame = partners({k: None for k in TYPICAL}, {}, onboarding_start="2025-11-01")
    with np.errstate(all="raise"):
        result = score(frame, model, as_of=AS_OF)
    assert result["coverage"].tolist() == [0.0, 1.0]
    assert result["flags"][0] == "no usable metrics" and result["tier"][0] == "Unscored"


def test_a_partner_alone_gets_its_batch_result_with_recorded_since_dates(model_dict, demo_frame):
    model = recorded_since(model_dict, "2026-06-01")
    frame = demo_frame.copy()
    frame.loc[frame.index[::2], list(LATER)] = None
    batch = score(frame, model, as_of=AS_OF)
    assert batch.unrecorded["pipeline_value"].any()
    for i in range(0, len(frame), 9):
        one = score(frame.iloc[[i]], model, as_of=AS_OF)
        assert one["coverage"][0] == batch["coverage"][i] and one["flags"][0] == batch["flags"][i]
        assert one.raw_scores.iloc[0].equals(batch.raw_scores.iloc[i])
