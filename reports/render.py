"""Scorecard cards to PDF bytes: Jinja2 for the HTML, WeasyPrint for the pages; layout only, every
word and figure comes from the cards (:mod:`reports.card`).

Parsing the stylesheet and loading fonts cost the same for one scorecard as for twenty, so a chunk
of partners is laid out as one document; each partner's pages are then written as a PDF of their
own (with HarfBuzz, subsetting the fonts per file is cheap). Page numbers restart per partner
through CSS page groups; a partner whose scorecard runs onto a second page is found after layout
and laid out again on its own with its real page count.
"""

from __future__ import annotations

import base64
import contextlib
import html
import datetime as dt
import gc
import math
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import jinja2
from markupsafe import Markup, escape

from reports.fetcher import RestrictedFetcher

Paper = Literal["A4", "Letter"]
PAPERS: tuple[Paper, ...] = ("A4", "Letter")
TEMPLATE = "scorecard.html.j2"
LANG = "en"


@dataclass(frozen=True)
class RenderOptions:
    """How scorecards are printed (who they are for is part of each card); validated on creation so
    a bad option fails before any work."""

    paper: Paper = "A4"
    accessible: bool = False
    author: str = "pscore"
    logo: Path | None = None

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"unknown paper size '{self.paper}' (choose {' or '.join(PAPERS)})")
        if self.logo is not None:
            check_logo(Path(self.logo))


LOGO_MAX_BYTES = 10 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_SVG_START = re.compile(rb"\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>\s*)*<(svg:)?svg[\s>/]",
                        re.DOTALL | re.IGNORECASE)


def check_logo(path: Path) -> str:
    """The logo's format ("PNG", "JPEG" or "SVG"), or a ``ValueError`` saying what is wrong with it.

    WeasyPrint leaves out an image it cannot load without a word, so the logo is checked once,
    before any work: a regular file of at most :data:`LOGO_MAX_BYTES`, recognised from its first
    bytes (never read whole unless it is a raster image, which Pillow then checks through).
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ValueError(f"{path}: logo file not found") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the logo: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path}: the logo is not a regular file; give a PNG, JPEG or SVG image")
    if info.st_size > LOGO_MAX_BYTES:
        raise ValueError(f"{path}: the logo is {info.st_size:,} bytes, more than the {LOGO_MAX_BYTES // 2**20} MB "
                         "a logo may be")
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the logo: {exc.strerror or exc}") from None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "PNG"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "JPEG"
    elif _SVG_START.match(head.removeprefix(b"\xef\xbb\xbf")):
        return "SVG"
    else:
        raise ValueError(f"{path}: the logo is not a PNG, JPEG or SVG image")
    from PIL import Image  # WeasyPrint's own image library

    try:
        with Image.open(path, formats=[kind]) as image:
            image.verify()
    except Exception as exc:  # Pillow raises many types for a damaged file
        raise ValueError(f"{path}: the logo is not a readable {kind} image ({exc})") from None
    return kind


def templates_dir() -> Path:
    """The installed ``templates`` package: templates, CSS and fonts, the only files a render may read."""
    return Path(str(resources.files("templates")))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Autoescaping on for every template: partner names and notes are data, never markup."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.filters.update(score=fmt_score, signed=fmt_signed, percent=fmt_percent, money=fmt_money,
                       ordinal=fmt_ordinal, months=fmt_months, longdate=fmt_longdate, shortdate=fmt_shortdate,
                       isodate=fmt_isodate, number=fmt_number, svg_image=svg_image,
                       layer_values=lambda layer: f"{fmt_score(layer['revenue'])} / {fmt_score(layer['engagement'])}")
    return env


def render_html(cards: Sequence[dict[str, Any]], options: RenderOptions) -> str:
    """The HTML of one document holding ``cards`` in order (charts are trusted SVG from reports.charts).

    Everything a scorecard says comes from its card (:mod:`reports.card`); this only adds how it is printed.
    """
    first = cards[0]
    return environment().get_template(TEMPLATE).render(
        cards=cards, lang=LANG, paper=options.paper, author=options.author,
        title=_title(first) if len(cards) == 1 else "Partner scorecards", subject=_subject(first),
        logo=options.logo.resolve().as_uri() if options.logo else None,
    )


def render_pdfs(cards: Sequence[dict[str, Any]], options: RenderOptions) -> list[bytes]:
    """One PDF per card, in order. Same cards and options give the same bytes."""
    with _collect_once():
        return _render_pdfs(cards, options)


@contextlib.contextmanager
def _collect_once() -> Iterator[None]:
    """Hold Python's cycle collector while a chunk is laid out and written, then collect once.

    Layout allocates hundreds of thousands of objects; the collector kept re-scanning them and
    took a fifth of the rendering time. Everything the chunk allocated is still in the youngest
    generation, so collecting that generation alone frees the chunk's garbage without walking the
    rest of the process's heap.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(0)


def _render_pdfs(cards: Sequence[dict[str, Any]], options: RenderOptions) -> list[bytes]:
    from weasyprint import HTML  # imported on first render: the scoring side never pays for it

    fetcher = RestrictedFetcher([templates_dir()], [options.logo] if options.logo else [])
    cards = [dict(c, pages=c.get("pages", 1)) for c in cards]
    html = render_html(cards, options)
    document = HTML(string=html, base_url=str(templates_dir()) + "/", url_fetcher=fetcher).render()
    if fetcher.blocked:
        raise ValueError("the scorecard template asked for files outside pscore: " + ", ".join(fetcher.blocked))
    ranges = _page_ranges(document, len(cards))
    longer = [i for i, ((start, end), card) in enumerate(zip(ranges, cards)) if end - start != card["pages"]]
    if not longer:
        return _write(document, cards, ranges, options)
    # A scorecard ran longer than its footer said ("Page 1 of 1"): lay out only those again with
    # their real page count; the others are written from this layout as they are.
    if any(card["pages"] != 1 for card in cards):
        raise RuntimeError("scorecard page count did not settle")
    keep = [i for i in range(len(cards)) if i not in longer]
    out = dict(zip(keep, _write(document, [cards[i] for i in keep], [ranges[i] for i in keep], options))) if keep else {}
    again = [dict(cards[i], pages=ranges[i][1] - ranges[i][0]) for i in longer]
    out.update(zip(longer, _render_pdfs(again, options)))
    return [out[i] for i in range(len(cards))]


def _write(document, cards: Sequence[dict[str, Any]], ranges: Sequence[tuple[int, int]],
           options: RenderOptions) -> list[bytes]:
    """The laid-out ``document`` as one PDF per card (``ranges`` are each card's pages).

    Each file is written from its own pages only, so it holds its own fonts (subset to its own
    glyphs) and drawings, nothing of its chunk-mates, and its bytes do not depend on them.
    """
    stamp = _stamp(cards[0]["model"]["as_of"])
    document.metadata.created = document.metadata.modified = stamp
    document.metadata.authors = [options.author]
    document.metadata.generator = "pscore"
    variant = {"pdf_variant": "pdf/ua-1"} if options.accessible else {}
    out = []
    with source_date(cards[0]["model"]["as_of"]):
        for card, (start, end) in zip(cards, ranges):
            document.metadata.title = _title(card)
            document.metadata.description = _subject(card)
            out.append(document.copy(document.pages[start:end]).write_pdf(**variant))
    return out


def _page_ranges(document, n: int) -> list[tuple[int, int]]:
    """(first, end) page of each card: a card starts on the page holding its name, the only
    first-level heading (bookmark) of a scorecard. Element ids would do too, but they end up as
    named destinations in the PDF and would make a file depend on its place in the chunk."""
    starts = [k for k, page in enumerate(document.pages) if any(level == 1 for level, *_ in page.bookmarks)]
    if len(starts) != n:
        raise RuntimeError(f"{n} scorecards laid out as {len(starts)} headed pages")
    return list(zip(starts, [*starts[1:], len(document.pages)]))


def document_pdf(template: str, context: dict[str, Any], *, as_of: dt.date, title: str, author: str = "pscore") -> bytes:
    """One report (monitoring, scenario, experiment read-out) rendered from ``template`` with
    ``context``: the scorecards' Jinja2 environment, a fetcher that reaches nothing outside pscore's
    templates, and metadata and fonts stamped with ``as_of``, so the same input gives the same bytes."""
    from weasyprint import HTML  # imported on first render

    html = environment().get_template(template).render(**context)
    fetcher = RestrictedFetcher([templates_dir()])
    document = HTML(string=html, base_url=str(templates_dir()) + "/", url_fetcher=fetcher).render()
    if fetcher.blocked:
        raise ValueError(f"the template {template} asked for files outside pscore: " + ", ".join(fetcher.blocked))
    document.metadata.created = document.metadata.modified = _stamp(as_of)
    document.metadata.title, document.metadata.authors, document.metadata.generator = title, [author], "pscore"
    with source_date(as_of):
        return document.write_pdf()


@contextlib.contextmanager
def source_date(as_of: dt.date) -> Iterator[None]:
    """Font subsetting stamps the embedded fonts with the time of writing unless SOURCE_DATE_EPOCH
    (the reproducible-builds convention fontTools follows) says otherwise: pin it to the scoring date."""
    epoch = str(int(dt.datetime.combine(as_of, dt.time(), dt.timezone.utc).timestamp()))
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def _title(card: dict[str, Any]) -> str:
    partner = card["partner"]
    return f"Partner scorecard: {partner['name']} ({partner['id']})"


def _subject(card: dict[str, Any]) -> str:
    who = "internal" if card["audience"] == "internal" else "for the partner"
    model = card["model"]
    return f"Partner onboarding scorecard, {who}; as of {model['as_of'].isoformat()}; model {model['label']} ({model['hash']})"


def _stamp(as_of: dt.date) -> str:
    """The documents' creation date: the scoring date, so re-rendering the same data gives the same bytes."""
    return f"{as_of.isoformat()}T00:00:00Z"


def svg_image(svg: str, css_class: str = "") -> Markup:
    """A chart as an ``<img>`` holding its SVG in a ``data:`` URL: still vector in the PDF, but parsed
    by a plain XML parser and kept out of the HTML style cascade -- inline ``<svg>`` elements are
    tokenised and styled one by one, which cost more than the rest of a scorecard."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    alt = escape(_svg_title(svg))
    return Markup(f'<img class="{escape(css_class)}" alt="{alt}" src="data:image/svg+xml;base64,{data}">')


def _svg_title(svg: str) -> str:
    start = svg.find("<title>")
    end = svg.find("</title>", start)
    return html.unescape(svg[start + 7:end]) if 0 <= start < end else ""


# ------------------------------------------------------------------ number and date formats


def _none(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: float | None) -> str:
    """A model figure as written in the model: ``50``, ``0.5``."""
    return "–" if _none(value) else f"{value:g}"


def fmt_score(value: float | None) -> str:
    return "–" if _none(value) else f"{value:.1f}"


def fmt_signed(value: float | None) -> str:
    if _none(value):
        return "–"
    return f"+{value:.1f}" if value > 0 else (f"−{-value:.1f}" if value < 0 else "±0.0")


def fmt_percent(value: float | None) -> str:
    return "–" if _none(value) else f"{value * 100:.0f}%"


def fmt_money(value: float | None) -> str:
    return "–" if _none(value) else f"{value:,.0f}"


def fmt_ordinal(value: float | None) -> str:
    if _none(value):
        return "–"
    n = int(round(value))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_months(value: float | None) -> str:
    return "–" if _none(value) else f"{max(value, 0.0):.1f}"


def fmt_longdate(value: dt.date | None) -> str:
    return "" if value is None else f"{value.day} {value:%B %Y}"


def fmt_shortdate(value: dt.date | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


def fmt_isodate(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()
