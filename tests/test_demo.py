"""The demo workbook (``pscore demo``): the synthetic frames written as sheets, reproducible to the byte."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from scoring.synthetic import DemoData, generate
from xlplugin.workbook.demo import write_workbook

AS_OF = dt.date(2026, 6, 15)
SHEETS = ["About", "Partners", "History", "Milestones", "Outcomes", "Interventions", "Experiments"]
FRAMES = ["partners", "history", "milestones", "outcomes", "interventions", "experiments", "truth"]


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(300, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def workbook_path(data, tmp_path_factory):
    return write_workbook(data, tmp_path_factory.mktemp("demo") / "demo.xlsx")


def test_same_data_saves_to_identical_bytes(workbook_path, tmp_path):
    again = write_workbook(generate(300, seed=7, as_of=AS_OF), tmp_path / "again.xlsx")
    assert again.read_bytes() == workbook_path.read_bytes()


def test_workbook_has_about_first_then_one_sheet_per_frame(data, workbook_path):
    wb = openpyxl.load_workbook(workbook_path, read_only=True)
    assert wb.sheetnames == SHEETS
    for sheet, frame in zip(SHEETS[1:], FRAMES):
        rows = list(wb[sheet].iter_rows(values_only=True))
        assert list(rows[0]) == list(getattr(data, frame).columns), sheet
        assert len(rows) == len(getattr(data, frame)) + 1, sheet
    assert wb.properties.created == wb.properties.modified == dt.datetime(2026, 6, 15)


def test_about_says_synthetic_and_lists_parameters_and_errors(data, workbook_path):
    about_sheet = openpyxl.load_workbook(workbook_path, read_only=True)["About"]
    about = {label: text for label, text in about_sheet.iter_rows(values_only=True, max_col=2) if label}
    text = " ".join(f"{k} {v}" for k, v in about.items())
    assert "synthetic" in text.lower() and "pscore demo" in text
    assert about["Seed"] == 7 and about["Partners (n_partners)"] == 300
    assert about["As of"].date() == AS_OF
    assert set(SHEETS[1:]) <= set(about)
    planted = data.truth.loc[data.truth["injected_error"] != "", "partner_id"]
    assert set(planted) <= set(about)


def test_workbook_round_trips_values(data, workbook_path):
    read = pd.read_excel(workbook_path, sheet_name="Partners")
    assert read["partner_name"].tolist() == data.partners["partner_name"].tolist()
    assert (read["onboarding_start"] == data.partners["onboarding_start"]).all()
    for metric in ("channel_reach", "training_completion_rate", "responsiveness_hours", "pipeline_value"):
        np.testing.assert_allclose(read[metric], data.partners[metric].astype(float), err_msg=metric)
    as_text = pd.read_excel(workbook_path, sheet_name="Partners", usecols=["deals_won"], keep_default_na=False)
    assert (as_text["deals_won"] == "n/a").sum() == (data.partners["deals_won"] == "n/a").sum() > 0
    assert (as_text["deals_won"] == "").sum() == data.partners["deals_won"].isna().sum()


def test_header_is_bold_and_frozen_and_dates_are_dates(workbook_path):
    wb = openpyxl.load_workbook(workbook_path)
    for sheet in SHEETS[1:]:
        ws = wb[sheet]
        assert ws.freeze_panes == "A2" and ws["A1"].font.b, sheet
    assert isinstance(wb["History"]["B2"].value, dt.datetime)
    assert wb["History"]["B2"].is_date


def test_formula_like_text_is_written_as_text(tmp_path):
    small = generate(20, seed=1, as_of=AS_OF)
    partners = small.partners.copy()
    partners.loc[0, "partner_name"] = '=HYPERLINK("http://example.com")'
    path = write_workbook(dataclasses.replace(small, partners=partners), tmp_path / "f.xlsx")
    cell = openpyxl.load_workbook(path)["Partners"]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
