"""PDF scorecards end to end: ``pscore report scorecards`` on real workbooks, read back with pypdf."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from scoring import load_model
from reports import job
from reports.batch import render_all
from reports.render import RenderOptions, render_pdfs
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.scorecard_inputs import extra_sheets, job_inputs

from tests.conftest import AS_OF, flat, partner, pdf_text, write_book
from tests.conftest import pscore

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "partners.xlsx"
    done = pscore("demo", str(path), "--partners", "60", "--seed", "3", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(scope="module")
def scored_demo(demo_book):
    return workbook.score_workbook(demo_book, load_model("default"), AS_OF)


@pytest.fixture(scope="module")
def partner_cards(demo_book, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cards") / "partner"
    done = pscore("report", "scorecards", str(demo_book), "-o", str(out), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    return out


def test_every_partner_gets_a_pdf_with_the_same_scores_tier_and_actions_as_pscore_score(partner_cards, scored_demo):
    frame = scored_demo.result.frame
    actions = scored_demo.result.actions
    files = sorted(partner_cards.glob("*.pdf"))
    assert len(files) == len(frame) == 60
    by_id = {f.name.split("_")[0]: f for f in files}
    internal_only = {r.action for r in scored_demo.model.spec.playbook.rules if r.internal_only}
    for row in frame.itertuples():
        text = flat(pdf_text(by_id[row.partner_id]))
        assert row.partner_name in text
        for value in (row.revenue_score, row.engagement_score, row.composite_score):
            assert f"{value:.1f}" in text, (row.partner_id, value)
        assert f"Tier {row.tier}" in text or row.tier == "Unscored"
        assert row.quadrant in text
        for action in actions.loc[actions["partner_id"] == row.partner_id, "action"]:
            assert (action in text) != (action in internal_only), (row.partner_id, action)
        assert "Page 1 of 1" in text


def test_summary_names_what_was_written(demo_book, tmp_path):
    done = pscore("report", "scorecards", str(demo_book), "-o", str(tmp_path / "a"), "--tier", "A", "--tier", "b",
                  "--as-of", AS_OF.isoformat(), "--workers", "1")
    assert done.returncode == 0, done.stderr
    written = list((tmp_path / "a").glob("*.pdf"))
    assert written and f"Wrote {len(written)} partner scorecards (A4) to" in done.stdout
    for path in written:
        assert re.search(r"Tier [AB]\b", pdf_text(path))


@pytest.mark.parametrize("args, message", [
    (["--partners", "P99999"], "no partner with ID P99999"),
    (["--tier", "Z"], "unknown tier Z"),
    (["--paper", "A5"], "Invalid value for '--paper'"),
])
def test_selection_mistakes_give_one_clear_line(demo_book, tmp_path, args, message):
    done = pscore("report", "scorecards", str(demo_book), "-o", str(tmp_path / "x"), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_partner_audience_carries_nothing_internal(tmp_path):
    book = tmp_path / "partners.xlsx"
    assert pscore("demo", str(book), "--partners", "200", "--seed", "4", "--as-of", AS_OF.isoformat()).returncode == 0
    calibrated = tmp_path / "calibrated.yaml"
    done = pscore("calibrate", str(book), "-o", str(calibrated), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    scored = workbook.score_workbook(book, load_model(str(calibrated)), AS_OF)
    spec = scored.model.spec
    hidden = {r.action for r in spec.playbook.rules if r.internal_only}
    actions = scored.result.actions
    with_hidden = sorted(set(actions.index[actions["action"].isin(hidden)].map(lambda k: actions.at[k, "row"])))
    rows = list(scored.result.frame.index)
    positions = sorted({*range(12), *(rows.index(r) for r in with_hidden[:4])})
    assert len(positions) > 12, "the demo should have partners with an internal-only action"
    internal = job.build_cards(job_inputs(scored), positions, "internal")
    partner = job.build_cards(job_inputs(scored), positions, "partner")
    owners = set(scored.partners.frame["owner"].dropna())
    notes = {str(n) for n in extra_sheets(scored)["Interventions"]["notes"].dropna()}
    internal_text = flat(" ".join(pdf_text(b) for b in render_pdfs(internal, RenderOptions())))
    partner_text = flat(" ".join(pdf_text(b) for b in render_pdfs(partner, RenderOptions())))
    # the internal scorecards show each of these, so their absence from the partner ones means something
    assert "Engagement probability" in internal_text and "Expected revenue" in internal_text
    assert "Partner manager:" in internal_text and "INTERNAL — DO NOT SEND" in internal_text
    assert any(o in internal_text for o in owners) and any(a in internal_text for a in hidden)
    shown_details = {r.detail for r in spec.playbook.rules if r.detail in internal_text}
    assert shown_details
    for forbidden in ("Engagement probability", "Expected revenue", "Internal forecast", "Owner:",
                      "Partner manager:", *owners, *notes, *shown_details, *hidden):
        assert forbidden not in partner_text, forbidden
    assert "internal" not in partner_text.lower()
    assert "Your score over onboarding" in partner_text


def test_markup_and_template_syntax_in_names_print_literally(tmp_path):
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "<b>x</b>"), partner("P2", "{{ 7*7 }} & Co"),
                                              partner("P3", "<img src='http://127.0.0.1:9/t.png'>")])
    done = pscore("report", "scorecards", str(book), "-o", str(tmp_path / "out"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    texts = {p.name: flat(pdf_text(p)) for p in (tmp_path / "out").glob("*.pdf")}
    assert len(texts) == 3
    assert any("<b>x</b>" in t for t in texts.values())
    assert any("{{ 7*7 }} & Co" in t for t in texts.values()) and not any("49 & Co" in t for t in texts.values())
    assert any("<img src='http://127.0.0.1:9/t.png'>" in t for t in texts.values())
    for name in texts:
        assert "/" not in name and "<" not in name and not name.startswith(".")


def test_two_partners_with_the_same_name_get_different_files(tmp_path):
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "Acme"), partner("P2", "Acme"), partner("p1", "ACME")])
    done = pscore("report", "scorecards", str(book), "-o", str(tmp_path / "out"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    names = sorted(p.name.lower() for p in (tmp_path / "out").glob("*.pdf"))
    assert len(names) == len(set(names)) == 3


def test_same_input_gives_the_same_bytes(tmp_path, demo_book):
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        done = pscore("report", "scorecards", str(demo_book), "-o", str(out), "--partners", "P00001,P00002,P00003",
                      "--as-of", AS_OF.isoformat(), "--workers", str(k + 1))
        assert done.returncode == 0, done.stderr
        outs.append({p.name: p.read_bytes() for p in out.glob("*.pdf")})
    assert outs[0] == outs[1] and len(outs[0]) == 3


def test_document_properties_paper_and_language(tmp_path, scored_demo):
    cards = job.build_cards(job_inputs(scored_demo), [0, 1], "partner")
    for paper, size in (("A4", (595, 842)), ("Letter", (612, 792))):
        pdfs = render_pdfs(cards, RenderOptions(paper=paper, author="Channel team"))
        reader = PdfReader(io.BytesIO(pdfs[1]))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == size
        meta = reader.metadata
        assert meta.title == f"Partner scorecard: {cards[1]['partner']['name']} ({cards[1]['partner']['id']})"
        assert meta.author == "Channel team"
        assert "as of 2026-11-01" in meta.subject and scored_demo.model.hash in meta.subject
        assert meta["/CreationDate"].startswith("D:20261101")
        assert reader.trailer["/Root"]["/Lang"] == "en"
        fonts = {str(f["/BaseFont"]).split("+")[-1] for f in _fonts(reader)}
        assert fonts == {"Open-Sans", "Open-Sans-Bold"}, fonts


def _fonts(reader: PdfReader):
    for page in reader.pages:
        yield from (font.get_object() for font in page["/Resources"]["/Font"].values())
        for xobject in page["/Resources"].get("/XObject", {}).values():
            resources = xobject.get_object().get("/Resources", {})
            yield from (font.get_object() for font in resources.get("/Font", {}).values())


def test_accessible_scorecards_are_tagged_pdf_ua(scored_demo):
    cards = job.build_cards(job_inputs(scored_demo), [0, 1], "partner")
    pdfs = render_pdfs(cards, RenderOptions(accessible=True))
    for pdf, card in zip(pdfs, cards):
        reader = PdfReader(io.BytesIO(pdf))
        root = reader.trailer["/Root"]
        assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
        assert card["partner"]["name"] in pdf_text(pdf)


def test_a_long_scorecard_numbers_its_own_pages(scored_demo):
    cards = job.build_cards(job_inputs(scored_demo), [0, 1, 2], "internal")
    cards[1]["interventions"] = [{"date": dt.date(2026, 1, 1), "action": f"Call {k}", "status": "done",
                                  "notes": "Discussed the pipeline and the next campaign in detail. " * 3}
                                 for k in range(60)]
    pdfs = render_pdfs(cards, RenderOptions())
    pages = [len(PdfReader(io.BytesIO(p)).pages) for p in pdfs]
    assert pages[0] == pages[2] == 1 and pages[1] >= 2
    second = PdfReader(io.BytesIO(pdfs[1]))
    for k, page in enumerate(second.pages, start=1):
        assert f"Page {k} of {pages[1]}" in page.extract_text()
    assert "Page 1 of 1" in pdf_text(pdfs[2])


def test_one_failing_partner_is_reported_and_the_rest_finish(scored_demo):
    cards = job.build_cards(job_inputs(scored_demo), list(range(6)), "partner")
    cards[3] = dict(cards[3], model=dict(cards[3]["model"], as_of="not a date"))  # breaks its date formatting
    done = sorted(render_all(cards, RenderOptions(), workers=2, chunk_size=4),
                  key=lambda r: r.index)
    assert [r.index for r in done] == list(range(6))
    assert [r.pdf is None for r in done] == [False, False, False, True, False, False]
    assert "AttributeError" in done[3].error
    assert cards[4]["partner"]["name"] in pdf_text(done[4].pdf)


def _xobjects(reader: PdfReader) -> int:
    def count(resources) -> int:
        found = 0
        for value in resources.get("/XObject", {}).values():
            inner = value.get_object()
            found += 1 + count(inner.get("/Resources", {}))
        return found
    return sum(count(page["/Resources"]) for page in reader.pages)


def test_a_scorecard_rendered_in_a_chunk_carries_only_its_own_charts_and_fonts(tmp_path):
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "Alpha Partners"), partner("P2", "株式会社テスト販売"),
                                              partner("P3", "Gamma GmbH", deals_won=0)])
    scored = workbook.score_workbook(book, load_model("default"), AS_OF)
    cards = job.build_cards(job_inputs(scored), [0, 1, 2], "partner")
    together = render_pdfs(cards, RenderOptions())
    alone = [render_pdfs([card], RenderOptions())[0] for card in cards]
    for mixed, single in zip(together, alone):
        assert _xobjects(PdfReader(io.BytesIO(mixed))) == _xobjects(PdfReader(io.BytesIO(single))) > 0
    latin = {str(f["/BaseFont"]).split("+")[-1] for f in _fonts(PdfReader(io.BytesIO(together[0])))}
    assert latin == {"Open-Sans", "Open-Sans-Bold"}  # the chunk-mate's CJK font stays out
    assert together == alone  # a partner's file does not depend on which partners were rendered with it


def test_a_logo_given_by_the_user_is_printed_and_nothing_else_is_fetched(tmp_path, scored_demo):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (31, 58, 95)).save(logo)
    cards = job.build_cards(job_inputs(scored_demo), [0], "partner")
    plain = render_pdfs(cards, RenderOptions())[0]
    branded = render_pdfs(cards, RenderOptions(logo=logo))[0]
    assert _xobjects(PdfReader(io.BytesIO(branded))) == _xobjects(PdfReader(io.BytesIO(plain))) + 1
    with pytest.raises(ValueError, match="logo file not found"):
        RenderOptions(logo=tmp_path / "missing.png")


def test_the_template_is_given_only_layout_and_the_cards():
    """Every sentence and figure a scorecard prints comes from its card (reports.card, from scoring);
    the renderer adds only how the document is printed."""
    from jinja2 import meta

    from reports.render import TEMPLATE, environment

    env = environment()
    source, _, _ = env.loader.get_source(env, TEMPLATE)
    assert meta.find_undeclared_variables(env.parse(source)) == {"cards", "lang", "paper", "author", "title",
                                                                  "subject", "logo"}


def test_the_model_figures_a_scorecard_prints_come_from_its_model(tmp_path, model_dict):
    model_dict["drivers"]["baseline"] = 40
    for tier, minimum in zip(model_dict["tiers"], (80, 62.5, 45, 0)):
        tier["min_score"] = minimum
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model_dict, sort_keys=False), encoding="utf-8")
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "Alpha Partners")])
    scored = workbook.score_workbook(book, load_model(str(path)), AS_OF)
    cards = job.build_cards(job_inputs(scored), [0], "partner")
    text = flat(pdf_text(render_pdfs(cards, RenderOptions())[0]))
    assert "Points above or below the 40-point baseline" in text
    assert "Tier: composite score A at 80+, B at 62.5+, C at 45+, otherwise D." in text
    assert "in this segment to compare (1; at least 5 needed)" in text
    assert cards[0]["definitions"][-1] == {"label": "Tier", "unit": "",
                                           "definition": "composite score A at 80+, B at 62.5+, C at 45+, otherwise D."}


def test_a_partner_without_an_id_gets_no_scorecard_and_a_reason_never_nan(tmp_path):
    book = write_book(tmp_path / "in.xlsx", [partner("P1", "Acme"), partner(None, "Atlas Digital LLC"),
                                              partner("P3", "Borealis")])
    scored = workbook.score_workbook(book, load_model("default"), AS_OF)
    cards = job.build_cards(job_inputs(scored), [0, 1, 2], "partner")
    assert [c["partner"]["id"] for c in cards] == ["P1", "", "P3"]
    done = pscore("report", "scorecards", str(book), "-o", str(tmp_path / "out"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "row 3 (Atlas Digital LLC): no partner_id" in done.stderr
    names = sorted(p.name for p in (tmp_path / "out").glob("*.pdf"))
    assert names == ["P1_Acme.pdf", "P3_Borealis.pdf"]
    assert not any("nan" in flat(pdf_text(tmp_path / "out" / n)).split() for n in names)
