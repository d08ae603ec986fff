"""PDF scorecards as pictures: edge-case partners rendered, rasterised and compared with reviewed images.

The other scorecard tests read the PDFs' text, which says nothing about what a reader sees: a long
name running under the dates, a chart that is not drawn, CJK glyphs printed as empty boxes or a
scorecard spilling onto a second page all keep the text intact. So each edge case (long, accented
and CJK names, no or one month of history, missing metrics, every tier, a provisional partner, the
internal audience) is rendered in-process, turned into PNGs with ``pdftoppm -png -r 60`` and compared
with reference images under ``tests/references/scorecards`` that a person has looked at.

The comparison tolerates anti-aliasing and hinting noise (faint pixels spread over the page) but not
a moved block of text, a missing chart or a missing section: see the limits below and the test that
pins what they reject. It is about layout; a single changed digit is below it, and the text-based
scorecard tests check the numbers.

Regenerating the references after an intended layout change is one command, after which the new
images must be looked at before they are committed::

    PSCORE_UPDATE_REFERENCES=1 .venv/bin/python -m pytest tests/test_report_images.py

A missing reference is written (and the test skipped) on a developer machine but fails in CI, as
does a missing ``pdftoppm`` (``.ci/run`` installs poppler-utils and fonts-droid-fallback).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from reports import job
from reports.render import RenderOptions, render_pdfs
from scoring import load_model
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.scorecard_inputs import job_inputs

from tests.conftest import AS_OF, TYPICAL, started
from tests.conftest import flat, partner, write_book

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REFERENCES = Path(__file__).parent / "references" / "scorecards"
RESOLUTION = 60  # dpi: an A4 page is 496 x 702 pixels, enough to see layout, small enough to commit

#: A page differs when more than MAX_DIFFERING of its pixels differ from the reference by more
#: than PIXEL_THRESHOLD in some channel (0-255), when the mean absolute difference over all pixels
#: and channels exceeds MAX_MEAN, or when more than MAX_TILE of the pixels of any TILE x TILE square
#: (17 mm at 60 dpi) differ. Measured here: rasterising with other poppler line settings differs by
#: up to 0.09% of pixels and 2.3% of a tile; a moved block (a banner added) by 6% of pixels; a missing
#: trajectory chart by 0.65% (8.8% of a tile); missing layer bars or next steps by only 0.3% of the
#: page, which the tile limit catches (13-33% of a tile).
PIXEL_THRESHOLD = 48
MAX_DIFFERING = 0.005
MAX_MEAN = 2.0
TILE = 40
MAX_TILE = 0.05

UPDATE = os.environ.get("PSCORE_UPDATE_REFERENCES") == "1"
IN_CI = bool(os.environ.get("CI"))

# ---------------------------------------------------------------------------------------------- data

#: Every metric high: tier A.
STRONG = dict(market_alignment=5, channel_reach=1200, product_adoption_potential=5, onboarding_completion_days=30,
              training_completion_rate=0.98, responsiveness_hours=2, collaboration_frequency=6,
              marketing_commitment_adherence=0.97, partner_feedback=5, manager_assessment=5, qualified_leads=40,
              first_quarter_activities=12, deal_conversion_rate=0.4, deals_won=12, average_contract_size=80000,
              deal_velocity_days=35, pipeline_value=1200000)
#: TYPICAL with a smaller pipeline: tier B with some room below the A threshold.
SOLID = dict(pipeline_value=150000, qualified_leads=10)
#: Middling fit and results: tier C.
MIDDLING = dict(market_alignment=2, channel_reach=100, qualified_leads=3, deals_won=1, pipeline_value=60000,
                deal_conversion_rate=0.08, partner_feedback=3, manager_assessment=2, training_completion_rate=0.4)
#: Every metric poor: tier D.
WEAK = dict(market_alignment=1, channel_reach=20, product_adoption_potential=1, scalable_channel_access="No",
            onboarding_completion_days=180, training_completion_rate=0.1, certification_status="None",
            joint_marketing_plan="No", responsiveness_hours=96, collaboration_frequency=0,
            marketing_commitment_adherence=0.1, partner_feedback=1, manager_assessment=1, qualified_leads=0,
            first_quarter_activities=0, deal_conversion_rate=0.0, deals_won=0, average_contract_size=2000,
            deal_velocity_days=200, pipeline_value=5000)

LONG_NAME = "Northwind Channel Distribution & Systems Integration Partners International GmbH"
ACCENTED_NAME = "Sistemas Ibérica Ñandú Łódź"
CJK_NAME = "株式会社テスト販売"


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def improving_history(pid: str, months: int) -> list[dict]:
    """Month-end snapshots up to October 2026, each metric moving from weak towards SOLID."""
    target = {**TYPICAL, **SOLID}
    rows = []
    for k in range(months):
        share = (k + 1) / months
        values = {}
        for metric, goal in target.items():
            start = WEAK.get(metric, goal)
            if isinstance(goal, str):
                values[metric] = goal if share > 0.5 else start
            else:
                value = start + (goal - start) * share
                values[metric] = round(value, 2) if isinstance(goal, float) else round(value)
        rows.append({"partner_id": pid, "period": month_end(2026, 10 - months + k + 1), **values})
    return rows


@dataclass(frozen=True)
class Case:
    """One scorecard to look at: a partner row (with its History and Milestones) and an audience."""

    name: str
    row: dict
    history: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    audience: str = "partner"
    pages: int = 1
    tier: str | None = None  # the tier the data is meant to give (checked, so the case stays what it says)


_HISTORY_PARTNER = partner("P02", "Brightline Solutions", owner="Dana Whitfield", **SOLID)
_MILESTONES = [{"partner_id": "P02", "milestone": m, "date": d} for m, d in (
    ("Kick-off", dt.date(2025, 11, 20)), ("Sales training completed", dt.date(2026, 3, 12)),
    ("Certified", dt.date(2026, 6, 15)), ("First deal won", dt.date(2026, 8, 28)))]

#: One month-end snapshot, weaker than today and old enough (a month) to give a trend.
_ONE_SNAPSHOT = {"partner_id": "P09", "period": month_end(2026, 9), **TYPICAL, **SOLID,
                 "qualified_leads": 5, "deals_won": 2, "pipeline_value": 80000, "training_completion_rate": 0.5}

CASES = [
    Case("tier-a", partner("P01", "Apex Cloud Partners", **STRONG), tier="A"),
    Case("tier-b", _HISTORY_PARTNER, improving_history("P02", 6), _MILESTONES, tier="B"),
    Case("tier-c", partner("P03", "Cedar Lane Consulting", **MIDDLING), tier="C"),
    Case("tier-d", partner("P04", "Dormant Digital Ltd", **WEAK), tier="D"),
    Case("long-name", partner("P05", LONG_NAME, **SOLID)),
    Case("accents", partner("P06", ACCENTED_NAME, **SOLID)),
    Case("cjk", partner("P07", CJK_NAME, region="APAC", **SOLID)),
    Case("no-history", partner("P08", "Harbor Point Systems", **SOLID)),
    Case("one-month", partner("P09", "Juniper Networks Reseller", **SOLID), [_ONE_SNAPSHOT]),
    Case("missing-metrics", partner("P10", "Kestrel Data Services", **{**SOLID, **dict.fromkeys(
        ("channel_reach", "certification_status", "partner_feedback", "deals_won", "pipeline_value"))})),
    Case("provisional", partner("P11", "Lumen Starter Co", onboarding_start=started(1.5), **SOLID)),
    Case("tier-b-internal", _HISTORY_PARTNER, audience="internal", tier="B"),
]
BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES) and len(LONG_NAME) == 80


@dataclass
class Rendered:
    scored: workbook.ScoredInput
    cards: dict[str, dict]
    pdfs: dict[str, bytes]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Rendered:
    """Every case scored from one workbook, partner cards rendered as one batch, internal ones as another."""
    rows = list({c.row["partner_id"]: c.row for c in CASES}.values())
    history = [h for c in CASES for h in c.history]
    milestones = [m for c in CASES for m in c.milestones]
    book = write_book(tmp_path_factory.mktemp("images") / "partners.xlsx", rows, history, milestones)
    scored = workbook.score_workbook(book, load_model("default"), AS_OF)
    ids = [str(p) for p in scored.result["partner_id"]]
    cards, pdfs = {}, {}
    for audience in ("partner", "internal"):
        cases = [c for c in CASES if c.audience == audience]
        built = job.build_cards(job_inputs(scored), [ids.index(c.row["partner_id"]) for c in cases], audience)
        done = render_pdfs(built, RenderOptions())
        cards.update({c.name: card for c, card in zip(cases, built)})
        pdfs.update({c.name: pdf for c, pdf in zip(cases, done)})
    return Rendered(scored, cards, pdfs)


# ---------------------------------------------------------------------------------------------- images

def pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if not found:
        if IN_CI:
            pytest.fail("pdftoppm is required in CI (.ci/run installs poppler-utils)")
        pytest.skip("pdftoppm not installed (apt install poppler-utils)")
    return found


def rasterise(pdf: bytes, out_dir: Path, name: str, resolution: int = RESOLUTION) -> list[Path]:
    """The PDF's pages as PNGs, in page order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{name}.pdf"
    source.write_bytes(pdf)
    done = subprocess.run([pdftoppm(), "-png", "-r", str(resolution), str(source), str(out_dir / name)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pages = [(int(m.group(1)), p) for p in out_dir.glob(f"{name}-*.png")
             if (m := re.fullmatch(re.escape(name) + r"-(\d+)\.png", p.name))]
    return [p for _, p in sorted(pages)]


@dataclass(frozen=True)
class Difference:
    differing: float  # share of pixels off by more than PIXEL_THRESHOLD in some channel
    mean: float  # mean absolute difference over all pixels and channels
    tile: float  # the largest share of differing pixels in one TILE x TILE square
    same_size: bool

    @property
    def acceptable(self) -> bool:
        return self.same_size and self.differing <= MAX_DIFFERING and self.mean <= MAX_MEAN and self.tile <= MAX_TILE

    def __str__(self) -> str:
        return (f"{self.differing:.2%} of pixels differ by more than {PIXEL_THRESHOLD} (limit {MAX_DIFFERING:.2%}), "
                f"mean difference {self.mean:.2f} (limit {MAX_MEAN}), "
                f"{self.tile:.1%} of the worst {TILE}px square (limit {MAX_TILE:.0%})")


def difference(actual: Image.Image, reference: Image.Image) -> Difference:
    if actual.size != reference.size:
        return Difference(1.0, 255.0, 1.0, False)
    delta = np.asarray(ImageChops.difference(actual.convert("RGB"), reference.convert("RGB")), dtype=np.int16)
    off = delta.max(axis=2) > PIXEL_THRESHOLD
    height, width = off.shape
    tile = max(off[y:y + TILE, x:x + TILE].mean() for y in range(0, height, TILE) for x in range(0, width, TILE))
    return Difference(float(off.mean()), float(delta.mean()), float(tile), True)


def diff_image(actual: Image.Image, reference: Image.Image) -> Image.Image:
    """The reference faded to grey with the pixels that differ beyond the threshold in red."""
    base = reference.convert("L").point(lambda v: 160 + v * 95 // 255).convert("RGB")
    if actual.size != reference.size:
        return base
    delta = np.asarray(ImageChops.difference(actual.convert("RGB"), reference.convert("RGB"))).max(axis=2)
    pixels = np.array(base)
    pixels[delta > PIXEL_THRESHOLD] = (220, 0, 0)
    return Image.fromarray(pixels)


def reference_path(case: str, page: int) -> Path:
    return REFERENCES / f"{case}-{page}.png"


# ---------------------------------------------------------------------------------------------- tests

def test_edge_case_data_gives_the_tiers_history_and_stages_the_cases_are_named_for(rendered):
    cards = rendered.cards
    for case in CASES:
        if case.tier:
            assert cards[case.name]["tier"]["id"] == case.tier, case.name
    assert {c["tier"]["id"] for c in cards.values()} == {"A", "B", "C", "D"}
    assert cards["provisional"]["provisional"] and not cards["tier-b"]["provisional"]
    history = rendered.scored.history.frame
    assert (history["partner_id"] == "P09").sum() == 1 and (history["partner_id"] == "P02").sum() == 6
    assert not (history["partner_id"] == "P08").any()
    assert all(s["change"] is not None for s in cards["one-month"]["scores"] + cards["tier-b"]["scores"])
    assert all(s["change"] is None for s in cards["no-history"]["scores"])
    assert cards["missing-metrics"]["data_notes"], "the missing metrics should be noted on the scorecard"
    assert cards["tier-b-internal"]["audience"] == "internal" and cards["tier-b"]["audience"] == "partner"


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_each_edge_case_fits_on_its_expected_number_of_pages(rendered, case):
    pages = PdfReader(io.BytesIO(rendered.pdfs[case])).pages
    assert len(pages) == BY_NAME[case].pages, f"{case}: {len(pages)} pages"
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1].extract_text()


def test_cjk_name_is_drawn_with_the_fallback_font_and_extracts_as_text(rendered):
    """Open Sans has no CJK glyphs: those (and only those) come from Droid Sans Fallback, not tofu boxes."""
    reader = PdfReader(io.BytesIO(rendered.pdfs["cjk"]))
    assert CJK_NAME in flat("\n".join(p.extract_text() for p in reader.pages))
    drawn = text_by_font(reader)
    assert _families(drawn) == {"Open-Sans", "Droid-Sans-Fallback"}, sorted(drawn)
    fallback = "".join(t for name, t in drawn.items() if name.startswith("Droid-Sans-Fallback"))
    assert set(fallback) - set("\n ") == set(CJK_NAME), fallback
    assert not set(CJK_NAME) & set("".join(t for name, t in drawn.items() if name.startswith("Open-Sans")))
    # the name is drawn twice with the fallback: the heading (bold asked for, Droid has none) and the footer
    assert fallback.count(CJK_NAME) == 2, fallback


@pytest.mark.parametrize("case", ["accents", "long-name", "tier-b-internal"])
def test_latin_names_are_drawn_only_with_the_bundled_open_sans(rendered, case):
    drawn = text_by_font(PdfReader(io.BytesIO(rendered.pdfs[case])))
    assert _families(drawn) == {"Open-Sans"}, sorted(drawn)
    assert BY_NAME[case].row["partner_name"] in flat("".join(drawn.values()))


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_pages_look_like_the_reviewed_reference_images(rendered, case, tmp_path):
    pages = rasterise(rendered.pdfs[case], tmp_path, case)
    assert len(pages) == BY_NAME[case].pages
    numbered = {int(m.group(1)): p for p in REFERENCES.glob(f"{case}-*.png")
                if (m := re.fullmatch(re.escape(case) + r"-(\d+)\.png", p.name))}
    stale = sorted(p.name for k, p in numbered.items() if k > len(pages))
    missing = [k for k in range(1, len(pages) + 1) if not reference_path(case, k).exists()]
    if UPDATE or missing:
        if IN_CI and not UPDATE:
            pytest.fail(f"{case}: no reference image for page(s) {missing} in {REFERENCES}; generate them with "
                        "PSCORE_UPDATE_REFERENCES=1, look at them, and commit them")
        REFERENCES.mkdir(parents=True, exist_ok=True)
        for name in stale:
            (REFERENCES / name).unlink()
        for k, page in enumerate(pages, start=1):
            shutil.copyfile(page, reference_path(case, k))
        pytest.skip(f"{case}: reference image(s) {'re' if not missing else ''}generated in {REFERENCES}; "
                    "look at them before committing")
    assert not stale, f"{case}: reference images for pages the scorecard no longer has: {stale}"
    failures = []
    for k, page in enumerate(pages, start=1):
        with Image.open(page) as actual, Image.open(reference_path(case, k)) as reference:
            result = difference(actual, reference)
            if result.acceptable:
                continue
            diff = tmp_path / f"{case}-{k}.diff.png"
            diff_image(actual, reference).save(diff)
            size = "" if result.same_size else f" (size {actual.size}, reference {reference.size})"
            failures.append(f"page {k}: {result}{size}\n  actual: {page}\n  diff: {diff}\n"
                            f"  reference: {reference_path(case, k)}")
    assert not failures, f"{case} looks different from its reference:\n" + "\n".join(failures)


def test_tolerance_passes_faint_noise_but_not_a_moved_or_missing_block_or_another_partner(rendered, tmp_path):
    """Pins what the tolerance means, without the references: the page against itself and against a
    copy with scattered single-pixel noise passes; the content moved down by two text lines, one
    block (the next-steps list) painted out, or a similar partner's page (same scores, other name) fails."""
    pdftoppm()
    first = rasterise(rendered.pdfs["no-history"], tmp_path / "a", "no-history")[0]
    again = rasterise(rendered.pdfs["no-history"], tmp_path / "b", "no-history")[0]
    other = rasterise(rendered.pdfs["accents"], tmp_path / "c", "accents")[0]
    with Image.open(first) as a, Image.open(again) as b, Image.open(other) as c:
        a = a.convert("RGB")
        assert difference(b, a) == Difference(0.0, 0.0, 0.0, True)
        noisy = np.array(a)
        noisy[::23, ::17] = 255 - noisy[::23, ::17]  # 0.26% of the pixels, at most one in 17 per row
        assert difference(Image.fromarray(noisy), a).acceptable, difference(Image.fromarray(noisy), a)
        shifted = Image.new("RGB", a.size, "white")
        shifted.paste(a.crop((0, 0, a.width, a.height - 16)), (0, 16))
        assert not difference(shifted, a).acceptable, difference(shifted, a)
        blanked = a.copy()
        blanked.paste((255, 255, 255), (255, 380, 448, 410))  # the recommended action
        assert not difference(blanked, a).acceptable, difference(blanked, a)
        assert not difference(c, a).acceptable, difference(c, a)


# ---------------------------------------------------------------------------------------------- helpers

def text_by_font(reader: PdfReader) -> dict[str, str]:
    """The text drawn on every page, by the font it is drawn with (subset prefix dropped)."""
    drawn: dict[str, str] = {}

    def visit(text, cm, tm, font, size):
        if font is not None and text:
            name = str(font["/BaseFont"]).split("+")[-1]
            drawn[name] = drawn.get(name, "") + text

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return drawn


def _families(drawn: dict[str, str]) -> set[str]:
    """Font families from PDF font names: WeasyPrint names a synthesised bold "<family>-Bold"."""
    return {name.removesuffix("-Bold") for name in drawn}
