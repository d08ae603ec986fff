"""Each normalisation kind, and how unusable cells are flagged instead of scored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scoring import score
from scoring.normalize import category_key, linear

from tests.conftest import AS_OF, partners


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
