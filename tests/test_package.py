"""pscore's outputs keep the user's workbook whole: every part of the input is in the output byte for
byte, except the parts that list pscore's additions, and those still hold every element they had.

Checked on real Excel workbooks (``../shared/real-workbooks`` next to the repository, skipped when
absent) and on workbooks built here with XlsxWriter: charts, a picture, comments, validation,
conditional formats, defined names, a hidden sheet, a user's own Dashboard sheet and a VBA project.
LibreOffice must open every output, and openpyxl must read pscore's sheets back with the numbers
the core computed.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from openpyxl import load_workbook
from PIL import Image

from scoring import load_model, score
from xlplugin.workbook import pipeline
from scoring.synthetic import generate
from xlplugin.workbook.package import CONTENT_TYPES, MARKER, Package, rels_part

from tests.conftest import libreoffice
from tests.conftest import pscore

AS_OF = dt.date(2026, 11, 1)
MODEL = load_model("default")
REAL = Path(__file__).resolve().parents[1].parent / "shared" / "real-workbooks"
REAL_SHEETS = {"smaity_macros1.xlsm": "Sheet1"}  # the partner sheet, where it is not Partners
#: Attributes that count or point at what a part lists, so they change when pscore adds to it
#: (``element@attribute`` for one element's only).
COUNTS = {"count", "size"}
#: What excel init may also change: sheet positions (Read me goes first), the selected tab, and the
#: partner sheet's extent and row spans, which grow with the formula columns.
INIT = COUNTS | {"activeTab", "firstSheet", "localSheetId", "tabSelected", "row@spans", "dimension@ref"}
#: A stand-in VBA project: the bytes must arrive untouched, and the output must stay macro-enabled.
VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4


def listing_parts(path: Path) -> set[str]:
    """The parts that must change to list pscore's sheets: workbook.xml, its relationships, the
    content types, docProps/app.xml and styles.xml."""
    package = Package(path)
    linked = [r.target for r in package.relationships("") + package.relationships(package.workbook_part)
              if r.type.endswith(("/extended-properties", "/styles"))]
    return {package.workbook_part, rels_part(package.workbook_part), CONTENT_TYPES, *linked}


def elements(xml: bytes, ignore: set[str]) -> Counter:
    """Every element of an XML part: its path, its attributes (less ``ignore``) and its text."""
    out: Counter = Counter()
    for element in etree.fromstring(xml).iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        path = "/".join(etree.QName(e).localname for e in [*reversed(list(element.iterancestors())), element])
        attributes = tuple(sorted((k, v) for k, v in element.attrib.items()
                                  if not {etree.QName(k).localname, f"{name}@{etree.QName(k).localname}"} & ignore))
        text = "" if etree.QName(element).localname == "i4" else (element.text or "").strip()  # app.xml's counts
        out[path, attributes, text] += 1
    return out


def assert_kept(source: Path, output: Path, may_change: set[str], ignore: set[str] = COUNTS) -> tuple[int, list[str]]:
    """Every part of ``source`` is in ``output``: the same bytes, or (``may_change``) every element
    still there. Returns how many parts are byte-identical and which changed."""
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(output) as after:
        names = set(after.namelist())
        same, changed = 0, []
        for name in before.namelist():
            assert name in names, f"{name} is missing from the output"
            old, new = before.read(name), after.read(name)
            if old == new:
                same += 1
                continue
            assert name in may_change, f"{name} was changed"
            before_elements, after_elements = elements(old, ignore), elements(new, ignore)
            added = list((after_elements - before_elements).elements())
            for path, attributes, text in (before_elements - after_elements).elements():
                # an element may gain attributes (calcPr asked to calculate on opening), never lose any
                grown = next((a for a in added if a[0] == path and a[2] == text and set(attributes) <= set(a[1])), None)
                assert grown is not None, f"{name} lost {(path, attributes, text)}"
                added.remove(grown)
            changed.append(name)
    return same, changed


def assert_pscore_sheets(output: Path, scored: pipeline.ScoredInput, dashboard: str = "Dashboard") -> None:
    """openpyxl reads pscore's sheets back with the core's numbers, and each carries pscore's marker."""
    with warnings.catch_warnings():  # openpyxl warns about the parts of the user's sheets it cannot model
        warnings.simplefilter("ignore")
        book = load_workbook(output)
    rows = list(book["Scores"].values)
    header, body = list(rows[3]), rows[4:4 + len(scored.result)]
    frame = scored.result.frame
    for column in ("partner_id", "composite_score", "tier"):
        got = [r[header.index(column)] for r in body]
        assert got == [None if pd.isna(v) else v for v in frame[column]], column
    counts = {r[0]: r[1] for r in book[dashboard].iter_rows(min_row=5, max_row=9, values_only=True)}
    assert counts == {t: int((frame["tier"] == t).sum()) for t in ("A", "B", "C", "D", "Unscored")}
    assert book["Model"]["A1"].value == "Model in effect" and book["Data quality"]["A1"].value == "Data quality"
    marked = {ws.title: d.attr_text for ws in book.worksheets for n, d in ws.defined_names.items() if n == MARKER}
    assert marked == {"Scores": '"Scores"', "Data quality": '"Data quality"', "Model": '"Model"',
                      dashboard: '"Dashboard"'}


def assert_opens_in_libreoffice(path: Path, folder: Path) -> None:
    done = libreoffice(path, folder, "csv")
    assert done.returncode == 0 and (folder / f"{path.stem}.csv").is_file(), done.stdout + done.stderr


# ------------------------------------------------------------------ real Excel workbooks


def real_workbooks() -> list:
    if not REAL.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{REAL} is absent"))]
    return sorted(p for p in REAL.iterdir() if p.suffix in (".xlsx", ".xlsm"))


@pytest.mark.parametrize("path", real_workbooks(), ids=lambda p: p.name if p else "absent")
def test_a_real_workbook_scored_keeps_every_part(path, tmp_path):
    sheet = REAL_SHEETS.get(path.name, "Partners")
    output = tmp_path / f"scored{path.suffix}"
    done = pscore("score", str(path), "-o", str(output), "--sheet", sheet, "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    same, changed = assert_kept(path, output, listing_parts(path))
    assert same == len(zipfile.ZipFile(path).namelist()) - len(changed)
    scored = pipeline.score_workbook(path, MODEL, AS_OF, sheet=sheet)
    theirs = Package(path).sheet("Dashboard") is not None  # a user's own Dashboard stays theirs
    assert_pscore_sheets(output, scored, "Dashboard (pscore)" if theirs else "Dashboard")
    assert ("pscore's Dashboard sheet is 'Dashboard (pscore)'" in done.stdout) == theirs
    assert_opens_in_libreoffice(output, tmp_path)


@pytest.mark.parametrize("path", real_workbooks(), ids=lambda p: p.name if p else "absent")
def test_a_real_workbook_set_up_for_excel_keeps_every_part(path, tmp_path):
    sheet = REAL_SHEETS.get(path.name, "Partners")
    output = tmp_path / f"ready{path.suffix}"
    done = pscore("excel", "init", str(path), "-o", str(output), "--sheet", sheet, "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    package = Package(path)
    selected = {s.part for s in package.sheets if re.search(rb'tabSelected="(1|true)"', package.read(s.part))}
    _, changed = assert_kept(path, output, listing_parts(path) | {package.sheet(sheet).part} | selected, INIT)
    assert package.sheet(sheet).part in changed
    book = Package(output)
    assert [s.name for s in book.sheets[:2]] == ["Read me", "pscore"] and book.pscore_sheet("Model") is not None
    assert_opens_in_libreoffice(output, tmp_path)


# ------------------------------------------------------------------ a workbook built with everything


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 12), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def build_rich(path: Path, partners: int = 40) -> Path:
    """A partner workbook as Excel users make them: metric columns computed by formulas (with the
    values Excel calculated), a comment, validation, conditional formats, defined names, a hidden
    sheet, a chart and a picture, their own Dashboard sheet and, as .xlsm, a VBA project."""
    import xlsxwriter

    frame = generate(n_partners=partners, seed=7, as_of=AS_OF).partners
    columns = ["partner_id", "partner_name", "partner_type", "region", "onboarding_start", "deals_won",
               "pipeline_value", "training_completion_rate", "certification_status", "qualified_leads"]
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("Partners")
    lists = book.add_worksheet("Lists")
    charts = book.add_worksheet("Dashboard")  # the user's own, with their chart
    for c, column in enumerate(columns):
        sheet.write(0, c, column)
        for r, value in enumerate(frame[column], start=1):
            if pd.isna(value):
                continue
            if column in ("deals_won", "pipeline_value", "qualified_leads") and isinstance(value, (int, float)):
                sheet.write_formula(r, c, f"=ROUND({float(value)!r},2)", None, round(float(value), 2))  # calculated
            elif column == "onboarding_start":
                sheet.write_datetime(r, c, pd.Timestamp(value).to_pydatetime(), dates)
            else:
                sheet.write(r, c, value)
    sheet.write_comment("A1", "ID from the CRM")
    sheet.data_validation(1, 3, partners, 3, {"validate": "list", "source": "=Regions"})
    sheet.conditional_format(1, 5, partners, 5, {"type": "data_bar"})
    sheet.conditional_format(1, 6, partners, 6, {"type": "3_color_scale"})
    for r, region in enumerate(("NA", "EMEA", "APAC", "LATAM")):
        lists.write(r, 0, region)
    lists.hide()
    book.define_name("Regions", "=Lists!$A$1:$A$4")
    book.define_name("Partners!Pipeline", f"=Partners!$G$2:$G${partners + 1}")
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "Deals won", "values": f"=Partners!$F$2:$F${partners + 1}"})
    charts.insert_chart("B2", chart)
    charts.insert_image("K2", "logo.png", {"image_data": io.BytesIO(png())})
    charts.write("A1", "Our own dashboard")
    if path.suffix == ".xlsm":
        book.add_vba_project(io.BytesIO(VBA), is_stream=True)
    book.close()
    return path


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rich")
    source = build_rich(folder / "partners.xlsm")
    output = folder / "scored.xlsm"
    done = pscore("score", str(source), "-o", str(output), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return source, output, done.stdout


def test_a_rich_workbook_scored_keeps_every_part(rich, tmp_path):
    source, output, stdout = rich
    assert_kept(source, output, listing_parts(source))
    with zipfile.ZipFile(output) as archive:
        assert archive.read("xl/vbaProject.bin") == VBA
        assert b"macroEnabled.main+xml" in archive.read(CONTENT_TYPES)
    assert "The workbook's own sheet 'Dashboard' is kept as it is; pscore's Dashboard sheet is 'Dashboard (pscore)'." in stdout
    assert_pscore_sheets(output, pipeline.score_workbook(source, MODEL, AS_OF), "Dashboard (pscore)")
    book = load_workbook(output)
    assert book["Lists"].sheet_state == "hidden" and book["Dashboard"]["A1"].value == "Our own dashboard"
    assert_opens_in_libreoffice(output, tmp_path)


def test_rescoring_replaces_pscore_sheets_only(rich, tmp_path):
    _, output, _ = rich
    again = tmp_path / "again.xlsm"
    done = pscore("score", str(output), "-o", str(again), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert "kept as it is" not in done.stdout  # pscore's sheets are recognised by their marker
    assert Package(again).sheets == Package(output).sheets
    assert zipfile.ZipFile(again).namelist() == zipfile.ZipFile(output).namelist()
    for name in zipfile.ZipFile(output).namelist():  # the same input and model: the same parts
        assert zipfile.ZipFile(again).read(name) == zipfile.ZipFile(output).read(name), name


def test_pscore_sheets_are_found_by_marker_not_name(rich, tmp_path):
    """A user who renames pscore's Scores sheet and names a sheet of theirs Model keeps both."""
    _, output, _ = rich
    renamed = tmp_path / "renamed.xlsm"
    rewrite_part(output, renamed, "xl/workbook.xml", lambda xml: xml.replace(b'name="Scores"', b'name="Q3 scores"'))
    again = tmp_path / "again.xlsm"
    assert pscore("score", str(renamed), "-o", str(again), "--as-of", AS_OF.isoformat()).returncode == 0
    names = [s.name for s in Package(again).sheets]
    assert "Q3 scores" in names and "Scores" not in names and names.count("Dashboard (pscore)") == 1


def test_in_place_on_a_workbook_with_macros(rich, tmp_path):
    source, _, _ = rich
    target = tmp_path / "mine.xlsm"
    shutil.copy(source, target)
    done = pscore("score", str(target), "-o", str(target), "--in-place", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert [p.read_bytes() for p in tmp_path.glob("mine.backup-*.xlsm")] == [source.read_bytes()]
    assert_kept(source, target, listing_parts(source))
    done = pscore("score", str(source), "-o", str(tmp_path / "plain.xlsx"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 2 and "must end in .xlsm" in done.stderr


def rewrite_part(source: Path, target: Path, part: str, edit) -> None:
    """Copy a package with one part edited, as a program that saves only what changed would."""
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as after:
        for info in before.infolist():
            data = before.read(info)
            after.writestr(info, edit(data) if info.filename == part else data)


def edit_model_cell(output: Path, target: Path, key: str, column: int, value: float) -> None:
    """Type ``value`` into column ``column`` of the Model-sheet row ``key``, changing nothing else."""
    model = Package(output).pscore_sheet("Model")
    row = next(r for r, values in enumerate(load_workbook(output, read_only=True)[model.name].values, start=1)
               if values[0] == key)
    ref = f"{'ABCDEFGHI'[column - 1]}{row}"
    rewrite_part(output, target, model.part, lambda xml: re.sub(
        rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>'.encode(), rf"\g<1><v>{value!r}</v>".encode(), xml))


def test_model_sheet_round_trip_on_formula_columns(rich, tmp_path):
    """Formula metric columns are read as their calculated values from the input and from pscore's
    output alike, so a re-score from the Model sheet gives the same scores where nothing changed."""
    source, output, _ = rich
    first = pipeline.score_workbook(source, MODEL, AS_OF)
    unchanged = pipeline.score_workbook(output, MODEL, AS_OF, use_model_sheet=True)
    pd.testing.assert_frame_equal(unchanged.partners.frame, first.partners.frame)
    pd.testing.assert_frame_equal(unchanged.result.frame, first.result.frame)
    edited = tmp_path / "edited.xlsm"
    edit_model_cell(output, edited, "weights.*.deals_won", 5, 9.0)
    again = pipeline.score_workbook(edited, MODEL, AS_OF, use_model_sheet=True)
    assert again.model.spec.weights["revenue"]["deals_won"] == 9
    pd.testing.assert_frame_equal(again.partners.frame, first.partners.frame)
    pd.testing.assert_frame_equal(again.result.frame, score(first.partners.frame, again.model, as_of=AS_OF).frame)
    assert (again.result.frame["revenue_score"] != first.result.frame["revenue_score"]).any()


def test_excel_init_keeps_every_part_but_the_partner_cells(rich, tmp_path):
    source, _, _ = rich
    ready = tmp_path / "ready.xlsm"
    done = pscore("excel", "init", str(source), "-o", str(ready), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    package = Package(source)
    partners = package.sheet("Partners").part
    selected = {s.part for s in package.sheets if b'tabSelected="1"' in package.read(s.part)}
    _, changed = assert_kept(source, ready, listing_parts(source) | {partners} | selected, INIT)
    assert partners in changed
    with zipfile.ZipFile(ready) as archive:
        assert archive.read("xl/vbaProject.bin") == VBA
    book = load_workbook(ready)
    assert book.sheetnames[:2] == ["Read me", "pscore"] and book.active.title == "Read me"
    assert [c.value for c in book["Partners"][1]][-4:] == ["Revenue score (pscore)", "Engagement score (pscore)",
                                                           "Tier (pscore)", "Next action (pscore)"]
    assert_opens_in_libreoffice(ready, tmp_path)


# ------------------------------------------------------------------ files pscore cannot read: one clear line


def truncated_workbook_xml(source: Path, target: Path) -> Path:
    rewrite_part(source, target, "xl/workbook.xml", lambda xml: xml[: len(xml) // 2])
    return target


@pytest.mark.parametrize("command", [
    ["score", "{book}", "-o", "{out}.xlsx"],
    ["excel", "init", "{book}", "-o", "{out}.xlsx"],
    ["model", "export", "--from-workbook", "{book}", "-o", "{out}.yaml"],
])
def test_a_damaged_workbook_xml_is_one_clear_error(tmp_path, command):
    source = tmp_path / "source.xlsx"
    pipeline.write_scored(pipeline.score_workbook(build_rich(tmp_path / "in.xlsx"), MODEL, AS_OF), source)
    book = truncated_workbook_xml(source, tmp_path / "damaged.xlsx")
    done = pscore(*[a.replace("{book}", str(book)).replace("{out}", str(tmp_path / "out")) for a in command])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"error: {book}: not a readable .xlsx workbook (xl/workbook.xml is damaged"), done.stderr


def test_a_password_protected_workbook_says_so(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain, locked = build_rich(tmp_path / "plain.xlsx"), tmp_path / "locked.xlsx"
    with plain.open("rb") as handle, locked.open("wb") as out:
        OOXMLFile(handle).encrypt("secret", out)
    done = pscore("score", str(locked), "-o", str(tmp_path / "out.xlsx"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(f"error: {locked}: the workbook is password-protected"), done.stderr


def with_chartsheet(target: Path, name: str) -> Path:
    """A workbook with a partner table and a chart sheet called ``name`` (written by XlsxWriter)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(target))
    data = book.add_worksheet("Partners" if name != "Partners" else "Data")
    data.write_row(0, 0, ["partner_id", "deals_won"])
    data.write_row(1, 0, ["P1", 3])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": f"='{data.name}'!$B$2:$B$2"})
    book.add_chartsheet(name).set_chart(chart)
    book.close()
    return target


@pytest.mark.parametrize("name, args", [("Partners", []), ("Deals", ["--sheet", "Deals"])])
def test_a_chart_sheet_is_not_read_as_partners(tmp_path, name, args):
    book = with_chartsheet(tmp_path / "chart.xlsx", name)
    for command in (["score", str(book), "-o", str(tmp_path / "out.csv")], ["excel", "init", str(book)]):
        done = pscore(*command, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"sheet '{name}' is a chartsheet, not a worksheet" in done.stderr, done.stderr


def with_far_cell(path: Path, ref: str, value) -> Path:
    """The demo's Partners sheet plus one cell far away (a value, or a styled empty cell)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    frame = generate(n_partners=30, seed=2, as_of=AS_OF).partners
    book = Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(list(frame.columns))
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        sheet.append([v.date() if hasattr(v, "date") else v for v in row])
    sheet[ref] = value
    sheet[ref].font = Font(bold=True)
    book.save(path)
    return path


@pytest.mark.parametrize("ref", ["A1048576", "XFD1048576"])
def test_a_sheet_reaching_far_is_refused_quickly(tmp_path, ref):
    book = with_far_cell(tmp_path / "far.xlsx", ref, "x")
    start = dt.datetime.now()
    done = pscore("score", str(book), "-o", str(tmp_path / "out.csv"))
    assert (dt.datetime.now() - start).total_seconds() < 30
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"sheet 'Partners' spans 1,048,576 rows x {'27' if ref[0] == 'A' else '16,384'} columns up to its farthest " \
           f"values (" in done.stderr and ref in done.stderr and "more than the 20,000,000 cells" in done.stderr, done.stderr


def test_a_styled_empty_cell_far_away_is_ignored(tmp_path):
    book = with_far_cell(tmp_path / "styled.xlsx", "XFD1048576", None)
    done = pscore("score", str(book), "-o", str(tmp_path / "out.csv"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Scored 30 partners")


# ------------------------------------------------------------------ pscore's sheets among the user's


def test_the_model_sheet_pscore_wrote_is_read_even_next_to_the_users_own(tmp_path):
    """A user's sheet called Model is theirs: pscore's goes beside it, and --model-sheet and model
    export read pscore's, naming its cells by its own name."""
    import xlsxwriter

    source = tmp_path / "mine.xlsx"
    frame = generate(n_partners=20, seed=3, as_of=AS_OF).partners[["partner_id", "partner_type", "region", "deals_won"]]
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Partners")
    sheet.write_row(0, 0, list(frame.columns))
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        sheet.write_row(r, 0, [None if pd.isna(v) else v for v in row])
    book.add_worksheet("Model").write("A1", "our own budget model")
    book.close()
    scored = tmp_path / "scored.xlsx"
    done = pscore("score", str(source), "-o", str(scored), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0 and "pscore's Model sheet is 'Model (pscore)'" in done.stdout, done.stderr
    assert load_workbook(scored)["Model"]["A1"].value == "our own budget model"
    edited = tmp_path / "edited.xlsx"
    edit_model_cell(scored, edited, "weights.*.deals_won", 5, -2.0)
    done = pscore("score", str(edited), "-o", str(tmp_path / "again.csv"), "--model-sheet")
    assert done.returncode == 2 and "'Model (pscore)'!E23 (weights.revenue.deals_won)" in done.stderr, done.stderr
    edit_model_cell(scored, edited, "weights.*.deals_won", 5, 5.0)
    done = pscore("model", "export", "--from-workbook", str(edited), "-o", str(tmp_path / "model.yaml"))
    assert done.returncode == 0 and "weights.revenue.deals_won: 3 -> 5" in done.stdout, done.stderr
    done = pscore("score", str(source), "-o", str(tmp_path / "x.csv"), "--model-sheet")
    assert done.returncode == 2 and "no Model sheet written by pscore" in done.stderr  # the user's is not pscore's


def test_dates_follow_a_1904_workbook(tmp_path):
    """pscore's date cells count days the way the workbook does (1904 in some old Mac workbooks)."""
    import xlsxwriter

    source = tmp_path / "mac.xlsx"
    book = xlsxwriter.Workbook(str(source), {"date_1904": True})
    sheet = book.add_worksheet("Partners")
    sheet.write_row(0, 0, ["partner_id", "deals_won", "onboarding_start"])
    sheet.write_row(1, 0, ["P1", 3])
    sheet.write_datetime(1, 2, dt.datetime(2026, 1, 15), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.close()
    assert pipeline.score_workbook(source, MODEL, AS_OF).partners.frame.loc[2, "onboarding_start"] == dt.date(2026, 1, 15)
    ready = tmp_path / "ready.xlsx"
    assert pscore("excel", "init", str(source), "-o", str(ready), "--as-of", "2026-11-24").returncode == 0
    assert load_workbook(ready)["pscore"]["B4"].value == dt.datetime(2026, 11, 24)


def test_excel_init_keeps_a_users_own_xlwings_conf(tmp_path):
    """xlwings reads only a sheet named xlwings.conf: a user's own stays, and the command says what
    to add to it."""
    import xlsxwriter

    source = tmp_path / "mine.xlsx"
    book = xlsxwriter.Workbook(str(source))
    book.add_worksheet("Partners").write_row(0, 0, ["partner_id", "deals_won"])
    book.get_worksheet_by_name("Partners").write_row(1, 0, ["P1", 3])
    book.add_worksheet("xlwings.conf").write_row(0, 0, ["Interpreter_Win", r"C:\Python311\python.exe"])
    book.close()
    ready = tmp_path / "ready.xlsx"
    done = pscore("excel", "init", str(source), "-o", str(ready))
    assert done.returncode == 0, done.stderr
    assert "The workbook's own xlwings.conf sheet is kept as it is; add UDF Modules = " in done.stdout
    conf = load_workbook(ready)["xlwings.conf"]
    assert (conf["A1"].value, conf["B1"].value) == ("Interpreter_Win", r"C:\Python311\python.exe")
    assert [s.name for s in Package(ready).sheets].count("xlwings.conf") == 1
