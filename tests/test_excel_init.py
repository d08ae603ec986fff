"""``pscore excel init``: a workbook ready for the add-in, checked as written and by computing its formulas.

The formulas are evaluated through xlwings' UDF pipeline (tests/xlwings_harness.py) on the cells
they reference, and must give what ``pscore score`` gives for the same partners.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table

from scoring.synthetic import generate
from xlplugin.workbook.demo import write_workbook
from xlplugin.excel.args import default_model
from xlplugin.workbook.pipeline import score_workbook

from tests.conftest import libreoffice, pscore
from xlplugin.excel.harness import as_excel_sends, call_udf, xlwings_udfs

AS_OF = dt.date(2026, 11, 24)
ROW_HEADERS = ["Revenue score (pscore)", "Engagement score (pscore)", "Tier (pscore)", "Next action (pscore)"]
REF = re.compile(r"^(?:(?:'(?P<quoted>[^']+)'|(?P<plain>\w+))!)?(?P<cells>\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)$")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def udfs():
    with xlwings_udfs("xlplugin.excel.udfs") as modules:
        yield modules["xlplugin.excel.udfs"]


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    """The demo workbook, ``pscore excel init`` run on it, and ``pscore score`` output for it."""
    folder = tmp_path_factory.mktemp("excel")
    source = write_workbook(generate(120, seed=3, as_of=AS_OF), folder / "partners.xlsx")
    before = digest(source)
    done = pscore("excel", "init", str(source), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    scored = pscore("score", str(source), "-o", str(folder / "scores.csv"), "--as-of", AS_OF.isoformat())
    assert scored.returncode == 0, scored.stderr
    with (folder / "scores.csv").open(newline="", encoding="utf-8") as handle:
        expected = list(csv.DictReader(handle))
    output = folder / "partners-excel.xlsx"
    return SimpleNamespace(source=source, before=before, output=output, stdout=done.stdout, expected=expected,
                           book=load_workbook(output))


def evaluate(udfs, book, sheet: str, formula) -> list:
    """Compute ``formula`` (text or an array formula) of ``sheet`` as Excel would with the add-in."""
    text = formula.text if isinstance(formula, ArrayFormula) else formula
    name, inner = re.fullmatch(r"=(\w+)\((.*)\)", text).groups()
    return call_udf(getattr(udfs, name), *(_argument(book, sheet, a) for a in inner.split(",")))


def _argument(book, sheet: str, text: str):
    found = REF.match(text)
    assert found, text
    ws = book[found["quoted"] or found["plain"] or sheet]
    cells = ws[found["cells"].replace("$", "")]
    if not isinstance(cells, tuple):  # one cell: Excel passes its value
        return as_excel_sends([[cells.value]])[0][0]
    return as_excel_sends([[c.value for c in row] for row in cells])


def test_init_writes_the_conf_sheet_formulas_and_read_me(ready):
    book = ready.book
    assert digest(ready.source) == ready.before  # the input is never modified
    assert "Wrote" in ready.stdout and "120 partners" in ready.stdout and "Import Functions" in ready.stdout
    assert book.sheetnames[:2] == ["Read me", "pscore"] and {"xlwings.conf", "Model", "Partners"} <= set(book.sheetnames)
    assert [s.sheet_view.tabSelected for s in book.worksheets].count(True) == 1 and book.active.title == "Read me"
    conf = book["xlwings.conf"]
    assert (conf["A1"].value, conf["B1"].value, conf["A2"].value) == ("UDF Modules", "xlplugin.excel.udfs;xlplugin.excel.macros", None)
    partners = book["Partners"]
    header = [c.value for c in partners[1]]
    assert header[header.index("pipeline_value") + 1] is None  # one blank column after the table
    assert header[header.index("pipeline_value") + 2:] == ROW_HEADERS
    start = header.index("Revenue score (pscore)") + 1
    for r in (2, 121):
        assert partners.cell(r, start + 2).value == (
            f"=pscore_tier($A{r}:$AA{r},$A$1:$AA$1,'Model'!$A$1:$I${book['Model'].max_row},'pscore'!$B$4)")
    assert partners.cell(122, start).value is None
    live = book["pscore"]
    assert live["B4"].value == dt.datetime(2026, 11, 24)
    assert isinstance(live["A18"].value, ArrayFormula)
    assert live["A18"].value.text.startswith("=pscore_scores('Partners'!$A$1:$AA$121,'Model'!$A$1:$I$")
    assert live["A8"].value.text.startswith("=pscore_model_info('Model'!$A$1:$I$")
    readme = "\n".join(str(r[0]) for r in book["Read me"].iter_rows(values_only=True) if r[0])
    for step in ("pip install pscore", "xlwings addin install", "Trust access to the VBA project object model",
                 "Import Functions", ".xlsm", "xlwings Lite", "pscore_score_workbook"):
        assert step in readme


def test_spilling_formulas_are_marked_as_dynamic_arrays(ready):
    with zipfile.ZipFile(ready.output) as archive:
        names = archive.namelist()
        assert "xl/metadata.xml" in names and b"XLDAPR" in archive.read("xl/metadata.xml")
        assert b'PartName="/xl/metadata.xml"' in archive.read("[Content_Types].xml")
        assert b"relationships/sheetMetadata" in archive.read("xl/_rels/workbook.xml.rels")
        sheet = "".join(archive.read(n).decode() for n in names if n.startswith("xl/worksheets/sheet"))
    assert re.search(r'<c r="A18" cm="1"><f t="array" ref="A18">pscore_scores\(', sheet)
    assert re.search(r'<c r="A8" cm="1"><f t="array" ref="A8">pscore_model_info\(', sheet)


def test_the_formulas_compute_what_pscore_score_writes(ready, udfs):
    book = ready.book
    partners = book["Partners"]
    header = [c.value for c in partners[1]]
    start = header.index("Revenue score (pscore)") + 1
    for r in (2, 3, 60, 121):
        want = ready.expected[r - 2]
        got = [evaluate(udfs, book, "Partners", partners.cell(r, start + k).value)[0][0] for k in range(4)]
        assert got == [float(want["revenue_score"]), float(want["engagement_score"]), want["tier"],
                       want["actions"].split("; ")[0]]
    table = evaluate(udfs, book, "pscore", book["pscore"]["A18"].value)
    assert table[0] == list(ready.expected[0])
    assert [r[table[0].index("tier")] for r in table[1:]] == [w["tier"] for w in ready.expected]
    info = dict(evaluate(udfs, book, "pscore", book["pscore"]["A8"].value))
    assert info["label"] == default_model().label == ready.expected[0]["model"]


def test_running_init_again_on_its_output_replaces_what_it_added(ready, tmp_path):
    again = tmp_path / "again.xlsx"
    done = pscore("excel", "init", str(ready.output), "-o", str(again), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    book = load_workbook(again)
    assert sorted(book.sheetnames) == sorted(ready.book.sheetnames)
    assert [c.value for c in book["Partners"][1]] == [c.value for c in ready.book["Partners"][1]]
    assert book["pscore"]["A18"].value.text == ready.book["pscore"]["A18"].value.text


def test_a_user_workbook_with_title_rows_and_an_excel_table(tmp_path, udfs):
    demo = generate(12, seed=1, as_of=AS_OF).partners
    headers = {"partner_id": "Partner ID", "partner_name": "Company", "partner_type": "Type", "region": "Region",
               "onboarding_start": "Start date", "deals_won": "Deals won", "pipeline_value": "Pipeline value",
               "training_completion_rate": "Training Completion %", "certification_status": "Certification status"}
    wb = Workbook()
    ws = wb.active
    ws.title = "My partners"
    ws["A1"] = "Partner list, exported from the CRM"
    for c, column in enumerate(headers, start=2):
        ws.cell(3, c, headers[column])
        for r, value in enumerate(demo[column], start=4):
            ws.cell(r, c, None if pd.isna(value) else (value.date() if hasattr(value, "date") else value))
    ws.add_table(Table(displayName="Partners", ref=f"B3:J{3 + len(demo)}"))
    source = tmp_path / "mine.xlsx"
    wb.save(source)
    done = pscore("excel", "init", str(source), "-o", str(tmp_path / "ready.xlsx"), "--sheet", "My partners",
                  "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    book = load_workbook(tmp_path / "ready.xlsx")
    formula = book["My partners"]["N4"].value
    assert formula.startswith("=pscore_tier($B4:$J4,$B$3:$J$3,") and book["My partners"]["K3"].value is None
    assert book["pscore"]["A18"].value.text.startswith("=pscore_scores('My partners'!$B$3:$J$15,")
    result = score_workbook(source, default_model(), AS_OF, sheet="My partners").result
    tiers = [evaluate(udfs, book, "My partners", book["My partners"].cell(r, 14).value)[0][0] for r in range(4, 16)]
    assert tiers == list(result["tier"])
    table = evaluate(udfs, book, "pscore", book["pscore"]["A18"].value)
    assert [r[table[0].index("composite_score")] for r in table[1:]] == list(result["composite_score"])


def test_init_refuses_to_overwrite_its_input_and_names_what_is_wrong(ready, tmp_path):
    for args, message in (
        ([str(ready.source), "-o", str(ready.source)], "refusing to overwrite the input workbook"),
        ([str(ready.source), "-o", str(tmp_path / "x.xlsm")], "the output must end in .xlsx"),
        ([str(ready.source), "--sheet", "Nope", "-o", str(tmp_path / "x.xlsx")], "no 'Nope' sheet"),
        ([str(tmp_path / "missing.xlsx")], "no such file"),
    ):
        done = pscore("excel", "init", *args)
        assert done.returncode == 2 and done.stderr.startswith("error: ") and message in done.stderr, done.stderr
    assert digest(ready.source) == ready.before


def test_libreoffice_opens_the_ready_workbook(ready, tmp_path):
    done = libreoffice(ready.output, tmp_path, "csv")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "partners-excel.csv").read_text(encoding="utf-8", errors="replace")
    assert "pscore in Excel" in text and "Import Functions" in text  # the first sheet: Read me
