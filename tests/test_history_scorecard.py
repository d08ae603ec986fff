"""The PDF scorecard's "why your score moved" block: its lines are the change ledger's top reasons
for that partner since the snapshot its trend compares with, read back from a real PDF."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring import load_model
from scoring.history import since_snapshot
from scoring.ledger import top_reasons
from xlplugin.workbook.reader import open_workbook, read_table

from tests.conftest import AS_OF, flat, partner, pdf_text, pscore, write_book

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def snapshot(pid: str, period: dt.date, **values) -> dict:
    row = partner(pid, "x", **values)
    for key in ("partner_name", "partner_type", "region", "onboarding_start"):
        row.pop(key)
    return {**row, "period": period}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moved")
    rows = [partner("P1", "Rising Systems", deals_won=9), partner("P2", "Steady & Sons")]
    history = [snapshot("P1", dt.date(2026, 7, 31), deals_won=1, pipeline_value=50000, training_completion_rate=0.9),
               snapshot("P1", dt.date(2026, 8, 31), deals_won=3, pipeline_value=50000, training_completion_rate=0.9),
               snapshot("P1", dt.date(2026, 10, 31), deals_won=9, pipeline_value=400000, training_completion_rate=0.5),
               snapshot("P2", dt.date(2026, 10, 31))]
    return write_book(folder / "partners.xlsx", rows, history), folder


def ledger_reasons(path) -> dict:
    model = load_model("default")
    workbook = open_workbook(path)
    partners = read_table(workbook, "Partners", model, source=path)
    history = read_table(workbook, "History", model, source=path)
    ledger = since_snapshot(history.frame, partners.frame, model, AS_OF)
    return {pid: group["reason"].tolist() for pid, group in top_reasons(ledger).groupby("partner_id")}, ledger


@pytest.mark.parametrize("audience, heading", [("partner", "Why your score moved"), ("internal", "Why the score moved")])
def test_the_why_your_score_moved_lines_equal_the_ledger(book, audience, heading):
    path, folder = book
    out = folder / audience
    done = pscore("report", "scorecards", str(path), "-o", str(out), "--as-of", AS_OF.isoformat(),
                  "--audience", audience)
    assert done.returncode == 0, done.stderr
    reasons, ledger = ledger_reasons(path)
    assert len(reasons["P1"]) == 3 and "P2" not in reasons  # its one snapshot is too recent to compare with
    text = flat(pdf_text(next(out.glob("P1_*.pdf"))))
    assert heading in text and "31 Aug 2026 to 1 Nov 2026" in text
    at = [text.index(r) for r in reasons["P1"]]
    assert at == sorted(at)  # in the ledger's order, largest first
    change = ledger[(ledger["partner_id"] == "P1") & (ledger["score"] == "composite")]["change"].iloc[0]
    assert f"composite {change:+.1f}".replace("-", "−") in text or f"composite {change:+.1f}" in text
    headline = text.split("Composite score", 1)[1].split("since", 1)[0]  # the trend the block explains
    assert f"{change:+.1f}".lstrip("+").replace("-", "") in headline
    assert "Why" not in flat(pdf_text(next(out.glob("P2_*.pdf"))))
