"""``pscore_change`` through xlwings' own UDF pipeline (no Excel): the same change and reasons as the
ledger of ``pscore history`` for the same partner and dates; mistakes are one line in the cell."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from scoring import load_model
from scoring.history import history_view
from scoring.synthetic import generate
from xlplugin.excel.harness import MISSING, as_excel_sends, call_udf, xlwings_udfs
from xlplugin.workbook.demo import write_workbook
from xlplugin.workbook.reader import open_workbook, read_table

AS_OF = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = write_workbook(generate(40, seed=5, as_of=AS_OF), tmp_path_factory.mktemp("change") / "p.xlsx")
    values = load_workbook(path)
    grids = {name: as_excel_sends([list(r) for r in values[name].iter_rows(values_only=True)])
             for name in ("Partners", "History")}
    model = load_model("default")
    workbook = open_workbook(path)
    partners = read_table(workbook, "Partners", model, source=path)
    history = read_table(workbook, "History", model, source=path)
    with xlwings_udfs("xlplugin.excel.udfs") as modules:
        yield SimpleNamespace(udfs=modules["xlplugin.excel.udfs"], grids=grids, partners=partners.frame,
                              history=history.frame, model=model)


def test_pscore_change_equals_the_ledger_of_pscore_history(book):
    view = history_view(book.history, book.partners, book.model, start=dt.date(2026, 6, 30), end=dt.date(2026, 9, 30))
    checked = 0
    for pid in view.reasons["partner_id"].unique()[:6]:
        out = call_udf(book.udfs.pscore_change, book.grids["History"], book.grids["Partners"], pid,
                       dt.datetime(2026, 6, 30), "2026-09-30", MISSING, MISSING)
        header, row = out
        got = dict(zip(header, row))
        mine = view.changes[(view.changes["partner_id"] == pid) & (view.changes["score"] == "composite")].iloc[0]
        assert got["change"] == round(mine["change"], 1) and got["before"] == round(mine["before"], 1)
        assert got["from_period"] == mine["from_period"] and got["to_period"] == mine["to_period"]
        reasons = view.reasons[view.reasons["partner_id"] == pid]["reason"].tolist()
        assert [got[f"reason_{k}"] for k in (1, 2, 3)] == (reasons + [""] * 3)[:3]
        checked += 1
    assert checked >= 3


def test_pscore_change_for_one_outcome_and_by_default_a_quarter_back(book):
    pid = book.grids["Partners"][1][0]
    out = call_udf(book.udfs.pscore_change, book.grids["History"], book.grids["Partners"], pid, MISSING, MISSING,
                   MISSING, "revenue")
    got = dict(zip(*out))
    assert got["score"] == "revenue"
    assert (got["to_period"] - got["from_period"]).days >= 89
    view = history_view(book.history, book.partners, book.model)
    mine = view.changes[(view.changes["partner_id"] == pid) & (view.changes["score"] == "revenue")].iloc[0]
    assert got["change"] == round(mine["change"], 1)


@pytest.mark.parametrize("partner_id, start, problem", [
    ("NOPE", MISSING, "error: history: no snapshot of partner NOPE"),
    (None, MISSING, "error: partner_id: missing"),
    ("P00001", "31/02/2026", "error: from: "),
])
def test_mistakes_are_one_line_in_the_cell(book, partner_id, start, problem):
    out = call_udf(book.udfs.pscore_change, book.grids["History"], book.grids["Partners"], partner_id, start,
                   MISSING, MISSING, MISSING)
    assert out[0][0].startswith(problem), out
