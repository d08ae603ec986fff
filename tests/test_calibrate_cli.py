"""``pscore calibrate`` run as a user runs it: a real process on a demo workbook, then scoring with the result."""

from __future__ import annotations

import csv
import subprocess
from importlib import resources
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring import load_model
from scoring.calibration.predict import COLUMNS

from tests.conftest import libreoffice, pscore

AS_OF = "2026-11-24"


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    """A demo workbook with enough past cohorts to calibrate, and one with too few."""
    folder = tmp_path_factory.mktemp("calibrate")
    out = {"demo": folder / "demo.xlsx", "tiny": folder / "tiny.xlsx"}
    for name, partners in (("demo", "400"), ("tiny", "60")):
        done = pscore("demo", str(out[name]), "--partners", partners, "--seed", "3", "--as-of", AS_OF)
        assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def calibrated(books) -> tuple[subprocess.CompletedProcess, Path, Path]:
    folder = books["demo"].parent
    model, report = folder / "calibrated.yaml", folder / "calibration.xlsx"
    done = pscore("calibrate", str(books["demo"]), "-o", str(model), "--report", str(report), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    return done, model, report


def test_calibrate_writes_a_new_model_version_and_a_summary(calibrated):
    done, path, _ = calibrated
    model = load_model(str(path))
    assert model.spec.name == "default" and model.spec.version == "1.1.0"
    cal = model.spec.calibration
    assert cal is not None and cal.date.isoformat() == AS_OF and cal.n > 150
    out = done.stdout
    assert f"Calibrated on {cal.n:,} partners with 12-month outcomes" in out
    assert "AUC" in out and "ECE" in out and "Against gradient boosting, the current scorecard is" in out
    assert f"Wrote {path} ({model.label}) and {path.parent / 'calibration.xlsx'}" in out
    assert path.read_text(encoding="utf-8").startswith(f"# {model.label}: calibrated by pscore calibrate")


def test_scoring_with_the_calibrated_model_adds_the_prediction_columns(books, calibrated, tmp_path):
    _, model, _ = calibrated
    with_cal, without = tmp_path / "with.csv", tmp_path / "without.csv"
    done = pscore("score", str(books["demo"]), "-o", str(with_cal), "--model", str(model), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    done = pscore("score", str(books["demo"]), "-o", str(without), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(with_cal.open(encoding="utf-8", newline="")))
    header = list(rows[0])
    assert header[header.index("coverage") + 1:header.index("coverage") + 5] == list(COLUMNS)
    scored = [r for r in rows if r["engagement_score"]]
    assert len(scored) > 350
    for row in scored:
        p = float(row["engagement_probability"])
        expected, low, high = (float(row[c]) for c in COLUMNS[1:])
        assert 0 <= p <= 1 and 0 <= low <= expected and low <= high
    plain = list(csv.DictReader(without.open(encoding="utf-8", newline="")))
    assert not set(COLUMNS) & set(plain[0])
    assert [r["revenue_score"] for r in plain] == [r["revenue_score"] for r in rows]  # same scorecard


def test_same_inputs_give_byte_identical_outputs(books, calibrated, tmp_path):
    _, model, report = calibrated
    again_model, again_report = tmp_path / "again.yaml", tmp_path / "again.xlsx"
    done = pscore("calibrate", str(books["demo"]), "-o", str(again_model), "--report", str(again_report),
                  "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert again_model.read_bytes() == model.read_bytes()
    assert again_report.read_bytes() == report.read_bytes()


def test_report_workbook_has_every_table(calibrated):
    _, _, report = calibrated
    book = load_workbook(report)
    assert book.sheetnames == ["Summary", "Engagement", "Reliability", "Revenue", "Segments", "Peers", "Weights"]
    peers = [row for row in book["Peers"].iter_rows(min_row=2, values_only=True)]
    assert {row[0] for row in peers} == {"Current scorecard", "Equal weights", "Suggested weights", "Gradient boosting",
                                       "Base rate", "One-hot logistic"}
    weights = book["Weights"]
    assert [c.value for c in weights[1]] == ["outcome", "metric", "label", "layer", "current", "suggested", "change"]
    assert any("Back-test of the current and suggested weights" in str(c.value) for c in weights["A"])
    engagement = {row[0]: row[1:] for row in book["Engagement"].iter_rows(min_row=2, values_only=True)}
    value, low, high = engagement["AUC"]
    assert 0.5 < low <= value <= high <= 1


def test_refuses_to_overwrite_the_input_model(books, tmp_path):
    source = tmp_path / "mine.yaml"
    source.write_text(resources.files("scoring.model").joinpath("default.yaml").read_text("utf-8"), encoding="utf-8")
    before = source.read_bytes()
    done = pscore("calibrate", str(books["demo"]), "--model", str(source), "-o", str(source), "--as-of", AS_OF)
    assert done.returncode == 2 and "refusing to overwrite the input model" in done.stderr
    assert source.read_bytes() == before


def test_refuses_too_little_data_and_says_how_much_more(books, tmp_path):
    out = tmp_path / "never.yaml"
    done = pscore("calibrate", str(books["tiny"]), "-o", str(out), "--as-of", AS_OF)
    assert done.returncode == 2 and done.stderr.startswith("error: too little data to calibrate:")
    assert "need at least 50" in done.stderr and "more)" in done.stderr and not out.exists()
    done = pscore("calibrate", str(books["demo"]), "-o", str(out), "--engagement-map", "isotonic", "--as-of", AS_OF)
    assert done.returncode == 2 and "need at least 1,000" in done.stderr and not out.exists()


def test_user_mistakes_end_in_one_line(books, tmp_path):
    cases = [
        (["-o", str(tmp_path / "model.txt")], "must end in .yaml"),
        (["-o", str(tmp_path / "m.yaml"), "--report", str(tmp_path / "r.csv")], "the report must end in .xlsx"),
        (["-o", str(tmp_path / "m.yaml"), "--report", str(books["demo"])], "refusing to overwrite an input"),
        (["-o", str(tmp_path / "m.yaml"), "--horizon", "24"], "no revenue_24m column"),
    ]
    for extra, message in cases:
        done = pscore("calibrate", str(books["demo"]), *extra, "--as-of", AS_OF)
        assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1, done.stderr
    done = pscore("calibrate", "--help")
    assert done.returncode == 0 and "--window" in done.stdout and "--report" in done.stdout


def test_libreoffice_opens_the_report(calibrated, tmp_path):
    _, _, report = calibrated
    done = libreoffice(report, tmp_path, "pdf")
    assert done.returncode == 0 and (tmp_path / "calibration.pdf").stat().st_size > 10_000, done.stderr


def test_garbage_outcomes_are_one_clear_error_naming_sheet_and_column(books, tmp_path):
    book = load_workbook(books["tiny"])
    ws = book["Outcomes"]
    for row in ws.iter_rows(min_row=2, min_col=2):
        for cell in row:
            cell.value = "garbage"
    path = tmp_path / "garbage.xlsx"
    book.save(path)
    done = pscore("calibrate", str(path), "-o", str(tmp_path / "out.yaml"), "--as-of", AS_OF)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {path}: no partner to calibrate on: ")
    assert "Outcomes rows without a usable revenue_12m" in done.stderr
    assert not (tmp_path / "out.yaml").exists()
