"""Scores over time: the stability section, smoothing, the guardrail, the provisional rule and
per-metric staleness, on hand-computed series and through the engine."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring import ModelError, load_model, score
from scoring import staleness
from scoring.history import history_view, score_history
from scoring.model.dump import dump_model
from scoring.model.load import from_dict, parse_model
from scoring.stability import stabilise

from tests.conftest import AS_OF, partners, variant


def with_stability(model_dict: dict, **section) -> object:
    return variant({**model_dict, "stability": section})


def run(spec, *series, correction=None):
    """One partner per series, oldest first; returns the Stabilised arrays reshaped per partner."""
    ids = np.repeat([f"P{k}" for k in range(len(series))], [len(s) for s in series])
    order = np.concatenate([np.arange(len(s)) for s in series])
    raw = np.concatenate([np.asarray(s, dtype=float) for s in series])
    fixes = np.zeros(len(raw), dtype=bool) if correction is None else np.asarray(correction, dtype=bool)
    return stabilise(ids, order, {"composite": raw}, fixes, spec)


# ------------------------------------------------------------------ the model section


def test_no_stability_section_leaves_the_model_hash_dump_and_scores_as_they_were(model, model_dict):
    assert model.spec.stability.smoothing.method == "none" and model.spec.stability.stale == "keep"
    assert "stability" not in dump_model(model.spec)
    spelled = with_stability(model_dict, smoothing={"method": "none"}, stale="keep", min_periods=0)
    assert spelled.hash == model.hash


def test_a_stability_section_is_validated_like_the_rest(model_dict):
    for section, problem in (({"smoothing": {"method": "median"}}, "stability.smoothing.method"),
                             ({"smoothing": {"method": "ewma", "alpha": 0}}, "stability.smoothing.alpha"),
                             ({"max_change": -1}, "stability.max_change"),
                             ({"stale": "forget"}, "stability.stale"),
                             ({"stale": "keep", "decay_half_life_days": 30}, "decay_half_life_days applies only"),
                             ({"guardrail": 5}, "stability.guardrail: unknown key")):
        with pytest.raises(ModelError) as err:
            with_stability(model_dict, **section)
        assert problem in str(err.value), section


def test_a_model_with_a_stability_section_dumps_and_loads_back_to_the_same_hash(model_dict):
    tuned = with_stability(model_dict, smoothing={"method": "ewma", "alpha": 0.3}, max_change=5, stale="decay")
    again = parse_model(dump_model(tuned.spec))
    assert again.hash == tuned.hash and again.spec.stability.smoothing.alpha == 0.3


# ------------------------------------------------------------------ smoothing, guardrail, provisional


def test_moving_average_over_the_last_n_periods_by_hand(model_dict):
    spec = with_stability(model_dict, smoothing={"method": "moving_average", "periods": 3}).spec
    out = run(spec, [10, 20, 60, np.nan, 30])
    # windows: [10], [10,20], [10,20,60], raw missing -> none, [60, nan, 30] -> (60+30)/2
    np.testing.assert_allclose(out.smoothed["composite"], [10, 15, 30, np.nan, 45])


def test_ewma_by_hand(model_dict):
    spec = with_stability(model_dict, smoothing={"method": "ewma", "alpha": 0.5}).spec
    out = run(spec, [40, 60, 80], [10])
    np.testing.assert_allclose(out.smoothed["composite"], [40, 50, 65, 10])


def test_the_guardrail_bounds_every_step_and_keeps_the_move_it_held_back(model_dict):
    spec = with_stability(model_dict, max_change=5).spec
    raw = [50, 70, 71, 40, 42]
    out = run(spec, raw)
    published = out.published["composite"]
    np.testing.assert_allclose(published, [50, 55, 60, 55, 50])
    assert (np.abs(np.diff(published)) <= 5 + 1e-9).all()
    np.testing.assert_allclose(out.held_back["composite"], [0, 15, 11, -15, -8])  # the move beyond the 5 let through
    assert out.guardrail.tolist() == [False, True, True, True, True]
    np.testing.assert_allclose(out.smoothed["composite"], raw)  # never hidden: the raw series is kept


def test_a_data_correction_goes_through_the_guardrail_unbounded(model_dict):
    spec = with_stability(model_dict, max_change=5).spec
    out = run(spec, [50, 80, 81, 90], correction=[False, True, False, False])
    np.testing.assert_allclose(out.published["composite"], [50, 80, 81, 86])
    assert out.guardrail.tolist() == [False, False, False, True]


def test_fewer_history_periods_than_the_minimum_is_provisional(model_dict):
    spec = with_stability(model_dict, min_periods=3).spec
    out = run(spec, [50, 51, 52, 53], [40])
    assert out.too_few.tolist() == [True, True, False, False, True]
    assert out.observations.tolist() == [1, 2, 3, 4, 1]


def test_the_minimum_observation_period_makes_todays_score_provisional_too(model_dict):
    """pscore score, the table functions and the macros count each partner's History snapshots up to the
    scoring date: a year-old partner with two snapshots is provisional under min_periods 3."""
    from scoring.checked import score_checked
    from scoring.quality import records

    model = with_stability(model_dict, min_periods=3)
    rows = partners({}, {}, {})  # 12 months since onboarding start: final by the months rule
    snaps = pd.DataFrame([{**rows.iloc[i].to_dict(), "period": dt.date(2026, m, 28)}
                          for i, months in ((0, (8, 9)), (1, (7, 8, 9))) for m in months])
    result = score_checked(rows, model, snaps, as_of=AS_OF).result
    assert result["provisional"].tolist() == [True, False, True]  # P3: no snapshot in the History kept
    assert score_checked(rows, model, None, as_of=AS_OF).result["provisional"].tolist() == [False] * 3  # no History
    found = [r for r in records(result, rows) if r.flag == "provisional"]
    assert [r.partner for r in found] == ["P1", "P3"]
    assert found[0].problem == "fewer than 3 months since onboarding start or fewer than 3 History snapshots"
    default = score_checked(rows, load_model("default"), snaps, as_of=AS_OF).result
    assert not default["provisional"].any()  # without the section only the months rule applies


def test_the_history_table_marks_provisional_tiers_and_uses_the_smoothed_composite(model_dict):
    model = with_stability(model_dict, min_periods=2, smoothing={"method": "moving_average", "periods": 2})
    rows = partners({"deals_won": 0, "pipeline_value": 0}, {})
    snaps = pd.DataFrame([{**rows.iloc[0].to_dict(), "period": dt.date(2026, 9, 30)},
                          {**rows.iloc[1].to_dict(), "partner_id": "P1", "period": dt.date(2026, 10, 31)}])
    view = history_view(snaps, rows, model)
    table = view.table
    assert table["observations"].tolist() == [1, 2] and table["provisional"].tolist() == [True, False]
    assert table.at[0, "tier_shown"].endswith("(provisional)") and not table.at[1, "tier_shown"].endswith(")")
    assert table.at[1, "composite_smoothed"] == pytest.approx((table.at[0, "composite_raw"] + table.at[1, "composite_raw"]) / 2, abs=0.06)
    tiers = {t.id: t.min_score for t in model.spec.tiers}
    assert table.at[1, "composite_smoothed"] >= tiers[table.at[1, "tier"]]


def test_without_a_stability_section_raw_smoothed_and_published_equal_todays_history_scores(model):
    from scoring.synthetic import generate

    data = generate(60, seed=3, as_of=dt.date(2026, 11, 24))
    view = history_view(data.history, data.partners, model)
    old = score_history(data.history, data.partners, model)
    both = view.table.merge(old, on=["partner_id", "period"])
    assert len(both) == len(old) == len(view.table)
    for s in ("revenue", "engagement", "composite"):
        for kind in ("raw", "smoothed", "published"):
            np.testing.assert_array_equal(both[f"{s}_{kind}"], both[f"{s}_score"])
    assert (both["tier_x"] == both["tier_y"]).all() and not both["guardrail"].any()


# ------------------------------------------------------------------ staleness


def stale_partner(days_old: int, rule: str, model_dict: dict, **extra):
    model = with_stability(model_dict, stale=rule, **extra)
    frame = partners({})
    frame["deals_won_updated"] = AS_OF - dt.timedelta(days=days_old)  # deals_won: interval 30 days
    found = staleness.assess(model, staleness.latest_observed(frame, model, None, AS_OF), AS_OF)
    return model, frame, found


@pytest.mark.parametrize("rule", ["keep", "decay", "drop"])
def test_a_fresh_value_is_not_stale_under_any_rule(rule, model_dict):
    model, frame, found = stale_partner(30, rule, model_dict)
    assert not found.any.any()
    fresh = score(frame, model, as_of=AS_OF, stale=found.retain)
    assert fresh.raw_scores.equals(score(frame, model, as_of=AS_OF).raw_scores)


def test_keep_flags_a_stale_value_and_scores_it_as_it_is(model_dict):
    model, frame, found = stale_partner(31, "keep", model_dict)
    assert found.stale["deals_won"].tolist() == [True] and found.describe().tolist() == ["Deals won"]
    assert found.retain is None
    assert found.age_days["deals_won"][0] == 31


def test_drop_leaves_a_stale_value_out_of_the_score_and_the_coverage(model_dict):
    model, frame, found = stale_partner(90, "drop", model_dict)
    dropped = score(frame, model, as_of=AS_OF, stale=found.retain)
    blank = score(frame.assign(deals_won=None), model, as_of=AS_OF)
    assert dropped.raw_scores.iloc[0].equals(blank.raw_scores.iloc[0])
    assert dropped["coverage"][0] == blank["coverage"][0] < 1.0
    assert "missing" not in dropped["flags"][0]  # stale, not missing


def test_decay_moves_a_stale_sub_score_toward_the_baseline_by_half_per_half_life(model_dict):
    model, frame, found = stale_partner(30 + 60, "decay", model_dict, decay_half_life_days=60)
    fresh = score(frame, model, as_of=AS_OF)
    decayed = score(frame, model, as_of=AS_OF, stale=found.retain)
    base = model.spec.drivers.baseline
    before, after = fresh.subscores.at[0, "deals_won"], decayed.subscores.at[0, "deals_won"]
    assert after - base == pytest.approx((before - base) / 2)
    others = [c for c in fresh.subscores.columns if c != "deals_won"]
    assert fresh.subscores[others].equals(decayed.subscores[others])


def test_the_last_history_period_with_a_value_dates_a_partner_sheet_value(model):
    frame = partners({}, {}, {"deals_won": 7})  # deals_won 4 on the partner sheet, 7 for P3
    history = pd.DataFrame([
        {"partner_id": "P1", "period": dt.date(2026, 10, 31), "deals_won": 4, "market_alignment": 4},
        {"partner_id": "P2", "period": dt.date(2026, 7, 31), "deals_won": 4},
        {"partner_id": "P2", "period": dt.date(2026, 10, 31), "deals_won": None, "market_alignment": 4},
        {"partner_id": "P2", "period": dt.date(2026, 12, 31), "deals_won": 4},  # after the scoring date's month
        {"partner_id": "P3", "period": dt.date(2026, 7, 31), "deals_won": 4},  # since updated to 7: no known date
    ])
    found = staleness.assess(model, staleness.latest_observed(frame, model, history, AS_OF), AS_OF)
    assert found.stale["deals_won"].tolist() == [False, True, False]  # P2's last value: 31 Jul, 93 days > 30
    assert found.age_days["deals_won"][:2].tolist() == [1, 93] and np.isnan(found.age_days["deals_won"][2])
    assert not found.stale["market_alignment"].any()
    assert np.isnan(found.age_days["pipeline_value"]).all()  # never in History: no date, not stale


def test_pscore_score_lists_stale_values_as_data_quality_records_and_scores_them_by_the_rule(tmp_path, model_dict):
    from openpyxl import load_workbook

    from tests.conftest import partner, pscore, write_book

    rows = [partner("P1", "One", **{"Deals won updated": "2026-06-30"}), partner("P2", "Two")]
    book = write_book(tmp_path / "in.xlsx", rows)
    keep = tmp_path / "keep.xlsx"
    assert pscore("score", str(book), "-o", str(keep), "--as-of", AS_OF.isoformat()).returncode == 0
    ws = load_workbook(keep)["Data quality"]
    found = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[6] and r[6].startswith("stale")]
    assert len(found) == 1 and found[0][:2] == ("Partners", 2) and found[0][2].startswith("deals_won (")
    assert found[0][3:] == ("P1", 4, "not updated within its 30-day interval (last observed 2026-06-30)",
                            "stale: scored as it is")
    model = tmp_path / "drop.yaml"
    model.write_text(dump_model(with_stability(model_dict, stale="drop").spec), encoding="utf-8")
    out = {}
    for name, extra in (("keep", []), ("drop", ["--model", str(model)])):
        target = tmp_path / f"{name}.csv"
        assert pscore("score", str(book), "-o", str(target), "--as-of", AS_OF.isoformat(), *extra).returncode == 0
        out[name] = pd.read_csv(target)
    assert out["drop"].at[0, "coverage"] < out["keep"].at[0, "coverage"] == 1.0
    assert out["drop"].at[1, "composite_score"] == out["keep"].at[1, "composite_score"]


def test_a_stale_value_in_history_is_scored_by_the_rule_and_listed(model_dict):
    model = with_stability(model_dict, stale="drop")
    rows = partners({})
    snaps = pd.DataFrame([{**rows.iloc[0].to_dict(), "period": dt.date(2026, 10, 31),
                           "pipeline_value_updated": dt.date(2026, 6, 30)}])
    view = history_view(snaps, rows, model)
    assert view.table.at[0, "stale"] == "Pipeline value"
    kept = history_view(snaps, rows, "default").table
    assert view.table.at[0, "coverage"] < kept.at[0, "coverage"]
