"""``pscore history`` end to end: a real demo workbook in, a workbook (and a CSV) out, read back
with openpyxl and LibreOffice; the numbers equal the core's."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

import numpy as np
import pytest
from openpyxl import load_workbook

from scoring.history import history_view
from scoring.synthetic import generate
from xlplugin.workbook.demo import write_workbook
from xlplugin.workbook.reader import open_workbook, read_table

from tests.conftest import libreoffice, pscore, write_book, partner

AS_OF = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    path = write_workbook(generate(120, seed=2, as_of=AS_OF), folder / "partners.xlsx")
    model = folder / "stable.yaml"
    text = (open_model_text() + "\nstability:\n  smoothing: {method: ewma, alpha: 0.5}\n  max_change: 4\n"
            "  min_periods: 3\n  stale: drop\n")
    model.write_text(text, encoding="utf-8")
    out = folder / "history.xlsx"
    done = pscore("history", str(path), "-o", str(out), "--model", str(model))
    assert done.returncode == 0, done.stderr
    return path, model, out, done.stdout


def open_model_text() -> str:
    from importlib import resources

    return resources.files("scoring.model").joinpath("default.yaml").read_text("utf-8")


def test_the_history_workbook_holds_the_input_and_the_four_sheets(demo):
    path, _, out, stdout = demo
    book = load_workbook(out)
    assert book.sheetnames == [*load_workbook(path).sheetnames, "History scores", "History long", "Changes",
                               "History chart"]
    assert "Scored 120 partners" in stdout and "guardrail flags" in stdout
    assert book["History chart"]._charts and book["History scores"].tables


def test_the_sheets_show_the_cores_numbers(demo):
    path, model, out, _ = demo
    from scoring import load_model

    scoring_model = load_model(str(model))
    workbook = open_workbook(path)
    partners = read_table(workbook, "Partners", scoring_model, source=path)
    history = read_table(workbook, "History", scoring_model, source=path)
    view = history_view(history.frame, partners.frame, scoring_model)
    ws = load_workbook(out)["History scores"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert len(body) == len(view.table)
    for column in ("composite_raw", "composite_smoothed", "composite_published", "tier_shown", "guardrail"):
        got = [r[header.index(column)] for r in body]
        assert got == view.table[column].tolist(), column
    assert view.table["guardrail"].any() and view.table["provisional"].any()
    published = view.table.groupby("partner_id")["composite_published"].diff().abs()
    assert (published[~view.table["data_correction"]].dropna() <= 4.05).all()  # bounded, to display rounding


def test_the_changes_sheet_adds_up_and_gives_three_reasons(demo):
    _, _, out, _ = demo
    ws = load_workbook(out)["Changes"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    header, body = list(rows[0]), rows[1:]
    col = {name: header.index(name) for name in header}
    totals: dict[tuple, list[float]] = {}
    for r in body:
        totals.setdefault((r[col["partner_id"]], r[col["score"]]), []).append(r[col["points"]])
        assert abs(r[col["points"]]) >= 0.05
    for (pid, score), points in totals.items():
        change = next(r[col["change"]] for r in body if r[col["partner_id"]] == pid and r[col["score"]] == score)
        assert abs(sum(points) - change) <= 0.05 * 26, (pid, score)  # parts under 0.05 left off the sheet
    reasons = [r[col["reason"]] for r in body if r[col["reason"]]]
    assert reasons and all(1 <= len(text.split("; ")) <= 3 for text in reasons)


def test_libreoffice_opens_the_history_workbook(demo, tmp_path):
    _, _, out, _ = demo
    done = libreoffice(out, tmp_path, "pdf")
    assert done.returncode == 0 and (tmp_path / "history.pdf").stat().st_size > 10_000, done.stderr


def test_csv_output_and_the_same_bytes_twice(demo, tmp_path):
    path, model, out, _ = demo
    again = tmp_path / "again.xlsx"
    assert pscore("history", str(path), "-o", str(again), "--model", str(model)).returncode == 0
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(out.read_bytes()).digest()
    target = tmp_path / "h.csv"
    done = pscore("history", str(path), "-o", str(target), "--from", "2026-06-30", "--to", "2026-09-30")
    assert done.returncode == 0, done.stderr
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {"composite_raw", "composite_published", "tier_shown", "stale"} <= set(rows[0])


def test_a_correction_marker_and_an_updated_date_are_read_from_the_history_sheet(tmp_path):
    rows = [partner("P1", "One")]
    history = [{**partner("P1", "One"), "period": dt.date(2026, 8, 31), "Deals won": 0},
               {**partner("P1", "One"), "period": dt.date(2026, 9, 30), "deals_won": 15, "Data correction": "yes",
                "Pipeline value updated": "2026-01-31"}]
    for h in history:
        h.pop("partner_type"), h.pop("region"), h.pop("onboarding_start")
    history[0]["deals_won"] = history[0].pop("Deals won")
    book = write_book(tmp_path / "in.xlsx", rows, history)
    model = tmp_path / "m.yaml"
    model.write_text(open_model_text() + "\nstability:\n  max_change: 1\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    done = pscore("history", str(book), "-o", str(out), "--model", str(model))
    assert done.returncode == 0, done.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        got = list(csv.DictReader(handle))
    assert [r["data_correction"] for r in got] == ["FALSE", "TRUE"]
    assert got[1]["guardrail"] == "FALSE" and got[1]["composite_published"] == got[1]["composite_raw"]
    assert got[1]["stale"] == "Pipeline value" and got[0]["stale"] == ""


def test_mistakes_end_in_one_error_line(tmp_path):
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "One")])
    done = pscore("history", str(book), "-o", str(tmp_path / "out.xlsx"))
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error:")
    assert "History" in done.stderr
    done = pscore("history", str(book), "-o", str(tmp_path / "out.txt"))
    assert done.returncode == 2 and "must end in .csv or .xlsx" in done.stderr
