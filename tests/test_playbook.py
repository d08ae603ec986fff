"""Every playbook rule fires exactly when its conditions hold, at its edges, in priority order."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import score
from scoring.compiled import compile_model
from scoring.flags import METRIC_FLAGS, ROW_FLAGS
from scoring.playbook import evaluate

from tests.conftest import AS_OF, partners


def run(model, n=1, metrics=None, flags=(), **columns):
    """Evaluate the default playbook on one partner whose scores are all unremarkable unless overridden."""
    c = compile_model(model)
    base = {"revenue_score": 55.0, "engagement_score": 65.0, "composite_score": 59.0, "coverage": 0.9,
            "months_since_start": 6.0, "stage": "ramp", "tier": "B", "quadrant": "Dormant"}
    base.update(columns)
    cols = {k: np.array([v], dtype=object if isinstance(v, str) else float) for k, v in base.items()}
    sub = np.full((len(c.metric_ids), 1), 80.0)
    for metric, value in (metrics or {}).items():
        sub[c.metric_ids.index(metric)] = value
    all_flags = {name: np.array([name in flags]) for name in (*ROW_FLAGS, *METRIC_FLAGS)}
    evaluated = evaluate(c, cols, sub, all_flags.__getitem__)
    return [evaluated.rules[j].id for j in np.flatnonzero(evaluated.chosen[:, 0])]


def test_an_unremarkable_partner_gets_no_action(model):
    assert run(model) == []


TRIGGERS = {
    "coach_engagement_gap": ({"revenue_score": 60.0, "engagement_score": 59.9},
                             [{"revenue_score": 59.9, "engagement_score": 40.0}, {"revenue_score": 65.0, "engagement_score": 60.0}]),
    "fund_champions": ({"revenue_score": 75.0, "engagement_score": 70.0},
                       [{"revenue_score": 74.9, "engagement_score": 80.0}, {"revenue_score": 80.0, "engagement_score": 69.9},
                        {"revenue_score": 80.0, "engagement_score": 80.0, "stage": "onboarding", "months_since_start": 1.0}]),
    "accelerate_training": ({"metrics": {"training_completion_rate": 49.9}},
                            [{"metrics": {"training_completion_rate": 50.0}}, {"metrics": {"training_completion_rate": np.nan}}]),
    "certification_bootcamp": ({"metrics": {"certification_status": 40.0}, "stage": "established"},
                               [{"metrics": {"certification_status": 40.0}, "stage": "onboarding"},
                                {"metrics": {"certification_status": 60.0}}]),
    "presales_support": ({"metrics": {"pipeline_value": 60.0, "deal_conversion_rate": 39.9}},
                         [{"metrics": {"pipeline_value": 59.9, "deal_conversion_rate": 10.0}},
                          {"metrics": {"pipeline_value": 90.0, "deal_conversion_rate": 40.0}}]),
    "joint_marketing_plan": ({"metrics": {"joint_marketing_plan": 0.0}, "months_since_start": 2.0},
                             [{"metrics": {"joint_marketing_plan": 0.0}, "months_since_start": 1.9},
                              {"metrics": {"joint_marketing_plan": 100.0}}]),
    "responsiveness_sla": ({"metrics": {"responsiveness_hours": 39.9}}, [{"metrics": {"responsiveness_hours": 40.0}}]),
    "demand_generation": ({"stage": "established", "metrics": {"qualified_leads": 39.9}},
                          [{"stage": "ramp", "metrics": {"qualified_leads": 10.0}},
                           {"stage": "established", "metrics": {"qualified_leads": 40.0}}]),
    "onboarding_concierge": ({"stage": "onboarding", "months_since_start": 1.0, "metrics": {"onboarding_completion_days": 39.9}},
                             [{"stage": "onboarding", "months_since_start": 1.0, "metrics": {"onboarding_completion_days": 40.0}},
                              {"stage": "ramp", "metrics": {"onboarding_completion_days": 0.0}}]),
    "reassess_fit": ({"tier": "D", "stage": "established"}, [{"tier": "C", "stage": "established"}, {"tier": "D", "stage": "ramp"}]),
    "complete_data": ({"flags": ("low_coverage",)}, [{"flags": ("missing",)}]),
}


def test_every_rule_has_a_trigger_case(model):
    assert set(TRIGGERS) == {r.id for r in model.spec.playbook.rules}


@pytest.mark.parametrize("rule", sorted(TRIGGERS))
def test_rule_fires_on_its_conditions_only(model, rule):
    fires, edges = TRIGGERS[rule]
    assert run(model, **fires) == [rule]
    for case in edges:
        assert rule not in run(model, **case), case


def test_at_most_max_actions_in_priority_order(model):
    chosen = run(model, flags=("low_coverage",), revenue_score=65.0, engagement_score=40.0,
                 metrics={"training_completion_rate": 10.0, "responsiveness_hours": 10.0, "joint_marketing_plan": 0.0})
    assert chosen == ["coach_engagement_gap", "complete_data", "accelerate_training"]


def test_the_high_revenue_low_engagement_partner_gets_coaching_end_to_end():
    frame = partners({
        "collaboration_frequency": 0, "partner_feedback": 1, "first_quarter_activities": 0, "responsiveness_hours": 90,
        "qualified_leads": 2, "joint_marketing_plan": "No", "training_completion_rate": 0.5,
        "onboarding_completion_days": 150, "marketing_commitment_adherence": 0.4, "deals_won": 12,
        "average_contract_size": 90000, "deal_conversion_rate": 0.35, "pipeline_value": 900000, "channel_reach": 1800,
        "market_alignment": 5, "deal_velocity_days": 35,
    })
    result = score(frame, as_of=AS_OF)
    assert result["revenue_score"][0] >= 60 > result["engagement_score"][0]
    assert result["quadrant"][0] == "Revenue at risk"
    assert result["actions"][0].startswith("Targeted coaching and accelerated training")
    first = result.actions.iloc[0]
    assert (first.rule, first.owner_role, first.levers, first["rank"]) == (
        "coach_engagement_gap", "Partner manager", "coaching_hours, training_budget", 1)
