"""Reading partner workbooks as users really keep them: every case is built with openpyxl and the
test asserts exactly what was read and what was reported."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from scoring import load_model
from scoring.quality import frame as issues_frame
from xlplugin.workbook.book import Book
from xlplugin.workbook.reader import WorkbookError, open_workbook, read_table

from tests.conftest import messy_book, variant

MODEL = load_model("default")
def opened(book: Workbook) -> Book:
    """A workbook built in memory, saved, and opened the way pscore opens files."""
    path = Path(tempfile.mkdtemp()) / "book.xlsx"
    book.save(path)
    return open_workbook(path)


@pytest.fixture(scope="module")
def read():
    data = read_table(opened(messy_book()), "Partners", MODEL, source="messy.xlsx", unique_ids=True)
    return data, issues_frame(data.issues)


def test_table_is_found_below_title_rows_and_blank_rows_are_skipped(read):
    data, _ = read
    assert data.header_row == 4
    assert data.frame.index.tolist() == [5, 7, 8, 9, 10, 11, 12]  # Excel rows; row 6 is blank


def test_headers_map_to_canonical_names_and_extra_columns_are_kept(read):
    data, issues = read
    assert list(data.frame.columns) == [
        "partner_id", "partner_name", "partner_type", "region", "onboarding_start", "training_completion_rate",
        "deals_won", "pipeline_value", "certification_status", "JMP", "Internal notes", "column_L", "Deals won (M)"]
    assert data.headers["training_completion_rate"] == "Training Completion % (F)"
    assert data.frame.loc[5, "Internal notes"] == "call back" and data.frame.loc[5, "column_L"] == "stray"
    problems = issues.set_index("column")["problem"]
    assert problems["L"] == "column L has data but no header"
    assert problems["M"] == "repeats the column Deals won (G)"


def test_values_are_read_as_users_meant_them(read):
    frame = read[0].frame
    assert frame["partner_id"].tolist() == ["P001", "P002", "P003", "P003", None, "P005", "1001"]
    assert frame.loc[7, "partner_name"] == "Nordlicht Systemhaus"  # stray and repeated spaces
    assert frame.loc[8, "partner_name"] == "東京クラウド株式会社"
    assert frame["onboarding_start"].tolist() == [
        dt.date(2025, 3, 1), dt.date(2025, 1, 1), dt.date(2025, 6, 15), dt.date(2025, 6, 15), None,
        dt.date(2025, 3, 4), dt.date(2024, 1, 31)]
    assert frame["training_completion_rate"].tolist() == [0.85, 0.85, 0.85, 0.5, 0.4, 0.9, 0.7]
    assert frame["deals_won"].tolist()[:3] == [12, 1200, None] and frame.loc[10, "deals_won"] is None
    assert frame.loc[12, "deals_won"] == 4
    assert frame["pipeline_value"].tolist() == [250000, 12000, 1234.5, 1000, 50, None, 0]
    assert frame["certification_status"].tolist()[:3] == ["Certified", "in progress", "none"]


def test_every_problem_is_recorded_with_sheet_row_column_value(read):
    _, issues = read
    records = {(r.row, r.problem) for r in issues.itertuples()}
    assert (7, "date stored as the number 45658") in records
    percents = issues[issues.problem == "numbers from 2 to 100 read as percentages: the header says %"]
    assert (percents.row.tolist(), percents.column.tolist()) == ([4], ["Training Completion % (F)"])  # once, at the header
    assert percents.iloc[0].action == "1 value divided by 100 (e.g. 85 -> 0.85)"
    assert (8, "'85%' is a percentage") in records
    assert (7, "number stored as text '1,200'") in records
    assert (7, "number stored as text '$12,000'") in records
    assert (8, "Excel error #N/A") in records and (10, "Excel error #DIV/0!") in records
    assert (10, "'not a date' is not a date") in records
    assert (11, "ambiguous date '03/04/2025'") in records
    assert (11, "'n/a' means no value") in records
    assert (8, "1 hidden row(s): 8") in records
    na = issues[(issues.row == 8) & (issues.problem == "Excel error #N/A")].iloc[0]
    assert (na.sheet, na.column, na.value, na.action) == ("Partners", "Deals won (G)", "#N/A", "treated as missing")


def test_missing_and_duplicate_ids_are_reported_not_dropped(read):
    data, issues = read
    dupes = issues[issues.problem == "partner_id 'P003' appears on rows 8, 9"]
    assert dupes.row.tolist() == [8, 9] and set(dupes.action) == {"each row scored separately; not merged"}
    missing = issues[issues.problem == "no partner_id"]
    assert missing.row.tolist() == [10]
    assert len(data.frame) == 7


def test_an_excel_table_is_read_the_same_way():
    as_table = read_table(opened(messy_book(as_table=True)), "Partners", MODEL, source="t.xlsx", unique_ids=True)
    plain = read_table(opened(messy_book()), "Partners", MODEL, source="p.xlsx", unique_ids=True)
    assert as_table.frame.equals(plain.frame)


def test_merged_header_cells_cover_every_column_they_span():
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    ws.append(["Partner ID", "Deals won", None, "Region"])
    ws.merge_cells("B1:C1")
    ws.append(["P1", 3, 5, "NA"])
    data = read_table(opened(book), "Partners", MODEL, source="m.xlsx")
    assert list(data.frame.columns) == ["partner_id", "deals_won", "Deals won (C)", "region"]


def test_formula_cells_are_read_as_their_cached_values(tmp_path):
    path = tmp_path / "f.xlsx"
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    ws.append(["Partner ID", "Deals won"])
    ws.append(["P1", "=1+2"])
    book.save(path)
    # openpyxl writes no cached value, as a program that never calculated would: the value is blank.
    data = read_table(open_workbook(path), "Partners", MODEL, source=path)
    assert data.frame.loc[2, "deals_won"] is None or math.isnan(data.frame.loc[2, "deals_won"])


@pytest.mark.parametrize("rows, message", [
    ([], "has no header row"),
    ([["Name", "Region"], ["A", "NA"]], "has no partner_id column (headers found on row 1: Name, Region)"),
])
def test_unreadable_sheets_give_one_clear_error(rows, message):
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    for row in rows:
        ws.append(row)
    with pytest.raises(WorkbookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(opened(book), "Partners", MODEL, source="x.xlsx")


def test_missing_sheet_and_optional_sheet():
    book = Workbook()
    with pytest.raises(WorkbookError, match="no 'Partners' sheet"):
        read_table(opened(book), "Partners", MODEL, source="x.xlsx")
    assert read_table(opened(book), "History", MODEL, source="x.xlsx", optional=True) is None


def test_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("not a zip")
    with pytest.raises(WorkbookError, match="not a readable .xlsx workbook"):
        open_workbook(path)
    with pytest.raises(WorkbookError, match="no such file"):
        open_workbook(tmp_path / "absent.xlsx")


def sheet(rows: list[list]) -> Workbook:
    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    for row in rows:
        ws.append(row)
    return book


def test_share_ratios_above_1_are_never_divided_because_most_values_exceed_1(model_dict):
    metric = next(m for m in model_dict["metrics"] if m["id"] == "marketing_commitment_adherence")
    metric["valid_range"], metric["aliases"] = [0, 3], ["Target realisation"]
    model = variant(model_dict)
    rows = [["Partner ID", "Target realisation"], ["P1", 0.89], ["P2", 2.13], ["P3", 1.5], ["P4", 2.4]]
    data = read_table(opened(sheet(rows)), "Partners", model, source="t.xlsx")
    assert data.frame["marketing_commitment_adherence"].tolist() == [0.89, 2.13, 1.5, 2.4]
    record = issues_frame(data.issues).iloc[0]
    assert (record.row, record.column) == (1, "Target realisation (B)")
    assert record.problem == "numbers above 1 read as typed, not as percentages: the header has no % and the metric may exceed 1"
    rows[0][1] = "Target realisation %"
    data = read_table(opened(sheet(rows)), "Partners", model, source="t.xlsx")
    assert data.frame["marketing_commitment_adherence"].tolist() == [0.89, 0.0213, 1.5, 0.024]


def test_a_share_column_is_not_rescaled_by_a_majority_of_percentages():
    rows = [["Partner ID", "Training completion"], ["P1", 45], ["P2", 60], ["P3", 0.75], ["P4", "80"]]
    data = read_table(opened(sheet(rows)), "Partners", MODEL, source="s.xlsx")
    assert data.frame["training_completion_rate"].tolist() == [0.45, 0.6, 0.75, 0.8]
    problems = issues_frame(data.issues).set_index("problem")["action"]
    assert problems["numbers from 2 to 100 read as percentages: a share cannot be above 1"] == \
        "2 values divided by 100 (e.g. 45 -> 0.45)"
    assert problems["number stored as text '80'"] == "read as the percentage 0.8"


def test_currencies_beyond_dollar_euro_pound_yen_rupee():
    typed = ["₺2,727,300", "R$ 1.234,56", "CHF 1'234.50", "1 234 kr", "12,50 zł", "US$ 900", "₽1 000", "₩50,000"]
    rows = [["Partner ID", "Pipeline value"], *([f"P{i}", v] for i, v in enumerate(typed))]
    data = read_table(opened(sheet(rows)), "Partners", MODEL, source="c.xlsx")
    assert data.frame["pipeline_value"].tolist() == [2727300, 1234.56, 1234.5, 1234, 12.5, 900, 1000, 50000]


def test_a_row_function_reads_percentages_as_the_table_does():
    from xlplugin.excel.args import row_layout

    header = ["Partner ID", "Training Completion %", "Deals won"]
    for row in (["P1", 85, 3], ["P2", 0.85, True], ["P3", "85%", 1]):
        table = read_table(opened(sheet([header, row])), "Partners", MODEL, source="r.xlsx").frame
        single = row_layout(header, MODEL).frame(row)
        assert single["training_completion_rate"].tolist() == table["training_completion_rate"].tolist() == [0.85]
        assert single["deals_won"].tolist() == table["deals_won"].tolist()
