"""Shared fixtures: the default model, model variants built from it, and partners in natural units."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources

import pandas as pd
import pytest
import yaml

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
