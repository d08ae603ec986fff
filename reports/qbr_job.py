"""The QBR batch that ``pscore report qbr`` and the Excel macro run: a programme pack to one file,
one partner's pack to one file, or many partners' packs into a folder -- with the scorecards' parallel
chunks (:mod:`reports.batch`), safe file names (:mod:`reports.filenames`) and atomic writes
(:mod:`reports.files`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from reports import qbr, qbr_programme
from reports.files import atomic_write
from reports.job import ReportError, Summary, write_documents
from reports.qbr_render import render_packs
from reports.render import RenderOptions

__all__ = ["PACK_CHUNK", "write_pack", "write_packs", "write_programme"]

#: Packs per worker task: each pack is a document of its own, so chunks only spread the work.
PACK_CHUNK = 4


def write_programme(review: qbr.Review, output: "str | os.PathLike[str]", options: RenderOptions) -> Path:
    """The programme pack as one PDF at ``output``."""
    output = _pdf_path(output)
    pack = qbr_programme.build_programme(review)
    pdf = render_packs([pack], options)[0]
    return atomic_write(output, lambda tmp: tmp.write_bytes(pdf))


def write_pack(review: qbr.Review, position: int, audience: str, output: "str | os.PathLike[str]",
               options: RenderOptions) -> Path:
    """One partner's pack as one PDF at ``output``."""
    output = _pdf_path(output)
    pack = qbr.build_packs(review, [position], audience)[0]
    if not pack["partner"]["id"]:
        raise ReportError(f"row {pack['partner']['row']} has no partner_id; give the partner an ID to get its pack")
    pdf = render_packs([pack], options)[0]
    return atomic_write(output, lambda tmp: tmp.write_bytes(pdf))


def write_packs(packs: Sequence[dict[str, Any]], out_dir: "str | os.PathLike[str]", options: RenderOptions, *,
                progress: Callable[[int], None] = lambda n: None, workers: int | None = None) -> Summary:
    """Render ``packs`` in parallel and write one PDF per partner into ``out_dir``, named as the
    scorecards are (``<ID>_<name>.pdf``); a pack that fails is listed while the rest are written."""
    return write_documents(packs, out_dir, options, "pack", progress=progress, workers=workers,
                           chunk_size=PACK_CHUNK, render=render_packs)


def _pdf_path(output: "str | os.PathLike[str]") -> Path:
    output = Path(output)
    if output.suffix.lower() != ".pdf":
        raise ReportError(f"{output}: a pack is one PDF file; give -o a name ending in .pdf")
    if output.is_dir():
        raise ReportError(f"{output}: is a folder; give -o a file name ending in .pdf")
    return output
