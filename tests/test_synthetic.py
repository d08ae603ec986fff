"""The synthetic population (scoring.synthetic): reproducible, shaped like real partner data, carrying
real signal, and following the model it is drawn for."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring import ScoringModel, load_model
from scoring import synthetic
from scoring.model.load import from_dict

AS_OF = dt.date(2026, 6, 15)
FRAMES = ["partners", "history", "milestones", "outcomes", "interventions", "experiments", "truth"]


@pytest.fixture(scope="module")
def data() -> synthetic.DemoData:
    return synthetic.generate(300, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def large() -> synthetic.DemoData:
    return synthetic.generate(2000, seed=11, as_of=AS_OF)


def spearman(a: pd.Series, b: pd.Series) -> float:
    return a.rank().corr(b.rank())


def months_before(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) - pd.DateOffset(months=months)).date()


def starts(d: synthetic.DemoData) -> pd.Series:
    return d.partners.set_index("partner_id")["onboarding_start"].dt.date


# ------------------------------------------------------------------ reproducibility


def test_same_arguments_give_equal_frames(data):
    again = synthetic.generate(300, seed=7, as_of=AS_OF)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(data, name), obj=name)


def test_another_seed_gives_other_data(data):
    other = synthetic.generate(300, seed=8, as_of=AS_OF)
    assert not np.allclose(other.truth["quality"], data.truth["quality"])
    assert (other.partners["partner_name"] != data.partners["partner_name"]).mean() > 0.9


def test_default_as_of_is_today():
    before = dt.date.today()
    got = synthetic.generate(5, seed=1).as_of
    assert before <= got <= dt.date.today()


def test_needs_at_least_one_partner():
    with pytest.raises(ValueError):
        synthetic.generate(0)


# ------------------------------------------------------------------ partners and history


def test_every_default_model_metric_is_a_partners_column(data):
    metric_ids = [m.id for m in load_model("default").spec.metrics]
    assert metric_ids == list(synthetic.METRICS)
    assert set(metric_ids) <= set(data.partners.columns)
    assert set(metric_ids) <= set(data.history.columns)


def test_partners_look_like_a_partner_list(data):
    p = data.partners
    assert p["partner_id"].is_unique and p["partner_id"].str.fullmatch(r"P\d{5}").all()
    assert p["partner_name"].is_unique
    assert (~p["partner_name"].map(str.isascii)).any()
    assert set(p["region"]) == set(synthetic.REGIONS)
    assert set(synthetic.PARTNER_TYPES) <= set(p["partner_type"])
    assert p["owner"].nunique() <= 8
    assert set(p["certification_status"].dropna()) <= {"None", "In progress", "Certified", "Advanced"}
    assert set(p["joint_marketing_plan"].dropna()) == {"Yes", "No"}
    assert set(p["market_alignment"].dropna()) <= {1, 2, 3, 4, 5}


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2028, 2, 29)])
def test_onboarding_starts_spread_over_the_two_years_before_as_of(as_of):
    start = starts(synthetic.generate(500, seed=3, as_of=as_of))
    assert start.max() <= as_of
    assert start.min() >= months_before(as_of, 24)
    assert 0.4 < (start < months_before(as_of, 12)).mean() < 0.6


def test_history_is_monthly_up_to_18_months(data):
    h = data.history
    counts = h.groupby("partner_id").size()
    start = starts(data)
    old = start.index[start <= months_before(AS_OF, 18)]
    assert len(old) > 0 and counts[old].between(12, 18).all()
    assert counts.max() <= 18
    months_since = (AS_OF.year - start.map(lambda d: d.year)) * 12 + AS_OF.month - start.map(lambda d: d.month)
    np.testing.assert_array_equal(counts[start.index], np.minimum(months_since + 1, 18))
    assert (h["period"].dt.is_month_end).all()
    assert h.groupby("partner_id")["period"].max().eq(pd.Timestamp("2026-06-30")).all()


def test_last_snapshot_is_the_partners_row(data):
    last = data.history.groupby("partner_id").tail(1).set_index("partner_id")
    partners = data.partners.set_index("partner_id").loc[last.index]
    for metric in synthetic.METRICS:
        pd.testing.assert_series_equal(last[metric], partners[metric], check_names=False, obj=metric)


def test_history_ramps_up_and_counts_accumulate(large):
    h = large.history
    for metric in ("deals_won", "training_completion_rate", "first_quarter_activities"):
        values = pd.to_numeric(h[metric], errors="coerce").groupby(h["partner_id"]).ffill()
        assert (values.groupby(h["partner_id"]).diff().dropna() >= 0).all(), metric
    start = starts(large)
    young = start.index[start > months_before(AS_OF, 2)]
    young_deals = pd.to_numeric(large.partners.set_index("partner_id").loc[young, "deals_won"], errors="coerce")
    assert (young_deals.dropna() == 0).all()


def test_blank_cells_at_realistic_rates(large):
    blank = large.partners[list(synthetic.METRICS)].isna().mean()
    assert 0.02 < blank["market_alignment"] < 0.07
    assert 0.09 < blank["partner_feedback"] < 0.25
    assert blank["partner_feedback"] > blank["manager_assessment"]


# ------------------------------------------------------------------ milestones, outcomes, experiment, interventions


def test_milestones_follow_the_onboarding_story(large):
    m = large.milestones
    assert set(m["milestone"]) <= set(synthetic.MILESTONES)
    dates = m.pivot(index="partner_id", columns="milestone", values="date")
    start = large.partners.set_index("partner_id")["onboarding_start"]
    assert (dates["contract signed"] == start[dates.index]).all()
    assert (m["date"] <= pd.Timestamp(AS_OF)).all()
    for earlier, later in [
        ("contract signed", "kickoff"),
        ("kickoff", "first registered deal"),
        ("first registered deal", "first closed deal"),
        ("training complete", "certified"),
    ]:
        both = dates[[earlier, later]].dropna()
        assert (both[earlier] < both[later]).all(), (earlier, later)
    status = large.partners.set_index("partner_id")["certification_status"]
    known = status.dropna()
    assert (known.isin(["Certified", "Advanced"]) == dates["certified"].reindex(known.index).notna()).all()


def test_better_partners_reach_milestones_more_often(large):
    truth = large.truth.set_index("partner_id")
    reached = large.milestones.groupby("milestone")["partner_id"].apply(set)
    top = truth.index[truth["quality"] > truth["quality"].quantile(0.75)]
    bottom = truth.index[truth["quality"] < truth["quality"].quantile(0.25)]
    for milestone in ("certified", "first closed deal"):
        top_share = len(reached[milestone] & set(top)) / len(top)
        bottom_share = len(reached[milestone] & set(bottom)) / len(bottom)
        assert top_share > bottom_share + 0.1, milestone


def test_outcomes_only_for_partners_past_their_12_month_window(data):
    start = starts(data)
    assert set(data.outcomes["partner_id"]) == set(start.index[start <= months_before(AS_OF, 12)])
    o = data.outcomes
    assert set(o["engaged_12m"]) == {0, 1}
    assert (o["revenue_12m"] >= 0).all() and (o["revenue_12m"] == 0).any() and (o["revenue_12m"] > 0).any()


def test_injected_errors_are_present(data, large):
    p = data.partners
    assert (p["training_completion_rate"] > 1).any()
    assert (pd.to_numeric(p["pipeline_value"], errors="coerce") < 0).any()
    assert (~p["partner_type"].isin(synthetic.PARTNER_TYPES)).any()
    assert (p["deals_won"] == "n/a").any()
    assert (data.truth["injected_error"] != "").sum() >= 3
    assert (large.truth["injected_error"] != "").sum() == 20


def test_experiment_is_stratified_and_balanced(large):
    e = large.experiments
    assert set(e["experiment"]) == {synthetic.EXPERIMENT} and e["partner_id"].is_unique
    types = large.partners.set_index("partner_id")["partner_type"]
    arms = e.set_index("partner_id")["arm"].reindex(types.index)
    for partner_type in synthetic.PARTNER_TYPES:
        in_type = arms[types == partner_type]
        assert abs(in_type.notna().mean() - synthetic.EXPERIMENT_SHARE) < 0.02, partner_type
        assert abs((in_type == "treatment").sum() - (in_type == "control").sum()) <= 2, partner_type
    assigned = e.set_index("partner_id")["assigned"]
    assert (assigned <= pd.Timestamp(AS_OF)).all()
    assert (assigned.dt.date >= starts(large)[assigned.index]).all()
    treated = large.truth.set_index("partner_id")["treated"]
    assert treated.equals(arms.eq("treatment").rename("treated"))


def test_interventions_for_about_30_percent(large):
    i = large.interventions
    assert 0.25 < i["partner_id"].nunique() / len(large.partners) < 0.35
    assert set(i["status"]) == {"planned", "in progress", "done"}
    assert (i.loc[i["status"] == "planned", "date"] > pd.Timestamp(AS_OF)).all()
    assert (i.loc[i["status"] != "planned", "date"] <= pd.Timestamp(AS_OF)).all()
    coached = set(i.loc[i["action"] == synthetic.COACHING, "partner_id"])
    arms = large.experiments.set_index("partner_id")["arm"]
    assert coached == set(arms.index[arms == "treatment"])


# ------------------------------------------------------------------ signal


def test_quality_drives_revenue(large):
    joined = large.outcomes.merge(large.truth, on="partner_id")
    assert spearman(joined["quality"], joined["revenue_12m"]) > 0.3


def test_engagement_propensity_drives_engagement(large):
    joined = large.outcomes.merge(large.truth, on="partner_id")
    e = joined["engagement_propensity"]
    top = joined.loc[e >= e.quantile(0.75), "engaged_12m"].mean()
    bottom = joined.loc[e <= e.quantile(0.25), "engaged_12m"].mean()
    assert top - bottom > 0.3


def test_metrics_carry_the_latent_signal(large):
    p = large.partners.set_index("partner_id")
    truth = large.truth.set_index("partner_id").loc[p.index]
    assert spearman(truth["quality"], p["pipeline_value"].astype(float)) > 0.3
    assert spearman(truth["engagement_propensity"], p["responsiveness_hours"]) < -0.3


def test_treatment_raises_true_engagement_probability(large):
    truth = large.truth
    effect = truth.loc[truth["treated"], "treatment_effect"]
    assert effect.mean() > 0.04 and effect.max() <= synthetic.TREATMENT_EFFECT + 1e-12
    assert (truth.loc[~truth["treated"], "treatment_effect"] == 0).all()
    assert truth["p_engaged"].between(0, 1).all()


# ------------------------------------------------------------------ the model decides


def edited_default(edit) -> ScoringModel:
    """The default model's data after ``edit(data)``, validated like a model file."""
    data = load_model("default").spec.model_dump(mode="json")
    edit(data)
    return from_dict(data, "edited.yaml")


def test_metric_columns_are_the_models_metrics_in_its_order(data):
    def drop_feedback_and_reorder(model: dict) -> None:
        model["metrics"] = [m for m in model["metrics"] if m["id"] != "partner_feedback"][::-1]
        del model["weights"]["engagement"]["partner_feedback"]

    edited = synthetic.generate(300, seed=7, as_of=AS_OF, model=edited_default(drop_feedback_and_reorder))
    metrics = [m.id for m in edited.model.spec.metrics]
    assert "partner_feedback" not in metrics and list(edited.partners.columns[7:]) == metrics
    assert list(edited.history.columns[2:]) == metrics
    # the same draws: only the columns shown change
    pd.testing.assert_frame_equal(edited.partners, data.partners[edited.partners.columns])
    pd.testing.assert_frame_equal(edited.truth, data.truth)


def test_revenue_follows_the_models_segment_adjustment(data):
    def apac_demand(model: dict) -> None:
        next(s for s in model["segments"] if s["id"] == "apac_demand")["adjustment"]["revenue"] = 1.2

    edited = synthetic.generate(300, seed=7, as_of=AS_OF, model=edited_default(apac_demand))
    ratio = edited.truth["expected_revenue"] / data.truth["expected_revenue"]
    apac = (data.partners["region"] == "APAC").to_numpy()
    assert apac.any() and not apac.all()
    np.testing.assert_allclose(ratio[apac], 1.2 / 1.05)
    np.testing.assert_allclose(ratio[~apac], 1.0)
    process = " ".join(str(text) for _, text in synthetic.about_lines(edited))
    assert "revenue is x1.2 in APAC and x0.95 in LATAM" in process
    assert "revenue is x1.05 in APAC and x0.95 in LATAM" in " ".join(str(t) for _, t in synthetic.about_lines(data))


def test_a_metric_the_simulator_cannot_draw_is_an_error():
    def add_metric(model: dict) -> None:
        model["metrics"].append(dict(model["metrics"][0], id="webinar_attendance", label="Webinar attendance"))
        model["weights"]["revenue"]["webinar_attendance"] = model["weights"]["engagement"]["webinar_attendance"] = 1

    model = edited_default(add_metric)
    with pytest.raises(ValueError, match="no values for metric webinar_attendance"):
        synthetic.generate(10, seed=1, as_of=AS_OF, model=model)


def test_level_words_come_from_the_models_ordinal_map():
    def rename_levels(model: dict) -> None:
        cert = next(m for m in model["metrics"] if m["id"] == "certification_status")
        cert["normalization"]["map"] = {"none": 0, "learning": 40, "Partner Certified": 80, "expert": 100}

    edited = synthetic.generate(300, seed=7, as_of=AS_OF, model=edited_default(rename_levels))
    assert set(edited.partners["certification_status"].dropna()) == {"None", "Learning", "Partner certified", "Expert"}

    def three_levels(model: dict) -> None:
        cert = next(m for m in model["metrics"] if m["id"] == "certification_status")
        cert["normalization"]["map"] = {"none": 0, "certified": 80, "advanced": 100}

    model = edited_default(three_levels)
    with pytest.raises(ValueError, match="draws 4 levels of certification_status"):
        synthetic.generate(10, seed=1, as_of=AS_OF, model=model)
