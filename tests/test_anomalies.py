"""Anomaly checks: planted outliers, jumps, gaming, impossible combinations and duplicates are found;
clean synthetic data gives few findings; every finding is a data-quality record with its reason;
the model's action keeps or leaves out the value, never silently."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from scoring import load_model, quality, score
from scoring.anomalies import KEPT, LEFT_OUT, detect, name_key, robust_z
from scoring.model import edit
from scoring.model.load import ModelError, from_dict
from scoring.synthetic import generate
from scoring.synthetic.planted import plant
from tests.conftest import AS_OF, partners
from xlplugin.workbook.pipeline import score_workbook, write_scored

DEMO_AS_OF = dt.date(2026, 11, 24)
RECALL = 0.9


@pytest.fixture(scope="module")
def demo():
    return generate(1000, seed=1, as_of=DEMO_AS_OF)


@pytest.fixture(scope="module")
def planted(demo):
    return plant(demo, 50, seed=1)


def found_keys(table: pd.DataFrame, with_kind: bool = True) -> set:
    return set(zip(*([table["kind"]] if with_kind else []), table["sheet"], table["index"], table["metric"]))


def test_planted_anomalies_are_found_with_recall_of_at_least_0_9(planted, model):
    table = detect(planted.partners, model, planted.history, as_of=DEMO_AS_OF).table
    exact, anywhere = found_keys(table), found_keys(table, with_kind=False)
    for kind, truth in planted.truth.groupby("kind"):
        cells = list(zip(truth["sheet"], truth["index"], truth["metric"]))
        recall = np.mean([(kind, *c) in exact for c in cells])
        flagged = np.mean([c in anywhere for c in cells])
        assert len(truth) >= 40, kind
        # an outlier slipped in by a factor of 1,000 from a small value may sit inside the segment's
        # spread yet be a jump from the partner's last snapshot: flagged either way
        assert (flagged if kind == "outlier" else recall) >= RECALL, (kind, recall, flagged)


def test_clean_synthetic_data_gives_few_findings(demo, model):
    counts = detect(demo.partners, model, demo.history, as_of=DEMO_AS_OF).counts()
    values = len(demo.partners) * len(model.spec.metrics)
    assert counts["outlier"] / values < 0.002  # measured: 15 of 20,000 values (0.08%)
    assert counts["impossible"] == 0 and counts["gaming"] == 0
    changes = len(demo.history) * 12  # numeric metrics per snapshot, about
    assert counts["jump"] / changes < 0.002  # measured: 96 of ~140,000 changes (0.07%)


def test_robust_z_is_per_group_and_falls_back_to_everyone_for_small_groups():
    x = np.r_[np.arange(50.0), 1000.0, np.arange(3.0)]
    groups = np.r_[np.zeros(51), np.ones(3)]
    z, centre, _ = robust_z(x, groups, min_group=10)
    assert z[50] > 20 and abs(z[10]) < 2
    assert centre[-1] == np.nanmedian(x)  # the 3-partner group is judged among all


def test_outlier_record_names_value_median_segment_and_threshold(model):
    rows = [{"partner_id": f"P{i}", "pipeline_value": 200_000 + 1000 * i} for i in range(40)]
    rows.append({"partner_id": "BIG", "pipeline_value": 900_000_000})
    found = detect(partners(*rows), model, as_of=AS_OF)
    hit = found.table[found.table["partner_id"] == "BIG"]
    assert list(hit["kind"]) == ["outlier"] and list(hit["metric"]) == ["pipeline_value"]
    text = hit["problem"].iloc[0]
    assert "Pipeline value 900,000,000 is far above the median" in text and "reseller partners" in text
    assert "the model flags 5" in text


def test_impossible_combinations_of_the_built_in_rules(model):
    young = dt.date(2026, 10, 15)  # about half a month in at AS_OF
    frame = partners({"deals_won": 9, "qualified_leads": 4, "onboarding_start": young},
                     {"deals_won": 9, "qualified_leads": 4},  # a year in: older leads fell out of the count
                     {"deal_conversion_rate": 0.3, "deals_won": 0, "average_contract_size": None})
    table = detect(frame, model, as_of=AS_OF).table
    problems = dict(zip(table["partner_id"], table["problem"]))
    assert set(problems) == {"P1", "P3"}
    assert problems["P1"].startswith("impossible combination: Deals won 9 > Qualified leads 4 within 2.9 months")
    assert "a conversion rate above 0 needs at least one won deal" in problems["P3"]


def test_duplicates_ignore_case_accents_punctuation_and_legal_suffixes(model):
    assert name_key("  Müller & Söhne GmbH ") == name_key("MULLER SOHNE") == "muller sohne"
    frame = partners({"partner_name": "Acme Ltd", "country": "Germany"},
                     {"partner_name": "ACME", "country": "germany"},
                     {"partner_name": "Acme", "country": "France"})
    table = detect(frame, model, as_of=AS_OF).table
    assert list(table["partner_id"]) == ["P1", "P2"]
    assert "same name and country as P2 (row 1)" in table["problem"].iloc[0]


def test_gaming_needs_an_uncorroborated_rise_of_a_self_reported_metric(model):
    periods = pd.date_range("2026-01-31", periods=6, freq="ME")
    rows = []
    for pid, lift in (("GAME", 0.0), ("REAL", 1.0)):
        for k, period in enumerate(periods):
            last = k == len(periods) - 1
            rows.append({"partner_id": pid, "period": period, "partner_feedback": 5 if last else 2,
                         "training_completion_rate": 0.3 + (0.6 * lift if last else 0.0),
                         "deals_won": 2 + (10 * lift if last else 0), "qualified_leads": 10 + (30 * lift if last else 0)})
    history = pd.DataFrame(rows)
    today = history.groupby("partner_id").last().reset_index().drop(columns="period")
    frame = partners(*today.to_dict("records"))
    table = detect(frame, model, history, as_of=AS_OF).table
    gaming = table[table["kind"] == "gaming"]
    assert list(gaming["partner_id"]) == ["GAME"]
    assert gaming["sheet"].iloc[0] == "partners"  # today's value: recorded on the Partners cell
    assert "possible gaming: Partner satisfaction, reported by the partner (survey), rose from 2 to 5" in \
        gaming["problem"].iloc[0]


def test_leave_out_blanks_the_value_and_the_record_says_so(model):
    rows = [{"partner_id": f"P{i}", "pipeline_value": 200_000 + 1000 * i} for i in range(40)]
    rows.append({"partner_id": "BIG", "pipeline_value": 900_000_000})
    frame = partners(*rows)
    kept = detect(frame, model, as_of=AS_OF)
    assert kept.screen(frame) is frame  # keep: scored as given
    leave = edit.with_overrides(model, {"anomalies.action": "leave_out"}).model
    found = detect(frame, leave, as_of=AS_OF)
    screened = found.screen(frame)
    assert pd.isna(screened["pipeline_value"].iloc[-1]) and frame["pipeline_value"].iloc[-1] == 900_000_000
    result = score(screened, leave, as_of=AS_OF)
    records = quality.records(result, frame, found.records("Partners"), sheet="Partners")
    big = [r for r in records if r.partner == "BIG"]
    assert len(big) == 1 and big[0].flag == "missing" and big[0].action == quality.LEFT_OUT
    assert "far above the median" in big[0].problem  # the reason, not "no value"
    assert [r.action for r in found.records("Partners")] == [LEFT_OUT]
    # a partner's own scorecard does not read the reason; an internal one does
    labels = {"pipeline_value": "Pipeline value"}
    assert quality.notes(big, labels) == ["Pipeline value: value under review (left out; weights re-normalised over "
                                          "the metrics present)."]
    assert "far above the median" in quality.notes(big, labels, located=True)[0]
    assert score(frame, model, as_of=AS_OF)["composite_score"][-1] != result["composite_score"][-1]


def test_kept_anomalies_are_internal_notes_only(model):
    rows = [{"partner_id": f"P{i}", "pipeline_value": 200_000 + 1000 * i} for i in range(40)]
    rows.append({"partner_id": "BIG", "pipeline_value": 900_000_000})
    found = detect(partners(*rows), model, as_of=AS_OF).records("Partners", {"pipeline_value": "Pipeline value (T)"})
    assert [r.action for r in found] == [KEPT]
    labels = {"pipeline_value": "Pipeline value"}
    assert quality.notes(found, labels) == []
    assert quality.notes(found, labels, located=True)[0].startswith("Partners row 40, Pipeline value (T): Pipeline value")


def test_model_section_is_validated(model_dict):
    model_dict["anomalies"] = {"outlier_threshold": -1}
    with pytest.raises(ModelError, match="anomalies.outlier_threshold"):
        from_dict(model_dict)
    model_dict["anomalies"] = {"impossible": [{"id": "x", "all": [{"left": "deals_won", "op": ">", "right": "leads"}],
                                               "reason": "r"}]}
    with pytest.raises(ModelError, match=r"anomalies.impossible\[0\].all\[0\].right: unknown metric 'leads'"):
        from_dict(model_dict)
    model_dict["anomalies"] = {"self_reported": ["CRM"]}
    with pytest.raises(ModelError, match="both self-reported and independent: crm"):
        from_dict(model_dict)


def test_defaults_spelt_out_keep_the_model_hash(model, model_dict):
    model_dict["anomalies"] = {"action": "keep", "outlier_threshold": 5.0}
    assert from_dict(model_dict).hash == model.hash


def test_scored_workbook_lists_anomalies_on_the_data_quality_sheet(tmp_path, planted, model):
    path = tmp_path / "in.xlsx"
    _write(planted, path)
    scored = score_workbook(path, model, DEMO_AS_OF)
    out = write_scored(scored, tmp_path / "out.xlsx")
    sheet = load_workbook(out, read_only=True)["Data quality"]
    problems = [row[5] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert sum("possible gaming" in str(p) for p in problems) >= 40
    assert sum("same name and country" in str(p) for p in problems) >= 90


def _write(planted, path):
    """The planted frames as a two-sheet workbook (Partners, History), as an export would be."""
    with pd.ExcelWriter(path) as writer:
        planted.partners.to_excel(writer, sheet_name="Partners", index=False)
        planted.history.to_excel(writer, sheet_name="History", index=False)
