"""Scorecard contexts to PDF bytes: Jinja2 for the HTML, WeasyPrint for the pages.

Writing a PDF costs far more than laying it out (WeasyPrint subsets the fonts for every file), so
a chunk of partners is laid out and written as one document, then split into one PDF per partner
with pypdf. Page numbers restart per partner through CSS page groups; a partner whose scorecard
runs onto a second page is found after layout and the chunk is laid out again with its page count.
Tagged (accessible) PDFs keep their structure tree only when written whole, so ``accessible``
writes each partner's pages as its own document instead.
"""

from __future__ import annotations

import base64
import contextlib
import html
import datetime as dt
import io
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import jinja2
from markupsafe import Markup, escape
from pypdf import PdfReader, PdfWriter
from pypdf.generic import BooleanObject, DictionaryObject, NameObject, StreamObject, TextStringObject

from scoring.benchmarks import MIN_SEGMENT_SIZE

from .fetcher import RestrictedFetcher
from .scorecard import Audience

Paper = Literal["A4", "Letter"]
PAPERS: tuple[Paper, ...] = ("A4", "Letter")
TEMPLATE = "scorecard.html.j2"
LANG = "en"


@dataclass(frozen=True)
class RenderOptions:
    """How scorecards are printed; validated on creation so a bad option fails before any work."""

    audience: Audience = "partner"
    paper: Paper = "A4"
    accessible: bool = False
    author: str = "pscore"
    logo: Path | None = None
    extra_files: tuple[Path, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise ValueError(f"unknown paper size '{self.paper}' (choose {' or '.join(PAPERS)})")
        if self.logo is not None and not Path(self.logo).is_file():
            raise ValueError(f"{self.logo}: logo file not found")


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
                       isodate=fmt_isodate, svg_image=svg_image,
                       layer_values=lambda layer: f"{fmt_score(layer['revenue'])} / {fmt_score(layer['engagement'])}")
    return env


def render_html(cards: Sequence[dict[str, Any]], options: RenderOptions, model_spec) -> str:
    """The HTML of one document holding ``cards`` in order (charts are trusted SVG from reports.charts)."""
    first = cards[0]
    tiers = sorted(model_spec.tiers, key=lambda t: -t.min_score)
    tier_rule = ", ".join(f"{t.id} at {t.min_score:g}+" for t in tiers if t.min_score > 0)
    lowest = tiers[-1].id if tiers else ""
    return environment().get_template(TEMPLATE).render(
        cards=cards, lang=LANG, paper=options.paper, author=options.author,
        title=_title(first) if len(cards) == 1 else "Partner scorecards",
        subject=_subject(first), baseline=f"{model_spec.drivers.baseline:g}", min_segment=MIN_SEGMENT_SIZE,
        metric_count=len(model_spec.metrics), thresholds=any(t.min_score > 0 for t in tiers), tier_rule=f"composite score {tier_rule}, otherwise {lowest}.",
        logo=options.logo.resolve().as_uri() if options.logo else None,
    )


def render_pdfs(cards: Sequence[dict[str, Any]], options: RenderOptions, model_spec) -> list[bytes]:
    """One PDF per card, in order. Same cards and options give the same bytes."""
    from weasyprint import HTML  # imported on first render: the scoring side never pays for it

    fetcher = RestrictedFetcher([templates_dir()], [p for p in (options.logo, *options.extra_files) if p])
    cards = [dict(c, pages=c.get("pages", 1)) for c in cards]
    html = render_html(cards, options, model_spec)
    document = HTML(string=html, base_url=str(templates_dir()) + "/", url_fetcher=fetcher).render()
    if fetcher.blocked:
        raise ValueError("the scorecard template asked for files outside pscore: " + ", ".join(fetcher.blocked))
    ranges = _page_ranges(document, len(cards))
    longer = [i for i, ((start, end), card) in enumerate(zip(ranges, cards)) if end - start != card["pages"]]
    if not longer:
        return _write(document, cards, ranges, options)
    # A scorecard ran longer than its footer said ("Page 1 of 1"): lay out only those again with
    # their real page count, and keep the rest of the chunk as it is.
    if any(card["pages"] != 1 for card in cards):
        raise RuntimeError("scorecard page count did not settle")
    again = render_pdfs([dict(cards[i], pages=ranges[i][1] - ranges[i][0]) for i in longer], options, model_spec)
    keep = [i for i in range(len(cards)) if i not in set(longer)]
    out: list[bytes | None] = [None] * len(cards)
    for i, pdf in zip(longer, again):
        out[i] = pdf
    if keep:
        pages = [page for i in keep for page in document.pages[ranges[i][0]:ranges[i][1]]]
        starts = [sum(ranges[j][1] - ranges[j][0] for j in keep[:k]) for k in range(len(keep))]
        kept_ranges = [(start, start + ranges[i][1] - ranges[i][0]) for start, i in zip(starts, keep)]
        for i, pdf in zip(keep, _write(document.copy(pages), [cards[i] for i in keep], kept_ranges, options)):
            out[i] = pdf
    return [pdf for pdf in out if pdf is not None]


def _write(document, cards: Sequence[dict[str, Any]], ranges: Sequence[tuple[int, int]],
           options: RenderOptions) -> list[bytes]:
    """The laid-out ``document`` as one PDF per card (``ranges`` are each card's pages)."""
    stamp = _stamp(cards[0]["model"]["as_of"])
    document.metadata.created = document.metadata.modified = stamp
    document.metadata.authors = [options.author]
    document.metadata.description = _subject(cards[0])
    document.metadata.generator = "pscore"
    with _source_date(cards[0]["model"]["as_of"]):
        if options.accessible:
            out = []
            for card, (start, end) in zip(cards, ranges):
                document.metadata.title = _title(card)
                out.append(document.copy(document.pages[start:end]).write_pdf(pdf_variant="pdf/ua-1"))
            return out
        document.metadata.title = "Partner scorecards"
        pdf = document.write_pdf()
    return split(pdf, ranges, cards, options, stamp)


def split(pdf: bytes, ranges: Sequence[tuple[int, int]], cards: Sequence[dict[str, Any]], options: RenderOptions,
          stamp: str) -> list[bytes]:
    """Cut a chunk's PDF into one file per card, each with its own title.

    WeasyPrint gives every page of a document the same resource dictionary, so a page copied as is
    would carry every chunk-mate's charts and fonts: resources are first cut down to what the
    page's own drawing refers to, and no other partner's data can travel in the file.
    """
    reader = PdfReader(io.BytesIO(pdf))
    date = "D:" + stamp.replace("-", "").replace("T", "").replace(":", "").replace("Z", "") + "Z"
    out = []
    for card, (start, end) in zip(cards, ranges):
        writer = PdfWriter()
        for k in range(start, end):
            page = reader.pages[k]
            _keep_used_resources(page, page.get_contents().get_data())
            writer.add_page(page)
        writer.add_metadata({"/Title": _title(card), "/Author": options.author, "/Subject": _subject(card),
                             "/Creator": "pscore", "/Producer": "pscore (WeasyPrint, pypdf)",
                             "/CreationDate": date, "/ModDate": date})
        writer._root_object[NameObject("/Lang")] = TextStringObject(LANG)
        writer._root_object[NameObject("/ViewerPreferences")] = DictionaryObject(
            {NameObject("/DisplayDocTitle"): BooleanObject(True)})
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
_NAMED = ("/XObject", "/Font", "/ExtGState", "/Pattern", "/Shading", "/ColorSpace", "/Properties")


def _keep_used_resources(holder, content: bytes) -> None:
    """Give ``holder`` (a page, form or pattern) its own resources holding only the names its
    ``content`` uses, recursively for the forms and patterns it keeps."""
    resources = holder.get("/Resources")
    if resources is None:
        return
    resources = resources.get_object()
    used = {name.decode("latin-1") for name in _NAME.findall(content)}
    pruned = DictionaryObject()
    for category, entries in resources.items():
        entries = entries.get_object()
        if category in _NAMED and isinstance(entries, DictionaryObject):
            entries = DictionaryObject({key: value for key, value in entries.items() if key[1:] in used})
            if category in ("/XObject", "/Pattern"):
                for value in entries.values():
                    inner = value.get_object()
                    if isinstance(inner, StreamObject) and "/Resources" in inner:
                        _keep_used_resources(inner, inner.get_data())
        pruned[NameObject(category)] = entries
    holder[NameObject("/Resources")] = pruned


def _page_ranges(document, n: int) -> list[tuple[int, int]]:
    """(first, end) page of each card, from the ``card-<i>`` anchor on the page where it starts."""
    starts = [-1] * n
    for k, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("card-"):
                i = int(anchor[5:])
                if starts[i] < 0:
                    starts[i] = k
    if min(starts, default=0) < 0:
        raise RuntimeError("a scorecard did not appear in the laid-out document")
    ends = [*starts[1:], len(document.pages)]
    return list(zip(starts, ends))


@contextlib.contextmanager
def _source_date(as_of: dt.date) -> Iterator[None]:
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
