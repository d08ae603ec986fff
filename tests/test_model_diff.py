"""``pscore model diff``: every pair of bundled and calibrated models names the paths that differ,
in plain words, with diff's exit status (0 identical, 1 different, 2 error)."""

from __future__ import annotations

import itertools
from importlib import resources
from pathlib import Path

import pytest
import yaml

from scoring import load_model
from scoring.model.diff import diff_models
from scoring.model.dump import dump_model
from scoring.model.edit import release, with_overrides
from scoring.model.load import from_dict

from tests.conftest import calibration_for, pscore
from tests.test_model_sheet import edited

AS_OF = "2026-11-01"


def _models() -> dict:
    default = load_model("default")
    marketplace = load_model(str(resources.files("scoring.synthetic").joinpath("marketplace.yaml")))
    data = default.spec.model_dump(mode="json")
    data["calibration"] = calibration_for(default.spec)
    calibrated = from_dict(data, "calibrated")
    reweighted = with_overrides(default, {"weights.revenue.deals_won": 5, "tiers[1].min_score": 62}).model
    released = release(default, date=__import__("datetime").date(2026, 12, 1), reason="edit", author="test",
                       change="nothing", rationale="a new version of the same scorecard")
    return {"default": default, "marketplace": marketplace, "calibrated": calibrated, "reweighted": reweighted,
            "released": released}


MODELS = _models()


@pytest.mark.parametrize("a,b", list(itertools.permutations(MODELS, 2)))
def test_every_pair_names_what_differs(a, b):
    found = diff_models(MODELS[a], MODELS[b])
    assert not found.identical
    paths = {c.path for c in found.changes}
    pair = {a, b}
    if pair == {"default", "calibrated"}:
        assert paths == {"calibration"}
        assert found.changes[0].kind == ("added" if b == "calibrated" else "removed")
    if pair == {"default", "reweighted"}:
        assert paths == {"weights.revenue.deals_won", "tiers[B].min_score"}
        text = {c.path: c.text for c in found.changes}
        assert "Deals won" in text["weights.revenue.deals_won"] and "3 -> 5" in text["weights.revenue.deals_won"] \
            if a == "default" else "5 -> 3" in text["weights.revenue.deals_won"]
    if pair == {"default", "released"}:
        assert found.same_scorecard
        assert paths == {"version", "effective_date", "changelog"}
        assert "same scorecard" in found.summary()
    if "marketplace" in pair:
        other = MODELS[(pair - {"marketplace"}).pop()]
        ids = {m.id for m in other.spec.metrics}
        assert {f"metrics[{m}]" for m in ids} <= paths  # every metric of the other is added or removed
        assert "tiers[A].min_score" in paths or any(p.startswith("tiers") for p in paths)
    for change in found.changes:  # each line is a sentence, never a raw dump
        assert change.text and "{" not in change.text


def test_the_same_model_is_identical(tmp_path):
    path = tmp_path / "copy.yaml"
    path.write_text(dump_model(MODELS["default"].spec), encoding="utf-8")
    assert diff_models(MODELS["default"], load_model(str(path))).identical
    done = pscore("model", "diff", "default", str(path))
    assert done.returncode == 0, done.stderr
    assert "identical" in done.stdout


def test_reordered_rules_and_conditions_are_said_by_id(model_dict):
    rules = model_dict["playbook"]["rules"]
    rules[0], rules[1] = rules[1], rules[0]
    rules[2]["when"]["all"][0]["value"] = 80
    found = diff_models(load_model("default"), from_dict(model_dict, "b"))
    by_path = {c.path: c for c in found.changes}
    assert set(by_path) == {"playbook.rules", "playbook.rules[fund_champions].when.all"}
    assert by_path["playbook.rules"].kind == "reordered"
    assert "revenue_score >= 75" in by_path["playbook.rules[fund_champions].when.all"].text
    assert "revenue_score >= 80" in by_path["playbook.rules[fund_champions].when.all"].text


def test_cli_exit_status_and_csv(tmp_path):
    path = tmp_path / "b.yaml"
    path.write_text(dump_model(MODELS["reweighted"].spec), encoding="utf-8")
    done = pscore("model", "diff", "default", str(path))
    assert done.returncode == 1, done.stderr
    assert "weights.revenue.deals_won: weight of Deals won in the revenue score: 3 -> 5 (+67%)" in done.stdout
    assert "tiers[B].min_score: tier B (Develop) starts at composite score: 60 -> 62" in done.stdout
    done = pscore("model", "diff", "default", str(path), "--csv")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "section,path,change,old,new,text"
    done = pscore("model", "diff", "default", str(tmp_path / "missing.yaml"))
    assert done.returncode == 2 and done.stderr.startswith("error:")


def test_a_workbook_model_sheet_is_a_side(tmp_path):
    book = tmp_path / "partners.xlsx"
    assert pscore("demo", str(book), "--partners", "20", "--seed", "1", "--as-of", AS_OF).returncode == 0
    scored = tmp_path / "scored.xlsx"
    assert pscore("score", str(book), "-o", str(scored), "--as-of", AS_OF).returncode == 0
    done = pscore("model", "diff", "default", str(scored))
    assert done.returncode == 0, done.stdout + done.stderr
    changed = edited(scored, tmp_path / "edited.xlsx", {("weights.*.deals_won", 5): 6, ("tiers[0].min_score", 4): 80})
    done = pscore("model", "diff", str(changed), "default")
    assert done.returncode == 1, done.stderr
    assert "weights.revenue.deals_won: weight of Deals won in the revenue score: 6 -> 3" in done.stdout
    assert "tiers[A].min_score: tier A (Accelerate) starts at composite score: 80 -> 75" in done.stdout
