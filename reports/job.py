"""The scorecard batch that ``pscore report scorecards`` and the Excel macro run: choose the
partners, build their cards, write one PDF each into a folder.

It takes plain data (:class:`Inputs`: a score result and the tables read with it), not a workbook,
so any adapter that can read partners calls it the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from scoring import ScoreResult, cells
from scoring.history import score_history, since_snapshot
from scoring.quality import Record

from reports import card
from reports.batch import CHUNK_SIZE, Render, render_all
from reports.filenames import scorecard_names
from reports.files import atomic_write
from reports.render import RenderOptions, render_pdfs

__all__ = ["Inputs", "ReportError", "Summary", "build_cards", "select", "write_documents", "write_scorecards"]


class ReportError(ValueError):
    """A batch that cannot be made as asked: an unknown partner or tier, an output that is not a folder."""


@dataclass(frozen=True)
class Inputs:
    """What a batch of scorecards is made from: the scored partners and the tables read with them
    (canonical column names, as the workbook reader gives them)."""

    result: ScoreResult
    partners: pd.DataFrame  # the scored rows, same order as ``result``: onboarding start, region, owner
    history: pd.DataFrame | None = None  # partner_id, period, metric columns: the score trajectory
    milestones: pd.DataFrame | None = None  # partner_id, milestone, date
    interventions: pd.DataFrame | None = None  # partner_id, action, date, status, notes (internal)
    #: the partner sheet's data-quality records, one per cell (scoring.quality.records with
    #: fold_absent=False); None: the scorecard's own flags alone
    quality: Sequence[Record] | None = None
    source: str = ""  # where the partners were read from, named in messages


@dataclass
class Summary:
    """What a batch wrote and what it could not."""

    written: list[Path] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (partner, reason)


def select(inputs: Inputs, partner_ids: Sequence[str] = (), tiers: Sequence[str] = ()) -> list[int]:
    """Row positions of the partners asked for (all by default), in sheet order.

    An unknown partner ID or tier is an error naming it, rather than a silently shorter batch.
    """
    result = inputs.result
    ids = np.array([cells.text(v)[0] or "" for v in result["partner_id"]], dtype=object)
    keep = np.ones(len(ids), dtype=bool)
    if partner_ids:
        wanted = [p.strip() for p in partner_ids if p.strip()]
        unknown = sorted(set(wanted) - set(ids))
        if unknown:
            raise ReportError(f"{inputs.source}: no partner with ID {', '.join(unknown)} on the partner sheet")
        keep &= np.isin(ids, wanted)
    if tiers:
        known = [t.id for t in result.model.spec.tiers] + ["Unscored"]
        lookup = {t.lower(): t for t in known}
        bad = [t for t in tiers if t.lower() not in lookup]
        if bad:
            raise ReportError(f"unknown tier {', '.join(bad)} (the model's tiers: {', '.join(known)})")
        keep &= np.isin(np.asarray(result["tier"], dtype=object), [lookup[t.lower()] for t in tiers])
    positions = np.flatnonzero(keep).tolist()
    if not positions:
        raise ReportError(f"{inputs.source}: no partner matches the selection")
    return positions


def build_cards(inputs: Inputs, positions: Sequence[int], audience: str) -> list[dict]:
    """Scorecard cards for the partners at ``positions``, with history, milestones and notes.

    History is scored for the selected partners only: a handful of cards from a large workbook
    should not pay for everyone's trajectory.
    """
    result = inputs.result
    ids = set(np.asarray(result["partner_id"], dtype=object)[list(positions)].astype(str))
    history = changes = None  # changes: why each score moved since the snapshot its trend compares with
    if inputs.history is not None and "period" in inputs.history:
        frame = inputs.history
        mine = frame[frame["partner_id"].astype(str).isin(ids)]
        history = score_history(mine, inputs.partners, result.model)
        changes = since_snapshot(mine, inputs.partners.iloc[list(positions)], result.model, result.as_of)
    extras = card.Extras(history_scores=history, milestones=inputs.milestones, interventions=inputs.interventions,
                         quality=inputs.quality, changes=changes)
    return card.build(result, positions, audience, extras, partners=inputs.partners)


def write_scorecards(cards: Sequence[dict], out_dir: "str | os.PathLike[str]", options: RenderOptions, *,
                     progress: Callable[[int], None] = lambda n: None, workers: int | None = None) -> Summary:
    """Render ``cards`` and write one PDF per partner into ``out_dir`` (created if needed).

    Files are written atomically under names made from partner ID and name; one partner that
    fails is listed in the summary while the rest are written.
    """
    return write_documents(cards, out_dir, options, "scorecard", progress=progress, workers=workers)


def write_documents(documents: Sequence[dict], out_dir: "str | os.PathLike[str]", options: RenderOptions,
                    what: str, *, progress: Callable[[int], None] = lambda n: None, workers: int | None = None,
                    chunk_size: int = CHUNK_SIZE, render: Render = render_pdfs) -> Summary:
    """Render one PDF per partner's document (a scorecard, a QBR pack: ``what`` names it in messages)
    in parallel with ``render`` and write each atomically into ``out_dir`` under the partner's safe
    file name; a document without a partner ID, or that fails, is listed while the rest are written."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    named = [d for d in documents if d["partner"]["id"]]
    for d in documents:
        if not d["partner"]["id"]:  # its file name and every sheet match a partner by its ID
            summary.failures.append((f"row {d['partner']['row']} ({d['partner']['name']})",
                                     f"no partner_id; give the partner an ID to get its {what}"))
            progress(1)
    names = scorecard_names([(d["partner"]["id"], d["partner"]["name"]) for d in named])
    for done in render_all(named, options, workers=workers, chunk_size=chunk_size, render=render):
        d = named[done.index]
        if done.pdf is None:
            summary.failures.append((f"{d['partner']['id']} ({d['partner']['name']})", done.error or "failed"))
        else:
            path = out_dir / names[done.index]
            atomic_write(path, lambda tmp, pdf=done.pdf: tmp.write_bytes(pdf))
            summary.written.append(path)
        progress(1)
    summary.written.sort()
    return summary
