"""``pscore report qbr``: read and score the workbook as every command does, then write the
programme's QBR pack, one partner's pack, or a folder of partners' packs (:mod:`reports.qbr_job`).

The quarter sets the dates: ``--quarter 2026Q3`` scores the partners as of the quarter's last day
(today, while the quarter runs; ``--as-of`` overrides both) and compares with History at the
previous quarter's end. A quarter that History has moved past is reviewed as it stood: the partners'
values are History's at the quarter's end (:func:`scoring.review.partners_at`), so both ends of the
comparison are History scored at a quarter end. Without ``--quarter`` the quarter is the one the
scoring date falls in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import click

from scoring import score
from scoring.engine import to_date
from scoring.quarters import Quarter, quarter_of
from scoring.review import partners_at

from xlplugin.workbook.pipeline import ScoredInput


def resolve_dates(quarter: str | None, as_of: str | None, today: dt.date | None = None) -> tuple[Quarter, str | None]:
    """The review's quarter and the scoring date to read the workbook with (None: today)."""
    if quarter is None:
        found = quarter_of(to_date(as_of))
        return found, as_of
    found = Quarter.parse(quarter)
    if as_of is not None:
        return found, as_of
    return found, min(found.end, today or dt.date.today()).isoformat()


def as_it_stood(scored: ScoredInput, quarter: Quarter) -> tuple[ScoredInput, int]:
    """The workbook as it stood at the end of ``quarter`` when History goes past it (partners
    re-scored on their snapshot of that day), with how many partners took History's values; the
    workbook as read when History ends before (the sheet is then the quarter's latest data)."""
    history = scored.history.frame if scored.history is not None else None
    if history is None or history.empty or "period" not in history:
        return scored, 0
    periods = [p for p in (to_date(v) if v is not None else None for v in _dates(history["period"])) if p]
    if not periods or max(periods) <= quarter.end:
        return scored, 0
    metric_ids = [m.id for m in scored.model.spec.metrics]
    frame, taken = partners_at(scored.partners.frame, history, quarter.end, metric_ids)
    result = score(frame, scored.model, as_of=scored.result.as_of)
    partners = dataclasses.replace(scored.partners, frame=frame)
    return dataclasses.replace(scored, partners=partners, result=result), int(taken.sum())


def _dates(values):
    for value in values:
        try:
            yield value if value is None or value != value else to_date(value)
        except (TypeError, ValueError):
            yield None


def run(*, workbook_path: Path, output: Path, partner_id: str | None, partner_ids: str | None,
        tiers: tuple[str, ...], programme: bool, quarter: str | None, audience: str | None, paper: str, accessible: bool,
        logo: Path | None, author: str, model_ref: str, use_model_sheet: bool, as_of: str | None, sheet: str,
        workers: int | None) -> int:
    """Write what was asked; the number of partners that failed (the exit status is 1 when any did)."""
    from reports import qbr, qbr_job, qbr_results
    from reports.job import ReportError, select
    from reports.render import RenderOptions

    from xlplugin import cli
    from xlplugin.workbook.scorecard_inputs import EXPERIMENTS_SHEET, OUTCOMES_SHEET, job_inputs, review_sheets

    modes = [programme, partner_id is not None, bool(partner_ids or tiers)]
    if sum(modes) != 1:
        raise ReportError("choose one of --programme, --partner ID, or --partners/--tier (a folder of packs)")
    if programme and audience == "partner":
        raise ReportError("the programme pack is internal: leave out --audience partner")
    audience = audience or ("internal" if programme else "partner")
    review_quarter, as_of = resolve_dates(quarter, as_of)
    options = RenderOptions(paper="Letter" if paper.lower() == "letter" else "A4", accessible=accessible,
                            author=author, logo=logo)
    start = time.perf_counter()
    scored = cli._read_and_score(workbook_path, model_ref, use_model_sheet, as_of, sheet)
    if quarter is not None:
        scored, taken = as_it_stood(scored, review_quarter)
        if taken:
            click.echo(f"{review_quarter.label} has ended in History: {taken} of {len(scored.result)} partners are "
                       f"reviewed on their History snapshot of {review_quarter.end.isoformat()}.", err=True)
    inputs = job_inputs(scored)
    if programme:
        with cli._step("Gathering the change ledger, budget, population stability and experiments"):
            sheets = review_sheets(scored)
            reasons, results = qbr_results.gather(inputs, review_quarter, experiments=sheets[EXPERIMENTS_SHEET],
                                                  outcomes=sheets[OUTCOMES_SHEET])
        review = qbr.Review(inputs, review_quarter, reasons=reasons, results=results)
    else:
        review = qbr.Review(inputs, review_quarter)
    label = f"with {scored.model.label}, {review_quarter.label} as of {scored.result.as_of.isoformat()}"
    if programme:
        with cli._step(f"Writing the programme pack for {len(scored.result)} partners"):
            path = qbr_job.write_programme(review, output, options)
        click.echo(f"Wrote the programme QBR pack ({options.paper}) to {path} in {time.perf_counter() - start:.1f} s {label}.")
        return 0
    if partner_id is not None:
        position = select(review.inputs, [partner_id])
        if len(position) != 1:
            raise ReportError(f"{scored.source}: partner ID {partner_id} is on the partner sheet {len(position)} times")
        with cli._step(f"Writing the QBR pack of {partner_id}"):
            review = dataclasses.replace(review, reasons=qbr_results.ledger_reasons(inputs, review_quarter, position))
            path = qbr_job.write_pack(review, position[0], audience, output, options)
        click.echo(f"Wrote the {audience} QBR pack of {partner_id} ({options.paper}) to {path} in "
                   f"{time.perf_counter() - start:.1f} s {label}.")
        return 0
    positions = select(review.inputs, (partner_ids or "").split(",") if partner_ids else (), tiers)
    with cli._step(f"Preparing {len(positions)} QBR packs"):
        review = dataclasses.replace(review, reasons=qbr_results.ledger_reasons(inputs, review_quarter, positions))
        packs = qbr.build_packs(review, positions, audience)
    with cli._progress(len(packs), f"Rendering {len(packs)} QBR packs") as update:
        summary = qbr_job.write_packs(packs, output, options, progress=update, workers=workers)
    click.echo(f"Wrote {len(summary.written)} {audience} QBR packs ({options.paper}) to {output} in "
               f"{time.perf_counter() - start:.1f} s {label}.")
    return cli.report_failures(summary.failures)
