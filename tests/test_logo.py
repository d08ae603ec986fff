"""A scorecard logo is checked before any work: a real, readable PNG, JPEG or SVG, or a clear error."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from reports.render import LOGO_MAX_BYTES, RenderOptions, check_logo


def _raster(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), (31, 58, 95)).save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize("content, kind", [
    (_raster("PNG"), "PNG"),
    (_raster("JPEG"), "JPEG"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "SVG"),
    (b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n'
     b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
     b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>', "SVG"),
])
def test_images_are_recognised_whatever_their_name(tmp_path, content, kind):
    logo = tmp_path / "logo.bin"
    logo.write_bytes(content)
    assert check_logo(logo) == kind
    assert RenderOptions(logo=logo).logo == logo


@pytest.mark.parametrize("content, message", [
    (b"root:x:0:0:root:/root:/bin/bash\n", "the logo is not a PNG, JPEG or SVG image"),
    (b"", "the logo is not a PNG, JPEG or SVG image"),
    (b"<html><body><svg/></body></html>", "the logo is not a PNG, JPEG or SVG image"),
    (_raster("PNG")[:40], "the logo is not a readable PNG image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "the logo is not a readable JPEG image"),
])
def test_files_that_are_not_images_are_refused(tmp_path, content, message):
    logo = tmp_path / "logo.png"
    logo.write_bytes(content)
    with pytest.raises(ValueError, match=f"^{logo}: {message}"):
        RenderOptions(logo=logo)


def test_special_missing_and_oversized_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="logo file not found"):
        check_logo(tmp_path / "missing.png")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # reading it would hang: it is never opened
    with pytest.raises(ValueError, match="the logo is not a regular file"):
        check_logo(fifo)
    with pytest.raises(ValueError, match="the logo is not a regular file"):
        check_logo(tmp_path)
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.write(_raster("PNG"))
        handle.truncate(LOGO_MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ValueError, match=r"the logo is 10,485,761 bytes, more than the 10 MB a logo may be"):
        check_logo(huge)
