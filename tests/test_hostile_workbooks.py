"""Workbooks as careless and hostile users make them: random sheet names (pscore's own among them)
and random cell types per column. Whatever comes in, pscore ends in a result or one clear error,
scores every partner that has a usable ID, and leaves every part of the user's workbook as it was."""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from scoring import load_model
from xlplugin.workbook import pipeline
from xlplugin.workbook.reader import WorkbookError

from tests.conftest import AS_OF

MODEL = load_model("default")
SHEET_NAMES = st.sampled_from(["Scores", "Model", "Dashboard", "Data quality", "Notes", "Model (pscore)",
                               "Q3 'pipeline'", "Ünïcode", "History2"])
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e300, -1e300, 1e-300, 0.0, 1.0, 100.0]),
    st.sampled_from(["=1+1", "=A1*2", "=#REF!", "#N/A", "#DIV/0!", "n/a", "TRUE", "yes", "85%", "$1,200", "lots", ""]),
    st.dates(dt.date(1900, 1, 1), dt.date(9999, 12, 31)),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),  # what a cell can hold
)
METRICS = ["deals_won", "training_completion_rate", "certification_status", "onboarding_start"]


@st.composite
def workbooks(draw) -> tuple[Workbook, list[str]]:
    """A Partners sheet with random cells under real headers, plus a few user sheets; the IDs that are usable."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Partners"
    ws.append(["partner_id", "partner_name", *METRICS])
    ids = []
    for i in range(draw(st.integers(1, 6))):
        pid = draw(st.one_of(st.just(f"P{i}"), st.none(), st.just("  ")))
        ws.append([pid, f"Partner {i}", *(draw(CELLS) for _ in METRICS)])
        if pid and pid.strip():
            ids.append(pid.strip())
    for name in draw(st.lists(SHEET_NAMES, max_size=3, unique=True)):
        user = wb.create_sheet(name)
        user.append(["a user's own sheet", 1, "=1+1"])
    return wb, ids


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workbooks())
def test_no_traceback_every_usable_partner_scored_every_user_part_kept(book):
    wb, ids = book
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.xlsx", Path(folder) / "out.xlsx"
        wb.save(source)
        try:
            scored = pipeline.score_workbook(source, MODEL, AS_OF)
        except (WorkbookError, ValueError) as exc:  # a clear error is allowed; a traceback of anything else is not
            assert str(exc).strip() and "\n" not in str(exc).strip()
            return
        frame = scored.result.frame
        assert sorted(set(ids)) <= sorted(set(str(v) for v in frame["partner_id"]))
        pipeline.write_scored(scored, out)
        with zipfile.ZipFile(source) as before, zipfile.ZipFile(out) as after:
            kept = set(after.namelist())
            grown = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "docProps/app.xml",
                     "xl/styles.xml"}
            for name in before.namelist():
                assert name in kept, f"{name} lost"
                if name not in grown:
                    assert before.read(name) == after.read(name), f"{name} changed"
