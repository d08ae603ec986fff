"""Each normalisation kind, and how unusable cells are flagged instead of scored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring import score
from scoring.normalize import category_key, linear

from tests.conftest import AS_OF, partners, variant


def sub(frame, metric, model="default"):
    return score(frame, model, as_of=AS_OF).subscores[metric].tolist()


def flags(frame):
    return score(frame, as_of=AS_OF).flags


def test_linear_higher_is_better_clips_at_floor_and_target():
    # training_completion_rate: floor 0.2 -> 0, target 0.9 -> 100
    frame = partners(*({"training_completion_rate": v} for v in (0.0, 0.2, 0.55, 0.9, 1.0)))
    assert sub(frame, "training_completion_rate") == pytest.approx([0, 0, 50, 100, 100])


def test_linear_lower_is_better():
    # onboarding_completion_days: floor 180 days -> 0, target 30 days -> 100
    frame = partners(*({"onboarding_completion_days": v} for v in (10, 30, 105, 180, 400)))
    assert sub(frame, "onboarding_completion_days") == pytest.approx([100, 100, 50, 0, 0])


def test_log_normalisation_values_doubling_not_adding():
    # deals_won: log1p scale from 0 to 15
    frame = partners(*({"deals_won": v} for v in (0, 1, 3, 15, 40)))
    expected = [0, 100 * math.log(2) / math.log(16), 100 * math.log(4) / math.log(16), 100, 100]
    assert sub(frame, "deals_won") == pytest.approx(expected)


def test_ordinal_map_ignores_case_spacing_and_underscores():
    values = ("none", "In progress", "in_progress", " CERTIFIED ", "Advanced")
    frame = partners(*({"certification_status": v} for v in values))
    assert sub(frame, "certification_status") == [0, 40, 40, 80, 100]


def test_boolean_accepts_what_users_type():
    values = ("Yes", "no", "TRUE", "false", "x", "1", 1, 0, True, False)
    frame = partners(*({"joint_marketing_plan": v} for v in values))
    assert sub(frame, "joint_marketing_plan") == [100, 0, 100, 0, 100, 100, 100, 0, 100, 0]


def test_boolean_numbers_other_than_0_and_1_are_invalid():
    frame = partners({"joint_marketing_plan": 2}, {"joint_marketing_plan": 1})
    assert math.isnan(sub(frame, "joint_marketing_plan")[0])
    found = flags(frame)
    assert found[(found.flag == "invalid_value") & (found.column == "joint_marketing_plan")].partner_id.tolist() == ["P1"]


def test_unreadable_text_is_flagged_invalid_not_scored_as_zero():
    frame = partners({"deals_won": "lots"}, {"certification_status": "gold"}, {"deals_won": " 7 "})
    subs = score(frame, as_of=AS_OF).subscores
    assert math.isnan(subs.loc[0, "deals_won"]) and math.isnan(subs.loc[1, "certification_status"])
    assert subs.loc[2, "deals_won"] == pytest.approx(100 * math.log(8) / math.log(16))  # numbers stored as text
    found = flags(frame)
    invalid = found[found.flag == "invalid_value"]
    assert invalid[["partner_id", "column", "value"]].values.tolist() == [
        ["P1", "deals_won", "lots"], ["P2", "certification_status", "gold"]]


def test_cells_are_read_by_the_workbook_rules_when_scoring_a_frame():
    frame = partners({"deals_won": "n/a"}, {"deals_won": "$1,200", "training_completion_rate": "85%"},
                     {"deals_won": "#N/A", "joint_marketing_plan": "#N/A"})
    result = score(frame, as_of=AS_OF)
    found = result.flags
    assert sorted(found[found.flag == "missing"][["partner_id", "column"]].values.tolist()) == [
        ["P1", "deals_won"], ["P3", "deals_won"], ["P3", "joint_marketing_plan"]]
    assert result.subscores.loc[1, "deals_won"] == 100 and result.subscores.loc[1, "training_completion_rate"] > 90


def test_out_of_range_values_are_flagged_and_excluded():
    frame = partners({"training_completion_rate": 1.35}, {"pipeline_value": -5000}, {"market_alignment": 7})
    subs = score(frame, as_of=AS_OF).subscores
    assert math.isnan(subs.loc[0, "training_completion_rate"])
    assert math.isnan(subs.loc[1, "pipeline_value"])
    assert math.isnan(subs.loc[2, "market_alignment"])
    found = flags(frame)
    assert found[found.flag == "out_of_range"][["partner_id", "column"]].values.tolist() == [
        ["P1", "training_completion_rate"], ["P2", "pipeline_value"], ["P3", "market_alignment"]]


def test_blank_cells_are_missing():
    frame = partners({"deals_won": None, "certification_status": "  ", "joint_marketing_plan": float("nan")})
    found = flags(frame)
    assert sorted(found[found.flag == "missing"].column) == ["certification_status", "deals_won", "joint_marketing_plan"]


def test_linear_is_symmetric_in_direction():
    values = np.array([0.0, 25.0, 50.0, 100.0])
    assert linear(values, 0.0, 100.0).tolist() == [0, 25, 50, 100]
    assert linear(values, 100.0, 0.0).tolist() == [100, 75, 50, 0]


def test_category_key():
    assert category_key("  In_Progress-now ") == "in progress now"


def piecewise_model(model_dict, metric: str, points):
    """The default model with ``metric`` normalised by straight lines between ``points``."""
    index = next(i for i, m in enumerate(model_dict["metrics"]) if m["id"] == metric)
    model_dict["metrics"][index]["normalization"] = {"kind": "piecewise", "points": points}
    return variant(model_dict)


def test_piecewise_draws_straight_lines_between_points_flat_beyond_the_ends(model_dict):
    model = piecewise_model(model_dict, "training_completion_rate", [[0.2, 10], [0.5, 40], [0.8, 90]])
    frame = partners(*({"training_completion_rate": v} for v in (0.0, 0.2, 0.35, 0.65, 0.8, 1.0, "50%", 1.2, None)))
    found = sub(frame, "training_completion_rate", model)
    assert found[:7] == pytest.approx([10, 10, 25, 65, 90, 90, 40])
    assert math.isnan(found[7]) and math.isnan(found[8])  # valid_range [0, 1] applies, blanks stay blank
    result = score(frame, model, as_of=AS_OF)
    assert result.flags[result.flags.flag == "out_of_range"].partner_id.tolist() == ["P8"]


def test_piecewise_for_a_lower_is_better_metric(model_dict):
    model = piecewise_model(model_dict, "responsiveness_hours", [[4, 100], [24, 60], [72, 0]])
    frame = partners(*({"responsiveness_hours": v} for v in (1, 4, 14, 48, 72, 400)))
    assert sub(frame, "responsiveness_hours", model) == pytest.approx([100, 100, 80, 30, 0, 0])


def test_a_piecewise_partner_alone_gets_exactly_its_batch_result(model_dict):
    model = piecewise_model(model_dict, "pipeline_value", [[0, 0], [50_000, 30], [400_000, 80], [2_000_000, 100]])
    frame = partners(*({"pipeline_value": v, "partner_type": t} for v, t in
                       [(0, "reseller"), (120_000, "integrator"), (900_000, "referral"), (None, "marketplace")]))
    batch = score(frame, model, as_of=AS_OF)
    for i in range(len(frame)):
        one = score(frame.iloc[[i]], model, as_of=AS_OF)
        assert one.raw_scores.iloc[0].equals(batch.raw_scores.iloc[i])
        assert one["drivers_up"][0] == batch["drivers_up"][i]
    contributions = batch.contributions["revenue"].sum(axis=1) + batch.baseline
    np.testing.assert_allclose(contributions, batch.raw_scores["revenue"], atol=1e-9)
