"""The synthetic marketplace programmes (scoring.synthetic.programmes): reproducible, departing from the
analyst's model exactly where documented, and readable and scorable as a workbook."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from scoring.calibration.backtest import auc, time_split
from scoring.calibration.cohort import build_cohort
from scoring.snapshots import score_at_months
from scoring.synthetic import marketplace as mp
from scoring.synthetic.programmes import (
    PRESETS, ProgrammeOptions, analyst_model, generate_programme, preset,
)
from tests.conftest import pscore
from xlplugin.workbook.demo import write_programme
from xlplugin.workbook.reader import open_workbook, read_table

FRAMES = ("partners", "outcomes", "truth", "effects")
LARGE = 60_000


@pytest.fixture(scope="module")
def model():
    """The analyst's model, as the tests read workbooks with it."""
    return analyst_model()


@pytest.fixture(scope="module")
def large() -> dict:
    """Large draws of the cases whose properties are rates and shares."""
    return {name: generate_programme(preset(name, n_partners=LARGE, seed=5))
            for name in ("signup_only", "partner_type", "heavy_revenue", "marketplace")}


def spearman(a, b) -> float:
    """Rank correlation, as the acceptance compares fitted category points with the truth."""
    return pd.Series(a).rank().corr(pd.Series(b).rank())


def blank_as_none(column: pd.Series) -> list:
    """Values with every kind of blank (None, NaN, NA) as None, to compare columns across dtypes."""
    return [None if pd.isna(v) else v for v in column]


def effects_of(programme, metric: str) -> pd.DataFrame:
    """The true effects of one metric's categories, indexed by category."""
    return programme.effects[programme.effects.metric == metric].set_index("category")


def engaged_by_type(programme) -> pd.Series:
    """Realised engagement rate per partner type among the sellers with outcomes."""
    joined = programme.outcomes.merge(programme.partners[["partner_id", "partner_type"]], on="partner_id")
    return joined.groupby("partner_type")["engaged_12m"].mean()


# ------------------------------------------------------------------ reproducibility


@pytest.mark.parametrize("name", PRESETS)
def test_the_same_options_give_the_same_frames(name):
    one, two = generate_programme(name), generate_programme(preset(name))
    for frame in FRAMES:
        pd.testing.assert_frame_equal(getattr(one, frame), getattr(two, frame), obj=frame)
    if one.history is not None:
        pd.testing.assert_frame_equal(one.history, two.history)


def test_another_seed_gives_other_sellers():
    one, other = generate_programme("signup_only"), generate_programme(preset("signup_only", seed=1))
    assert (one.partners["onboarding_start"] != other.partners["onboarding_start"]).mean() > 0.9
    assert not np.allclose(one.truth["p_engaged"], other.truth["p_engaged"])


def test_options_change_what_the_data_means_not_the_sellers_drawn():
    plain, everything = generate_programme("signup_only"), generate_programme("marketplace")
    same = ["partner_id", "partner_name", "onboarding_start", "partner_type", "region", "lead_type",
            "business_segment", "declared_monthly_revenue"]
    pd.testing.assert_frame_equal(plain.partners[same], everything.partners[same])
    assert not np.allclose(plain.truth["p_engaged"], everything.truth["p_engaged"])


def test_a_preset_takes_changes_and_unknown_names_are_refused():
    assert preset("small", seed=9).seed == 9 and preset("small").n_partners == 330
    with pytest.raises(ValueError, match="unknown programme 'nope'"):
        preset("nope")


# ------------------------------------------------------------------ the documented process


@pytest.mark.parametrize("name", ["signup_only", "marketplace"])
def test_the_truth_is_the_documented_function_of_the_recorded_answers(name):
    """eta = intercept + category effects + saturating catalogue + declared-revenue step (+ segments)."""
    p = generate_programme(name)
    eta = np.full(len(p.partners), mp.ENGAGEMENT_INTERCEPT)
    for metric in ("lead_type", "lead_behaviour_profile", "business_segment"):
        eta += p.partners[metric].map(effects_of(p, metric)["effect"]).to_numpy()
    eta += mp.catalog_effect(p.partners["declared_product_catalog_size"].to_numpy(dtype=float))
    eta += mp.declared_effect(p.partners["declared_monthly_revenue"].to_numpy(dtype=float))
    if p.options.segment_effects:
        for dimension in ("partner_type", "region"):
            eta += p.partners[dimension].map(effects_of(p, dimension)["effect"]).to_numpy()
    np.testing.assert_allclose(p.truth["eta"], eta)
    np.testing.assert_allclose(p.truth["p_engaged"], 1 / (1 + np.exp(-eta)))


def test_realised_outcomes_follow_the_true_probabilities(large):
    for p in large.values():
        truth = p.truth.set_index("partner_id").loc[p.outcomes["partner_id"]]
        assert p.outcomes["engaged_12m"].mean() == pytest.approx(truth["p_engaged"].mean(), abs=0.01)
        positive = (p.outcomes["revenue_12m"] > 0).mean()
        assert positive == pytest.approx(truth["p_revenue_positive"].mean(), abs=0.01)
    plain = large["signup_only"]  # lognormal revenue: the mean is stable enough to check the expectation
    truth = plain.truth.set_index("partner_id").loc[plain.outcomes["partner_id"]]
    assert plain.outcomes["revenue_12m"].mean() == pytest.approx(truth["expected_revenue"].mean(), rel=0.05)


def test_about_a_fifth_of_sellers_engage(large):
    assert 0.17 < large["signup_only"].outcomes["engaged_12m"].mean() < 0.23


def test_outcomes_exist_once_the_twelve_months_have_passed():
    p = generate_programme("signup_only")
    start = p.partners.set_index("partner_id")["onboarding_start"].dt.date
    cutoff = p.options.outcome_cutoff
    assert (start[p.outcomes["partner_id"]] <= cutoff).all()
    assert set(p.outcomes["partner_id"]) == set(start[start <= cutoff].index)
    recent = (start > cutoff).sum()
    assert 0.2 * len(start) < recent < 0.5 * len(start)  # some recent sellers without outcomes
    assert start.min() >= p.options.signed_from and start.max() <= p.options.signed_until
    assert set(p.outcomes.columns) == {"partner_id", "engaged_12m", "revenue_12m"}


# ------------------------------------------------------------------ where the analyst is wrong


def test_the_true_category_order_differs_from_the_analysts_maps(model):
    p = generate_programme("wrong_order")
    for metric in ("lead_type", "lead_behaviour_profile", "business_segment"):
        table = effects_of(p, metric)
        assert spearman(table["analyst"], table["effect"]) < 0.6, metric
    lead = effects_of(p, "lead_type").sort_values("effect")
    assert lead.index[1] == "industry" and lead.loc["industry", "analyst"] == 70  # rated 70, second-worst
    behaviour = effects_of(p, "lead_behaviour_profile")
    assert behaviour["analyst"].idxmin() == behaviour["effect"].idxmax() == "cat"  # rated lowest, best
    maps = {m.id: m.normalization.map for m in model.spec.metrics if m.normalization.kind == "ordinal"}
    assert maps["lead_type"]["industry"] == 70 and min(maps["lead_behaviour_profile"].values()) == maps[
        "lead_behaviour_profile"]["cat"]


def test_with_the_analysts_order_the_same_effects_follow_the_maps():
    right, wrong = generate_programme("signup_only"), generate_programme("wrong_order")
    for metric in ("lead_type", "lead_behaviour_profile", "business_segment"):
        table = effects_of(right, metric)
        assert spearman(table["analyst"], table["effect"]) == pytest.approx(1.0), metric
        gaps = np.diff(sorted(table["effect"]))  # the same sizes, up to centring
        assert gaps == pytest.approx(np.diff(sorted(effects_of(wrong, metric)["effect"])))


def test_engagement_rates_by_partner_type_are_the_stated_ones(large, model):
    rates = engaged_by_type(large["partner_type"])
    for partner_type, rate in mp.TYPE_RATES.items():
        assert rates[partner_type] == pytest.approx(rate, abs=0.03 if partner_type == "other" else 0.015)
    assert rates["reseller"] - rates["manufacturer"] > 0.12
    assert not model.spec.segments  # a dimension only: the model has no adjustment for it


def test_without_segment_effects_partner_type_says_nothing(large):
    p = large["signup_only"]
    by_type = p.truth.assign(t=p.partners["partner_type"]).groupby("t")["p_engaged"].mean()
    assert by_type.max() - by_type.min() < 0.01


def test_late_metrics_are_blank_for_everyone_with_an_outcome():
    p = generate_programme("late_metrics")
    late = list(mp.LATE_METRICS)
    with_outcome = p.partners["partner_id"].isin(p.outcomes["partner_id"])
    assert p.partners.loc[with_outcome, late].isna().all().all()
    recorded = p.partners["onboarding_start"].dt.date >= p.options.late_since
    assert recorded.sum() > 100 and p.partners.loc[recorded, late].notna().all().all()
    others = [c for c in p.partners if c not in late]
    assert p.partners[others].notna().all().all()


def test_late_metrics_cannot_reach_sellers_with_outcomes():
    with pytest.raises(ValueError, match="would be recorded for sellers with outcomes"):
        ProgrammeOptions(late_metrics=("has_company",), late_months=6)
    with pytest.raises(ValueError, match="cannot be late"):
        ProgrammeOptions(late_metrics=("lead_type",))


def test_the_late_answers_carry_no_true_effect():
    p = generate_programme("marketplace")
    assert (effects_of(p, "average_stock")["effect"] == 0).all()


@pytest.mark.parametrize("name", ["heavy_revenue", "marketplace"])
def test_heavy_revenue_is_mostly_zero_with_a_heavy_tail(large, name):
    revenue = large[name].outcomes["revenue_12m"]
    positive = revenue[revenue > 0].sort_values(ascending=False)
    assert 0.65 < (revenue == 0).mean() < 0.8
    assert positive.head(len(positive) // 100).sum() / positive.sum() > 0.2  # top 1% of sellers with sales
    assert positive.max() > 50 * positive.median()


def test_plain_revenue_is_a_milder_hurdle(large):
    revenue = large["signup_only"].outcomes["revenue_12m"]
    positive = revenue[revenue > 0].sort_values(ascending=False)
    assert 0.4 < (revenue == 0).mean() < 0.55
    assert positive.head(len(positive) // 100).sum() / positive.sum() < 0.15


def test_the_small_programme_has_150_to_300_partners_with_outcomes():
    for seed in range(5):
        assert 150 <= len(generate_programme(preset("small", seed=seed)).outcomes) <= 300


@pytest.mark.parametrize("name, gap", [("signup_only", 0.03), ("wrong_order", 0.1), ("marketplace", 0.1)])
def test_on_the_later_cohorts_the_truth_ranks_far_better_than_the_analysts_scorecard(name, gap):
    """The truth side of the acceptance: on the time split's test sellers, scored at sign-up, the true
    probabilities leave room that the analyst's scorecard does not fill -- most where its order is wrong."""
    p = generate_programme(preset(name, n_partners=6000, seed=2))
    cohort = build_cohort(p.partners, None, p.outcomes, p.model, window_months=0, horizon_months=12).cohort
    start = pd.to_datetime(cohort.partners["onboarding_start"]).to_numpy().astype("datetime64[D]")
    test = start >= np.datetime64(time_split(start, 0.3))
    assert 0.2 < test.mean() < 0.4  # the month boundary nearest 30%
    truth = p.truth.set_index("partner_id")["p_engaged"].loc[cohort.partners["partner_id"]].to_numpy()
    analyst = score_at_months(cohort.partners, p.model, 0).scores["engagement"]
    true_auc, analyst_auc = auc(truth[test], cohort.engaged[test]), auc(analyst[test], cohort.engaged[test])
    assert 0.64 < true_auc < 0.75
    assert true_auc - analyst_auc > gap


# ------------------------------------------------------------------ History or not


def test_sign_up_only_data_has_no_history():
    for name, options in PRESETS.items():
        assert (generate_programme(options).history is None) == (not options.history), name


def test_the_history_repeats_each_partners_answers_monthly_from_its_onboarding_month():
    p = generate_programme(preset("history", n_partners=120))
    h = p.history
    months = h.groupby("partner_id")["period"].agg(["min", "max", "count"])
    start = p.partners.set_index("partner_id")["onboarding_start"]
    assert (months["min"].dt.to_period("M") == start.dt.to_period("M")[months.index]).all()
    assert (months["max"].dt.date == p.as_of).all()
    expected = (pd.Period(p.as_of, "M") - start.dt.to_period("M")).map(lambda d: d.n) + 1
    assert (months["count"] == expected[months.index]).all()
    last = h.groupby("partner_id").tail(1).set_index("partner_id")
    metrics = [m.id for m in p.model.spec.metrics]
    pd.testing.assert_frame_equal(last[metrics], p.partners.set_index("partner_id")[metrics], check_names=False)


# ------------------------------------------------------------------ the analyst's model and the workbook


def test_the_analysts_model_validates_and_ships_with_the_package(model):
    path = resources.files("scoring.synthetic").joinpath("marketplace.yaml")
    done = pscore("validate-model", str(path))
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout and "8 metrics" in done.stdout
    assert [m.id for m in model.spec.metrics] == list(generate_programme().partners.columns[5:])


def test_the_written_workbook_opens_and_reads_back(tmp_path, model):
    p = generate_programme(preset("marketplace", n_partners=150))
    path = write_programme(p, tmp_path / "programme.xlsx")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["About", "Partners", "Outcomes"]  # sign-up only: no History sheet
    book.close()
    read = read_table(open_workbook(path), "Partners", model, unique_ids=True)
    assert not read.issues
    got = read.frame.reset_index(drop=True)
    assert list(got["partner_id"]) == list(p.partners["partner_id"])
    for column in ("lead_type", "business_segment", "average_stock", "has_company"):
        assert blank_as_none(got[column]) == blank_as_none(p.partners[column]), column
    np.testing.assert_array_equal(got["declared_monthly_revenue"].to_numpy(dtype=float),
                                  p.partners["declared_monthly_revenue"].to_numpy(dtype=float))
    outcomes = read_table(open_workbook(path), "Outcomes", model).frame
    assert len(outcomes) == len(p.outcomes)


def test_the_same_programme_writes_the_same_bytes(tmp_path):
    p = generate_programme(preset("history", n_partners=40))
    one, two = write_programme(p, tmp_path / "one.xlsx"), write_programme(p, tmp_path / "two.xlsx")
    assert one.read_bytes() == two.read_bytes()
    assert load_workbook(one, read_only=True).sheetnames == ["About", "Partners", "History", "Outcomes"]


def test_pscore_scores_the_written_sign_up_only_workbook(tmp_path):
    p = generate_programme(preset("marketplace", n_partners=200))
    path = write_programme(p, tmp_path / "programme.xlsx")
    model = resources.files("scoring.synthetic").joinpath("marketplace.yaml")
    out = tmp_path / "scores.csv"
    done = pscore("score", str(path), "-o", str(out), "--model", str(model), "--as-of", p.as_of.isoformat())
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(out)
    assert len(scores) == 200 and scores["engagement_score"].notna().all()
    assert "Scored 200 partners with marketplace" in done.stdout
