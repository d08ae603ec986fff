"""Scenario planning and the model's budget section: A against A changes nothing, a weight change
moves exactly the partners whose contributions say so, share pools conserve their totals, and the
workbook, PDF and macro show the same scenario."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import pytest
from openpyxl import load_workbook

from scoring import ModelError, load_model
from scoring.budget import allocate
from scoring.model.dump import dump_model
from scoring.model.edit import with_overrides
from scoring.moves import metric_moves
from scoring.scenario import run_scenario
from scoring.synthetic import generate

from tests.conftest import pdf_text, pscore
from tests.test_model_sheet import edited

AS_OF = dt.date(2026, 11, 1)
BUDGET = {"currency": "USD", "pools": [
    {"id": "mdf", "label": "Market development funds", "total": 500000, "rule": "by_tier",
     "tiers": {"A": 4, "B": 2, "C": 1}},
    {"id": "coaching", "label": "Coaching hours", "unit": "hours", "total": 2000, "rule": "by_lever",
     "lever": "coaching_hours", "mode": "fixed", "per_action": 6, "rules": {"coach_engagement_gap": 12}},
    {"id": "training", "label": "Training budget", "total": 100000, "rule": "by_lever", "lever": "training_budget"},
]}


@pytest.fixture(scope="module")
def data():
    return generate(1500, seed=4, as_of=AS_OF)


@pytest.fixture(scope="module")
def budgeted():
    return with_overrides(load_model("default"), {"budget": BUDGET}).model


@pytest.fixture(scope="module")
def reweighted(budgeted):
    return with_overrides(budgeted, {"weights.revenue.deals_won": 9}).model


def test_a_against_itself_changes_nothing(data, budgeted):
    found = run_scenario(data.partners, budgeted, budgeted, AS_OF)
    counts = found.migration.to_numpy()
    assert (counts == np.diag(np.diag(counts))).all() and counts.sum() == len(data.partners)
    shares = found.shares.to_numpy()
    assert np.allclose(shares, np.diag((np.diag(counts) > 0).astype(float)))
    assert found.correlation["value"].tolist() == pytest.approx([1.0, 1.0])
    assert found.movers.empty and found.action_changes.empty
    assert found.actions[["gained", "lost", "net"]].to_numpy().sum() == 0
    assert (found.actions["recommended_a"] == found.actions["recommended_b"]).all()
    for table in (found.budget_by_tier, found.budget_by_segment):
        assert len(table) and (table["difference"] == 0).all()
    assert found.diff.identical


def test_a_weight_change_moves_the_partners_its_contributions_say(data, budgeted, reweighted):
    found = run_scenario(data.partners, budgeted, reweighted, AS_OF)
    a, b = found.a, found.b
    moves = metric_moves(a, b)
    change = b.raw_scores["composite"] - a.raw_scores["composite"]
    assert np.allclose(moves.sum(axis=1), change, equal_nan=True)
    # only the layer of the changed metric moves, and only for the revenue part of the composite
    results = [m.id for m in budgeted.spec.metrics if m.layer == "results"]
    others = moves.drop(columns=[*results, "baseline"]).fillna(0)
    assert np.allclose(others.drop(columns="segment_adjustment").to_numpy(), 0)
    tiers_a, tiers_b = np.asarray(a["tier"]), np.asarray(b["tier"])
    quads_a, quads_b = np.asarray(a["quadrant"]), np.asarray(b["quadrant"])
    expected = set(np.asarray(a["partner_id"])[(tiers_a != tiers_b) | (quads_a != quads_b)])
    assert set(found.movers["partner_id"]) == expected and expected
    assert (found.movers["metric_1"] == "Deals won").mean() > 0.75
    labels = {m.label for m in budgeted.spec.metrics if m.layer == "results"} | {""}
    assert found.movers[["metric_1", "metric_2", "metric_3"]].isin(labels).all(axis=None)
    # a higher weight on deals won helps those with many deals and hurts those with few
    subs = a.subscores["deals_won"].to_numpy()
    up = moves["deals_won"].to_numpy() > 0
    assert (subs[up] > 50).all() and (subs[moves["deals_won"].to_numpy() < 0] < 50).all()
    assert found.migration.to_numpy().sum() == len(data.partners)
    assert ["weights.revenue.deals_won"] == [c.path for c in found.diff.changes]


def test_share_pools_conserve_their_totals_and_fixed_pools_do_not(data, budgeted, reweighted):
    found = run_scenario(data.partners, budgeted, reweighted, AS_OF)
    totals = found.budget_totals.set_index(["pool", "side"])
    for side in ("A", "B"):
        assert totals.loc[("mdf", side), "allocated"] == pytest.approx(500000)
        assert totals.loc[("training", side), "allocated"] == pytest.approx(100000)
    by_tier = found.budget_by_tier
    for pool in ("mdf", "training"):
        rows = by_tier[(by_tier["pool"] == pool) & (by_tier["tier"] != "Total")]
        assert rows["difference"].sum() == pytest.approx(0, abs=1e-6)
    alloc = allocate(found.a)
    tiers = np.asarray(found.a["tier"])
    mdf = alloc.amounts[0]
    per_a, per_b, per_c = (mdf[tiers == t][0] for t in ("A", "B", "C"))
    assert per_a == pytest.approx(2 * per_b) and per_b == pytest.approx(2 * per_c)
    assert (mdf[tiers == "D"] == 0).all()
    coaching = alloc.amounts[1]
    actions = found.a.actions
    expected = sum(12 if r == "coach_engagement_gap" else 6 for r, levers in zip(actions["rule"], actions["levers"])
                   if "coaching_hours" in levers)
    assert coaching.sum() == pytest.approx(expected)
    assert totals.loc[("coaching", "A"), "left"] == pytest.approx(2000 - expected)


@pytest.mark.parametrize("pool,problem", [
    ({"id": "x", "label": "X", "total": 1, "rule": "by_tier", "tiers": {"Z": 1}}, "budget.pools[0].tiers.Z: unknown tier 'Z'"),
    ({"id": "x", "label": "X", "total": 1, "rule": "by_tier"}, "budget.pools[0].tiers: a by_tier pool needs"),
    ({"id": "x", "label": "X", "total": 1, "rule": "by_lever"}, "budget.pools[0].lever: a by_lever pool needs a lever"),
    ({"id": "x", "label": "X", "total": 1, "rule": "by_lever", "lever": "mdf", "rules": {"accelerate_training": 2}},
     "budget.pools[0].rules.accelerate_training: rule 'accelerate_training' does not use the lever 'mdf'"),
    ({"id": "x", "label": "X", "total": -1, "rule": "by_tier", "tiers": {"A": 1}}, "budget.pools[0].total"),
    ({"id": "x", "label": "X", "total": 1, "rule": "by_team"}, "budget.pools[0].rule"),
])
def test_budget_mistakes_are_named_by_path(model_dict, pool, problem):
    from scoring.model.load import from_dict

    model_dict["budget"] = {"pools": [pool]}
    with pytest.raises(ModelError) as caught:
        from_dict(model_dict, "m")
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_a_model_without_budget_dumps_and_hashes_as_before(budgeted):
    default = load_model("default")
    assert "\nbudget:" not in dump_model(default.spec)
    assert default.hash == "4df83154f4c6"
    assert budgeted.hash != default.hash and "\nbudget:" in dump_model(budgeted.spec)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenario")
    assert pscore("demo", str(folder / "partners.xlsx"), "--partners", "120", "--seed", "3", "--as-of",
                  AS_OF.isoformat()).returncode == 0
    assert pscore("score", str(folder / "partners.xlsx"), "-o", str(folder / "scored.xlsx"), "--as-of",
                  AS_OF.isoformat()).returncode == 0
    edited(folder / "scored.xlsx", folder / "edited.xlsx", {("weights.*.deals_won", 5): 9})
    return folder


def test_cli_writes_the_scenario_into_a_copy_of_the_workbook(books, budgeted, reweighted):
    model_a, model_b = books / "a.yaml", books / "b.yaml"
    model_a.write_text(dump_model(budgeted.spec), encoding="utf-8")
    model_b.write_text(dump_model(reweighted.spec), encoding="utf-8")
    out = books / "scenario.xlsx"
    done = pscore("scenario", str(books / "partners.xlsx"), "--model", str(model_a), "--vs", str(model_b), "-o", str(out),
                  "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert "change tier" in done.stdout and f"Wrote {out}" in done.stdout
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[-4:] == ["Scenario", "Scenario movers", "Scenario actions", "Scenario budget"]
    with zipfile.ZipFile(books / "partners.xlsx") as source, zipfile.ZipFile(out) as copy:
        for name in source.namelist():  # the user's sheets are copied byte for byte
            if name.startswith("xl/worksheets/"):
                assert source.read(name) == copy.read(name)
    budget = [row for row in wb["Scenario budget"].iter_rows(values_only=True) if row[0] == "mdf"]
    assert budget and all(row[1] for row in budget)
    pdf = books / "scenario.pdf"
    done = pscore("scenario", str(books / "partners.xlsx"), "--model", str(model_a), "--vs", str(model_b), "-o", str(pdf),
                  "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    text = pdf_text(pdf)
    for phrase in ("Tier migration", "Rank correlation", "Market development funds", "Deals won"):
        assert phrase in text
    first = pdf.read_bytes()
    pscore("scenario", str(books / "partners.xlsx"), "--model", str(model_a), "--vs", str(model_b), "-o", str(pdf),
           "--as-of", AS_OF.isoformat())
    assert pdf.read_bytes() == first  # same scenario, same bytes


def test_cli_model_sheet_edits_and_mistakes(books):
    done = pscore("scenario", str(books / "edited.xlsx"), "--vs", str(books / "edited.xlsx"), "-o",
                  str(books / "edits.xlsx"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert "default + workbook overrides" in done.stdout
    done = pscore("scenario", str(books / "edited.xlsx"), "--vs", "default", "-o", str(books / "x.csv"))
    assert done.returncode == 2 and "must be written as .xlsx" in done.stderr
    done = pscore("scenario", str(books / "edited.xlsx"), "--vs", "default", "-o", str(books / "edited.xlsx"))
    assert done.returncode == 2 and "refusing to overwrite" in done.stderr


def test_the_macro_runs_the_model_sheet_edits_against_their_base(books):
    from xlplugin.excel.scenario_macro import scenario_cells

    wb = load_workbook(books / "edited.xlsx", data_only=True)
    grid = lambda ws: [list(r) for r in ws.iter_rows(values_only=True)]  # noqa: E731
    cells = scenario_cells(grid(wb["Partners"]), grid(wb["Model"]), AS_OF, books)
    text = [row[0] for row in cells]
    assert text[0].startswith("Scenario")
    assert any(isinstance(t, str) and "weight of Deals won in the revenue score: 3 -> 9" in str(row[1])
               for t, row in zip(text, cells))
    assert len({len(row) for row in cells}) == 1  # a rectangle, as a range assignment needs
