"""The interventions registry: per action and tier, recommended and received counts, the later
score change against matched comparable partners (observational, not causal), and the experiment's
estimate for an action an experiment assigned."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from scoring import load_model, score
from scoring.interventions import COLUMNS, OBSERVATIONAL, intervention_registry, linked_experiments
from scoring.synthetic import COACHING, EXPERIMENT, generate

from tests.conftest import pscore

AS_OF = dt.date(2026, 11, 1)
SINCE = dt.date(2026, 5, 1)


@pytest.fixture(scope="module")
def demo():
    return generate(1500, seed=8, as_of=AS_OF)


@pytest.fixture(scope="module")
def registry(demo):
    return intervention_registry(demo.partners, demo.interventions, "default", AS_OF, history=demo.history,
                                 outcomes=demo.outcomes, experiments=demo.experiments, since=SINCE)


def test_one_tidy_row_per_action_and_tier(registry):
    assert list(registry.columns) == COLUMNS
    overall = registry[registry["category"] == "all tiers"]
    actions = [r.action for r in load_model("default").spec.playbook.rules]
    assert list(overall["action"])[:len(actions)] == actions
    assert set(registry["category"]) <= {"all tiers", "A", "B", "C", "D"}
    for action, rows in registry.groupby("action"):
        top = rows[rows["category"] == "all tiers"].iloc[0]
        assert rows.loc[rows["category"] != "all tiers", "recommended"].sum() == top["recommended"]


def test_counts_follow_the_playbook_at_the_reference_date_and_the_log(demo, registry):
    history = demo.history.copy()
    history["_p"] = pd.to_datetime(history["period"]).dt.date
    snap = history[history["_p"] <= SINCE].sort_values("_p").drop_duplicates("partner_id", keep="last")
    snap = snap.drop(columns=["period", "_p"]).merge(
        demo.partners[["partner_id", "partner_name", "partner_type", "region", "onboarding_start"]], on="partner_id")
    actions = score(snap, "default", SINCE).actions
    expected = actions["action"].value_counts()
    overall = registry[registry["category"] == "all tiers"].set_index("action")
    for action, count in expected.items():
        assert overall.loc[action, "recommended"] == count
    log = demo.interventions
    dates = pd.to_datetime(log["date"]).dt.date
    received = log[(log["status"] != "planned") & (dates >= SINCE) & (dates <= AS_OF)]["action"].value_counts()
    for action, count in received.items():
        assert overall.loc[action, "received"] == count


def test_observational_rows_say_so_and_add_up(registry):
    observational = registry[registry["evidence"] == OBSERVATIONAL]
    assert len(observational) and observational["note"].str.contains("not causal|comparable").all()
    matched = observational[observational["matched_treated"] > 0]
    assert len(matched)
    assert np.allclose(matched["score_change_received"] - matched["score_change_comparison"],
                       matched["score_change_effect"])
    assert (matched["score_change_low"] <= matched["score_change_effect"]).all()
    assert (matched["score_change_effect"] <= matched["score_change_high"]).all()


def test_an_action_an_experiment_assigned_shows_the_experiment_estimate(demo, registry):
    assert linked_experiments(demo.interventions, demo.experiments) == {COACHING: EXPERIMENT}
    coaching = registry[(registry["action"] == COACHING) & (registry["category"] == "all tiers")].iloc[0]
    assert coaching["evidence"] == f"experiment {EXPERIMENT}" and coaching["experiment"] == EXPERIMENT
    assert coaching["experiment_engagement_low"] < coaching["experiment_engagement_effect"] < \
        coaching["experiment_engagement_high"]
    assert "causal" in coaching["note"] and OBSERVATIONAL not in coaching["note"]


def test_without_history_counts_only(demo):
    found = intervention_registry(demo.partners, demo.interventions, "default", AS_OF)
    assert found["note"].str.startswith("no History sheet").all()
    with pytest.raises(ValueError, match="must be before"):
        intervention_registry(demo.partners, demo.interventions, "default", AS_OF, since=AS_OF)


def test_cli_writes_the_registry_sheet(tmp_path):
    book = tmp_path / "partners.xlsx"
    assert pscore("demo", str(book), "--partners", "200", "--seed", "2", "--as-of", AS_OF.isoformat()).returncode == 0
    out = tmp_path / "registry.xlsx"
    done = pscore("interventions", str(book), "-o", str(out), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert f"experiment {EXPERIMENT}" in done.stdout and f"Wrote {out}" in done.stdout
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[-1] == "Interventions registry"
    header = next(r for r in wb["Interventions registry"].iter_rows(values_only=True) if r and r[0] == "action")
    assert list(header) == COLUMNS
    done = pscore("interventions", str(book), "-o", str(tmp_path / "r.xlsx"), "--since", "2027-01-01",
                  "--as-of", AS_OF.isoformat())
    assert done.returncode == 2 and "must be before" in done.stderr
