"""PDF scorecards from a partner workbook: select partners, gather their sheets, write one PDF each.

The ``pscore report scorecards`` command and the Excel macro both call :func:`write_scorecards`;
the scorecard itself (content, layout, rendering) lives in :mod:`reports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from scoring import cells, quality
from scoring.history import score_history
from scoring.quality import Record

from xlplugin.workbook.save import atomic_write
from xlplugin.workbook.reader import WorkbookError, read_grid, read_table
from xlplugin.workbook.pipeline import ScoredInput

MILESTONES_SHEET, INTERVENTIONS_SHEET = "Milestones", "Interventions"
#: Optional sheets a scorecard draws on, with the columns each needs.
EXTRA_SHEETS = {MILESTONES_SHEET: ("partner_id", "milestone", "date"), INTERVENTIONS_SHEET: ("partner_id", "action")}


@dataclass
class Summary:
    """What a batch wrote and what it could not."""

    written: list[Path] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (partner, reason)


def select(scored: ScoredInput, partner_ids: Sequence[str] = (), tiers: Sequence[str] = ()) -> list[int]:
    """Row positions of the partners asked for (all by default), in sheet order.

    An unknown partner ID or tier is an error naming it, rather than a silently shorter batch.
    """
    result = scored.result
    ids = np.array([cells.text(v)[0] or "" for v in result["partner_id"]], dtype=object)
    keep = np.ones(len(ids), dtype=bool)
    if partner_ids:
        wanted = [p.strip() for p in partner_ids if p.strip()]
        unknown = sorted(set(wanted) - set(ids))
        if unknown:
            raise WorkbookError(f"{scored.source}: no partner with ID {', '.join(unknown)} on the partner sheet")
        keep &= np.isin(ids, wanted)
    if tiers:
        known = [t.id for t in result.model.spec.tiers] + ["Unscored"]
        lookup = {t.lower(): t for t in known}
        bad = [t for t in tiers if t.lower() not in lookup]
        if bad:
            raise WorkbookError(f"unknown tier {', '.join(bad)} (the model's tiers: {', '.join(known)})")
        keep &= np.isin(np.asarray(result["tier"], dtype=object), [lookup[t.lower()] for t in tiers])
    positions = np.flatnonzero(keep).tolist()
    if not positions:
        raise WorkbookError(f"{scored.source}: no partner matches the selection")
    return positions


def build_cards(scored: ScoredInput, positions: Sequence[int], audience: str,
                sheets: dict[str, pd.DataFrame | None] | None = None) -> list[dict]:
    """Scorecard contexts for the partners at ``positions``, with history, milestones and notes.

    ``sheets`` gives the Milestones and Interventions tables already read (see :func:`extra_sheets`);
    by default they are read from the scored workbook.
    """
    from reports import context as scorecard

    result = scored.result
    ids = set(np.asarray(result["partner_id"], dtype=object)[list(positions)].astype(str))
    history = None
    if scored.history is not None and "period" in scored.history.frame:
        frame = scored.history.frame
        history = score_history(frame[frame["partner_id"].astype(str).isin(ids)], scored.partners.frame, result.model)
    sheets = sheets if sheets is not None else extra_sheets(scored)
    milestones, interventions = sheets.get(MILESTONES_SHEET), sheets.get(INTERVENTIONS_SHEET)
    extras = scorecard.Extras(history_scores=history, milestones=milestones, interventions=interventions,
                              quality=_records(scored, positions))
    return scorecard.build(result, positions, audience, extras, partners=scored.partners.frame)


def write_scorecards(cards: Sequence[dict], out_dir: Path, options, model_spec, *,
                     progress: Callable[[int], None] = lambda n: None, workers: int | None = None) -> Summary:
    """Render ``cards`` and write one PDF per partner into ``out_dir`` (created if needed).

    Files are written atomically under names made from partner ID and name; one partner that
    fails is listed in the summary while the rest are written.
    """
    from reports.batch import render_all
    from reports.filenames import scorecard_names

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise WorkbookError(f"{out_dir}: exists and is not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = Summary()
    named = [c for c in cards if c["partner"]["id"]]
    for card in cards:
        if not card["partner"]["id"]:  # its file name and every sheet match a partner by its ID
            summary.failures.append((f"row {card['partner']['row']} ({card['partner']['name']})",
                                     "no partner_id; give the partner an ID to get its scorecard"))
            progress(1)
    names = scorecard_names([(c["partner"]["id"], c["partner"]["name"]) for c in named])
    for done in render_all(named, options, model_spec, workers=workers):
        card = named[done.index]
        if done.pdf is None:
            summary.failures.append((f"{card['partner']['id']} ({card['partner']['name']})", done.error or "failed"))
        else:
            path = out_dir / names[done.index]
            atomic_write(path, lambda tmp, pdf=done.pdf: tmp.write_bytes(pdf))
            summary.written.append(path)
        progress(1)
    summary.written.sort()
    return summary


def extra_sheets(scored: ScoredInput, grids: dict[str, list[list[Any]]] | None = None) -> dict[str, pd.DataFrame | None]:
    """The Milestones and Interventions tables, from the scored workbook or from ``grids`` of cell
    values (the Excel macro reads live cells). A sheet that is missing, or lacks the columns a
    scorecard needs, is left out rather than failing the scorecards."""
    out: dict[str, pd.DataFrame | None] = {}
    for name, required in EXTRA_SHEETS.items():
        try:
            if grids is None:
                data = read_table(scored.workbook, name, scored.model, source=scored.source, required=required,
                                  optional=True)
            else:
                data = read_grid(grids[name], scored.model, name, source=scored.source,
                                 required=required) if name in grids else None
        except WorkbookError:
            data = None
        out[name] = None if data is None else data.frame
    return out


def _records(scored: ScoredInput, positions: Sequence[int]) -> list[Record]:
    """The partner sheet's data-quality records of the partners at ``positions``, one per cell as on the
    Data quality sheet, but a missing metric column noted for each partner (a scorecard speaks of one)."""
    partners = scored.partners
    rows = partners.frame.index[list(positions)]
    return quality.records(scored.result, partners.frame, partners.issues, sheet=partners.sheet,
                           headers=partners.headers, fold_absent=False, rows=rows)
