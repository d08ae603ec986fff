"""A WeasyPrint URL fetcher that fetches nothing from the network.

Scorecards are rendered from templates filled with partner data. A URL that slips into
the HTML or CSS (an <img> in a field, a stylesheet import) must not make the renderer
call out (tracking, SSRF against internal hosts, hanging on timeouts) nor copy an
arbitrary local file into a PDF that gets mailed out. Only the package's own templates
and fonts, files the user named explicitly (a logo) and inline ``data:`` URLs load.

WeasyPrint 70 only takes a :class:`weasyprint.urls.URLFetcher` instance as
``url_fetcher`` (function fetchers returning dicts are gone: it asserts the result is a
``URLFetcherResponse`` and reads ``_fail_on_errors`` from the fetcher), so this
subclasses it and overrides ``fetch``. WeasyPrint turns a refused fetch into a logged
warning and renders on, so refusals are also kept in :attr:`RestrictedFetcher.blocked`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse


class RestrictedFetcher(URLFetcher):
    """Fetch ``data:`` URLs and ``file:`` URLs inside ``roots`` or equal to one of ``files``.

    Paths are compared after resolving symlinks and '..', so a symlink in a root that
    points outside it is refused. Pass an instance as ``url_fetcher`` to
    ``weasyprint.HTML`` and ``weasyprint.CSS``.
    """

    def __init__(self, roots: Sequence[Path], files: Sequence[Path] = ()) -> None:
        super().__init__()
        self.roots = tuple(Path(root).resolve() for root in roots)
        self.files = frozenset(Path(file).resolve() for file in files)
        #: URLs refused so far, in order, for the caller to report.
        self.blocked: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Fetch ``url`` with WeasyPrint's fetcher if allowed, else raise ``ValueError``."""
        try:
            parts = urlsplit(url)
        except ValueError:  # malformed, e.g. "http://[::1"
            self._refuse(url, "not a valid URL")
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            self._refuse(url, "scorecards fetch nothing from the network")
        try:
            path = Path(url2pathname(parts.path)).resolve()
        except (OSError, RuntimeError, ValueError):  # symlink loop, embedded NUL
            self._refuse(url, "unresolvable file path")
        if path not in self.files and not any(path.is_relative_to(root) for root in self.roots):
            self._refuse(url, f"{path} is outside the scorecard templates and the given files")
        # Fetch the path that was checked, not a re-parse of the URL.
        return super().fetch(path.as_uri(), headers)

    def _refuse(self, url: str, reason: str) -> NoReturn:
        self.blocked.append(url)
        raise ValueError(f"blocked: {reason} ({url})")
