"""The model file: the shipped default encodes the practice, and bad files fail precisely."""

from __future__ import annotations

import datetime as dt
import time
from importlib import resources
from pathlib import Path

import pytest
import yaml

from scoring import ModelError, load_model, score
from scoring.calibration.weights import equal_weights
from scoring.model import edit, load
from scoring.model.dump import dump_model
from scoring.model.load import from_dict, parse_model

from tests.conftest import AS_OF, calibration_for, partners, pscore, variant

DEFAULT_TEXT = resources.files("scoring.model").joinpath("default.yaml").read_text("utf-8")


def problems(data: dict) -> list[str]:
    with pytest.raises(ModelError) as info:
        variant(data)
    return info.value.problems


def test_default_model_covers_the_catalogue(model):
    spec = model.spec
    ids = {m.id for m in spec.metrics}
    assert len(ids) >= 18
    # Every input DESIGN.md names, in all three layers.
    assert {"market_alignment", "channel_reach", "product_adoption_potential", "scalable_channel_access"} <= ids
    assert {"onboarding_completion_days", "training_completion_rate", "certification_status", "joint_marketing_plan",
            "responsiveness_hours", "collaboration_frequency", "marketing_commitment_adherence",
            "partner_feedback", "manager_assessment"} <= ids
    assert {"qualified_leads", "first_quarter_activities", "deal_conversion_rate", "deals_won",
            "average_contract_size", "deal_velocity_days", "pipeline_value"} <= ids
    assert {m.layer for m in spec.metrics} == {"strategic", "execution", "results"}
    assert {m.normalization.kind for m in spec.metrics} == {"linear", "log", "ordinal", "boolean"}
    for m in spec.metrics:
        assert m.label and m.definition and m.unit and m.source and m.owner and m.rationale and m.interval_days > 0


def test_default_model_practice(model):
    spec = model.spec
    first, last = spec.stages[0].layer_weights, spec.stages[-1].layer_weights
    assert max(first, key=first.get) == "strategic"
    assert max(last, key=last.get) == "results"
    assert len(spec.segments) >= 3
    assert any(s.adjustment for s in spec.segments) and any(s.weights for s in spec.segments)
    assert len(spec.playbook.rules) >= 8
    levers = {lever for r in spec.playbook.rules for lever in r.levers}
    assert {"coaching_hours", "training_budget", "mdf", "technical_enablement"} <= levers
    coaching = next(r for r in spec.playbook.rules if r.id == "coach_engagement_gap")
    assert "coaching" in coaching.action.lower() and "training" in coaching.action.lower()
    assert spec.version and spec.effective_date and spec.changelog[0].rationale


def test_model_loads_by_name_and_path(tmp_path, model):
    path = tmp_path / "copy.yaml"
    path.write_text(DEFAULT_TEXT)
    assert load_model(path).hash == model.hash
    assert load_model(str(path)).label == model.label


def test_hash_ignores_comments_and_key_order_but_not_meaning(model):
    reordered = yaml.safe_dump(yaml.safe_load(DEFAULT_TEXT), sort_keys=True)
    assert parse_model("# a comment\n" + reordered).hash == model.hash
    changed = DEFAULT_TEXT.replace("composite_weights: {revenue: 0.6, engagement: 0.4}",
                                   "composite_weights: {revenue: 0.5, engagement: 0.5}")
    assert parse_model(changed).hash != model.hash


def test_target_order_message_names_the_exact_location(model_dict):
    model_dict["metrics"][5]["normalization"] = {"kind": "linear", "floor": 0.9, "target": 0.2}
    assert problems(model_dict) == ["metrics[5].normalization.target: must be greater than floor"]


def test_lower_is_better_target_must_be_below_floor(model_dict):
    model_dict["metrics"][4]["normalization"] = {"kind": "linear", "floor": 30, "target": 180}
    assert problems(model_dict) == [
        "metrics[4].normalization.target: must be less than floor for a lower-is-better metric"]


def test_error_carries_the_yaml_line():
    bad = DEFAULT_TEXT.replace("normalization: {kind: linear, floor: 0.2, target: 0.9}",
                               "normalization: {kind: linear, floor: 0.9, target: 0.2}")
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "floor: 0.9, target: 0.2" in text)
    with pytest.raises(ModelError) as info:
        parse_model(bad, "bad.yaml")
    assert info.value.problems == [f"metrics[5].normalization.target: must be greater than floor (line {line})"]
    assert str(info.value).startswith("bad.yaml: invalid model (1 problem)")


def test_unknown_keys_are_rejected(model_dict):
    model_dict["metrics"][0]["wieght"] = 3
    model_dict["tiers"][0]["colour"] = "green"
    assert problems(model_dict) == ["metrics[0].wieght: unknown key", "tiers[0].colour: unknown key"]


def test_weights_must_be_non_negative(model_dict):
    model_dict["weights"]["revenue"]["deals_won"] = -1
    assert problems(model_dict) == ["weights.revenue.deals_won: Input should be greater than or equal to 0"]


def test_every_referenced_metric_must_exist(model_dict):
    model_dict["weights"]["revenue"]["deals_closed"] = 2
    model_dict["segments"][0]["weights"]["revenue"]["contract_value"] = 1
    model_dict["playbook"]["rules"][3]["when"]["all"][0]["field"] = "metric:training_rate"
    found = problems(model_dict)
    assert "weights.revenue.deals_closed: unknown metric 'deals_closed'" in found
    assert "segments[0].weights.revenue.contract_value: unknown metric 'contract_value'" in found
    assert "playbook.rules[3].when.all[0].field: unknown metric 'training_rate'" in found


def test_weight_for_an_outcome_the_metric_does_not_inform(model_dict):
    model_dict["weights"]["engagement"]["channel_reach"] = 1
    assert problems(model_dict) == [
        "weights.engagement.channel_reach: metric 'channel_reach' does not inform engagement (add engagement to its 'informs')"]


def test_stage_tier_and_adjustment_consistency(model_dict):
    model_dict["stages"][1]["max_months"] = 2
    model_dict["tiers"][1]["min_score"] = 80
    model_dict["segments"][3]["adjustment"]["revenue"] = 1.6
    found = problems(model_dict)
    assert "stages[1].max_months: must be greater than the previous stage's (3)" in found
    assert "tiers[1].min_score: tiers must be listed best first with strictly decreasing min_score" in found
    assert "segments[3].adjustment.revenue: 1.6 is outside adjustment_bounds [0.8, 1.25]" in found


def test_rule_values_must_be_known(model_dict):
    model_dict["playbook"]["rules"][10]["when"]["all"][0]["value"] = "E"
    model_dict["playbook"]["rules"][1]["when"]["all"][0]["value"] = "lo_coverage"
    found = problems(model_dict)
    assert "playbook.rules[10].when.all[0].value: unknown tier 'E' (known: A, B, C, D)" in found
    assert any(p.startswith("playbook.rules[1].when.all[0].value: unknown flag 'lo_coverage'") for p in found)


def test_unknown_normalisation_kind_and_missing_fields(model_dict):
    model_dict["metrics"][3]["normalization"] = {"kind": "bool"}
    del model_dict["metrics"][0]["rationale"]
    found = problems(model_dict)
    assert "metrics[3].normalization: unknown kind (use one of: linear, log, ordinal, boolean, piecewise)" in found
    assert "metrics[0].rationale: required" in found


def test_piecewise_points_are_checked_with_their_location(model_dict):
    def points_problems(index: int, points) -> list[str]:
        data = {**model_dict, "metrics": [dict(m) for m in model_dict["metrics"]]}
        data["metrics"][index]["normalization"] = {"kind": "piecewise", "points": points}
        return problems(data)

    # training_completion_rate (5) is higher-is-better, responsiveness_hours (8) lower-is-better
    assert points_problems(5, [[0.2, 10], [0.2, 50], [0.1, 60]]) == [
        "metrics[5].normalization.points[1][0]: values must be strictly increasing (0.2 after 0.2)",
        "metrics[5].normalization.points[2][0]: values must be strictly increasing (0.1 after 0.2)"]
    assert points_problems(5, [[0.2, 10], [0.5, 60], [0.8, 55]]) == [
        "metrics[5].normalization.points[2][1]: scores must not fall for a higher-is-better metric (55 after 60)"]
    assert points_problems(8, [[4, 100], [24, 20], [72, 30]]) == [
        "metrics[8].normalization.points[2][1]: scores must not rise for a lower-is-better metric (30 after 20)"]
    assert points_problems(5, [[0.5, 50]]) == [
        "metrics[5].normalization.points: List should have at least 2 items after validation, not 1"]
    assert points_problems(5, [[float(v), 50] for v in range(501)]) == [
        "metrics[5].normalization.points: List should have at most 500 items after validation, not 501"]
    assert points_problems(5, [[0.2, 10], [1e16, 120]]) == [
        "metrics[5].normalization.points[1][0]: Input should be less than or equal to 1000000000000000",
        "metrics[5].normalization.points[1][1]: Input should be less than or equal to 100"]
    assert points_problems(5, [[0.2, 10], [float("nan"), 50]]) == [
        "metrics[5].normalization.points[1][0]: must be a finite number, not .nan"]
    model_dict["metrics"][5]["normalization"] = {"kind": "piecewise", "points": [[0.2, 10], [0.5, 20], [0.8, 20]]}
    assert variant(model_dict).spec.metrics[5].normalization.points[2] == (0.8, 20)  # never falling is enough
    # a segment's floor/target override cannot apply to points
    index = next(i for i, m in enumerate(model_dict["metrics"]) if m["id"] == "average_contract_size")
    assert points_problems(index, [[0, 0], [100_000, 100]]) == [
        "segments[0].normalization.average_contract_size: only linear or log metrics take floor/target "
        "overrides ('average_contract_size' is piecewise): remove the override"]


def test_a_piecewise_or_recorded_since_model_round_trips_through_its_file(model_dict):
    model_dict["metrics"][5]["normalization"] = {"kind": "piecewise", "points": [[0.2, 10], [0.5, 40], [0.9, 95]]}
    model_dict["metrics"][19]["since"] = "2026-06-01"
    edited = variant(model_dict)
    text = dump_model(edited.spec)
    assert "since: '2026-06-01'" in text and text.count("since:") == 1  # unset dates are not written
    assert "kind: piecewise" in text
    again = parse_model(text, "edited.yaml")
    assert again.hash == edited.hash and again.spec == edited.spec
    assert "since:" not in dump_model(load_model("default").spec)  # a model without dates dumps as before


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(ModelError, match="not valid YAML"):
        parse_model("metrics: [\n")
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "absent.yaml")


def test_loading_is_cached_per_content(model):
    assert load_model("default") is load_model("default")


# ------------------------------------------------------------------ limits: nothing non-finite, huge or deep


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "partners.xlsx"
    done = pscore("demo", str(path), "--partners", "40", "--seed", "3", "--as-of", "2026-11-01")
    assert done.returncode == 0, done.stderr
    return path


def refused(path: Path, book: Path, *expected: str) -> None:
    """``validate-model`` and ``score --model`` both refuse ``path``: exit 2, one ``error:`` line for
    score, every ``expected`` text named, never a traceback."""
    checked = pscore("validate-model", str(path))
    assert checked.returncode == 2 and "Traceback" not in checked.stderr, checked.stderr
    assert checked.stderr.startswith(f"{path}: invalid model")
    scored = pscore("score", str(book), "-o", str(path.with_suffix(".csv")), "--model", str(path))
    assert scored.returncode == 2 and "Traceback" not in scored.stderr, scored.stderr
    assert scored.stderr.startswith(f"error: {path}: invalid model: ") and scored.stderr.count("\n") == 1
    for text in expected:
        assert text in checked.stderr and text in scored.stderr, (text, checked.stderr)


def test_non_finite_numbers_are_refused_with_their_location(tmp_path, book):
    bad = tmp_path / "nan.yaml"
    bad.write_text(DEFAULT_TEXT.replace("{kind: linear, floor: 0.2, target: 0.9}", "{kind: linear, floor: .nan, target: .inf}"))
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "floor: .nan" in text)
    refused(bad, book, f"metrics[5].normalization.floor: must be a finite number, not .nan (line {line})")
    assert f"metrics[5].normalization.target: must be a finite number, not .inf (line {line})" in \
        pscore("validate-model", str(bad)).stderr


def test_non_finite_numbers_are_refused_anywhere(model_dict):
    model_dict["playbook"]["rules"][0]["when"]["all"][0]["value"] = float("-inf")  # a union: number or text
    model_dict["drivers"]["baseline"] = float("nan")
    model_dict["metrics"][5]["normalization"]["target"] = "inf"  # text that pydantic would read as a number
    assert problems(model_dict) == ["drivers.baseline: must be a finite number, not .nan",
                                    "playbook.rules[0].when.all[0].value: must be a finite number, not -.inf"]
    model_dict["playbook"]["rules"][0]["when"]["all"][0]["value"] = 60
    model_dict["drivers"]["baseline"] = 50
    assert problems(model_dict) == ["metrics[5].normalization.target: Input should be a finite number"]


def test_weights_and_normalisation_points_are_bounded(tmp_path, book, model_dict):
    big = tmp_path / "big.yaml"
    big.write_text(DEFAULT_TEXT.replace("    deals_won: 3\n", "    deals_won: 1e308\n", 1))
    refused(big, book, "weights.revenue.deals_won: Input should be less than or equal to 1000 (line")
    model_dict["stages"][0]["layer_weights"]["strategic"] = 1001
    model_dict["composite_weights"]["revenue"] = 1e9
    model_dict["segments"][0]["weights"]["revenue"]["average_contract_size"] = 5000
    model_dict["metrics"][5]["normalization"]["target"] = 1e16
    model_dict["metrics"][5]["valid_range"] = [0, 1e300]
    found = problems(model_dict)
    assert "stages[0].layer_weights.strategic: Input should be less than or equal to 1000" in found
    assert "composite_weights.revenue: Input should be less than or equal to 1000" in found
    assert "segments[0].weights.revenue.average_contract_size: Input should be less than or equal to 1000" in found
    assert "metrics[5].normalization.target: Input should be less than or equal to 1000000000000000" in found
    assert "metrics[5].valid_range[1]: Input should be less than or equal to 1000000000000000" in found


def test_a_deeply_nested_file_is_refused_not_a_recursion_error(tmp_path, book):
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 100_000 + "]" * 100_000 + "\n")
    refused(deep, book, "nest")
    with pytest.raises(ModelError) as info:
        parse_model("name: " + "[" * 30 + "]" * 30 + "\n", "deep.yaml")
    assert info.value.problems == ["nested more than 20 levels deep (line 1); "
                                   "a model file is a few levels of sections and lists"]


def test_deep_nesting_without_libyaml_is_refused_too(monkeypatch):
    monkeypatch.setattr(load, "_Loader", yaml.SafeLoader)  # PyYAML's own parser recurses per level
    for depth in (30, 5000):
        with pytest.raises(ModelError, match="nested more than 20 levels deep"):
            parse_model("name: " + "[" * depth + "]" * depth + "\n", "deep.yaml")
    assert parse_model(DEFAULT_TEXT).hash == load_model("default").hash


def test_file_size_and_list_lengths_are_capped(tmp_path, book, model_dict):
    huge = tmp_path / "huge.yaml"
    entry = "  - {date: 2026-11-01, author: a, change: b, rationale: c}\n"
    huge.write_text(DEFAULT_TEXT.replace("changelog:\n", "changelog:\n" + entry * 20_000, 1))
    assert huge.stat().st_size > load.MAX_FILE_BYTES
    started = time.perf_counter()
    refused(huge, book, "the file is larger than 1 MB (1,048,576 bytes), the limit for a model file")
    assert time.perf_counter() - started < 30
    model_dict["changelog"] *= 1001
    model_dict["metrics"][0]["aliases"] = ["x"] * 501
    found = problems(model_dict)
    assert "changelog: List should have at most 1000 items after validation, not 1001" in found
    assert "metrics[0].aliases: List should have at most 500 items after validation, not 501" in found


def test_a_file_that_is_not_utf8_is_named(tmp_path, book):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(DEFAULT_TEXT.replace("description:", "description: Café", 1).encode("latin-1"))
    line = next(i for i, text in enumerate(DEFAULT_TEXT.splitlines(), 1) if text.startswith("description:"))
    refused(latin, book, f"not UTF-8 text: byte 0xe9 on line {line}; save the file with UTF-8 encoding")


# ------------------------------------------------------------------ the content hash


def test_hash_identifies_the_scoring_content_not_the_version(model, model_dict):
    model_dict.update(name="renamed", version="7.0.0", effective_date="2030-01-01", description="other words")
    model_dict["changelog"].append({"date": "2030-01-01", "author": "Ana", "change": "renamed", "rationale": "why"})
    renamed = variant(model_dict)
    assert renamed.hash == model.hash and renamed.label == f"renamed 7.0.0 ({model.hash})"
    model_dict["metrics"][0]["label"] = "Market fit"  # shown in drivers: another scorecard
    assert variant(model_dict).hash != model.hash


# ------------------------------------------------------------------ deriving a model: scoring.model.edit


@pytest.fixture(scope="module")
def calibrated(model):
    data = model.spec.model_dump(mode="json")
    return from_dict({**data, "calibration": calibration_for(model.spec)}, "calibrated.yaml")


def test_overrides_set_model_file_paths_and_name_the_edit(model):
    derived = edit.with_overrides(model, {"weights.revenue.deals_won": 9, "tiers[0].min_score": 80,
                                          "stages[1].layer_weights.results": 0.5}, label="what-if weights")
    spec = derived.model.spec
    assert spec.weights["revenue"]["deals_won"] == 9 and spec.tiers[0].min_score == 80
    assert spec.stages[1].layer_weights["results"] == 0.5 and derived.calibration == "none"
    assert spec.name == "default + what-if weights" and derived.model.hash != model.hash
    again = edit.with_overrides(derived.model, {"weights.revenue.deals_won": 3}, label="what-if weights")
    assert again.model.spec.name == "default + what-if weights"  # the label is not repeated
    same = edit.with_overrides(model, {"weights.revenue.deals_won": 3.0}, label="what-if weights")
    assert same.model.spec.name == "default" and same.model.hash == model.hash  # no change: the same model


def test_overrides_name_every_bad_path_and_value(model):
    with pytest.raises(ModelError) as info:
        edit.with_overrides(model, {"tiers[9].min_score": 1, "name.first": 1, "weights..x": 1}, source="sheet")
    assert info.value.problems == [
        "tiers[9].min_score: no such setting in the model (tiers[9] does not exist)",
        "name.first: no such setting in the model (name is a value, not a section)",
        "weights..x: not a model-file path (e.g. weights.revenue.deals_won or tiers[0].min_score)"]
    with pytest.raises(ModelError) as info:
        edit.with_overrides(model, {"weights.revenue.deals_won": float("inf"), "coverage.minimum": 2})
    assert info.value.problems == ["weights.revenue.deals_won: must be a finite number, not .inf"]
    with pytest.raises(ModelError) as info:
        edit.with_overrides(model, {"weights.revenue.deals_won": 1e308, "coverage.minimum": 2})
    assert info.value.problems == ["weights.revenue.deals_won: Input should be less than or equal to 1000",
                                   "coverage.minimum: Input should be less than or equal to 1"]


def test_a_calibration_is_kept_only_while_its_scorecard_is_unchanged(calibrated):
    frame = partners({}, {"deals_won": 0})
    tiers = edit.with_overrides(calibrated, {"tiers[0].min_score": 80, "coverage.minimum": 0.5})
    assert tiers.calibration == "kept" and tiers.model.spec.calibration == calibrated.spec.calibration
    assert "engagement_probability" in score(frame, tiers.model, as_of=AS_OF).frame
    weights = edit.with_overrides(calibrated, {"weights.revenue.deals_won": 9})
    assert weights.calibration == "dropped" and weights.model.spec.calibration is None
    assert "engagement_probability" not in score(frame, weights.model, as_of=AS_OF).frame  # scored, no predictions
    assert edit.with_weights(calibrated, calibrated.spec.weights).calibration == "kept"
    equal = edit.with_weights(calibrated, {o: {m: 1.0 for m in w} for o, w in calibrated.spec.weights.items()})
    assert equal.calibration == "dropped" and equal.model.spec.calibration is None
    assert equal_weights(calibrated).spec.calibration is None
    assert edit.without_calibration(calibrated).spec.calibration is None


def test_next_version_and_release(model):
    day = dt.date(2026, 11, 24)
    assert edit.next_version("1.2.3", day, "edit") == "1.3.0"
    assert edit.next_version("2026a", day, "edit") == "2026a+edit.20261124"
    assert edit.next_version("2026a+cal.20260101", day, "edit") == "2026a+edit.20261124"
    derived = edit.with_overrides(model, {"weights.revenue.deals_won": 5}, label="workbook overrides").model
    new = edit.release(derived, date=day, reason="edit", author="Ana", change="weights.revenue.deals_won: 3 -> 5",
                       rationale="why", name="default")
    assert (new.spec.name, new.spec.version, new.spec.effective_date) == ("default", "1.1.0", day)
    assert new.spec.changelog[:-1] == model.spec.changelog and new.spec.changelog[-1].author == "Ana"
    assert new.hash == derived.hash  # a new version of the same scorecard
