"""Population stability (scoring.drift, scoring.monitoring) on data with known properties, and
``pscore monitor`` / ``pscore score`` as a user runs them, their workbook and PDF read back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from scoring import load_model
from scoring.drift import band, compare, population, psi
from scoring.model.dump import dump_model
from scoring.model.load import parse_model
from scoring.monitoring import MonitorError, monitor, shift_line
from scoring.synthetic import generate
from tests.conftest import libreoffice, pscore

AS_OF = dt.date(2026, 11, 24)
REPEATS = 20


@pytest.fixture(scope="module")
def model():
    return load_model("default")


def test_psi_of_equal_counts_is_zero_and_grows_with_the_shift():
    assert psi([10, 20, 30], [10, 20, 30]) == pytest.approx(0.0)
    assert psi([50, 50], [40, 60]) < psi([50, 50], [20, 80])
    assert psi([100, 0], [100, 0]) == pytest.approx(0.0)  # an empty bin on both sides: smoothed, no error
    assert [band(v) for v in (0.05, 0.1, 0.2, 0.25, np.nan)] == ["stable", "investigate", "investigate", "shifted", ""]


def test_an_unchanged_population_of_1000_stays_stable_in_95_percent_of_repeats(model):
    """Two independent draws of 1,000 partners from the same synthetic process, 20 seeds: every input
    and score in the stable band in at least 95% of (repeat, variable) pairs, and nothing called shifted."""
    stable, shifted, rows = 0, 0, 0
    for seed in range(REPEATS):
        then = population(generate(1000, seed=2 * seed, as_of=AS_OF).partners, model, AS_OF)
        now = population(generate(1000, seed=2 * seed + 1, as_of=AS_OF).partners, model, AS_OF)
        table = compare(then, now).table
        stable += int((table["band"] == "stable").sum())
        shifted += int(table["shifted"].sum())
        rows += len(table)
        assert not table["small_sample"].any()
    assert stable / rows >= 0.95, stable / rows
    assert shifted == 0


def test_a_mean_shift_of_one_standard_deviation_in_one_metric_is_flagged(model):
    then_data = generate(1000, seed=100, as_of=AS_OF).partners
    now_data = generate(1000, seed=101, as_of=AS_OF).partners
    hours = now_data["responsiveness_hours"].astype(float)
    now_data["responsiveness_hours"] = hours + np.nanstd(then_data["responsiveness_hours"].astype(float))
    table = compare(population(then_data, model, AS_OF), population(now_data, model, AS_OF)).table.set_index("variable")
    assert table.loc["responsiveness_hours", "band"] == "shifted" and table.loc["responsiveness_hours", "shifted"]
    others = table.drop(index=["responsiveness_hours", "engagement_score", "composite_score", "revenue_score", "tier"])
    assert (others["band"] == "stable").all()


def test_30_partners_get_the_small_sample_warning(model):
    then = population(generate(30, seed=1, as_of=AS_OF).partners, model, AS_OF)
    now = population(generate(30, seed=2, as_of=AS_OF).partners, model, AS_OF)
    drift = compare(then, now)
    numeric = drift.table[drift.table["group"] != "tier"]
    assert numeric["small_sample"].all() and (numeric["chance_psi"] >= 0.1).all()
    assert any("Small samples" in line and "by chance" in line for line in drift.summary())


def test_a_stored_baseline_survives_the_model_file_and_compares_like_the_population(model):
    data = generate(400, seed=5, as_of=AS_OF)
    then = population(data.partners, model, AS_OF)
    now = population(generate(400, seed=6, as_of=AS_OF).partners, model, AS_OF)
    from scoring.drift import baseline

    stored = baseline(then)
    assert set(stored.metrics) == {m.id for m in model.spec.metrics} and stored.n == 400
    assert stored.metrics["certification_status"].kind == "categorical"
    assert stored.metrics["pipeline_value"].kind == "numeric" and len(stored.metrics["pipeline_value"].edges) == 9
    direct = compare(then, now).table
    via = compare(stored, now).table
    assert np.allclose(direct["psi"], via["psi"], atol=1e-3)
    certification = compare(then, now).bins.query("variable == 'certification_status'")["bin"].tolist()
    assert certification == ["none", "in progress", "certified", "advanced"]


def test_history_periods_are_compared_and_a_missing_month_is_named(model):
    data = generate(300, seed=3, as_of=AS_OF)
    found = monitor(data.partners, model, data.history, start="2026-05", end="2026-11", as_of=AS_OF)
    assert found.then.startswith("May 2026") and found.now.startswith("Nov 2026")
    assert set(found.drift.table["group"]) == {"input", "score", "tier"}
    with pytest.raises(MonitorError, match="no History snapshot in 2020-01: History has"):
        monitor(data.partners, model, data.history, start="2020-01", as_of=AS_OF)
    with pytest.raises(MonitorError, match="not a month"):
        monitor(data.partners, model, data.history, start="last May", as_of=AS_OF)
    with pytest.raises(MonitorError, match="stores no calibration baseline"):
        monitor(data.partners, model, data.history, baseline=model, as_of=AS_OF)


# ------------------------------------------------------------------ the commands


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("monitor")
    book, model = folder / "demo.xlsx", folder / "calibrated.yaml"
    assert pscore("demo", str(book), "--partners", "400", "--seed", "3", "--as-of", str(AS_OF)).returncode == 0
    done = pscore("calibrate", str(book), "-o", str(model), "--as-of", str(AS_OF))
    assert done.returncode == 0, done.stderr
    return book, model


def test_calibration_stores_the_cohort_baseline(calibrated):
    _, path = calibrated
    cal = load_model(str(path)).spec.calibration
    assert cal.baseline is not None and cal.baseline.n == cal.n
    assert abs(sum(cal.baseline.tiers.values()) - 1) < 1e-6
    again = parse_model(dump_model(load_model(str(path)).spec))
    assert again.spec.calibration.baseline == cal.baseline


def test_monitor_writes_a_workbook_with_charts_and_a_pdf(calibrated, tmp_path):
    book, model = calibrated
    xlsx, pdf = tmp_path / "monitor.xlsx", tmp_path / "monitor.pdf"
    done = pscore("monitor", str(book), "--from", "2025-09", "--as-of", str(AS_OF), "-o", str(xlsx))
    assert done.returncode == 0, done.stderr
    assert "Population stability from Sep 2025" in done.stdout and f"Wrote {xlsx}" in done.stdout
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Summary", "PSI", "Distributions", "Tiers"]
    assert len(wb["PSI"]._charts) == 1 and len(wb["Distributions"]._charts) >= 1
    header = [c.value for c in wb["PSI"][4]]
    assert header[:5] == ["label", "variable", "group", "psi", "band"]
    again = tmp_path / "again.xlsx"
    assert pscore("monitor", str(book), "--from", "2025-09", "--as-of", str(AS_OF), "-o", str(again)).returncode == 0
    assert again.read_bytes() == xlsx.read_bytes()  # same input, same bytes
    done = libreoffice(xlsx, tmp_path / "lo", "csv")  # the Summary sheet, as a spreadsheet program reads it
    assert done.returncode == 0, done.stderr
    assert "Population stability" in (tmp_path / "lo" / "monitor.csv").read_text(encoding="utf-8", errors="replace")
    done = pscore("monitor", str(book), "--baseline", str(model), "--as-of", str(AS_OF), "-o", str(pdf))
    assert done.returncode == 0, done.stderr
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Population stability" in text and "PSI by input" in text and "calibration cohort" in text
    assert "Tiers then and now" in text
    again = tmp_path / "again.pdf"
    assert pscore("monitor", str(book), "--baseline", str(model), "--as-of", str(AS_OF), "-o", str(again)).returncode == 0
    assert again.read_bytes() == pdf.read_bytes()


def test_monitor_mistakes_are_one_error_line(calibrated, tmp_path):
    book, model = calibrated
    for args, message in ((["--from", "1999-01"], "no History snapshot in 1999-01"),
                          (["--from", "2025-09", "--baseline", str(model)], "not both"),
                          (["-o", str(tmp_path / "x.csv")], "must end in .xlsx or .pdf")):
        out = args if "-o" in args else [*args, "-o", str(tmp_path / "m.xlsx")]
        done = pscore("monitor", str(book), "--as-of", str(AS_OF), *out)
        assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error: "), done.stderr
        assert message in done.stderr


def test_score_says_when_inputs_shifted_since_calibration(calibrated, tmp_path):
    book, model = calibrated
    shifted = tmp_path / "shifted.xlsx"
    wb = load_workbook(book)
    ws = wb["Partners"]
    header = [c.value for c in ws[1]]
    for column in ("responsiveness_hours", "collaboration_frequency"):
        k = header.index(column) + 1
        for row in range(2, ws.max_row + 1):
            cell = ws.cell(row, k)
            if isinstance(cell.value, (int, float)):
                cell.value = cell.value * 4 + 10
    wb.save(shifted)
    out = tmp_path / "scored.xlsx"
    done = pscore("score", str(shifted), "-o", str(out), "--model", str(model), "--as-of", str(AS_OF))
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if "shifted since calibration" in x)
    assert line.startswith("2 inputs shifted since calibration (PSI >= 0.25): ") and line.endswith("; re-calibrate")
    assert "Responsiveness" in line and "Collaboration frequency" in line
    dashboard = load_workbook(out)["Dashboard"]
    assert dashboard["A3"].value.startswith("2 inputs shifted since calibration")
    done = pscore("score", str(book), "-o", str(tmp_path / "plain.xlsx"), "--model", str(model), "--as-of",
                  str(AS_OF))
    assert "shifted since calibration" not in done.stdout
    assert load_workbook(tmp_path / "plain.xlsx")["Dashboard"]["A3"].value is None


def test_shift_line_is_none_without_a_shift():
    assert shift_line(None) is None
