"""The Excel functions and macros, run through xlwings' own UDF pipeline (no Excel needed).

Each function is called as xlwings calls it (arguments through ``conversion.read`` with the
function's own options, the result through ``conversion.write``), with values shaped as Excel sends
them, and must give exactly what ``pscore score`` writes for the same partners.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.defined_name import DefinedName

from scoring.anomalies import detect
from scoring.model import edit
from scoring.model.load import from_dict
from scoring.synthetic import generate
from xlplugin.excel import args as excel_args
from xlplugin.workbook import model_sheet
from xlplugin.workbook.package import MARKER
from xlplugin.workbook.demo import write_workbook
from xlplugin.workbook.save import FORMULA_PREFIXES
from xlplugin.workbook.writer import quality_records
from xlplugin.workbook.pipeline import score_workbook

from xlplugin.excel.harness import ERROR_CODES, MISSING, as_excel_sends, call_udf, xlwings_udfs

AS_OF = dt.date(2026, 11, 24)
AS_OF_CELL = dt.datetime(2026, 11, 24)  # a date cell, as classic xlwings passes it
#: Cells planted in the demo's Partners sheet: messy values people type, and Excel error values.
PLANTED = {
    3: ("training_completion_rate", "85%"), 4: ("deals_won", "#DIV/0!"), 5: ("pipeline_value", "#N/A"),
    6: ("average_contract_size", "$12,500"), 7: ("onboarding_start", "15.06.2025"), 8: ("partner_type", "#REF!"),
    9: ("qualified_leads", "twelve"), 10: ("certification_status", " certified "), 11: ("market_alignment", "4"),
    12: ("responsiveness_hours", None), 13: ("marketing_commitment_adherence", 85), 14: ("region", "  emea "),
}
ROW_FUNCTIONS = {
    "pscore_revenue_score": "revenue_score", "pscore_engagement_score": "engagement_score",
    "pscore_composite_score": "composite_score", "pscore_tier": "tier", "pscore_quadrant": "quadrant",
}
UDFS = ("pscore_scores", "pscore_percentiles", "pscore_drivers", "pscore_actions", "pscore_flags",
        "pscore_revenue_score", "pscore_engagement_score", "pscore_composite_score", "pscore_tier",
        "pscore_quadrant", "pscore_top_driver", "pscore_next_action", "pscore_engagement_probability",
        "pscore_expected_revenue", "pscore_whatif", "pscore_model_info", "pscore_change")
MACROS = ("pscore_score_workbook", "pscore_scorecards", "pscore_qbr_pack", "pscore_scenario")


def pscore(*args: str) -> None:
    """Run the installed ``pscore`` command (the module from a source tree); it must succeed."""
    exe = shutil.which("pscore", path=os.path.dirname(sys.executable)) or shutil.which("pscore")
    command = [exe] if exe else [sys.executable, "-m", "xlplugin.cli"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def as_csv(value) -> str:
    """A cell as xlwings hands it to Excel, written the way ``pscore score -o x.csv`` writes values."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return str(value)


def scalar(result):
    """A scalar function result: xlwings hands Excel a 1x1 list."""
    assert isinstance(result, list) and len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


@pytest.fixture(scope="module")
def xl():
    with xlwings_udfs("xlplugin.excel.udfs", "xlplugin.excel.macros") as modules:
        yield SimpleNamespace(udfs=modules["xlplugin.excel.udfs"], macros=modules["xlplugin.excel.macros"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workbook with planted values, its Partners cells as Excel sends them, and
    ``pscore score`` output for it: default model, Model-sheet weights, and a calibrated model."""
    folder = tmp_path_factory.mktemp("udfs")
    path = write_workbook(generate(300, seed=0, as_of=AS_OF), folder / "partners.xlsx")
    wb = load_workbook(path)
    ws = wb["Partners"]
    header = [c.value for c in ws[1]]
    for row, (column, value) in PLANTED.items():
        ws.cell(row, header.index(column) + 1).value = value
    model = excel_args.default_model()
    model_sheet.write(wb.create_sheet(model_sheet.MODEL), model)
    # pscore's marker, as pscore score writes it: --model-sheet reads only a Model sheet pscore wrote
    wb["Model"].defined_names.add(DefinedName(MARKER, attr_text='"Model"', hidden=True))
    weight = next(r for r in range(1, 100) if wb["Model"].cell(r, 1).value == "weights.*.deals_won")
    wb["Model"].cell(weight, 5).value = 9.0
    wb.save(path)
    values = load_workbook(path)
    grid = [list(r) for r in values["Partners"].iter_rows(values_only=True)]
    model_grid = [list(r) for r in values["Model"].iter_rows(values_only=True)]
    calibrated = folder / "calibrated.yaml"
    pscore("score", str(path), "-o", str(folder / "default.csv"), "--as-of", AS_OF.isoformat())
    pscore("score", str(path), "-o", str(folder / "sheet.csv"), "--as-of", AS_OF.isoformat(), "--model-sheet")
    pscore("calibrate", str(path), "-o", str(calibrated), "--as-of", AS_OF.isoformat())
    pscore("score", str(path), "-o", str(folder / "calibrated.csv"), "--as-of", AS_OF.isoformat(),
           "--model", str(calibrated))
    return SimpleNamespace(
        path=path, grid=as_excel_sends(grid), model_grid=as_excel_sends(model_grid), calibrated=str(calibrated),
        serial_grid=as_excel_sends(grid, dates_as_serials=True), weight_row=weight,
        default=read_csv(folder / "default.csv"), sheet=read_csv(folder / "sheet.csv"),
        calibrated_rows=read_csv(folder / "calibrated.csv"),
    )


def assert_table_equals_csv(out, expected: list[dict[str, str]]) -> None:
    header, body = out[0], out[1:]
    assert header == list(expected[0])
    assert len(body) == len(expected)
    for got, want in zip(body, expected):
        assert [as_csv(v) for v in got] == list(want.values()), want["partner_id"]


# ------------------------------------------------------------------ equality with pscore score


def test_table_function_equals_pscore_score_to_the_last_digit(xl, demo):
    assert_table_equals_csv(call_udf(xl.udfs.pscore_scores, demo.grid, MISSING, AS_OF_CELL), demo.default)


def test_dates_as_serial_numbers_and_text_dates_give_the_same_scores(xl, demo):
    """xlwings Lite passes date cells as serial numbers; the as_of cell may be text."""
    out = call_udf(xl.udfs.pscore_scores, demo.serial_grid, MISSING, AS_OF.isoformat())
    assert_table_equals_csv(out, demo.default)
    serial = float((AS_OF - dt.date(1899, 12, 30)).days)
    assert call_udf(xl.udfs.pscore_scores, demo.grid, MISSING, serial) == out


def test_row_functions_equal_pscore_score_for_every_partner(xl, demo):
    header = demo.grid[0]
    for row, want in zip(demo.grid[1:], demo.default):
        for name, column in ROW_FUNCTIONS.items():
            got = scalar(call_udf(getattr(xl.udfs, name), row, header, MISSING, AS_OF_CELL))
            assert as_csv(got) == want[column], (want["partner_id"], name)
        for direction in ("up", "down"):
            got = scalar(call_udf(xl.udfs.pscore_top_driver, row, header, MISSING, AS_OF_CELL, direction))
            assert as_csv(got) == want[f"drivers_{direction}"].split("; ")[0], want["partner_id"]
        got = scalar(call_udf(xl.udfs.pscore_next_action, row, header, MISSING, AS_OF_CELL))
        assert as_csv(got) == want["actions"].split("; ")[0], want["partner_id"]


def test_row_functions_read_serial_dates_any_column_order_and_vertical_ranges(xl, demo):
    header, row, want = demo.serial_grid[0], demo.serial_grid[1], demo.default[0]
    order = list(reversed(range(len(header))))
    flipped_header, flipped_row = [header[i] for i in order], [row[i] for i in order]
    got = scalar(call_udf(xl.udfs.pscore_tier, flipped_row, flipped_header, MISSING, AS_OF.isoformat()))
    assert got == want["tier"]
    column = tuple((v,) for v in row)  # a vertical range works too
    assert scalar(call_udf(xl.udfs.pscore_revenue_score, column, header, MISSING, AS_OF_CELL)) == float(want["revenue_score"])


def test_a_blank_row_gives_blank_cells(xl, demo):
    blank = (None,) * len(demo.grid[0])
    assert scalar(call_udf(xl.udfs.pscore_tier, blank, demo.grid[0], MISSING, AS_OF_CELL)) == ""


def test_percentiles_drivers_and_actions_match_pscore_score(xl, demo):
    out = call_udf(xl.udfs.pscore_percentiles, demo.grid, MISSING, AS_OF_CELL)
    assert out[0] == ["partner_id", "segment", "composite_score", "percentile", "segment_percentile"]
    for got, want in zip(out[1:], demo.default, strict=True):
        assert [as_csv(v) for v in got] == [want[c] for c in out[0]]
    for name, column in (("pscore_drivers", "drivers_up"), ("pscore_actions", "actions")):
        out = call_udf(getattr(xl.udfs, name), demo.grid, MISSING, AS_OF_CELL)
        texts: dict[str, list[str]] = {}
        for record in (dict(zip(out[0], r)) for r in out[1:]):
            if name == "pscore_actions":
                texts.setdefault(record["partner_id"], []).append(record["action"])
            elif record["direction"] == "up":
                texts.setdefault(record["partner_id"], []).append(f"{record['label']} {record['points']:+.1f}")
        assert {p: "; ".join(t) for p, t in texts.items()} == {w["partner_id"]: w[column] for w in demo.default if w[column]}


def test_flags_are_the_data_quality_records_of_pscore_score(xl, demo):
    scored = score_workbook(demo.path, excel_args.default_model(), AS_OF)
    # the Partners sheet's, and its anomalies found without History (a table function has none)
    found = detect(scored.partners.frame, scored.model, as_of=AS_OF).records(scored.partners.sheet,
                                                                                scored.partners.headers)
    records = quality_records(scored.result, scored.partners, [*scored.partners.issues, *found])
    out = call_udf(xl.udfs.pscore_flags, demo.grid, MISSING, AS_OF_CELL)
    assert out[0] == ["row", "column", "partner_id", "value", "problem", "action"]
    def same(v) -> str:  # the offending value: Excel sends every number as a float (85 -> 85.0)
        text = as_csv(None if v != v else v)
        return repr(float(text)) if re.fullmatch(r"-?\d+(\.\d+)?", text) else text

    want = [[same(v) for v in r] for r in records[out[0]].itertuples(index=False)]
    assert [[same(v) for v in r] for r in out[1:]] == want
    problems = {r[4] for r in out[1:]}
    assert {"Excel error #DIV/0!", "Excel error #N/A", "Excel error #REF!", "'85%' is a percentage"} <= problems


def test_model_sheet_range_gives_the_scores_of_pscore_score_model_sheet(xl, demo):
    out = call_udf(xl.udfs.pscore_scores, demo.grid, demo.model_grid, AS_OF_CELL)
    assert_table_equals_csv(out, demo.sheet)
    assert demo.sheet[0]["model"].startswith("default + workbook overrides")
    for row, want in zip(demo.grid[1:40], demo.sheet):
        assert scalar(call_udf(xl.udfs.pscore_tier, row, demo.grid[0], demo.model_grid, AS_OF_CELL)) == want["tier"]


def test_calibrated_model_gives_the_predictions_of_pscore_score(xl, demo):
    assert_table_equals_csv(call_udf(xl.udfs.pscore_scores, demo.grid, demo.calibrated, AS_OF_CELL),
                            demo.calibrated_rows)
    for row, want in zip(demo.grid[1:], demo.calibrated_rows):
        got = scalar(call_udf(xl.udfs.pscore_engagement_probability, row, demo.grid[0], demo.calibrated, AS_OF_CELL))
        assert as_csv(got) == want["engagement_probability"]
        for bound, column in (("expected", "expected_revenue"), ("low", "expected_revenue_low"),
                              ("high", "expected_revenue_high")):
            got = call_udf(xl.udfs.pscore_expected_revenue, row, demo.grid[0], demo.calibrated, AS_OF_CELL, bound)
            assert as_csv(scalar(got)) == want[column]
    info = dict(call_udf(xl.udfs.pscore_model_info, demo.calibrated))
    assert info["calibrated"] is True and info["label"] == demo.calibrated_rows[0]["model"]
    assert info["calibration_n"] >= 50 and info["calibration_date"]


def test_uncalibrated_model_says_so(xl, demo):
    for name in ("pscore_engagement_probability", "pscore_expected_revenue"):
        got = scalar(call_udf(getattr(xl.udfs, name), demo.grid[1], demo.grid[0]))
        assert got.startswith("error: model not calibrated")
    assert scalar(call_udf(xl.udfs.pscore_model_info, MISSING, "calibrated")) is False


def test_what_if_scores_the_partner_under_other_weights(xl, demo):
    header, row, want = demo.grid[0], demo.grid[5], demo.default[4]
    out = call_udf(xl.udfs.pscore_whatif, row, header, (("revenue.deals_won", 9.0),), MISSING, AS_OF_CELL)
    assert out[0] == ["", "revenue_score", "engagement_score", "composite_score", "tier"]
    assert [as_csv(v) for v in out[1]] == ["current", *(want[c] for c in out[0][1:])]
    sheet = demo.sheet[4]  # the Model sheet sets deals_won's revenue weight to 9
    assert [as_csv(v) for v in out[2]] == ["what-if", *(sheet[c] for c in out[0][1:])]
    informs = next(m.informs for m in excel_args.default_model().spec.metrics if m.id == "deals_won")
    by_label = call_udf(xl.udfs.pscore_whatif, row, header, (("Deals won", 9.0),), MISSING, AS_OF_CELL)
    each = tuple((f"weights.{outcome}.deals_won", 9.0) for outcome in informs)
    assert by_label == call_udf(xl.udfs.pscore_whatif, row, header, each, MISSING, AS_OF_CELL)
    assert by_label != out and len(informs) == 2


def test_what_if_on_a_calibrated_model_says_whether_the_calibration_applies(xl, demo):
    header, row = demo.grid[0], demo.grid[5]
    now, sheet = demo.calibrated_rows[4], demo.sheet[4]  # the Model sheet sets deals_won's revenue weight to 9
    out = call_udf(xl.udfs.pscore_whatif, row, header, (("revenue.deals_won", 9.0),), demo.calibrated, AS_OF_CELL)
    assert out[0] == ["", "revenue_score", "engagement_score", "composite_score", "tier", "calibration"]
    assert [as_csv(v) for v in out[1]] == ["current", *(now[c] for c in out[0][1:5]), "applies"]
    assert [as_csv(v) for v in out[2][:5]] == ["what-if", *(sheet[c] for c in out[0][1:5])]
    assert out[2][5] == "does not apply: fitted to other weights (run pscore calibrate)"
    weight = excel_args.default_model().spec.weights["revenue"]["deals_won"]
    same = call_udf(xl.udfs.pscore_whatif, row, header, (("revenue.deals_won", weight),), demo.calibrated, AS_OF_CELL)
    assert same[2] == ["what-if", *out[1][1:5], "applies"]  # weights as they are: the calibration still applies


def test_what_if_weights_must_be_finite_and_bounded(xl, demo):
    header, row = demo.grid[0], demo.grid[5]
    for weight, message in ((1e308, "Input should be less than or equal to 1000"), ("inf", "must be a finite number")):
        got = scalar(call_udf(xl.udfs.pscore_whatif, row, header, (("deals_won", weight),)))
        assert got.startswith(f"error: weights: weights.revenue.deals_won: {message}"), got


def test_model_info_names_the_model_and_one_item(xl):
    info = dict(call_udf(xl.udfs.pscore_model_info))
    model = excel_args.default_model()
    assert (info["version"], info["hash"], info["calibrated"]) == (model.version, model.hash, False)
    assert scalar(call_udf(xl.udfs.pscore_model_info, MISSING, "hash")) == model.hash


def test_columns_choose_what_a_table_function_returns(xl, demo):
    out = call_udf(xl.udfs.pscore_scores, demo.grid, MISSING, AS_OF_CELL, "Partner ID, tier; Revenue Score")
    assert out[0] == ["partner_id", "tier", "revenue_score"]
    assert [r[1] for r in out[1:]] == [w["tier"] for w in demo.default]
    ranged = call_udf(xl.udfs.pscore_scores, demo.grid, MISSING, AS_OF_CELL, (("partner_id", "tier", "revenue_score"),))
    assert ranged == out


def test_table_under_title_rows_spills_aligned_with_its_rows(xl, demo):
    width = len(demo.grid[0])
    titled = (("Partner list", *[None] * (width - 1)), (None,) * width, *demo.grid[:4], (None,) * width, demo.grid[4])
    out = call_udf(xl.udfs.pscore_scores, titled, MISSING, AS_OF_CELL, "partner_id,tier")
    assert out == [["", ""], ["", ""], ["partner_id", "tier"],
                   *[[w["partner_id"], w["tier"]] for w in demo.default[:3]], ["", ""],
                   [demo.default[3]["partner_id"], demo.default[3]["tier"]]]


# ------------------------------------------------------------------ models are parsed once


def test_a_model_range_is_parsed_once_per_content(xl, demo, monkeypatch):
    parsed = []
    real = model_sheet.read_grid
    monkeypatch.setattr(model_sheet, "read_grid", lambda *a, **k: parsed.append(1) or real(*a, **k))
    edited = [list(r) for r in demo.model_grid]
    edited[demo.weight_row - 1][4] = 7.5  # content no call has seen yet
    for _ in range(3):
        call_udf(xl.udfs.pscore_tier, demo.grid[1], demo.grid[0], tuple(map(tuple, edited)), AS_OF_CELL)
    assert len(parsed) == 1
    edited[demo.weight_row - 1][4] = 7.25
    call_udf(xl.udfs.pscore_tier, demo.grid[1], demo.grid[0], tuple(map(tuple, edited)), AS_OF_CELL)
    assert len(parsed) == 2


def test_what_if_weights_are_validated_once_per_content(xl, demo, monkeypatch):
    built = []
    real = from_dict
    monkeypatch.setattr(edit, "from_dict", lambda *a, **k: built.append(1) or real(*a, **k))
    for _ in range(3):
        call_udf(xl.udfs.pscore_whatif, demo.grid[1], demo.grid[0], (("deals_won", 3.25),))
    assert len(built) == 1


# ------------------------------------------------------------------ bad arguments


def bad_cases(demo):
    grid, header, row = demo.grid, demo.grid[0], demo.grid[1]
    model_text = [list(r) for r in demo.model_grid]
    model_text[demo.weight_row - 1][4] = "lots"
    na, ref = ERROR_CODES["#N/A"], ERROR_CODES["#REF!"]
    return [
        ("pscore_scores", (grid[1:], MISSING, AS_OF_CELL), "table: no partner_id column in the header row"),
        ("pscore_scores", ((("just", "text"),), MISSING, AS_OF_CELL), "table: no partner_id column"),
        ("pscore_scores", (((1.0, 2.0), (3.0, 4.0)),), "table: no header row"),
        ("pscore_scores", (grid[:1], MISSING, AS_OF_CELL), "table: no partners below the header row"),
        ("pscore_scores", (ref,), "table: Excel error #REF!"),
        ("pscore_scores", (grid, MISSING, "24/11/2026"), "as_of: '24/11/2026' is not a date (use YYYY-MM-DD)"),
        ("pscore_scores", (grid, MISSING, na), "as_of: Excel error #N/A"),
        ("pscore_scores", (grid, MISSING, True), "as_of: True is not a date"),
        ("pscore_scores", (grid, MISSING, AS_OF_CELL, "tier, bogus"), "columns: unknown column 'bogus'"),
        ("pscore_drivers", (grid, MISSING, AS_OF_CELL, "tier"), "columns: unknown column 'tier'"),
        ("pscore_scores", (grid, "no-such-model.yaml"), "no-such-model.yaml: no such model file"),
        ("pscore_scores", (grid, 42.0), "model: 42.0 is not a model"),
        ("pscore_scores", (grid, na), "model: Excel error #N/A"),
        ("pscore_scores", (grid, (("a", "b"), ("c", "d"))), "model: the range is not a pscore Model sheet"),
        ("pscore_scores", (grid, tuple(map(tuple, model_text))),
         f"model: range E{demo.weight_row}: 'lots' is not a number"),
        ("pscore_tier", (row, grid[1]), "header: no metric columns"),
        ("pscore_tier", (row, (*header[:3], na, *header[4:])), "header: Excel error #N/A in column 4"),
        ("pscore_tier", (row[:-1], header), "row: 26 cells but the header has 27"),
        ("pscore_tier", (grid[1:3], header), "row: select one row, not 2 rows"),
        ("pscore_tier", (ref, header), "row: Excel error #REF!"),
        ("pscore_top_driver", (row, header, MISSING, MISSING, "sideways"), "direction: 'sideways' is not one of up, down"),
        ("pscore_expected_revenue", (row, header, demo.calibrated, MISSING, "median"),
         "bound: 'median' is not one of expected, low, high"),
        ("pscore_whatif", (row, header, (("deals_closed", 2.0),)), "weights: unknown metric 'deals_closed' in row 1"),
        ("pscore_whatif", (row, header, (("deals_won", "many"),)), "weights: 'many' for deals_won is not a number"),
        ("pscore_whatif", (row, header, (("deals_won", na),)), "weights: Excel error #N/A for deals_won"),
        ("pscore_whatif", (row, header, (("deals_won", -1.0),)), "weights: weights.revenue.deals_won: Input should be"),
        ("pscore_whatif", (row, header, (("engagement.channel_reach", 2.0),)),
         "weights: 'channel_reach' informs revenue, not 'engagement'"),
        ("pscore_whatif", (row, header, ((None, None),)), "weights: no weights given"),
        ("pscore_model_info", (MISSING, "colour"), "item: 'colour' is not one of name, version"),
    ]


def test_every_bad_argument_gives_its_message(xl, demo):
    for name, args, expected in bad_cases(demo):
        got = scalar(call_udf(getattr(xl.udfs, name), *args))
        assert isinstance(got, str) and got.startswith(f"error: {expected}"), (name, expected, got)
        assert "\n" not in got and len(got) < 255 + len("error: ")


def test_an_unexpected_failure_is_still_one_line_in_the_cell(xl, demo, monkeypatch):
    monkeypatch.setattr(xl.udfs, "score", lambda *a, **k: 1 / 0)
    got = scalar(call_udf(xl.udfs.pscore_tier, demo.grid[1], demo.grid[0]))
    assert got == "error: unexpected ZeroDivisionError in pscore_tier: division by zero"


# ------------------------------------------------------------------ registration with Excel


def test_vba_module_declares_every_function_with_its_arguments(xl):
    from xlwings.udfs import generate_vba_wrapper

    for module_name, module, names in (("xlplugin.excel.udfs", xl.udfs, UDFS), ("xlplugin.excel.macros", xl.macros, MACROS)):
        buffer = io.StringIO()
        generate_vba_wrapper(module_name, module, buffer, SimpleNamespace(Name="partners.xlsm"))
        vba = buffer.getvalue()
        declared = [line.split("(")[0].split()[-1] for line in vba.splitlines()
                    if line.startswith(("Function ", "Sub "))]
        assert sorted(declared) == sorted(names)
        for name in names:
            args = module.__dict__[name].__xlfunc__["args"]
            signature = ", ".join(("Optional " if "optional" in a else "") + a["name"] for a in args)
            array = f'"{module_name}", "{name}", Array({", ".join(a["name"] for a in args)}), ThisWorkbook'
            if name in MACROS:
                assert f"Sub {name}({signature})" in vba and f"XLPy.CallUDF {array}" in vba
            else:
                assert f"Function {name}({signature})" in vba and f"{name} = XLPy.CallUDF({array}" in vba


def test_every_function_is_documented_for_the_wizard_in_one_category(xl):
    for name in UDFS:
        info = getattr(xl.udfs, name).__xlfunc__
        assert info["category"] == "pscore" and not info["sub"]
        assert 20 < len(info["ret"]["doc"]) < 255, name
        for arg in info["args"]:
            assert not arg["doc"].startswith("Positional argument") and len(arg["doc"]) < 255, (name, arg["name"])
            assert arg["options"]["err_to_str"] is True
            assert "expand" not in arg["options"]  # classic-only legacy option
        assert name == "pscore_model_info" or "optional" not in info["args"][0]
        assert not info["volatile"] and info["async_mode"] is None


# ------------------------------------------------------------------ macros


def xlwings_read(grid):
    """What ``sheet.range(...).options(ndim=2, err_to_str=True).value`` gives for these cells."""
    from xlwings import conversion

    return conversion.read(None, grid, {"ndim": 2, "err_to_str": True})


class FakeRange:
    def __init__(self, sheet: "FakeSheet", values=None):
        self.sheet, self._values = sheet, values

    def options(self, **options) -> "FakeRange":
        assert options == {"ndim": 2, "err_to_str": True}
        return self

    @property
    def value(self):
        return self._values[0][0] if len(self._values) == 1 else [list(r) for r in self._values]

    @value.setter
    def value(self, rows) -> None:
        self.sheet.written = rows


class FakeNames(list):
    """A sheet's names (xlwings ``Sheet.names``): pscore's marker lives there."""

    def __init__(self, sheet: str, role: str | None):
        super().__init__()
        self.sheet = sheet
        if role:
            self.add("_pscore_sheet", f'="{role}"')

    def add(self, name: str, refers_to: str) -> None:
        self.append(SimpleNamespace(name=f"'{self.sheet}'!{name}", refers_to=refers_to))


class FakeSheet:
    """The few xlwings Sheet calls the macros make; ``role`` gives it pscore's marker, as pscore wrote it."""

    def __init__(self, name: str, values=(), role: str | None = None):
        self.name, self.values, self.written, self.cleared, self.cell = name, values, None, False, None
        self.used_range = SimpleNamespace(last_cell=None)
        self.names = FakeNames(name, role)

    def range(self, first, last) -> FakeRange:
        assert first == "A1"
        return FakeRange(self, self.values)

    def clear_contents(self) -> None:
        self.cleared = True

    def __getitem__(self, address) -> FakeRange:
        return FakeRange(self, [[self.cell]] if address == "B4" else None)


class FakeBook:
    def __init__(self, *sheets: FakeSheet, fullname: str = "", selection=None):
        self._sheets = list(sheets)
        self.fullname, self.selection = fullname, selection
        self.alerts: list[tuple[str, str]] = []
        self.app = SimpleNamespace(alert=lambda prompt, title, mode: self.alerts.append((prompt, mode)))
        self.sheets = self

    def __iter__(self):
        return iter(self._sheets)

    def __getitem__(self, key):
        return self._sheets[key] if isinstance(key, int) else next(s for s in self._sheets if s.name == key)

    @property
    def active(self) -> FakeSheet:
        return self._sheets[0]

    def add(self, name, after) -> FakeSheet:
        assert after is self._sheets[-1]
        self._sheets.append(FakeSheet(name))
        return self._sheets[-1]


def test_score_macro_writes_the_scores_sheet_like_pscore_score(xl, demo, monkeypatch):
    import xlwings

    live = FakeSheet("pscore", role="pscore")
    live.cell = AS_OF_CELL  # the scoring date of a workbook set up by pscore excel init
    book = FakeBook(live, FakeSheet("Partners", xlwings_read(demo.grid)),
                    FakeSheet("Model", xlwings_read(demo.model_grid), role="Model"))
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_score_workbook()
    assert book.alerts == []
    written = book["Scores"].written
    assert written[0][0] == "Partner scores" and demo.sheet[0]["model"] in written[1][0]
    assert_table_equals_csv([list(r) for r in written[3:]], demo.sheet)
    xl.macros.pscore_score_workbook()  # again: the Scores sheet is cleared and rewritten, not added twice
    assert book["Scores"].cleared and [s.name for s in book] == ["pscore", "Partners", "Model", "Scores"]


def test_score_macro_never_clears_a_users_own_scores_sheet(xl, demo, monkeypatch):
    import xlwings

    theirs = FakeSheet("Scores")  # the user's, without pscore's marker
    book = FakeBook(FakeSheet("Partners", xlwings_read(demo.grid)), theirs)
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_score_workbook()
    assert book.alerts == [] and not theirs.cleared and theirs.written is None
    ours = book["Scores (pscore)"]
    assert ours.written[0][0] == "Partner scores" and [n.refers_to for n in ours.names] == ['="Scores"']
    xl.macros.pscore_score_workbook()  # again: pscore's sheet is found by its marker and rewritten
    assert ours.cleared and [s.name for s in book] == ["Partners", "Scores", "Scores (pscore)"]


def test_macros_show_problems_in_a_message_box(xl, demo, monkeypatch):
    import xlwings

    book = FakeBook(FakeSheet("Partners", xlwings_read(demo.grid[1:])))
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_score_workbook()
    xl.macros.pscore_scorecards()
    xl.macros.pscore_qbr_pack()
    (score_problem, critical), (cards, cards_mode), (qbr, qbr_mode) = book.alerts
    assert score_problem.startswith("table: no partner_id column") and critical == "critical"
    assert cards.startswith("save the workbook first") and cards_mode == "critical"
    assert qbr == "save the workbook first: the QBR pack is written next to it" and qbr_mode == "critical"


def test_qbr_macro_writes_the_programme_pack_next_to_the_workbook(xl, demo, monkeypatch, tmp_path):
    import xlwings
    from pypdf import PdfReader

    live = FakeSheet("pscore", role="pscore")
    live.cell = AS_OF_CELL
    book = FakeBook(live, FakeSheet("Partners", xlwings_read(demo.grid)),
                    FakeSheet("Model", xlwings_read(demo.model_grid), role="Model"),
                    fullname=str(tmp_path / "partners.xlsx"))
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_qbr_pack()
    [(text, mode)] = book.alerts
    assert mode == "info" and text.startswith("Wrote the programme QBR pack for Q4 2026 (300 partners) to")
    reader = PdfReader(tmp_path / "partners QBR 2026Q4.pdf")
    assert reader.metadata.title == "Programme QBR pack: Q4 2026"
    assert "Tier distribution" in reader.pages[1].extract_text()


def test_scorecards_macro_writes_one_pdf_per_selected_partner(xl, demo, monkeypatch, tmp_path):
    import xlwings
    from pypdf import PdfReader

    partners = FakeSheet("Partners", xlwings_read(demo.grid))
    selection = SimpleNamespace(row=3, rows=SimpleNamespace(count=2), sheet=partners)  # sheet rows 3-4
    book = FakeBook(partners, FakeSheet("Model", xlwings_read(demo.model_grid), role="Model"),
                    fullname=str(tmp_path / "partners.xlsx"), selection=selection)
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_scorecards()
    [(text, mode)] = book.alerts
    assert mode == "info" and text.startswith("Wrote 2 partner scorecards to")
    folder = next(tmp_path.glob("partners scorecards *"))
    files = sorted(folder.glob("*.pdf"))
    wanted = [str(demo.grid[2][0]), str(demo.grid[3][0])]  # partner IDs on sheet rows 3 and 4
    assert [f.name.split("_")[0] for f in files] == sorted(wanted)
    assert all(pid in PdfReader(f).pages[0].extract_text() for pid, f in zip(sorted(wanted), files))


def test_scenario_macro_writes_the_model_sheet_edits_against_their_base(xl, demo, monkeypatch):
    import xlwings

    edited = [list(r) for r in demo.model_grid]
    edited[demo.weight_row - 1][4] = 9  # a revenue weight raised in the Model sheet
    partners = FakeSheet("Partners", xlwings_read(demo.grid))
    book = FakeBook(partners, FakeSheet("Model", xlwings_read(edited), role="Model"))
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: book))
    xl.macros.pscore_scenario()
    assert book.alerts == []
    written = book["Scenario"].written
    assert written[0][0].startswith("Scenario: the Model sheet's edits")
    texts = [str(cell) for row in written for cell in row if cell is not None]
    assert any("-> 9" in t for t in texts) and "Tier migration (rows: tier under A, columns: tier under B)" in texts
    assert [n.refers_to for n in book["Scenario"].names] == ['="Scenario"']
    xl.macros.pscore_scenario()  # again: the Scenario sheet is found by its marker and rewritten
    assert book["Scenario"].cleared and [s.name for s in book] == ["Partners", "Model", "Scenario"]
    lonely = FakeBook(FakeSheet("Partners", xlwings_read(demo.grid)))
    monkeypatch.setattr(xlwings.Book, "caller", staticmethod(lambda: lonely))
    xl.macros.pscore_scenario()
    [(problem, mode)] = lonely.alerts
    assert "no Model sheet written by pscore" in problem and mode == "critical"
