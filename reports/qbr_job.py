"""The QBR batch that ``pscore report qbr`` and the Excel macro run: a programme pack to one file,
one partner's pack to one file, or many partners' packs into a folder -- with the scorecards' parallel
chunks (:mod:`reports.batch`), safe file names (:mod:`reports.filenames`) and atomic writes
(:mod:`reports.files`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from reports import qbr, qbr_programme
from reports.batch import render_all
from reports.filenames import scorecard_names
from reports.files import atomic_write
from reports.job import ReportError, Summary
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
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    named = [p for p in packs if p["partner"]["id"]]
    for p in packs:
        if not p["partner"]["id"]:
            summary.failures.append((f"row {p['partner']['row']} ({p['partner']['name']})",
                                     "no partner_id; give the partner an ID to get its pack"))
            progress(1)
    names = scorecard_names([(p["partner"]["id"], p["partner"]["name"]) for p in named])
    for done in render_all(named, options, workers=workers, chunk_size=PACK_CHUNK, render=render_packs):
        p = named[done.index]
        if done.pdf is None:
            summary.failures.append((f"{p['partner']['id']} ({p['partner']['name']})", done.error or "failed"))
        else:
            path = out_dir / names[done.index]
            atomic_write(path, lambda tmp, pdf=done.pdf: tmp.write_bytes(pdf))
            summary.written.append(path)
        progress(1)
    summary.written.sort()
    return summary


def _pdf_path(output: "str | os.PathLike[str]") -> Path:
    output = Path(output)
    if output.suffix.lower() != ".pdf":
        raise ReportError(f"{output}: a pack is one PDF file; give -o a name ending in .pdf")
    if output.is_dir():
        raise ReportError(f"{output}: is a folder; give -o a file name ending in .pdf")
    return output
