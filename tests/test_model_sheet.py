"""The Model sheet read back: cell values as Excel keeps them, validated like a model file, and the
same scorecard (and hash) as the model version exported from it."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scoring import ModelError, load_model
from scoring.model.load import from_dict
from xlplugin.workbook import model_sheet
from xlplugin.workbook.reader import open_workbook

from tests.conftest import calibration_for, pscore

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A demo workbook with the default model's Model sheet, as ``pscore score`` writes it."""
    folder = tmp_path_factory.mktemp("sheet")
    done = pscore("demo", str(folder / "partners.xlsx"), "--partners", "40", "--seed", "2", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    done = pscore("score", str(folder / "partners.xlsx"), "-o", str(folder / "scored.xlsx"), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    return folder / "scored.xlsx"


def edited(book: Path, out: Path, edits: dict[tuple[str, int], object]) -> Path:
    """``book`` with Model-sheet cells set: ``(path in column A, column number) -> value``."""
    wb = load_workbook(book)
    ws = wb[model_sheet.MODEL]
    for row in ws.iter_rows():
        for (key, col), value in edits.items():
            if row[0].value == key:
                ws.cell(row[0].row, col).value = value
    wb.save(out)
    return out


def with_cached_value(path: Path, formula: str, value: str) -> None:
    """Store ``value`` as the formula's last calculated result, as Excel does on saving (openpyxl
    writes formulas without one)."""
    moved = path.with_suffix(".tmp")
    path.rename(moved)
    with zipfile.ZipFile(moved) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                for empty in ("<v />", "<v></v>"):  # openpyxl writes either
                    data = data.replace(f"<f>{formula}</f>{empty}</c>".encode(), f"<f>{formula}</f><v>{value}</v></c>".encode())
            target.writestr(item, data)
    moved.unlink()


def read(path: Path, base=None):
    return model_sheet.read(open_workbook(path), base or load_model("default"), path)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_formula_counts_with_its_calculated_value(book, tmp_path):
    path = edited(book, tmp_path / "formula.xlsx", {("weights.*.deals_won", 5): "=2*3"})
    with pytest.raises(ModelError) as info:  # never calculated: say so, do not guess
        read(path)
    assert len(info.value.problems) == 1 and info.value.problems[0].startswith("Model!E23: ")
    with_cached_value(path, "2*3", "6")
    assert read(path).spec.weights["revenue"]["deals_won"] == 6
    done = pscore("score", str(path), "-o", str(tmp_path / "formula.csv"), "--as-of", AS_OF, "--model-sheet")
    assert done.returncode == 0, done.stderr
    assert load_workbook(path)[model_sheet.MODEL]["E23"].value == "=2*3"  # the workbook keeps its formula


@pytest.mark.parametrize("value, message", [
    (1e308, "Model!E23 (weights.revenue.deals_won): Input should be less than or equal to 1000"),
    ("inf", "Model!E23 (weights.revenue.deals_won): must be a finite number, not .inf"),
    ("NaN", "Model!E23 (weights.revenue.deals_won): must be a finite number, not .nan"),
])
def test_huge_and_non_finite_cells_are_refused_with_the_cell(book, tmp_path, value, message):
    path = edited(book, tmp_path / "bad.xlsx", {("weights.*.deals_won", 5): value})
    done = pscore("score", str(path), "-o", str(tmp_path / "bad.csv"), "--as-of", AS_OF, "--model-sheet")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [done.stderr.splitlines()[-1]] and message in errors[0]


def test_a_mangled_path_cell_is_named_not_a_crash(book, tmp_path):
    path = edited(book, tmp_path / "keys.xlsx", {("tiers[1].min_score", 1): "tiers[x].min_score",
                                                 ("coverage.minimum", 1): "coverage.maximum"})
    with pytest.raises(ModelError) as info:
        read(path)
    assert [re.sub(r"!A\d+", "!A", p) for p in info.value.problems] == [
        "Model!A: unknown setting 'tiers[x].min_score' (expected tiers[N].min_score)",
        f"Model!A: unknown setting 'coverage.maximum' (known: {', '.join(model_sheet.THRESHOLDS)})"]


def test_overrides_and_their_exported_version_have_one_hash(book, tmp_path):
    path = edited(book, tmp_path / "edited.xlsx", {("weights.*.deals_won", 5): 5, ("tiers[0].min_score", 4): 80})
    sheet_csv, exported, model_csv = tmp_path / "sheet.csv", tmp_path / "exported.yaml", tmp_path / "model.csv"
    assert pscore("score", str(path), "-o", str(sheet_csv), "--as-of", AS_OF, "--model-sheet").returncode == 0
    done = pscore("model", "export", "--from-workbook", str(path), "-o", str(exported), "--author", "Ana")
    assert done.returncode == 0, done.stderr
    assert pscore("score", str(path), "-o", str(model_csv), "--as-of", AS_OF, "--model", str(exported)).returncode == 0
    overrides, version = csv_rows(sheet_csv), csv_rows(model_csv)
    label = re.fullmatch(r"default \+ workbook overrides 1\.0\.0 \(([0-9a-f]{12})\)", overrides[0]["model"])
    assert label and version[0]["model"] == f"default 1.1.0 ({label[1]})"
    assert f"Wrote default 1.1.0 ({label[1]})" in done.stdout
    columns = [c for c in overrides[0] if c != "model"]
    assert [[r[c] for c in columns] for r in overrides] == [[r[c] for c in columns] for r in version]


def test_a_calibration_survives_threshold_edits_but_not_weight_edits(book, tmp_path):
    default = load_model("default")
    calibrated = from_dict({**default.spec.model_dump(mode="json"), "calibration": calibration_for(default.spec)},
                           "calibrated.yaml")
    tiers = read(edited(book, tmp_path / "tiers.xlsx", {("tiers[0].min_score", 4): 80}), calibrated)
    assert tiers.spec.calibration == calibrated.spec.calibration
    weights = read(edited(book, tmp_path / "weights.xlsx", {("weights.*.deals_won", 5): 5}), calibrated)
    assert weights.spec.calibration is None and weights.spec.name == "default + workbook overrides"
