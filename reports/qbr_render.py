"""QBR packs to PDF bytes: each pack is a document of its own (its pages are numbered "Page X of
Y" by the document), laid out with the scorecard's environment, filters, fonts, restricted fetcher
and reproducibility rules (:mod:`reports.render`). Layout only: every word comes from the pack.
"""

from __future__ import annotations

from typing import Any, Sequence

from reports import render
from reports.fetcher import RestrictedFetcher
from reports.render import RenderOptions

TEMPLATES = {"partner": "qbr_partner.html.j2", "programme": "qbr_programme.html.j2"}


def title(pack: dict[str, Any]) -> str:
    if pack["kind"] == "programme":
        return f"Programme QBR pack: {pack['quarter']}"
    partner = pack["partner"]
    return f"QBR pack: {partner['name']} ({partner['id']}), {pack['quarter']}"


def subject(pack: dict[str, Any]) -> str:
    who = "internal" if pack["audience"] == "internal" else "for the partner"
    model = pack["model"]
    return (f"Quarterly business review {pack['quarter']}, {who}; as of {model['as_of'].isoformat()}; "
            f"model {model['label']} ({model['hash']})")


def render_html(pack: dict[str, Any], options: RenderOptions) -> str:
    return render.environment().get_template(TEMPLATES[pack["kind"]]).render(
        pack=pack, lang=render.LANG, paper=options.paper, author=options.author, title=title(pack),
        subject=subject(pack), logo=options.logo.resolve().as_uri() if options.logo else None)


def render_packs(packs: Sequence[dict[str, Any]], options: RenderOptions) -> list[bytes]:
    """One PDF per pack, in order; the same packs and options give the same bytes."""
    with render._collect_once():
        return [_render_one(pack, options) for pack in packs]


def _render_one(pack: dict[str, Any], options: RenderOptions) -> bytes:
    from weasyprint import HTML  # imported on first render

    fetcher = RestrictedFetcher([render.templates_dir()], [options.logo] if options.logo else [])
    html = render_html(pack, options)
    document = HTML(string=html, base_url=str(render.templates_dir()) + "/", url_fetcher=fetcher).render()
    if fetcher.blocked:
        raise ValueError("the QBR template asked for files outside pscore: " + ", ".join(fetcher.blocked))
    as_of = pack["model"]["as_of"]
    document.metadata.created = document.metadata.modified = render._stamp(as_of)
    document.metadata.authors = [options.author]
    document.metadata.generator = "pscore"
    document.metadata.title = title(pack)
    document.metadata.description = subject(pack)
    variant = {"pdf_variant": "pdf/ua-1"} if options.accessible else {}
    with render.source_date(as_of):
        return document.write_pdf(**variant)
