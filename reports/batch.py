"""Many scorecards at once: fixed-size chunks rendered in parallel, one failing partner isolated.

Chunks are cut from the partners' order alone (never from the number of cores), so the same
input gives the same bytes on any machine. A chunk that fails is rendered again partner by
partner, so one bad partner costs only its own scorecard.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from reports.render import RenderOptions, render_pdfs

CHUNK_SIZE = 20  # partners per document: big enough to share font work, small enough to keep cores busy


@dataclass(frozen=True)
class Rendered:
    """One partner's scorecard, or why it could not be made."""

    index: int  # position in the cards given
    pdf: bytes | None
    error: str | None = None


Render = Callable[[Sequence[dict[str, Any]], RenderOptions], list[bytes]]


def render_all(cards: Sequence[dict[str, Any]], options: RenderOptions, *,
               workers: int | None = None, chunk_size: int = CHUNK_SIZE, render: Render = render_pdfs) -> Iterator[Rendered]:
    """Yield every card's PDF (in completion order) using up to ``workers`` processes (default: all
    cores); ``render`` turns a chunk of cards into one PDF each (scorecards by default, QBR packs too)."""
    chunks = [list(range(start, min(start + chunk_size, len(cards)))) for start in range(0, len(cards), chunk_size)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(chunks)))
    if workers == 1:
        for chunk in chunks:
            yield from _render_chunk(chunk, [cards[i] for i in chunk], options, render)
        return
    import weasyprint  # noqa: F401  -- loaded once here, inherited by forked workers

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: set[Future] = set()
        queue = iter(chunks)

        def top_up() -> None:
            """Keep two chunks in flight per worker, not the whole batch in memory."""
            for chunk in queue:
                pending.add(pool.submit(_render_chunk, chunk, [cards[i] for i in chunk], options, render))
                if len(pending) >= 2 * workers:
                    return

        top_up()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield from future.result()
            top_up()


def _render_chunk(indices: list[int], cards: list[dict[str, Any]], options: RenderOptions,
                  render: Render = render_pdfs) -> list[Rendered]:
    try:
        return [Rendered(i, pdf) for i, pdf in zip(indices, render(cards, options))]
    except Exception as exc:  # reported per partner; the batch goes on
        if len(cards) == 1:
            return [Rendered(indices[0], None, f"{type(exc).__name__}: {exc}")]
    # find the partner that broke the chunk; the others still get their scorecards
    return [_render_chunk([i], [card], options, render)[0] for i, card in zip(indices, cards)]
