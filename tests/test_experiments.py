"""Experiments: the plan says plainly what a sample can detect; assignment is reproducible and
balanced within each stratum to one partner; the read-out recovers the demo's planted coaching
effect, covers zero on seeded null experiments about 95% of the time, and CUPED narrows it."""

from __future__ import annotations

import datetime as dt
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from scipy import stats as scipy_stats

from scoring.experiments import analyze, assign, plan
from scoring.experiments import stats
from scoring.synthetic import EXPERIMENT, TREATMENT_EFFECT, generate

from tests.conftest import pscore

AS_OF = dt.date(2026, 11, 1)


# ------------------------------------------------------------------ plan


def test_plan_gives_sample_size_and_mde_and_says_when_too_small():
    found = plan(partners=300, baseline_rate=0.4, mde=0.08)
    assert found.needed == 1207 and found.enough is False
    assert found.detectable == pytest.approx(0.161, abs=0.001)
    assert any(line.startswith("Too small: 300 partners are 907 short") for line in found.lines)
    assert plan(partners=3000, baseline_rate=0.4, mde=0.08).enough is True
    numeric = plan(partners=400, sd=10, mde=3)
    z = scipy_stats.norm.ppf(0.975) + scipy_stats.norm.ppf(0.8)
    assert numeric.detectable == pytest.approx(z * 10 * math.sqrt(4 / 400))
    assert numeric.needed == math.ceil(z ** 2 * 100 * 4 / 9)
    assert "too small for this experiment" in " ".join(plan(partners=10, baseline_rate=0.97).lines)
    for bad in (dict(partners=100), dict(baseline_rate=1.2, mde=0.1), dict(baseline_rate=0.5, sd=2, mde=0.1),
                dict(partners=100, baseline_rate=0.5, mde=-0.1)):
        with pytest.raises(ValueError):
            plan(**bad)


def test_plan_cli(tmp_path):
    done = pscore("experiment", "plan", "--partners", "300", "--baseline-rate", "0.4", "--mde", "0.08")
    assert done.returncode == 0, done.stderr
    assert "Too small" in done.stdout and "1,207 partners" in done.stdout
    done = pscore("experiment", "plan", "--baseline-rate", "0.4")
    assert done.returncode == 2 and "give the partners available" in done.stderr


# ------------------------------------------------------------------ estimators


def test_welch_matches_scipy_and_bootstrap_agrees():
    rng = np.random.default_rng(1)
    t, c = rng.normal(1.0, 2.0, 80), rng.normal(0.0, 1.0, 120)
    found = stats.welch(t, c)
    ref = scipy_stats.ttest_ind(t, c, equal_var=False).confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((ref.low, ref.high))
    boot = stats.bootstrap(t, c, 4000, seed=3)
    assert boot.low == pytest.approx(found.low, abs=0.1) and boot.high == pytest.approx(found.high, abs=0.1)
    assert stats.bootstrap(t, c, 500, seed=3) == stats.bootstrap(t, c, 500, seed=3)


def test_randomisation_inference_is_exact_for_small_arms():
    y = np.array([5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0])
    arm = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    p, exact = stats.randomisation_p(y, arm)
    assert exact and p == pytest.approx(2 / 70)  # the observed split and its mirror image, of C(8,4)
    strata = np.array(["a", "a", "b", "b", "a", "a", "b", "b"])
    p, exact = stats.randomisation_p(y, arm, strata)
    assert exact and p == pytest.approx(2 / 36)  # C(4,2) x C(4,2) assignments within strata
    big = np.random.default_rng(0).normal(size=400)
    p, exact = stats.randomisation_p(big, np.arange(400) % 2 == 0, permutations=2000)
    assert not exact and 0 < p <= 1


def test_cuped_narrows_with_a_correlated_covariate():
    rng = np.random.default_rng(2)
    x = rng.normal(size=600)
    y = 2 * x + rng.normal(size=600) + np.r_[np.full(300, 0.3), np.zeros(300)]
    plain = stats.welch(y[:300], y[300:])
    adjusted, theta = stats.cuped(y[:300], y[300:], x[:300], x[300:])
    assert theta == pytest.approx(2, abs=0.2)
    assert adjusted.width < 0.6 * plain.width
    assert stats.smd(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 0


# ------------------------------------------------------------------ assignment


@pytest.fixture(scope="module")
def demo():
    return generate(3000, seed=5, as_of=AS_OF)


def test_assignment_is_reproducible_and_balanced_within_strata(demo):
    partners = demo.partners.assign(tier=np.where(np.arange(len(demo.partners)) % 3 == 0, "A", "B"))
    first = assign(partners, "x", 0.5, seed=7, strata=("partner_type", "tier"))
    again = assign(partners.sample(frac=1, random_state=1), "x", 0.5, seed=7, strata=("partner_type", "tier"))
    merged = first.frame.merge(again.frame, on="partner_id")
    assert len(merged) == len(partners) and (merged["arm_x"] == merged["arm_y"]).all()  # row order does not matter
    other = assign(partners, "x", 0.5, seed=8, strata=("partner_type", "tier"))
    assert (other.frame["arm"] != first.frame["arm"]).any()
    for fraction in (0.5, 0.3):
        found = assign(partners, "x", fraction, seed=1, strata=("partner_type", "tier")).frame
        sizes = found.groupby("stratum")["arm"].agg(["size", lambda a: (a == "treatment").sum()])
        sizes.columns = ["size", "treated"]
        assert (abs(sizes["treated"] - fraction * sizes["size"]) < 1).all()
        assert len(sizes) > 4


def test_assignment_mistakes():
    frame = pd.DataFrame({"partner_id": ["a", "b", "c"], "t": ["x", "y", "x"]})
    with pytest.raises(ValueError, match="no column nope"):
        assign(frame, "e", strata=("nope",))
    with pytest.raises(ValueError, match="between 0 and 1"):
        assign(frame, "e", fraction=1.2)
    with pytest.raises(ValueError, match="unique"):
        assign(pd.DataFrame({"partner_id": ["a", "a"]}), "e")


# ------------------------------------------------------------------ read-out


def _in_window(data) -> pd.Series:
    frame = data.experiments.merge(data.partners[["partner_id", "onboarding_start"]], on="partner_id")
    end = pd.to_datetime(frame["onboarding_start"]) + pd.DateOffset(months=12)
    return frame.set_index("partner_id")["assigned"].lt(end.set_axis(frame["partner_id"]))


def test_analyze_recovers_the_planted_coaching_effect():
    data = generate(6000, seed=21, as_of=AS_OF)
    found = analyze(data.experiments, data.partners, EXPERIMENT, outcomes=data.outcomes, history=data.history,
                    as_of=AS_OF, resamples=2000)
    # the truth: treated partners assigned within their outcome window get TREATMENT_EFFECT (capped at 1)
    truth = data.truth.set_index("partner_id")
    window = _in_window(data)
    analysed = [p for p in data.outcomes["partner_id"] if p in window.index and window[p]]
    planted = truth.loc[analysed].query("treated")["treatment_effect"].mean()
    assert planted == pytest.approx(TREATMENT_EFFECT, abs=0.005)
    engagement = found.result("engagement")
    for low, high in (("welch_low", "welch_high"), ("bootstrap_low", "bootstrap_high"), ("cuped_low", "cuped_high")):
        assert engagement[low] < planted < engagement[high]
    assert engagement["cuped_narrowing"] > 0.05  # the pre-period score narrows the interval
    assert engagement["n_treatment"] + engagement["n_control"] == len(analysed)
    for outcome in ("revenue", "score change"):  # the coaching changes neither in the simulator
        row = found.result(outcome)
        assert row["cuped_low"] < 0 < row["cuped_high"]
    assert "Treatment raised engagement" in found.result("engagement")["verdict"] or \
        "No detectable effect on engagement" in found.result("engagement")["verdict"]
    assert len(found.did) == 2 and found.did["n_treatment"].iloc[0] > 100


def test_a_null_pilot_planted_by_the_generator_covers_zero():
    planted = generate(6000, seed=21, as_of=AS_OF)
    null = generate(6000, seed=21, as_of=AS_OF, treatment_effect=0.0)
    pd.testing.assert_frame_equal(planted.experiments, null.experiments)  # only the outcomes differ
    pd.testing.assert_frame_equal(planted.partners, null.partners)
    assert (null.truth["treatment_effect"] == 0).all()
    found = analyze(null.experiments, null.partners, EXPERIMENT, outcomes=null.outcomes, history=null.history,
                    as_of=AS_OF, resamples=1000).result("engagement")
    assert found["welch_low"] < 0 < found["welch_high"] and found["cuped_low"] < 0 < found["cuped_high"]
    assert "No detectable effect on engagement" in found["verdict"]


def test_null_experiments_cover_zero_about_95_percent_of_the_time():
    data = generate(2000, seed=31, as_of=AS_OF)
    cohort = data.partners[data.partners["partner_id"].isin(data.outcomes["partner_id"])]
    start = pd.to_datetime(cohort["onboarding_start"]).dt.date + dt.timedelta(days=14)
    covered = {"welch": 0, "cuped": 0, "bootstrap": 0}
    repeats = 400
    for seed in range(repeats):
        arms = assign(cohort, "null", 0.5, seed=seed, strata=("partner_type",)).frame
        arms["assigned"] = start.to_numpy()
        found = analyze(arms, cohort, "null", outcomes=data.outcomes, as_of=AS_OF, resamples=300, permutations=50,
                        seed=seed).result("engagement")
        covered["welch"] += found["welch_low"] < 0 < found["welch_high"]
        covered["cuped"] += found["cuped_low"] < 0 < found["cuped_high"]
        covered["bootstrap"] += found["bootstrap_low"] < 0 < found["bootstrap_high"]
    rates = {k: v / repeats for k, v in covered.items()}
    assert 0.93 <= rates["welch"] <= 0.97, rates
    assert 0.93 <= rates["bootstrap"] <= 0.97, rates
    assert 0.92 <= rates["cuped"] <= 0.98, rates  # no pre-period scores here: CUPED is Welch


def test_analyze_mistakes(demo):
    with pytest.raises(ValueError, match="no experiment named 'nope'.*coaching-pilot-2026"):
        analyze(demo.experiments, demo.partners, "nope", as_of=AS_OF)
    bad = demo.experiments.assign(arm="placebo")
    with pytest.raises(ValueError, match="arm must be treatment or control"):
        analyze(bad, demo.partners, EXPERIMENT, as_of=AS_OF)


# ------------------------------------------------------------------ workbooks


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("experiments")
    done = pscore("demo", str(folder / "partners.xlsx"), "--partners", "200", "--seed", "6", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return folder


def test_assign_cli_appends_to_the_experiments_sheet_and_keeps_everything_else(book):
    source = book / "partners.xlsx"
    outs = []
    for k in range(2):
        out = book / f"assigned{k}.xlsx"
        done = pscore("experiment", "assign", str(source), "--name", "nudge", "--fraction", "0.5", "--seed", "11",
                      "--strata", "partner_type,tier", "-o", str(out), "--as-of", AS_OF.isoformat())
        assert done.returncode == 0, done.stderr
        assert "Experiment nudge:" in done.stdout and "Balance:" in done.stdout
        outs.append(out)
    assert outs[0].read_bytes() == outs[1].read_bytes()  # same seed, same arms, same file
    wb = load_workbook(outs[0], read_only=True)
    rows = list(wb["Experiments"].iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:4] == ["partner_id", "experiment", "arm", "assigned"] and "stratum" in header
    mine = pd.DataFrame([r for r in rows[1:] if r[1] == "nudge"], columns=header)
    assert len(mine) == 200 and set(mine["arm"]) == {"treatment", "control"}
    sizes = mine.groupby("stratum")["arm"].agg(lambda a: abs((a == "treatment").sum() - len(a) / 2))
    assert (sizes < 1).all()
    assert len([r for r in rows[1:] if r[1] == EXPERIMENT]) > 0  # the pilot's rows are still there
    assert "Experiment balance" in wb.sheetnames
    experiments_part = None
    with zipfile.ZipFile(source) as before, zipfile.ZipFile(outs[0]) as after:
        names = load_workbook(source, read_only=True).sheetnames
        for name in before.namelist():
            if name.startswith("xl/worksheets/") and before.read(name) != after.read(name):
                assert experiments_part is None  # only one sheet of the user's changed: Experiments
                experiments_part = name
    assert experiments_part is not None and "Experiments" in names
    done = pscore("experiment", "assign", str(outs[0]), "--name", "nudge", "--seed", "1", "-o", str(book / "x.xlsx"))
    assert done.returncode == 2 and "already has an experiment named 'nudge'" in done.stderr


def test_analyze_cli_reads_out_and_writes_a_report(book):
    out = book / "readout.xlsx"
    done = pscore("experiment", "analyze", str(book / "partners.xlsx"), "--name", EXPERIMENT, "-o", str(out),
                  "--as-of", AS_OF.isoformat(), "--resamples", "500")
    assert done.returncode == 0, done.stderr
    assert "engagement" in done.stdout and "95% CI" in done.stdout
    wb = load_workbook(out, read_only=True)
    assert "Experiment results" in wb.sheetnames
    text = [r[0] for r in wb["Experiment results"].iter_rows(values_only=True) if r and r[0]]
    assert "Estimates per outcome" in text and any(str(t).startswith("Experiment coaching-pilot-2026") for t in text)
    done = pscore("experiment", "analyze", str(book / "partners.xlsx"), "--name", "nope")
    assert done.returncode == 2 and "no experiment named 'nope'" in done.stderr


def test_analyze_cli_writes_the_read_out_as_a_pdf(book):
    """-o read-out.pdf: the verdicts and every estimate of the core's read-out, the same bytes twice."""
    from scoring.model.load import load_model
    from xlplugin.workbook import experiments

    from tests.conftest import flat, pdf_text

    outs = []
    for k in range(2):
        out = book / f"readout{k}.pdf"
        done = pscore("experiment", "analyze", str(book / "partners.xlsx"), "--name", EXPERIMENT, "-o", str(out),
                      "--as-of", AS_OF.isoformat(), "--resamples", "500")
        assert done.returncode == 0, done.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    text = flat(pdf_text(outs[0])).replace("- ", "-")  # a word broken at its hyphen across lines
    sheets = experiments.read(book / "partners.xlsx", load_model("default"))
    found = experiments.analyze_workbook(sheets, load_model("default"), EXPERIMENT, AS_OF, 500, 0)
    for line in found.lines:
        assert flat(line) in text
    from reports.experiment import report

    estimates = report(found)["tables"][0]  # one column per outcome, one row per figure
    effect = next(row for row in estimates["rows"] if row[0] == "effect")
    assert " ".join(effect) in text
    for shown, value in zip(effect[1:], found.results["effect"]):
        assert float(shown.replace(",", "")) == pytest.approx(value, abs=0.5 if abs(value) >= 1000 else 5e-4)
    assert f"Experiment read-out: {EXPERIMENT}" in text
