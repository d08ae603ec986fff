"""The scored workbook an analyst opens: sheets, formatting, data quality, Model-sheet round trip,
in-place writes, and what LibreOffice reads back."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path
from zipfile import ZipFile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from scoring import ModelError, load_model, score
from scoring.synthetic import generate
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.demo import write_workbook
from xlplugin.workbook.save import set_cell
from xlplugin.workbook.reader import WorkbookError

from tests.conftest import libreoffice
from tests.conftest import pscore
from tests.conftest import messy_book
from tests.conftest import partner, variant, write_book

AS_OF = dt.date(2026, 11, 1)
MODEL = load_model("default")


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / "partners.xlsx"
    write_workbook(generate(n_partners=150, seed=4, as_of=AS_OF), path)
    return path


@pytest.fixture(scope="module")
def scored_demo(demo_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "scored.xlsx"
    scored = workbook.score_workbook(demo_path, MODEL, AS_OF)
    workbook.write_scored(scored, out)
    return scored, out


def header_and_rows(ws, header_row=4):
    rows = list(ws.values)
    return list(rows[header_row - 1]), rows[header_row:]


def test_scores_sheet_is_a_formatted_excel_table(scored_demo):
    scored, out = scored_demo
    book = load_workbook(out)
    ws = book["Scores"]
    assert ws["A1"].value == "Partner scores"
    assert MODEL.label in ws["A2"].value and AS_OF.isoformat() in ws["A2"].value
    assert list(ws.tables) == ["PscoreScores"] and ws.tables["PscoreScores"].ref == "A4:Z154"
    assert ws.freeze_panes == "C5"
    header, rows = header_and_rows(ws)
    col = header.index("composite_score")
    assert ws.cell(5, col + 1).number_format == "0.0"
    assert ws.cell(5, header.index("coverage") + 1).number_format == "0%"
    ranges = {str(r.sqref) for r in ws.conditional_formatting}
    tier = ws.cell(4, header.index("tier") + 1).column_letter
    assert f"{tier}5:{tier}154" in ranges and len(ranges) == 4  # three colour scales and the tier fills
    assert [r[col] for r in rows] == scored.result["composite_score"].tolist()


def test_every_sheet_is_there_and_the_input_is_untouched(scored_demo, demo_path):
    _, out = scored_demo
    source = load_workbook(demo_path)
    book = load_workbook(out)
    assert book.sheetnames == [*source.sheetnames, "Scores", "Data quality", "Model", "Dashboard"]
    assert [list(r) for r in book["Partners"].values] == [list(r) for r in source["Partners"].values]


def test_dashboard_has_native_charts_over_its_own_cells(scored_demo):
    scored, out = scored_demo
    with ZipFile(out) as archive:  # openpyxl does not read charts back: check the archive
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        xml = "".join(archive.read(n).decode() for n in charts)
    assert len(charts) == 3
    assert "Partners by tier" in xml and "Median scores by month" in xml and "'Dashboard'!" in xml
    ws = load_workbook(out)["Dashboard"]
    counts = {row[0]: row[1] for row in ws.iter_rows(min_row=5, max_row=9, values_only=True)}
    expected = scored.result.frame["tier"].value_counts()
    assert counts == {t: int(expected.get(t, 0)) for t in ("A", "B", "C", "D", "Unscored")}
    months = [row[0] for row in ws.iter_rows(min_row=1, values_only=True) if isinstance(row[0], str) and row[0][:2] == "20"]
    assert len(months) >= 12 and months == sorted(months)


def messy_quality(tmp_path) -> tuple[list, pd.DataFrame]:
    """The Data quality sheet's header and records after scoring the messy workbook."""
    path = tmp_path / "messy.xlsx"
    messy_book().save(path)
    scored = workbook.score_workbook(path, MODEL, AS_OF)
    out = workbook.write_scored(scored, tmp_path / "scored.xlsx")
    header, rows = header_and_rows(load_workbook(out)["Data quality"], 3 + 1)
    return header, pd.DataFrame(rows, columns=header)


def test_data_quality_lists_reading_and_scoring_records(tmp_path):
    header, records = messy_quality(tmp_path)
    assert header == ["sheet", "row", "column", "partner_id", "value", "problem", "action"]
    na = records[records.problem == "Excel error #N/A"].iloc[0]
    assert (na.sheet, na.row, na.column, na.partner_id) == ("Partners", 8, "Deals won (G)", "P003")
    typo = records[(records.column == "Type (C)") & (records.value == "Resellr")].iloc[0]
    assert typo.problem.startswith("not a partner_type the model knows") and typo.action == "scored with the base weights"
    absent = records[records.problem == "no column for metric 'channel_reach' (Channel reach)"]
    assert len(absent) == 1 and absent.iloc[0].action == "treated as missing for every partner"
    assert (records.problem == "no value").sum() < 10  # absent columns are not repeated per partner


def test_a_metric_recorded_only_for_later_cohorts_is_one_data_quality_row(tmp_path, model_dict):
    for m in model_dict["metrics"]:
        if m["id"] in ("pipeline_value", "deals_won"):
            m["since"] = "2026-06-01"
    model = variant(model_dict)
    early = [partner(f"E{i:02}", f"Early {i}", onboarding_start=dt.date(2025, 9, 1), pipeline_value=None, deals_won=None)
             for i in range(30)]
    late = [partner("L01", "Late", onboarding_start=dt.date(2026, 7, 1), pipeline_value=None),
            partner("L02", "Late recorded", onboarding_start=dt.date(2026, 7, 1))]
    path = write_book(tmp_path / "partners.xlsx", early + late)
    out = workbook.write_scored(workbook.score_workbook(path, model, AS_OF), tmp_path / "scored.xlsx")
    header, rows = header_and_rows(load_workbook(out)["Data quality"], 3 + 1)
    records = pd.DataFrame(rows, columns=header).astype(object).fillna("")
    since = "recorded since 2026-06-01: blank for 30 partners onboarded earlier, not expected of them"
    assert records[["row", "column", "partner_id", "problem", "action"]].values.tolist() == [
        ["", "deals_won (V)", "", since, "not flagged missing; left out of their coverage"],
        ["", "pipeline_value (Y)", "", since, "not flagged missing; left out of their coverage"],
        [32, "pipeline_value (Y)", "L01", "no value", "left out; weights re-normalised over the metrics present"],
    ]
    header, rows = header_and_rows(load_workbook(out)["Scores"])
    flags = pd.DataFrame(rows, columns=header)["flags"].fillna("")
    assert not flags.str.contains("low coverage").any() and flags.tolist()[-2:] == ["missing: Pipeline value", ""]


def test_partners_without_a_usable_id_are_one_clear_error(tmp_path):
    path = tmp_path / "noid.xlsx"
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    ws.append(["Partner ID", "Deals won"])
    ws.append([None, 3])
    ws.append(["#N/A", 4])
    book.save(path)
    with pytest.raises(WorkbookError, match="no usable partners: sheet 'Partners' has 2 row"):
        workbook.score_workbook(path, MODEL, AS_OF)


def edit_model_sheet(path: Path, out: Path, edits: dict[tuple[str, int], object]) -> None:
    book = load_workbook(path)
    ws = book["Model"]
    for row in ws.iter_rows():
        for (key, col), value in edits.items():
            if row[0].value == key:
                row[col].value = value
    book.save(out)


def test_model_sheet_round_trip(scored_demo, tmp_path):
    _, out = scored_demo
    edited = tmp_path / "edited.xlsx"
    edit_model_sheet(out, edited, {("weights.*.deals_won", 4): 9, ("tiers[0].min_score", 3): 80})
    again = workbook.score_workbook(edited, MODEL, AS_OF, use_model_sheet=True)
    model = again.result.model
    assert model.spec.name == "default + workbook overrides" and model.hash != MODEL.hash
    assert model.spec.weights["revenue"]["deals_won"] == 9 and model.spec.tiers[0].min_score == 80
    expected = score(again.partners.frame, model, as_of=AS_OF).frame
    pd.testing.assert_frame_equal(again.result.frame, expected)
    written = workbook.write_scored(again, tmp_path / "two.xlsx")
    assert "default + workbook overrides 1.0.0" in load_workbook(written)["Scores"]["A2"].value
    unchanged = workbook.score_workbook(out, MODEL, AS_OF, use_model_sheet=True)
    assert unchanged.result.model.hash == MODEL.hash  # no edits: the same model


@pytest.mark.parametrize("edit, message", [
    ((("weights.*.deals_won", 4), -2), "Model!E23 (weights.revenue.deals_won): Input should be greater than or equal to 0"),
    ((("weights.*.deals_won", 4), "lots"), "Model!E23: 'lots' is not a number"),
    ((("weights.*.channel_reach", 5), 1), "Model!F8: metric 'channel_reach' does not inform engagement; leave this cell empty"),
    ((("tiers[1].min_score", 3), 90), "Model!D37 (tiers[1].min_score): tiers must be listed best first"),
])
def test_model_sheet_edits_are_validated_with_the_cell(scored_demo, tmp_path, edit, message):
    _, out = scored_demo
    edited = tmp_path / "bad.xlsx"
    edit_model_sheet(out, edited, dict([edit]))
    with pytest.raises(ModelError) as info:
        workbook.score_workbook(edited, MODEL, AS_OF, use_model_sheet=True)
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems


def test_model_export_writes_a_new_version(scored_demo, tmp_path):
    _, out = scored_demo
    edited = tmp_path / "edited.xlsx"
    edit_model_sheet(out, edited, {("weights.*.deals_won", 4): 5})
    target = tmp_path / "model.yaml"
    done = pscore("model", "export", "--from-workbook", str(edited), "-o", str(target), "--author", "Ana",
                  "--rationale", "Deals won predicts revenue best")
    assert done.returncode == 0, done.stderr
    exported = load_model(target)
    assert exported.spec.name == "default" and exported.spec.version == "1.1.0"
    entry = exported.spec.changelog[-1]
    assert (entry.author, entry.change, entry.rationale) == ("Ana", "weights.revenue.deals_won: 3 -> 5",
                                                            "Deals won predicts revenue best")
    done = pscore("model", "export", "--from-workbook", str(out), "-o", str(tmp_path / "same.yaml"))
    assert done.returncode == 2 and "the Model sheet has no edits" in done.stderr


def test_in_place_keeps_a_backup(demo_path, tmp_path):
    target = tmp_path / "mine.xlsx"
    shutil.copy(demo_path, target)
    original = target.read_bytes()
    done = pscore("score", str(target), "-o", str(target), "--as-of", AS_OF.isoformat())
    assert done.returncode == 2 and "--in-place" in done.stderr and target.read_bytes() == original
    done = pscore("score", str(target), "-o", str(target), "--in-place", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    backups = list(tmp_path.glob("mine.backup-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert "Scores" in load_workbook(target).sheetnames


def test_libreoffice_opens_the_scored_workbook_and_reads_the_same_scores(scored_demo, tmp_path):
    scored, out = scored_demo
    pdf = libreoffice(out, tmp_path, "pdf")
    assert pdf.returncode == 0 and (tmp_path / "scored.pdf").stat().st_size > 10_000, pdf.stderr
    options = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = libreoffice(out, tmp_path, options)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "scored-Scores.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[3]
    body = rows[4:4 + len(scored.result)]
    frame = scored.result.frame
    for column in ("revenue_score", "engagement_score", "composite_score"):
        got = [float(r[header.index(column)]) for r in body]
        assert got == frame[column].tolist()
    assert [r[header.index("tier")] for r in body] == frame["tier"].tolist()
    assert [r[header.index("partner_id")] for r in body] == frame["partner_id"].tolist()


junk = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10**9, 10**9), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)), st.sampled_from(["#N/A", "#DIV/0!", "=1+1", "-", "@x", "85%", " 1,200 "]),
)
metric_headers = ["Partner ID", "Partner Name", "Partner Type", "Region", "Onboarding start", "Deals won",
                  "Training Completion %", "Certification status", "JMP adopted", "Notes"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(junk, min_size=len(metric_headers), max_size=len(metric_headers)), min_size=1, max_size=12),
       st.integers(0, 3))
def test_junk_never_breaks_reading_and_every_usable_id_is_scored(tmp_path, rows, title_rows):
    path = tmp_path / "junk.xlsx"
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    for r in range(1, title_rows + 1):
        ws.cell(r, 1, f"note {r}")
    for c, header in enumerate(metric_headers, start=1):
        ws.cell(title_rows + 1, c, header)
    for r, row in enumerate(rows, start=title_rows + 2):
        for c, value in enumerate(row, start=1):
            set_cell(ws, r, c, value)
    book.save(path)
    try:
        scored = workbook.score_workbook(path, MODEL, AS_OF)
    except WorkbookError as exc:
        assert "no usable partners" in str(exc)
        return
    ids = scored.partners.frame["partner_id"]
    usable = ids.dropna()
    assert len(usable) > 0
    assert scored.result.frame.loc[usable.index, "partner_id"].tolist() == usable.tolist()
    workbook.write_scored(scored, tmp_path / "out.xlsx")


def test_one_bad_cell_gives_exactly_one_data_quality_row(tmp_path):
    _, records = messy_quality(tmp_path)
    cells = records.dropna(subset=["row", "column"])
    assert not cells.duplicated(["sheet", "row", "column"]).any(), cells[cells.duplicated(["sheet", "row", "column"], keep=False)]
    na = records[(records.row == 8) & (records.column == "Deals won (G)")]
    assert na[["value", "problem", "action"]].values.tolist() == [
        ["#N/A", "Excel error #N/A", "left out; weights re-normalised over the metrics present"]]
    start = records[(records.row == 10) & (records.column == "Onboarding start (E)")]
    assert start[["value", "problem", "action"]].values.tolist() == [
        ["not a date", "'not a date' is not a date", "scored in the first stage"]]


def test_the_command_line_counts_what_the_data_quality_sheet_lists(tmp_path):
    path = tmp_path / "messy.xlsx"
    messy_book().save(path)
    done = pscore("score", str(path), "-o", str(tmp_path / "out.xlsx"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    header, rows = header_and_rows(load_workbook(tmp_path / "out.xlsx")["Data quality"], 3 + 1)
    partners = {r[header.index("row")] for r in rows if r[0] == "Partners"} & {5, 7, 8, 9, 10, 11, 12}
    assert f"{len(rows)} data-quality records, about {len(partners)} partners." in done.stdout
