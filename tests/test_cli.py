"""The ``pscore`` command line, run as a user runs it: a real process, real files."""

from __future__ import annotations

import csv
from importlib import resources
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from scoring import load_model, score
from xlplugin.workbook.save import set_cell
from xlplugin.workbook.pipeline import read_sheet

from tests.conftest import pscore

AS_OF = "2026-11-01"


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "partners.xlsx"
    done = pscore("demo", str(path), "--partners", "120", "--seed", "5", "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert "Wrote 120 synthetic partners" in done.stdout
    return path


def test_score_to_csv_matches_the_core(demo_book, tmp_path):
    out = tmp_path / "scores.csv"
    done = pscore("score", str(demo_book), "-o", str(out), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Scored 120 partners with default 1.0.0")
    model = load_model("default")
    expected = score(read_sheet(demo_book, "Partners", model), model, as_of=AS_OF).frame
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 120
    required = {"partner_id", "revenue_score", "engagement_score", "composite_score", "tier", "quadrant",
                "drivers_up", "drivers_down", "actions", "flags", "model", "as_of"}
    assert required <= set(rows[0])
    for row, (_, want) in zip(rows, expected.iterrows()):
        assert row["partner_id"] == want.partner_id
        for column in ("revenue_score", "engagement_score", "composite_score"):
            assert row[column] == ("" if pd.isna(want[column]) else repr(float(want[column])))
        assert (row["tier"], row["quadrant"], row["actions"], row["drivers_up"]) == (
            want.tier, want.quadrant, want.actions, want.drivers_up)
        assert row["model"] == model.label and row["as_of"] == AS_OF


def test_score_to_xlsx_keeps_the_input_sheets_and_adds_scores(demo_book, tmp_path):
    before = demo_book.read_bytes()
    out = tmp_path / "scored.xlsx"
    done = pscore("score", str(demo_book), "-o", str(out), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert demo_book.read_bytes() == before  # the input is never modified
    book = load_workbook(out)
    source = load_workbook(demo_book)
    assert book.sheetnames == [*source.sheetnames, "Scores", "Data quality", "Model", "Dashboard"]
    rows = list(book["Scores"].values)
    header, body = rows[3], rows[4:]
    assert len(body) == 120 and header[0] == "partner_id"
    csv_out = tmp_path / "same.csv"
    pscore("score", str(demo_book), "-o", str(csv_out), "--as-of", AS_OF)
    expected = pd.read_csv(csv_out, keep_default_na=False)
    col = header.index("composite_score")
    assert [r[col] for r in body] == [float(v) if v != "" else None for v in expected["composite_score"]]


def test_rescoring_a_scored_workbook_replaces_its_scores_sheet(demo_book, tmp_path):
    first, second = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    assert pscore("score", str(demo_book), "-o", str(first), "--as-of", AS_OF).returncode == 0
    assert pscore("score", str(first), "-o", str(second), "--as-of", AS_OF).returncode == 0
    assert load_workbook(second).sheetnames.count("Scores") == 1


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(["Partner ID", "Partner Name", "Partner Type", "Deals Won"])
    sheet.append(["P1", None, "reseller", 3])
    set_cell(sheet, 2, 2, "=HYPERLINK(\"http://x\")")  # a name typed as text that starts with "="
    source = tmp_path / "in.xlsx"
    book.save(source)
    out_xlsx, out_csv = tmp_path / "out.xlsx", tmp_path / "out.csv"
    assert pscore("score", str(source), "-o", str(out_xlsx), "--as-of", AS_OF).returncode == 0
    assert pscore("score", str(source), "-o", str(out_csv), "--as-of", AS_OF).returncode == 0
    cell = load_workbook(out_xlsx)["Scores"]["B5"]
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"
    assert "'=HYPERLINK" in out_csv.read_text()


def test_headers_are_matched_leniently(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Partners"
    sheet.append(["Partner ID", "Training Completion %", "Deals won", " Certification Status "])
    sheet.append(["P1", 0.9, 15, "Advanced"])
    source = tmp_path / "in.xlsx"
    book.save(source)
    frame = read_sheet(source, "Partners", load_model("default"))
    assert list(frame.columns) == ["partner_id", "training_completion_rate", "deals_won", "certification_status"]
    assert frame.index.tolist() == [2]  # the Excel row, for messages


@pytest.mark.parametrize("args, message", [
    (["score", "missing.xlsx", "-o", "x.csv"], "error: missing.xlsx: no such file"),
    (["score", "{book}", "-o", "x.txt"], "error: x.txt: the output must end in .csv or .xlsx"),
    (["score", "{book}", "-o", "x.csv", "--as-of", "24/11/2026"], "error: as_of: '24/11/2026' is not a date (use YYYY-MM-DD)"),
    (["score", "{book}", "-o", "x.csv", "--model", "nope.yaml"], "error: nope.yaml: invalid model: no such model file"),
    (["score", "{book}", "-o", "x.csv", "--sheet", "Accounts"], "no 'Accounts' sheet (sheets: About, Partners"),
    (["score", "{book}", "-o", "{book}"], "refusing to overwrite the input workbook"),
    (["validate-model", "nope.yaml"], "nope.yaml: invalid model (1 problem):\n  no such model file"),
])
def test_user_mistakes_give_one_clear_line(demo_book, tmp_path, args, message):
    done = pscore(*[a.replace("{book}", str(demo_book)) for a in args], cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_model_file_points_at_the_problem(demo_book, tmp_path):
    text = resources.files("scoring.model").joinpath("default.yaml").read_text("utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("{kind: linear, floor: 0.2, target: 0.9}", "{kind: linear, floor: 0.9, target: 0.2}")
                   .replace("deals_won: 3", "deals_won: -3"))
    done = pscore("validate-model", str(bad))
    assert done.returncode == 2
    assert "metrics[5].normalization.target: must be greater than floor (line" not in done.stderr  # structural error first
    assert "weights.revenue.deals_won: Input should be greater than or equal to 0 (line" in done.stderr
    done = pscore("score", str(demo_book), "-o", str(tmp_path / "x.csv"), "--model", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: {bad}: invalid model: weights.revenue.deals_won")


def test_validate_model_reports_a_good_model(tmp_path):
    done = pscore("validate-model", "default")
    assert done.returncode == 0
    assert done.stdout.startswith("default: valid. default 1.0.0 (")


def test_every_command_has_help():
    for command in ([], ["score"], ["demo"], ["validate-model"]):
        done = pscore(*command, "--help")
        assert done.returncode == 0 and "Usage: pscore" in done.stdout


def test_scoring_the_same_workbook_twice_gives_identical_files(demo_book, tmp_path):
    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    for out in (one, two):
        assert pscore("score", str(demo_book), "-o", str(out), "--as-of", AS_OF).returncode == 0
    assert one.read_bytes() == two.read_bytes()


# ---------------------------------------------------------------- nothing of the user's is lost


@pytest.fixture(scope="module")
def edited_book(demo_book, tmp_path_factory) -> Path:
    """A scored demo workbook whose Model sheet has one edited weight, so `model export` has work."""
    folder = tmp_path_factory.mktemp("edited")
    scored = folder / "scored.xlsx"
    assert pscore("score", str(demo_book), "-o", str(scored), "--as-of", AS_OF).returncode == 0
    book = load_workbook(scored)
    for row in book["Model"].iter_rows():
        if row[0].value == "weights.*.deals_won":
            row[4].value = 5
    edited = folder / "edited.xlsx"
    book.save(edited)
    return edited


def test_model_export_never_writes_a_model_over_a_workbook(edited_book, demo_book, tmp_path):
    mine = tmp_path / "mine.xlsx"
    shutil.copy(edited_book, mine)
    other = tmp_path / "other.xlsx"
    shutil.copy(demo_book, other)
    disguised = tmp_path / "model.yaml"  # a workbook under a model's name
    shutil.copy(demo_book, disguised)
    before = {path: path.read_bytes() for path in (mine, other, disguised)}
    for output, message in ((mine, f"{mine}: refusing to overwrite the input workbook"),
                            (other, f"{other}: is a workbook; refusing to overwrite it"),
                            (disguised, f"{disguised}: is a workbook; refusing to overwrite it"),
                            (tmp_path / "new.xlsx", "new.xlsx: the model file must end in .yaml or .yml")):
        done = pscore("model", "export", "--from-workbook", str(mine), "-o", str(output))
        assert done.returncode == 2 and message in done.stderr, done.stderr
    assert {path: path.read_bytes() for path in before} == before
    assert not (tmp_path / "new.xlsx").exists()
    done = pscore("model", "export", "--from-workbook", str(mine), "-o", str(tmp_path / "new.yml"))
    assert done.returncode == 0, done.stderr
    assert load_model(tmp_path / "new.yml").spec.version == "1.1.0"


def test_demo_replaces_an_existing_file_only_with_force(tmp_path):
    target = tmp_path / "base.xlsx"
    shutil.copy(Path(__file__), target)  # anything of the user's
    before = target.read_bytes()
    done = pscore("demo", str(target), "--partners", "5", "--as-of", AS_OF)
    assert done.returncode == 2
    assert done.stderr == f"error: {target}: already exists; pass --force to replace it with synthetic partners\n"
    assert target.read_bytes() == before
    done = pscore("demo", str(target), "--partners", "5", "--as-of", AS_OF, "--force")
    assert done.returncode == 0, done.stderr
    assert load_workbook(target)["Partners"].max_row > 5


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_replaced_output_keeps_its_permissions(demo_book, tmp_path, suffix):
    private, shared, new = (tmp_path / f"{name}{suffix}" for name in ("private", "shared", "new"))
    for path, mode in ((private, 0o600), (shared, 0o664)):
        path.write_bytes(b"old")
        path.chmod(mode)
    for path in (private, shared, new):
        assert pscore("score", str(demo_book), "-o", str(path), "--as-of", AS_OF).returncode == 0
    mask = os.umask(0)
    os.umask(mask)
    assert [p.stat().st_mode & 0o777 for p in (private, shared, new)] == [0o600, 0o664, 0o666 & ~mask]
    assert private.read_bytes() != b"old"


def test_a_read_only_output_is_never_replaced(demo_book, tmp_path):
    target = tmp_path / "frozen.csv"
    target.write_text("keep me\n")
    target.chmod(0o444)
    done = pscore("score", str(demo_book), "-o", str(target), "--as-of", AS_OF)
    assert done.returncode == 2
    assert f"error: {target}: the file is read-only and is left as it is" in done.stderr
    assert target.read_text() == "keep me\n" and target.stat().st_mode & 0o777 == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frozen.csv"]


def unprivileged() -> list[str]:
    """A command prefix under which file permissions hold: nothing for a normal user; for root
    (containers, CI), setpriv dropping the capability that overrides them."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to hold")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_write_errors_name_the_output_not_the_temporary_file(demo_book, tmp_path):
    under_a_file = f"{demo_book}/x.csv"
    done = pscore("score", str(demo_book), "-o", under_a_file, "--as-of", AS_OF)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"error: {under_a_file}: cannot write there: {demo_book} is a file, not a folder"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    prefix = unprivileged()
    if subprocess.run([*prefix, "touch", str(locked / "probe")], capture_output=True).returncode == 0:
        pytest.skip("a read-only folder is still writable here")
    done = pscore("score", str(demo_book), "-o", str(locked / "x.csv"), "--as-of", AS_OF, prefix=prefix)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {locked / 'x.csv'}: cannot write in the folder {locked}: Permission denied"]
    assert "Traceback" not in done.stderr


def _partners_book(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Partners"
    for row in [header, *rows]:
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("header, row, reason", [
    (["Partner ID", "Partner Name", "Colour"], ["P1", "Acme", "blue"],
     "sheet 'Partners' has none of the model's metric columns (its columns: Partner ID (A), Partner Name (B), "
     "Colour (C)); see docs/workbooks.md for the headers pscore reads"),
    (["Partner ID", "Deals won"], ["P1", "lots"],
     "none of the 3 partners on sheet 'Partners' has a usable value in the metric columns found (Deals won (B)); "
     "e.g. row 2, Deals won (B): 'lots' is not a valid value for this metric"),
])
def test_a_run_that_scores_nobody_fails_with_the_reason(tmp_path, header, row, reason):
    book = _partners_book(tmp_path / "in.xlsx", header, [[f"P{i}", *row[1:]] for i in range(1, 4)])
    out = tmp_path / "out.csv"
    done = pscore("score", str(book), "-o", str(out), "--as-of", AS_OF)
    assert done.returncode == 2 and not out.exists()
    assert done.stderr.splitlines()[-1] == f"error: {book}: no partner could be scored: {reason}"
    cards = tmp_path / "cards"
    done = pscore("report", "scorecards", str(book), "-o", str(cards), "--as-of", AS_OF)
    assert done.returncode == 2 and "no partner could be scored" in done.stderr and not cards.exists()


def test_one_partner_scored_is_enough(tmp_path):
    book = _partners_book(tmp_path / "in.xlsx", ["Partner ID", "Deals won"], [["P1", "lots"], ["P2", 4]])
    done = pscore("score", str(book), "-o", str(tmp_path / "out.csv"), "--as-of", AS_OF)
    assert done.returncode == 0 and "Unscored 1" in done.stdout, done.stderr


@pytest.mark.parametrize("content, message", [
    ("/etc/passwd", "the logo is not a PNG, JPEG or SVG image"),
    (b"\x00\x17\xfe" * 1000, "the logo is not a PNG, JPEG or SVG image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "the logo is not a readable PNG image"),
    ("/dev/zero", "the logo is not a regular file; give a PNG, JPEG or SVG image"),
])
def test_a_logo_that_is_not_an_image_is_an_error(demo_book, tmp_path, content, message):
    if isinstance(content, str):
        logo = Path(content)
        if not logo.exists():
            pytest.skip(f"no {content} here")
    else:
        logo = tmp_path / "logo.png"
        logo.write_bytes(content)
    out = tmp_path / "cards"
    done = pscore("report", "scorecards", str(demo_book), "-o", str(out), "--logo", str(logo), "--as-of", AS_OF)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {logo}: {message}"), done.stderr
    assert done.stderr.count("\n") == 1 and not out.exists()  # refused before any work


def test_progress_shows_in_a_log(demo_book, tmp_path):
    done = pscore("score", str(demo_book), "-o", str(tmp_path / "x.csv"), "--as-of", AS_OF)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert lines[0] == f"Reading and scoring {demo_book} ..."
    assert lines[1].startswith(f"Reading and scoring {demo_book}: done in ")
    assert lines[2] == f"Writing {tmp_path / 'x.csv'} ..." and len(lines) == 4
    ids = ",".join(f"P{n:05d}" for n in range(1, 6))
    done = pscore("report", "scorecards", str(demo_book), "-o", str(tmp_path / "cards"), "--partners", ids,
                  "--as-of", AS_OF, "--workers", "1")
    assert done.returncode == 0, done.stderr
    counts = [line.split(" done")[0].strip() for line in done.stderr.splitlines() if line.startswith("  ")]
    assert counts == [f"{n} of 5" for n in range(1, 6)]
    assert "Rendering 5 scorecards ..." in done.stderr


@pytest.mark.parametrize("module", ["xlplugin.cli", "xlplugin"])
def test_python_m_runs_every_command(module):
    """``python -m`` reaches the commands defined after the module's entry point too."""
    done = subprocess.run([sys.executable, "-m", module, "report", "scorecards", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "One PDF scorecard per partner" in done.stdout, done.stderr
