"""PDF scorecards: the batch a user runs against one WeasyPrint document per partner; QBR packs.

Run: ``python benchmarks/bench_reports.py [--partners N] [--naive-sample N] [--keep DIR]
[--qbr-partners N] [--packs N] [--only-qbr]`` (or ``make bench``). The batch is ``pscore report scorecards BOOK -o DIR --as-of 2026-11-01`` run
in-process through the library calls the command makes, on all cores. Target on a 2-core machine:
500 one-page scorecards in <= 30 s, i.e. <= 60 ms per scorecard amortised.

Why: parsing the stylesheet and loading fonts cost the same for one scorecard as for twenty, so
the batch lays out chunks of partners as one document and writes each partner's pages as its own
PDF (reports.render), in parallel (reports.batch). The naive loop -- one document per partner, one
process -- is timed on a sample of the same cards, and so is the batch on one core, to separate
the gain from chunking from the gain from parallelism.

QBR packs (``pscore report qbr``): the programme pack for 1,000 demo partners with up to 18 months
of History each, read, scored and written in <= 10 s; and 100 partners' packs into a folder in
<= 60 s on 2 cores, timed against the same packs rendered one by one in one process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

from pypdf import PdfReader

from reports import job
from reports.render import RenderOptions, render_pdfs
from scoring import load_model
from scoring.synthetic import generate
from xlplugin.workbook.demo import write_workbook
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.scorecard_inputs import job_inputs

AS_OF = dt.date(2026, 11, 1)
TARGET_S, TARGET_N = 30.0, 500  # on 2 cores
PROGRAMME_TARGET_S, PROGRAMME_N = 10.0, 1000
PACKS_TARGET_S, PACKS_N = 60.0, 100  # on 2 cores
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(tmp: Path, n_partners: int, n_sample: int) -> None:
    book, out_dir = tmp / "partners.xlsx", tmp / "scorecards"
    _, build_s = timed(lambda: write_workbook(generate(n_partners=n_partners, seed=0, as_of=AS_OF), book))
    print(f"input: {n_partners:,} demo partners, {book.stat().st_size / 1e6:.1f} MB, built in {build_s:.1f} s")

    # The batch, as `pscore report scorecards` runs it (xlplugin/cli.py report_scorecards).
    options, workers = RenderOptions(), os.cpu_count() or 1

    def prepare() -> list[dict]:
        inputs = job_inputs(workbook.score_workbook(book, load_model("default"), AS_OF))
        return job.build_cards(inputs, job.select(inputs), "partner")

    cards, prep_s = timed(prepare)
    summary, render_s = timed(lambda: job.write_scorecards(cards, out_dir, options, workers=None))
    total_s, n = prep_s + render_s, len(summary.written)
    pages = [len(PdfReader(p).pages) for p in summary.written]
    sizes = [p.stat().st_size for p in summary.written]
    batch_ms = total_s / n * 1e3
    print(f"batch ({workers} workers): {n} scorecards ({len(summary.failures)} failed), {sum(pages)} pages, "
          f"{total_s:.1f} s = {batch_ms:.1f} ms per scorecard amortised")
    print(f"  read + score + build cards: {prep_s:6.2f} s   render + write: {render_s:6.2f} s")
    print(f"  one-page scorecards: {pages.count(1) / n:.1%}; written {sum(sizes) / 1e6:.1f} MB, "
          f"median PDF {statistics.median(sizes) / 1e3:.1f} kB")
    target_ms = TARGET_S / TARGET_N * 1e3
    print(f"  target {target_ms:.0f} ms per scorecard ({TARGET_N} in {TARGET_S:.0f} s on 2 cores): "
          f"{'met' if batch_ms <= target_ms else 'NOT met'} on {workers} cores")

    # The same sample of cards, spread over the batch: one document each, then the batch on one core.
    sample = [cards[i * len(cards) // n_sample] for i in range(min(n_sample, len(cards)))]
    _, naive_s = timed(lambda: [render_pdfs([card], options) for card in sample])
    _, single_s = timed(lambda: job.write_scorecards(sample, tmp / "single", options, workers=1))
    naive_ms, single_ms = naive_s / len(sample) * 1e3, single_s / len(sample) * 1e3
    print(f"sample of {len(sample)} scorecards, render (+ write for the batch) only:")
    print(f"  naive, one document per partner, 1 process: {naive_ms:7.1f} ms per scorecard")
    print(f"  batch, chunked, 1 worker:                   {single_ms:7.1f} ms per scorecard "
          f"(chunking gain {naive_ms / single_ms:.1f}x)")
    print(f"  naive / batch amortised ({workers} workers, incl. read + score): {naive_ms / batch_ms:.1f}x")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished workers: what the work costs whatever else the
    machine is running (wall time on a shared machine also counts the others' load)."""
    import resource

    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def run_qbr(tmp: Path, n_partners: int, n_packs: int) -> None:
    """The programme pack and a folder of partner packs, as ``pscore report qbr`` makes them."""
    from reports import qbr, qbr_job
    from reports.qbr_render import render_packs
    from scoring.quarters import quarter_of

    book = tmp / "qbr-partners.xlsx"
    _, build_s = timed(lambda: write_workbook(generate(n_partners=n_partners, seed=1, as_of=AS_OF), book))
    options = RenderOptions()

    def review() -> qbr.Review:
        return qbr.Review(job_inputs(workbook.score_workbook(book, load_model("default"), AS_OF)), quarter_of(AS_OF))

    def programme() -> Path:
        return qbr_job.write_programme(review(), tmp / "programme.pdf", options)

    print(f"QBR: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start")
    cpu = cpu_seconds()
    path, programme_s = timed(programme)
    programme_cpu = cpu_seconds() - cpu
    inputs = review().inputs
    history = inputs.history
    months = history.groupby("partner_id").size() if history is not None else None
    pages = len(PdfReader(path).pages)
    print(f"QBR input: {n_partners:,} demo partners, {len(history):,} History rows (up to {int(months.max())} months "
          f"a partner), built in {build_s:.1f} s")
    print(f"programme pack: {pages} pages, read + score + History + write {programme_s:.1f} s wall, "
          f"{programme_cpu:.1f} s CPU (target {PROGRAMME_TARGET_S:.0f} s for {PROGRAMME_N:,} partners: "
          f"{'met' if programme_s <= PROGRAMME_TARGET_S else 'NOT met'})")

    def folder() -> tuple[job.Summary, float]:
        found = review()
        positions = job.select(found.inputs)[:n_packs]
        packs, build = timed(lambda: qbr.build_packs(found, positions, "partner"))
        return qbr_job.write_packs(packs, tmp / "packs", options, workers=None), build

    cpu = cpu_seconds()
    (summary, build_s), packs_s = timed(folder)
    packs_cpu = cpu_seconds() - cpu
    workers = os.cpu_count() or 1
    pack_pages = [len(PdfReader(p).pages) for p in summary.written]
    print(f"partner packs ({workers} workers): {len(summary.written)} packs ({len(summary.failures)} failed), "
          f"{sum(pack_pages)} pages, {packs_s:.1f} s incl. read + score ({build_s:.1f} s building the packs: "
          f"History, paths to the next tier, benchmarks) = {packs_s / max(len(summary.written), 1) * 1e3:.0f} ms a pack "
          f"(target {PACKS_TARGET_S:.0f} s for {PACKS_N} on 2 cores: {'met' if packs_s <= PACKS_TARGET_S else 'NOT met'})")
    print(f"  CPU {packs_cpu:.1f} s over the parent and its workers: {packs_cpu / workers:.1f} s on {workers} idle cores")
    sample = qbr.build_packs(review(), job.select(inputs)[:10], "partner")
    _, one_s = timed(lambda: render_packs(sample, options))
    print(f"  one process, one pack at a time: {one_s / len(sample) * 1e3:.0f} ms a pack (render only, 10 packs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=500)
    parser.add_argument("--naive-sample", type=int, default=60, help="cards rendered one document each")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the workbook and PDFs in DIR")
    parser.add_argument("--qbr-partners", type=int, default=PROGRAMME_N, help="partners in the programme pack")
    parser.add_argument("--packs", type=int, default=PACKS_N, help="partner QBR packs in the folder batch")
    parser.add_argument("--only-qbr", action="store_true", help="time the QBR packs only")
    args = parser.parse_args()

    def both(folder: Path) -> None:
        if not args.only_qbr:
            run(folder, args.partners, args.naive_sample)
        run_qbr(folder, args.qbr_partners, args.packs)

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        both(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            both(Path(tmp))


if __name__ == "__main__":
    main()
