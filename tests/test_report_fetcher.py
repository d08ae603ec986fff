"""RestrictedFetcher: scorecards load their own files and data: URLs, nothing else.

Rendering tests go through real WeasyPrint, with the socket layer patched so that any
attempt to resolve a host or open a connection is recorded and fails.
"""

from __future__ import annotations

import base64
import io
import socket
from pathlib import Path

import pypdf
import pytest
import weasyprint
from PIL import Image
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reports.fetcher import RestrictedFetcher

HTTP_IMAGE = "http://127.0.0.1:9/x.png"
HTTPS_CSS = "https://example.com/a.css"


@pytest.fixture
def network(monkeypatch) -> list[object]:
    """Addresses anything tried to resolve or connect to during the test."""
    attempts: list[object] = []

    def getaddrinfo(host, *args, **kwargs):
        attempts.append(host)
        raise OSError("network disabled in tests")

    def connect(self, address):
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def tree(tmp_path) -> dict[str, Path]:
    """A root with a PNG and a stylesheet, a PNG outside it and a symlink leading out."""
    root = tmp_path / "templates"
    outside = tmp_path / "private"
    root.mkdir()
    outside.mkdir()
    png = root / "badge.png"
    secret = outside / "secret.png"
    Image.new("RGB", (4, 4), "red").save(png)
    Image.new("RGB", (4, 4), "blue").save(secret)
    (root / "style.css").write_text("p { color: green }")
    link = root / "link.png"
    link.symlink_to(secret)
    return {"root": root, "png": png, "secret": secret, "link": link}


def render(html: str, fetcher: URLFetcher, base: Path) -> list[str]:
    """Render ``html`` to a PDF and return the names of the images embedded in it."""
    pdf = weasyprint.HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher).write_pdf()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [image.name for page in reader.pages for image in page.images]


# --- rendering through WeasyPrint --------------------------------------------------


def test_image_inside_root_is_embedded(tree, network):
    fetcher = RestrictedFetcher([tree["root"]])
    images = render('<img src="badge.png"><p>ok</p>', fetcher, tree["root"])
    assert len(images) == 1
    assert fetcher.blocked == [] and network == []


def test_same_image_without_root_is_not_embedded(tree, network):
    fetcher = RestrictedFetcher([tree["root"] / "fonts"])
    assert render('<img src="badge.png">', fetcher, tree["root"]) == []
    assert fetcher.blocked == [tree["png"].as_uri()]


def test_network_urls_blocked_and_rendering_completes(tree, network):
    fetcher = RestrictedFetcher([tree["root"]])
    html = (
        f'<link rel="stylesheet" href="{HTTPS_CSS}">'
        f'<img src="{HTTP_IMAGE}"><img src="badge.png"><p>still rendered</p>'
    )
    images = render(html, fetcher, tree["root"])
    assert sorted(fetcher.blocked) == sorted([HTTP_IMAGE, HTTPS_CSS])
    assert len(images) == 1  # the allowed badge
    assert network == []


def test_default_fetcher_would_go_to_the_network(tree, network):
    """Control: the socket patch does see what an unrestricted fetcher attempts."""
    render(f'<img src="{HTTP_IMAGE}">', URLFetcher(), tree["root"])
    assert network


def test_file_outside_root_and_symlink_out_are_blocked(tree, network):
    fetcher = RestrictedFetcher([tree["root"]])
    html = (
        f'<img src="{tree["secret"].as_uri()}">'
        '<img src="link.png"><img src="../private/secret.png?v=2"><p>x</p>'
    )
    assert render(html, fetcher, tree["root"]) == []
    assert fetcher.blocked == [
        tree["secret"].as_uri(),
        tree["link"].as_uri(),
        tree["secret"].as_uri() + "?v=2",  # the relative URL, joined to the base URL
    ]


def test_explicit_file_outside_roots_is_allowed(tree, network):
    fetcher = RestrictedFetcher([tree["root"]], files=[tree["secret"]])
    images = render(f'<img src="{tree["secret"].as_uri()}">', fetcher, tree["root"])
    assert len(images) == 1 and fetcher.blocked == []


def test_data_url_image_is_embedded(tree, network):
    data = base64.b64encode(tree["png"].read_bytes()).decode()
    fetcher = RestrictedFetcher([])
    images = render(f'<img src="data:image/png;base64,{data}">', fetcher, tree["root"])
    assert len(images) == 1 and fetcher.blocked == []


def test_svg_in_data_url_cannot_reach_out(tree, network):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{HTTP_IMAGE}"/></svg>'
    data = base64.b64encode(svg.encode()).decode()
    fetcher = RestrictedFetcher([])
    render(f'<img src="data:image/svg+xml;base64,{data}">', fetcher, tree["root"])
    assert fetcher.blocked == [HTTP_IMAGE] and network == []


def test_css_object_uses_fetcher(tree, network):
    fetcher = RestrictedFetcher([tree["root"]])
    css = weasyprint.CSS(
        string=f'@import url("{HTTPS_CSS}"); @import url("style.css");'
        f' body {{ background: url("{HTTP_IMAGE}") }}',
        base_url=str(tree["root"]) + "/",
        url_fetcher=fetcher,
    )
    weasyprint.HTML(string="<p>x</p>", url_fetcher=fetcher).write_pdf(stylesheets=[css])
    assert sorted(fetcher.blocked) == sorted([HTTPS_CSS, HTTP_IMAGE])
    assert network == []


def test_css_from_url_inside_root(tree):
    fetcher = RestrictedFetcher([tree["root"]])
    weasyprint.CSS(url=(tree["root"] / "style.css").as_uri(), url_fetcher=fetcher)
    with pytest.raises(weasyprint.urls.URLFetchingError, match="blocked"):
        weasyprint.CSS(url=HTTPS_CSS, url_fetcher=fetcher)
    assert fetcher.blocked == [HTTPS_CSS]


# --- the fetcher on its own --------------------------------------------------------


def test_allowed_file_is_read_through_weasyprint(tree):
    fetcher = RestrictedFetcher([tree["root"]])
    response = fetcher((tree["root"] / "style.css").as_uri() + "?v=1#top")
    try:
        assert isinstance(response, URLFetcherResponse)
        assert response.read() == b"p { color: green }"
        assert response.content_type == "text/css"
    finally:
        response.close()


def test_root_given_through_a_symlink(tree, tmp_path):
    alias = tmp_path / "alias"
    alias.symlink_to(tree["root"], target_is_directory=True)
    fetcher = RestrictedFetcher([alias])
    fetcher(tree["png"].as_uri()).close()
    response = fetcher((alias / "badge.png").as_uri())
    response.close()
    assert response.url == tree["png"].as_uri()  # names the file that was checked and read
    assert fetcher.blocked == []


def test_data_url():
    response = RestrictedFetcher([])("data:text/plain;charset=utf-8,hello%20there")
    assert response.read() == b"hello there"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (HTTP_IMAGE, "fetch nothing from the network"),
        (HTTPS_CSS, "fetch nothing from the network"),
        ("HTTPS://EXAMPLE.COM/a.css", "fetch nothing from the network"),
        ("ftp://example.com/x", "fetch nothing from the network"),
        ("javascript:alert(1)", "fetch nothing from the network"),
        ("//example.com/x.png", "fetch nothing from the network"),
        ("http://[::1", "not a valid URL"),
        ("file://example.com/etc/passwd", "fetch nothing from the network"),
        ("file:///etc/passwd", "outside the scorecard templates"),
    ],
)
def test_refused_with_url_in_message(tree, network, url, reason):
    fetcher = RestrictedFetcher([tree["root"]])
    with pytest.raises(ValueError, match=reason) as refused:
        fetcher(url)
    assert str(refused.value).startswith("blocked: ")
    assert str(refused.value).endswith(f"({url})")
    assert fetcher.blocked == [url]
    assert network == []


@pytest.mark.parametrize(
    "path",
    [
        "{root}/../private/secret.png",
        "{root}/%2e%2e/private/secret.png",
        "{root}/link.png",
        "{root}-sibling/badge.png",  # a shared prefix is not "inside"
        "{root}/loop",
        "{root}/a%00b.png",
    ],
)
def test_file_escapes_refused(tree, path):
    (tree["root"] / "loop").symlink_to(tree["root"] / "loop")
    url = "file://" + path.format(root=tree["root"])
    fetcher = RestrictedFetcher([tree["root"]])
    with pytest.raises(ValueError, match="blocked"):
        fetcher(url)
    assert fetcher.blocked == [url]


def test_files_allow_exactly_those_files(tree):
    fetcher = RestrictedFetcher([], files=[tree["secret"]])
    fetcher(tree["secret"].as_uri()).close()
    with pytest.raises(ValueError, match="blocked"):
        fetcher((tree["secret"].parent / "other.png").as_uri())
    with pytest.raises(ValueError, match="blocked"):
        fetcher(tree["secret"].parent.as_uri())


def test_missing_file_inside_root_is_an_error_not_a_block(tree):
    fetcher = RestrictedFetcher([tree["root"]])
    with pytest.raises(OSError):
        fetcher((tree["root"] / "missing.png").as_uri())
    assert fetcher.blocked == []
