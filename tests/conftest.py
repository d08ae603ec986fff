"""Shared fixtures and helpers (the one place test files share code through): the default model, model variants built from it, and partners in natural units."""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Sequence

import pandas as pd
import pytest
import yaml
from openpyxl import Workbook
from openpyxl.worksheet.table import Table
from pypdf import PdfReader

from scoring import load_model
from scoring.calibration.predict import scorecard_hash
from scoring.model.load import from_dict

AS_OF = dt.date(2026, 11, 1)

#: A solid, fully populated partner in the default model's units (every metric present and valid).
TYPICAL = {
    "market_alignment": 4,
    "channel_reach": 400,
    "product_adoption_potential": 4,
    "scalable_channel_access": "Yes",
    "onboarding_completion_days": 60,
    "training_completion_rate": 0.75,
    "certification_status": "Certified",
    "joint_marketing_plan": "Yes",
    "responsiveness_hours": 12,
    "collaboration_frequency": 3,
    "marketing_commitment_adherence": 0.8,
    "partner_feedback": 4,
    "manager_assessment": 4,
    "qualified_leads": 12,
    "first_quarter_activities": 5,
    "deal_conversion_rate": 0.2,
    "deals_won": 4,
    "average_contract_size": 30000,
    "deal_velocity_days": 75,
    "pipeline_value": 250000,
}


def started(months: float) -> dt.date:
    """Onboarding start date that puts a partner about ``months`` into onboarding at AS_OF
    (whole calendar months back, then the fraction as days)."""
    whole = int(months)
    back = (pd.Timestamp(AS_OF) - pd.DateOffset(months=whole)).date()
    return back - dt.timedelta(days=round((months - whole) * 365.25 / 12))


def partners(*rows: dict, **common) -> pd.DataFrame:
    """Partners frame: each row is TYPICAL updated with ``common`` then the row's own values."""
    records = []
    for i, row in enumerate(rows or ({},)):
        record = {"partner_id": f"P{i + 1}", "partner_name": f"Partner {i + 1}", "partner_type": "reseller",
                  "region": "NA", "onboarding_start": started(12), **TYPICAL, **common, **row}
        records.append(record)
    return pd.DataFrame.from_records(records)


@pytest.fixture(scope="session")
def model():
    return load_model("default")


@pytest.fixture
def model_dict() -> dict:
    """The default model as a dict, to modify and load with ``scoring.model.from_dict``."""
    text = resources.files("scoring.model").joinpath("default.yaml").read_text("utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def variant(data: dict):
    return from_dict(data, "variant")


def calibration_for(spec) -> dict:
    """A small, valid calibration section fitted (so it claims) to ``spec``'s scorecard."""
    figure = {"value": 0.7, "low": 0.6, "high": 0.8}
    return {
        "date": "2026-11-01", "horizon_months": 12, "window_months": 6, "n": 500, "n_engaged": 200,
        "scorecard": scorecard_hash(spec),
        "engagement": {"method": "logistic", "intercept": -3.0, "slope": 0.06},
        "revenue": {"method": "hurdle", "positive": {"intercept": -2.0, "slope": 0.05}, "log_intercept": 9.0,
                    "log_slope": 0.02, "smearing": 1.2, "bands": [{"upper": 100, "low": 0.4, "high": 2.5, "n": 500}]},
        "backtest": {"test_from": "2025-06-01", "n_train": 350, "n_test": 150,
                     **{k: figure for k in ("auc", "brier", "ece", "normalized_gini", "spearman", "top_decile_capture")}},
    }


def libreoffice(path, outdir, convert_to: str):
    """Convert ``path`` with headless LibreOffice, as a user's spreadsheet program would open it.

    Required in CI (``.ci/run`` installs it); skipped on a developer machine without it.
    """
    import os
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (.ci/run installs it)")
        pytest.skip("LibreOffice not installed")
    profile = f"-env:UserInstallation=file://{outdir}/profile"
    return subprocess.run([office, profile, "--headless", "--convert-to", convert_to, "--outdir", str(outdir), str(path)],
                          capture_output=True, text=True, timeout=300)


# ------------------------------------------------------------------ helpers shared by test files

def pscore_command() -> list[str]:
    """The installed console script (or the module when run from a source tree)."""
    exe = shutil.which("pscore", path=os.path.dirname(sys.executable)) or shutil.which("pscore")
    return [exe] if exe else [sys.executable, "-m", "xlplugin.cli"]


def pscore(*args: str, cwd: Path | None = None, prefix: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run the installed console script, optionally under a ``prefix`` command (see :func:`unprivileged`)."""
    return subprocess.run([*prefix, *pscore_command(), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def pdf_text(path_or_bytes) -> str:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces folded, for phrase searches across wrapped lines."""
    return re.sub(r"\s+", " ", text)


def write_book(path: Path, rows: list[dict], history: list[dict] = (), milestones: list[dict] = ()) -> Path:
    """A workbook with a Partners sheet (and History / Milestones when given), as a user would keep it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Partners"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c) for c in columns])
    for title, records in (("History", history), ("Milestones", milestones)):
        if records:
            sheet = wb.create_sheet(title)
            cols = list(dict.fromkeys(k for r in records for k in r))
            sheet.append(cols)
            for r in records:
                sheet.append([r.get(c) for c in cols])
    wb.save(path)
    return path


def partner(pid: str, name: str, **values) -> dict:
    return {"partner_id": pid, "partner_name": name, "partner_type": "reseller", "region": "EMEA",
            "onboarding_start": started(12), **TYPICAL, **values}


HEADERS = ["Partner ID", "Partner Name", "Type", " Region ", "Onboarding start", "Training Completion %",
           "Deals won", "Pipeline value ($)", "Certification status", "JMP", "Internal notes"]
ROWS = [
    ["P001", "Société Générale Informatique", "reseller", "EMEA", dt.datetime(2025, 3, 1), 0.85, 12, 250000, "Certified", "Yes", "call back"],
    [" P002 ", "  Nordlicht   Systemhaus ", "Integrator", "apac", 45658, 85, "1,200", "$12,000", "in progress", "x", None],
    ["P003", "東京クラウド株式会社", "referral", "NA", "2025-06-15", "85%", "#N/A", "€1.234,50", "none", "TRUE", None],
    ["P003", "Dup Partner", "marketplace", "LATAM", "15/06/2025", 0.5, 3, 1000, "Advanced", 1, None],
    [None, "Nameless", "reseller", "NA", "not a date", 0.4, "#DIV/0!", 50, "Certified", "No", None],
    ["P005", "=cmd|'/c calc'!A1", "Resellr", "EMEA", "03/04/2025", 0.9, 2, "n/a", "Certified", "Yes", None],
    [1001.0, "Numeric Id Ltd", "reseller", "NA", dt.date(2024, 1, 31), 0.7, " 4 ", 0, "Certified", "no", None],
]


def messy_book(as_table: bool = False) -> Workbook:
    from xlplugin.workbook.save import set_cell  # cells written as pscore writes them

    book = Workbook()
    ws = book.active
    ws.title = "Partners"
    ws["A1"] = "Q3 partner export"
    ws["A2"] = "Exported from the PRM; do not edit above row 4"
    ws["F3"] = "Execution"
    ws.merge_cells("F3:J3")  # a group title above the real header
    for col, header in enumerate(HEADERS, start=1):
        ws.cell(4, col, header)
    ws.cell(4, 13, "Deals won")  # the same header again, further right
    for r, row in enumerate(ROWS, start=5):
        target = r + (1 if r >= 6 else 0)  # a blank row 6 in the middle
        for col, value in enumerate(row, start=1):
            set_cell(ws, target, col, value)
    ws.cell(5, 12, "stray")  # data in a column with no header
    ws.cell(5, 13, 99)
    ws.row_dimensions[8].hidden = True
    if as_table:
        ws.add_table(Table(displayName="PartnerTable", ref="A4:M12"))
    return book
