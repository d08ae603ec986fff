"""QBR packs end to end: ``pscore report qbr`` on real workbooks, the PDFs read back with pypdf and
compared with the core's figures, and a few pages compared with reviewed images."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from reports import qbr, qbr_programme
from reports.qbr_render import render_packs
from reports.render import RenderOptions
from scoring import load_model
from scoring import programme_review as figures
from scoring.history import score_history
from scoring.next_tier import paths_to_next_tier
from scoring.quarters import Quarter
from scoring.review import scores_at
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.scorecard_inputs import extra_sheets, job_inputs

from tests.conftest import AS_OF, TYPICAL, flat, partner, pdf_text, pscore, write_book
from tests.test_report_images import IN_CI, UPDATE, diff_image, difference, rasterise

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUARTER = Quarter(2026, 4)  # the quarter AS_OF (1 Nov 2026) falls in
REFERENCES = Path(__file__).parent / "references" / "qbr"


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("qbr") / "partners.xlsx"
    done = pscore("demo", str(path), "--partners", "60", "--seed", "3", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def scored(demo_book):
    return workbook.score_workbook(demo_book, load_model("default"), AS_OF)


@pytest.fixture(scope="module")
def review(scored):
    return qbr.Review(job_inputs(scored), QUARTER)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """200 demo partners scored with a model calibrated on them: forecasts, owners, notes, internal actions."""
    folder = tmp_path_factory.mktemp("calibrated")
    book, model = folder / "partners.xlsx", folder / "calibrated.yaml"
    assert pscore("demo", str(book), "--partners", "200", "--seed", "4", "--as-of", AS_OF.isoformat()).returncode == 0
    done = pscore("calibrate", str(book), "-o", str(model), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return workbook.score_workbook(book, load_model(str(model)), AS_OF)


def _text(pdf: bytes) -> str:
    return flat(pdf_text(pdf))


def bookmarks(reader: PdfReader, items=None) -> list[tuple[str, int]]:
    """Every bookmark of the outline, depth first, with its page number (from 1)."""
    out = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            out.extend(bookmarks(reader, item))
        else:
            out.append((item.title, reader.get_destination_page_number(item) + 1))
    return out


# ------------------------------------------------------------------ partner packs


def test_a_partner_pack_prints_the_cores_figures(scored, review):
    result = scored.result
    positions = list(range(0, 60, 7))
    packs = qbr.build_packs(review, positions, "internal")
    pdfs = render_packs(packs, RenderOptions())
    paths = paths_to_next_tier(scored.partners.frame.iloc[positions], result.model, AS_OF, by=QUARTER.next().end)
    history = score_history(scored.history.frame, scored.partners.frame, result.model)
    previous = scores_at(history, [result["partner_id"][p] for p in positions], QUARTER.previous().end)
    for k, (position, pack, pdf, path) in enumerate(zip(positions, packs, pdfs, paths)):
        text = _text(pdf)
        row = result.frame.iloc[position]
        for value in (row.revenue_score, row.engagement_score, row.composite_score):
            assert f"{value:.1f}" in text
        assert row.partner_name in text and f"Tier {row.tier}" in text
        summary = next(s for s in pack["sections"] if s["id"] == "summary")
        for sentence in summary["sentences"]:
            assert flat(sentence) in text, sentence
        assert f"composite score of {row.composite_score:.1f}" in text
        before = previous["composite_score"].iloc[k]
        if not np.isnan(before):
            assert f"from {before:.1f}" in text
        if path is not None and path.steps:
            for step in path.steps:
                assert f"{step.points:+.1f}".replace("-", "−") in text
            assert f"composite {path.after:.1f} by 31 March 2027" in text
        reader = PdfReader(io.BytesIO(pdf))
        n = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            assert f"Page {number} of {n}" in page.extract_text()
        assert "INTERNAL — DO NOT SEND" in text


def test_sections_without_data_are_left_out_and_the_pack_says_what_it_used(tmp_path):
    nothing = {m: None for m in TYPICAL}
    book = write_book(tmp_path / "bare.xlsx", [partner("P1", "Alder Systems", deals_won=1, pipeline_value=30000),
                                               partner("P2", "Birch Works"), partner("P3", "Cedar Blank", **nothing)])
    bare = workbook.score_workbook(book, load_model("default"), AS_OF)
    pack = qbr.build_packs(qbr.Review(job_inputs(bare), QUARTER), [0], "partner")[0]
    ids = [s["id"] for s in pack["sections"]]
    assert "trajectories" not in ids and "actions_taken" not in ids
    assert ids[:2] == ["summary", "scorecard"] and "path" in ids and pack["used"] == []
    text = _text(render_packs([pack], RenderOptions())[0])
    assert "Trajectories" not in text and "Actions taken" not in text and "Drawn from Partners Contents" in text
    assert "no score for the end of" not in text.lower()
    blank = qbr.build_packs(qbr.Review(job_inputs(bare), QUARTER), [2], "partner")[0]
    assert [s["id"] for s in blank["sections"]] == ["summary", "scorecard"]
    assert blank["sections"][0]["sentences"] == ["Cedar Blank could not be scored this quarter: too little usable data."]
    assert "Pipeline and revenue" not in _text(render_packs([blank], RenderOptions())[0])


def test_actions_taken_last_quarter_with_what_happened_after(scored, review):
    interventions = extra_sheets(scored)["Interventions"]
    dates = [d.date() if hasattr(d, "date") else d for d in interventions["date"]]
    recent = [pid for pid, d in zip(interventions["partner_id"], dates) if d is not None and d >= QUARTER.previous().start]
    assert recent, "the demo should have interventions in the previous quarter"
    ids = [str(p) for p in scored.result["partner_id"]]
    packs = qbr.build_packs(review, [ids.index(recent[0])], "internal")
    section = next(s for s in packs[0]["sections"] if s["id"] == "actions_taken")
    assert "Interventions" in packs[0]["used"] and section["rows"]
    text = _text(render_packs(packs, RenderOptions())[0])
    for row in section["rows"]:
        assert row["action"] in text and (row["change"] is None or f"{abs(row['change']):.1f}" in text)


def test_the_partner_audience_carries_nothing_internal(calibrated):
    """The scorecards' word lists, on packs of a calibrated model with internal-only actions."""
    scored = calibrated
    spec = scored.model.spec
    hidden = {r.action for r in spec.playbook.rules if r.internal_only}
    actions = scored.result.actions
    rows = list(scored.result.frame.index)
    with_hidden = sorted({rows.index(r) for r in actions.loc[actions["action"].isin(hidden), "row"]})
    interventions = extra_sheets(scored)["Interventions"]
    ids = [str(p) for p in scored.result["partner_id"]]
    with_notes = [ids.index(p) for p in interventions["partner_id"].astype(str) if p in ids]
    positions = sorted({*range(4), *with_hidden[:3], *with_notes[:4]})
    review = qbr.Review(job_inputs(scored), QUARTER)
    internal = flat(" ".join(pdf_text(b) for b in render_packs(qbr.build_packs(review, positions, "internal"),
                                                                RenderOptions())))
    partner_text = flat(" ".join(pdf_text(b) for b in render_packs(qbr.build_packs(review, positions, "partner"), RenderOptions())))
    owners = set(scored.partners.frame["owner"].dropna())
    notes = {str(n) for n in interventions["notes"].dropna()}
    assert "Engagement probability" in internal and "Expected revenue" in internal
    assert "Partner manager:" in internal and any(o in internal for o in owners) and any(a in internal for a in hidden)
    assert any(n in internal for n in notes)
    details = {r.detail for r in spec.playbook.rules if r.detail in internal}
    assert details
    for forbidden in ("Engagement probability", "Expected revenue", "Internal forecast", "Owner:",
                      "Partner manager:", *owners, *notes, *details, *hidden):
        assert forbidden not in partner_text, forbidden
    assert "internal" not in partner_text.lower()


def test_a_folder_of_packs_is_the_same_bytes_with_one_or_two_workers(demo_book, tmp_path):
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"run{workers}"
        done = pscore("report", "qbr", str(demo_book), "--partners", "P00001,P00002,P00003", "-o", str(out),
                      "--as-of", AS_OF.isoformat(), "--workers", str(workers))
        assert done.returncode == 0, done.stderr
        assert "Wrote 3 partner QBR packs (A4) to" in done.stdout
        outs.append({p.name: p.read_bytes() for p in out.glob("*.pdf")})
    assert outs[0] == outs[1] and sorted(outs[0]) == ["P00001_Riverbend-Logic-Advisors.pdf",
                                                       "P00002_Driftwood-Analytics-Services.pdf",
                                                       "P00003_Keystone-Insight-Associates.pdf"]


def test_one_partner_pack_by_quarter(demo_book, scored, tmp_path):
    """A quarter History has moved past is reviewed as it stood: History scored at both quarter ends."""
    out = tmp_path / "p.pdf"
    done = pscore("report", "qbr", str(demo_book), "--partner", "P00008", "--quarter", "2026Q3", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Q3 2026 as of 2026-09-30" in done.stdout and "reviewed on their History snapshot of 2026-09-30" in done.stderr
    history = score_history(scored.history.frame, scored.partners.frame, scored.model)
    ends = [scores_at(history, ["P00008"], day)["composite_score"].iloc[0]
            for day in (dt.date(2026, 9, 30), dt.date(2026, 6, 30))]
    summary = flat(pdf_text(out))
    assert f"composite score of {ends[0]:.1f}" in summary and f"from {ends[1]:.1f}" in summary
    reader = PdfReader(out)
    text = flat("\n".join(p.extract_text() for p in reader.pages))
    assert "Quarterly business review · Q3 2026" in text or "QUARTERLY BUSINESS REVIEW · Q3 2026" in text
    assert "Since the end of Q2 2026" in text and "by 31 Dec 2026" in text
    assert reader.metadata.title.startswith("QBR pack: ") and reader.metadata.title.endswith("(P00008), Q3 2026")
    assert reader.trailer["/Root"]["/Lang"] == "en"
    marks = bookmarks(reader)
    assert marks[0] == ("Blackrock Logic Partners", 1)
    assert {"Executive summary", "Path to the next tier", "Data notes and definitions"} <= {t for t, _ in marks}


@pytest.mark.parametrize("args, message", [
    ([], "choose one of --programme, --partner ID"),
    (["--programme", "--partner", "P00001"], "choose one of"),
    (["--partner", "P99999"], "no partner with ID P99999"),
    (["--quarter", "2026Q5", "--programme"], "use YYYYQn"),
    (["--programme", "--audience", "partner"], "the programme pack is internal"),
])
def test_mistakes_give_one_clear_line(demo_book, tmp_path, args, message):
    done = pscore("report", "qbr", str(demo_book), "-o", str(tmp_path / "x.pdf"), *args)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_pack_output_must_be_a_pdf_file(demo_book, tmp_path):
    done = pscore("report", "qbr", str(demo_book), "--programme", "-o", str(tmp_path / "pack.txt"))
    assert done.returncode == 2 and "ending in .pdf" in done.stderr


# ------------------------------------------------------------------ programme pack


@pytest.fixture(scope="module")
def programme(review):
    pack = qbr_programme.build_programme(review)
    return pack, render_packs([pack], RenderOptions())[0]


def test_the_programme_pack_prints_the_cores_figures(scored, programme):
    pack, pdf = programme
    text = _text(pdf)
    result = scored.result
    assert [s["id"] for s in pack["sections"]] == ["tiers", "migration", "segments", "movers", "coaching", "low_fit",
                                                   "watch", "forecast", "health", "interventions", "changelog"]
    assert pack["used"] == ["History", "Interventions"]
    for row in figures.tier_distribution(result).itertuples():
        assert f"{row.tier} {row.label} {row.rule} {row.partners} {row.share * 100:.0f}%" in text
    history = score_history(scored.history.frame, scored.partners.frame, result.model)
    before = scores_at(history, result["partner_id"], QUARTER.previous().end)
    matrix = figures.migration(result, before["tier"].to_numpy(dtype=object))
    for tier in matrix.index:
        assert f"{tier} " + " ".join(str(int(v)) for v in matrix.loc[tier]) in text
    moved = figures.movers(result, before["composite_score"].to_numpy(dtype=float), 10)
    for r in moved["up"].itertuples():
        assert f"{r.partner_id} {r.segment} {r.before:.1f} {r.now:.1f} +{r.change:.1f}" in text
    for r in figures.segment_scores(result).itertuples():
        if not np.isnan(r.composite):
            assert f"{r.segment} {r.partners} {r.revenue:.1f} {r.engagement:.1f} {r.composite:.1f}" in text
    assert "Score-based: the model is not calibrated, so no revenue figures are forecast" in text
    assert "Expected revenue" not in text
    for r in figures.quality_summary(result).itertuples():
        assert f"{r.flag} {r.records} {r.partners}" in text
    rule, coaching = figures.coaching(result)
    assert f"Rule: {rule}. {len(coaching)} partners." in text


def test_contents_page_numbers_and_bookmarks_match_where_sections_start(programme):
    pack, pdf = programme
    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    found = dict(bookmarks(reader))
    for section in pack["sections"]:
        page = found[section["title"]]
        assert section["title"] in reader.pages[page - 1].extract_text()
        assert re.search(re.escape(section["title"]) + r"[ .]*" + str(page) + r"\b", first), section["title"]
    n = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {n}" in text
        if number > 1:
            assert "Programme quarterly business review Q4 2026" in text
    assert reader.metadata.title == "Programme QBR pack: Q4 2026" and reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.metadata.author == "pscore" and "internal; as of 2026-11-01" in reader.metadata.subject
    assert reader.metadata["/CreationDate"].startswith("D:20261101")


def test_long_tables_repeat_their_header_on_every_page(tmp_path):
    """A programme of 400 partners: the low-fit list runs over pages, each with the table's header."""
    book = tmp_path / "many.xlsx"
    assert pscore("demo", str(book), "--partners", "400", "--seed", "5", "--as-of", AS_OF.isoformat()).returncode == 0
    out = tmp_path / "programme.pdf"
    done = pscore("report", "qbr", str(book), "--programme", "-o", str(out), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    reader = PdfReader(out)
    pages = [p.extract_text() for p in reader.pages]
    start = next(k for k, t in enumerate(pages) if "Low fit: to review" in t)
    end = next(k for k, t in enumerate(pages) if "Provisional and stale scores" in t)
    assert end - start >= 2, "the list should run over several pages"
    for text in pages[start:end + 1]:
        assert "Partner ID Segment Tier Composite Fit" in flat(text)


def test_a_calibrated_model_forecasts_revenue_with_its_interval(calibrated):
    scored = calibrated
    pack = qbr_programme.build_programme(qbr.Review(job_inputs(scored), QUARTER))
    text = _text(render_packs([pack], RenderOptions())[0])
    _, rollup = figures.forecast_rollup(scored.result)
    total = rollup.iloc[-1]
    assert f"All partners {total.partners} {total.expected:,.0f} {total.low:,.0f} {total.high:,.0f}" in text
    health = figures.model_health(scored.result)
    assert f"Calibration of {health.date.day} {health.date:%B %Y}" in text
    for label, value, low, high in health.figures:
        assert f"{label} {value:.3f} {low:.3f}–{high:.3f}" in text


def test_same_input_gives_the_same_programme_bytes_and_accessible_output_is_tagged(demo_book, tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"p{k}.pdf"
        done = pscore("report", "qbr", str(demo_book), "--programme", "-o", str(out), "--as-of", AS_OF.isoformat())
        assert done.returncode == 0, done.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    out = tmp_path / "tagged.pdf"
    done = pscore("report", "qbr", str(demo_book), "--partner", "P00002", "-o", str(out), "--as-of",
                  AS_OF.isoformat(), "--accessible")
    assert done.returncode == 0, done.stderr
    root = PdfReader(out).trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]


# ------------------------------------------------------------------ pictures

IMAGE_CASES = {"programme": None, "partner-tier-c": "P00008", "partner-tier-a": "P00024", "partner-internal": "P00004"}


@pytest.fixture(scope="module")
def pictures(review, programme):
    ids = [str(p) for p in review.inputs.result["partner_id"]]
    out = {"programme": programme[1]}
    for name, pid in IMAGE_CASES.items():
        if pid is not None:
            audience = "internal" if name.endswith("internal") else "partner"
            out[name] = render_packs(qbr.build_packs(review, [ids.index(pid)], audience), RenderOptions())[0]
    return out


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_pack_pages_look_like_the_reviewed_reference_images(pictures, case, tmp_path):
    """The first two pages of each pack (cover and contents; summary and scorecard or tiers) against
    reviewed images, with the scorecards' tolerance."""
    pages = rasterise(pictures[case], tmp_path, case)[:2]
    missing = [k for k in range(1, len(pages) + 1) if not (REFERENCES / f"{case}-{k}.png").exists()]
    if UPDATE or missing:
        if IN_CI and not UPDATE:
            pytest.fail(f"{case}: no reference image for page(s) {missing} in {REFERENCES}")
        REFERENCES.mkdir(parents=True, exist_ok=True)
        for k, page in enumerate(pages, start=1):
            shutil.copyfile(page, REFERENCES / f"{case}-{k}.png")
        pytest.skip(f"{case}: reference images written to {REFERENCES}; look at them before committing")
    failures = []
    for k, page in enumerate(pages, start=1):
        with Image.open(page) as actual, Image.open(REFERENCES / f"{case}-{k}.png") as reference:
            result = difference(actual, reference)
            if not result.acceptable:
                diff = tmp_path / f"{case}-{k}.diff.png"
                diff_image(actual, reference).save(diff)
                failures.append(f"page {k}: {result}\n  actual: {page}\n  diff: {diff}")
    assert not failures, f"{case} looks different from its reference:\n" + "\n".join(failures)


def test_change_ledger_reasons_are_wired_in_when_given(scored):
    """A later result (the change ledger's top reasons) replaces the trend in the summary and gives
    the movers a reason column, and the packs say they used it."""
    ids = [str(p) for p in scored.result["partner_id"]]
    reasons = {pid: [("Deals won", 2.5), ("Responsiveness", -1.2)] for pid in ids}
    review = qbr.Review(job_inputs(scored), QUARTER, reasons=reasons)
    pack = qbr.build_packs(review, [7], "partner")[0]
    summary = next(s for s in pack["sections"] if s["id"] == "summary")
    assert "The main reasons: Deals won +2.5; Responsiveness -1.2." in summary["sentences"]
    assert not any("a month" in s for s in summary["sentences"]) and "change ledger" in pack["used"]
    programme = qbr_programme.build_programme(review)
    movers = next(s for s in programme["sections"] if s["id"] == "movers")
    assert movers["reasons"] and movers["up"][0]["reason"] == "Deals won +2.5; Responsiveness -1.2"
    text = _text(render_packs([programme], RenderOptions())[0])
    assert "Change Tier Reason" in text and "change ledger" in text


def test_the_cli_programme_pack_shows_the_ledger_drift_registry_and_experiments_of_the_core(calibrated, tmp_path):
    """pscore report qbr --programme gathers what the rest of pscore computes: each mover's reason is
    the change ledger's, the PSI figures are scoring.monitoring's, and the experiments and the
    interventions registry are read out from the workbook's sheets."""
    from reports import qbr_results
    from scoring.monitoring import monitor
    from xlplugin.workbook.scorecard_inputs import EXPERIMENTS_SHEET, OUTCOMES_SHEET, review_sheets

    scored = calibrated
    inputs = job_inputs(scored)
    sheets = review_sheets(scored)
    reasons, results = qbr_results.gather(inputs, QUARTER, experiments=sheets[EXPERIMENTS_SHEET],
                                          outcomes=sheets[OUTCOMES_SHEET])
    assert {"psi", "experiments", "registry"} <= set(results) and "budget" not in results  # no budget section
    pack = qbr_programme.build_programme(qbr.Review(inputs, QUARTER, reasons=reasons, results=results))
    assert {"change ledger", "population stability", "interventions registry", "experiments"} <= set(pack["used"])
    text = _text(render_packs([pack], RenderOptions())[0])
    drift = monitor(inputs.partners, scored.model, inputs.history, as_of=scored.result.as_of).drift.table
    for r in drift.itertuples():
        assert f"{r.label} {r.psi:.3f} {r.band}" in text
    movers = next(s for s in pack["sections"] if s["id"] == "movers")
    for r in movers["up"][:3]:
        found = reasons[r["partner_id"]]
        assert r["reason"] == "; ".join(f"{label} {points:+.1f}" for label, points in found)
    assert "coaching-pilot-2026 engagement" in text and "observational, not causal" in text


def test_a_partner_pack_explains_the_quarter_with_the_change_ledger(demo_book, scored, tmp_path):
    from reports import qbr_results

    inputs = job_inputs(scored)
    ids = [str(p) for p in scored.result["partner_id"]]
    position = ids.index("P00008")
    reasons = qbr_results.ledger_reasons(inputs, QUARTER, [position])
    assert reasons and reasons["P00008"], "P00008 has History before last quarter's end"
    out = tmp_path / "p8.pdf"
    done = pscore("report", "qbr", str(demo_book), "--partner", "P00008", "-o", str(out), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    text = flat(pdf_text(out.read_bytes()))
    expected = "The main reasons: " + "; ".join(f"{label} {points:+.1f}" for label, points in reasons["P00008"]) + "."
    assert expected in text


def test_a_budget_section_adds_the_allocation_by_tier(scored, model_dict, tmp_path):
    from reports import qbr_results
    from scoring.budget import allocate
    from scoring.model.load import from_dict

    model_dict["budget"] = {"currency": "USD", "pools": [{"id": "mdf", "label": "Market development funds",
                                                          "total": 100000, "rule": "by_tier",
                                                          "tiers": {"A": 3, "B": 2, "C": 1}}]}
    model = from_dict(model_dict, "budget.yaml")
    result = workbook.score_tables(None, "b.xlsx", model, scored.partners, scored.history, AS_OF).result
    inputs = job_inputs(scored)
    inputs = dataclasses.replace(inputs, result=result)
    _, results = qbr_results.gather(inputs, QUARTER)
    pack = qbr_programme.build_programme(qbr.Review(inputs, QUARTER, results=results))
    assert "budget pools" in pack["used"]
    text = _text(render_packs([pack], RenderOptions())[0])
    totals = allocate(result).totals().iloc[0]
    assert f"Market development funds by tier, share" in text and f"{totals.allocated:,.0f} 100,000 USD" in text
