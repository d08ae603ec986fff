"""The change ledger: parts that add up exactly to a score change, whatever changed, in any order."""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import load_model, score
from scoring.ledger import State, change_ledger, reasons_text, top_reasons

from scoring.model.schema import BooleanNorm, OrdinalNorm

from tests.conftest import AS_OF, partners, variant

MODEL = load_model("default")
METRICS = {m.id: m for m in MODEL.spec.metrics}


def valid_value(metric) -> st.SearchStrategy:
    """Any value the metric accepts, in its natural units."""
    norm = metric.normalization
    if isinstance(norm, BooleanNorm):
        return st.sampled_from(["Yes", "No", 1, 0])
    if isinstance(norm, OrdinalNorm):
        return st.sampled_from(list(norm.map))
    lo, hi = metric.valid_range or (0.0, max(norm.floor, norm.target) * 3)
    return st.floats(lo, hi, allow_nan=False)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAYS = st.integers(0, 700).map(lambda d: AS_OF - dt.timedelta(days=d))


@st.composite
def partner_row(draw):
    row = {mid: draw(st.one_of(valid_value(m), st.none())) for mid, m in METRICS.items()}
    row["deals_won"] = draw(valid_value(METRICS["deals_won"]))  # always something to score
    row["partner_type"] = draw(st.sampled_from(["reseller", "integrator", "referral", "marketplace"]))
    row["region"] = draw(st.sampled_from(["NA", "EMEA", "APAC", "LATAM"]))
    return row


@st.composite
def changed(draw, row):
    """``row`` with some metrics, segment columns and blanks changed."""
    out = dict(row)
    for mid in draw(st.lists(st.sampled_from(sorted(METRICS)), max_size=6, unique=True)):
        out[mid] = draw(st.one_of(valid_value(METRICS[mid]), st.none()))
    if draw(st.booleans()):
        out["region"] = draw(st.sampled_from(["NA", "EMEA", "APAC", "LATAM"]))
    if draw(st.booleans()):
        out["partner_type"] = draw(st.sampled_from(["reseller", "integrator", "referral", "marketplace"]))
    return out


def other_model(draw):
    """The default model with some weights and the composite mix changed."""
    data = copy.deepcopy(MODEL.spec.model_dump(mode="json"))
    for outcome in ("revenue", "engagement"):
        for mid in list(data["weights"][outcome]):
            data["weights"][outcome][mid] = draw(st.sampled_from([1, 2, 3, 5]))
    data["composite_weights"] = {"revenue": draw(st.sampled_from([0.3, 0.5, 0.7])), "engagement": 0.5}
    return variant(data)


@st.composite
def scenario(draw):
    rows = draw(st.lists(partner_row(), min_size=1, max_size=4))
    later = [draw(changed(r)) for r in rows]
    start = draw(st.sampled_from([0.5, 2, 5, 8, 14]))
    a_day, b_day = sorted([draw(DAYS), draw(DAYS)])
    stale_a = {"deals_won": np.array([draw(st.sampled_from([1.0, 0.5, np.nan])) for _ in rows])}
    stale_b = {"pipeline_value": np.array([draw(st.sampled_from([1.0, 0.25, np.nan])) for _ in rows])}
    models = (MODEL, other_model(draw)) if draw(st.booleans()) else (MODEL, MODEL)
    return (State(partners(*rows, onboarding_start=AS_OF - dt.timedelta(days=int(start * 30.4))), a_day, models[0], stale_a),
            State(partners(*later, onboarding_start=AS_OF - dt.timedelta(days=int(start * 30.4))), b_day, models[1], stale_b))


def totals(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.groupby(["row", "score"]).agg(parts=("points", "sum"), change=("change", "first"))


@SETTINGS
@given(scenario())
def test_the_parts_add_up_to_the_change(states):
    before, after = states
    ledger = change_ledger(before, after)
    got = totals(ledger)
    scored = got["change"].notna()
    assert np.all(np.abs(got.loc[scored, "parts"] - got.loc[scored, "change"]) <= 0.05)
    assert np.all(np.abs(got.loc[scored, "parts"] - got.loc[scored, "change"]) <= 1e-9)  # in fact exactly
    for state, end in ((before, "before"), (after, "after")):  # the ends are the engine's own scores
        alone = score(state.frame, state.model, as_of=state.as_of, stale=state.stale).raw_scores
        for s in ("revenue", "engagement", "composite"):
            mine = ledger[ledger["score"] == s].drop_duplicates("row")[end].to_numpy()
            np.testing.assert_allclose(mine, alone[s].to_numpy(), rtol=0, atol=1e-9)


@SETTINGS
@given(scenario())
def test_swapping_the_periods_negates_every_part(states):
    before, after = states
    forward, backward = change_ledger(before, after), change_ledger(after, before)
    key = ["row", "score", "part", "metric"]
    both = forward.merge(backward, on=key, suffixes=("", "_back"))
    assert len(both) == len(forward) == len(backward)
    np.testing.assert_allclose(both["points"], -both["points_back"], rtol=0, atol=1e-9)


@SETTINGS
@given(st.lists(partner_row(), min_size=1, max_size=4), DAYS, DAYS, st.sampled_from([0.5, 2, 5, 8, 14]))
def test_unchanged_inputs_move_only_by_the_stage(rows, a_day, b_day, months):
    frame = partners(*rows, onboarding_start=AS_OF - dt.timedelta(days=int(months * 30.4)))
    ledger = change_ledger(State(frame, a_day), State(frame.copy(), b_day))
    others = ledger[ledger["part"] != "stage"]
    assert np.all(np.abs(others["points"]) <= 1e-9)
    stage = ledger[ledger["part"] == "stage"]
    np.testing.assert_allclose(stage["points"], stage["change"], rtol=0, atol=1e-9)


def test_two_models_on_the_same_data_differ_only_by_the_model_effect(model_dict):
    model_dict["weights"]["revenue"]["deals_won"] = 9
    other = variant(model_dict)
    frame = partners({}, {"deals_won": 0})
    ledger = change_ledger(State(frame, AS_OF), State(frame, AS_OF, other))
    effect = ledger[ledger["part"] == "model"]
    assert set(ledger["part"]) == {"metric", "stale_missing", "stage", "segment", "model"}
    np.testing.assert_allclose(effect["points"], effect["change"], atol=1e-9)
    assert (effect[effect["score"] == "revenue"]["points"].abs() > 0.1).all()
    assert np.all(np.abs(ledger[ledger["part"] != "model"]["points"]) <= 1e-9)


def test_a_metric_that_changed_carries_its_own_effect_and_reasons_are_worded_for_the_partner():
    before = partners({"deals_won": 1, "pipeline_value": 200000})
    after = partners({"deals_won": 10, "pipeline_value": 200000})
    ledger = change_ledger(State(before, AS_OF), State(after, AS_OF))
    composite = ledger[ledger["score"] == "composite"].set_index("label")["points"]
    assert composite["Deals won"] > 1 and (composite.drop("Deals won").abs() <= 1e-9).all()
    reasons = top_reasons(ledger)
    assert reasons["reason"].tolist() == [f"Deals won improved (+{composite['Deals won']:.1f} points)"]
    assert reasons_text(ledger) == {0: reasons["reason"].tolist()}


def test_an_unscored_partner_has_no_parts():
    empty = {m: None for m in METRICS}
    ledger = change_ledger(State(partners(empty), AS_OF), State(partners({}), AS_OF))
    assert ledger["points"].isna().all() and ledger["change"].isna().all()
    assert top_reasons(ledger).empty


def test_since_snapshot_explains_the_change_the_trend_shows():
    from scoring.history import score_history, since_snapshot, trend

    current = partners({"deals_won": 9}, {"training_completion_rate": 0.3})
    history = pd.DataFrame([{**row, "period": period} for period in (dt.date(2026, 8, 31), dt.date(2026, 10, 20))
                            for row in partners({"deals_won": 2}, {}).drop(
                                columns=["partner_type", "region", "onboarding_start", "partner_name"]).to_dict("records")])
    result = score(current, MODEL, as_of=AS_OF)
    shown = trend(score_history(history, current, MODEL), current["partner_id"], result.frame, AS_OF)
    ledger = since_snapshot(history, current, MODEL, AS_OF)
    composite = ledger[ledger["score"] == "composite"]
    for k, pid in enumerate(["P1", "P2"]):
        mine = composite[composite["partner_id"] == pid]
        assert (mine["from_period"] == dt.date(2026, 8, 31)).all() and (mine["to_period"] == AS_OF).all()
        assert abs(mine["points"].sum() - shown.at[k, "composite_score_change"]) <= 0.05
    assert top_reasons(ledger)["reason"].str.startswith(("Deals won improved", "Training completion declined")).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 50), st.sampled_from([{"method": "none"}, {"method": "ewma", "alpha": 0.3},
                                            {"method": "moving_average", "periods": 3}]),
       st.sampled_from([None, 2.0, 6.0]), st.sampled_from(["keep", "decay", "drop"]))
def test_the_history_ledger_adds_up_to_the_published_change_under_any_stability(seed, smoothing, limit, rule):
    from scoring.history import history_view
    from scoring.synthetic import generate

    data = generate(25, seed=seed, as_of=dt.date(2026, 11, 24))
    history = data.history.copy()
    history["deals_won_updated"] = history["period"] - pd.Timedelta(days=45)  # stale under a 30-day interval
    section = {"smoothing": smoothing, "stale": rule, **({"max_change": limit} if limit else {})}
    model = variant({**MODEL.spec.model_dump(mode="json"), "stability": section})
    view = history_view(history, data.partners, model)
    sums = view.changes.groupby(["row", "score"]).agg(parts=("points", "sum"), change=("change", "first"))
    scored = sums["change"].notna()
    assert scored.any() and np.all(np.abs(sums.loc[scored, "parts"] - sums.loc[scored, "change"]) <= 0.05)
    table = view.table.set_index(["partner_id", "period"])
    for record in view.changes[view.changes["score"] == "composite"].drop_duplicates("row").to_dict("records"):
        after = table.loc[(record["partner_id"], record["to_period"]), "composite_published"]
        assert abs(after - record["after"]) <= 0.05
