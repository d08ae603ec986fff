"""Vector SVG charts of the QBR packs, drawn with the scorecard's own chart vocabulary
(:mod:`reports.charts`: fonts, colours, dash patterns, markers, escaping, fixed number formats).

A quarterly review asks where a series is heading, so these charts add what a scorecard does not:
a least-squares trend line (dotted, computed in :mod:`scoring.review`) over a metric or score, the
tier thresholds on score charts, and stacked bars for the programme's tier mix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby

from reports.charts import (ASCENT, GREY, GRID, INK, MUTED, NAVY, SMALL, VALUE, WHITE, _fit, _line, _marker,
                            _polyline, _rect, _svg, _text, _width)

TREND = "#2a7f62"
DOTS = 8  # more points than this: a dot only at each end of a line


def _ticks(lo: float, hi: float) -> list[float]:
    """About four round ticks from lo to hi."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / 4
    step = 10 ** math.floor(math.log10(raw))
    step = next(s * step for s in (1, 2, 2.5, 5, 10) if s * step >= raw)
    first = math.floor(lo / step) * step
    return [round(first + k * step, 10) + 0.0 for k in range(int((hi - first) / step + 1e-9) + 1)]  # never -0


def series(points: Sequence[tuple[float, float | None]], *, trend: tuple[tuple[float, float], tuple[float, float]] | None = None,
           thresholds: Sequence[tuple[float, str]] = (), fixed: tuple[float, float] | None = None,
           fmt=lambda v: f"{v:g}", width: int = 250, height: int = 110, title: str = "Trend") -> str:
    """One series (month, value) as a line with dots, its trend line dotted, and ``thresholds`` as
    dashed grey lines named at the right. ``fixed`` pins the value axis (scores: 0-100); otherwise
    it spans the data from zero."""
    values = [v for _, v in points if v is not None]
    ends = [y for _, y in trend] if trend else []
    if fixed is not None:
        lo, hi = fixed
    else:
        lo = min([0.0, *values, *ends])
        hi = max([1e-9, *values, *ends]) * 1.08
    ticks = _ticks(lo, hi)
    hi = max(hi, ticks[-1])
    x_max = max([1.0, *(m for m, _ in points)])
    x_max = math.ceil(x_max)
    labels = [fmt(t) for t in ticks]
    left = 6 + max(_width(t, SMALL) for t in labels)
    names_w = max((_width(n, SMALL) + 6 for _, n in thresholds), default=0.0)
    right = width - 8 - names_w
    top, bottom = 6.0, height - 16.0

    def x_of(m: float) -> float:
        return left + (right - left) * min(max(m, 0.0), x_max) / x_max

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * (min(max(v, lo), hi) - lo) / (hi - lo or 1.0)

    parts = []
    for t, label in zip(ticks, labels):
        parts.append(_line(left, y_of(t), right, y_of(t), GRID, 0.6))
        parts.append(_text(left - 4, y_of(t) + ASCENT * SMALL, label, SMALL, MUTED, "end"))
    for score, name in thresholds:
        if lo <= score <= hi:
            parts.append(_line(left, y_of(score), right, y_of(score), GREY, 0.7, "3 3"))
            parts.append(_text(right + 4, y_of(score) + ASCENT * SMALL, name, SMALL, MUTED))
    parts.append(_line(left, bottom, right, bottom, GREY, 0.8))
    step = next(s for s in (1, 2, 3, 6, 12, 24, 48) if x_max <= 6 * s)
    for month in range(0, x_max + 1, step):
        parts.append(_text(x_of(month), bottom + 11, str(month), SMALL, MUTED, "middle"))
    if not values:
        parts.append(_text((left + right) / 2, (top + bottom) / 2, "No values yet", SMALL, MUTED, "middle"))
    dots = []  # a dot per month while they stay apart, else only where a run of values starts and ends
    for _, run in groupby(points, key=lambda p: p[1] is None):
        xy = [(x_of(m), y_of(v)) for m, v in run if v is not None]
        if len(xy) > 1:
            parts.append(_polyline(xy, NAVY, ""))
        dots.extend(xy if len(points) <= DOTS else xy[:1] + xy[-1:] if xy else [])
    parts.extend(_marker("circle", x, y, NAVY) for x, y in dots)
    if trend is not None:
        (m0, v0), (m1, v1) = trend
        parts.append(_line(x_of(m0), y_of(v0), x_of(m1), y_of(v1), TREND, 1.4, "1.5 2"))
    described = f"{title}: " + ", ".join(f"month {m:g} {fmt(v)}" for m, v in points if v is not None)
    if trend is not None:
        described += f"; trend from {fmt(trend[0][1])} to {fmt(trend[1][1])}"
    return _svg(width, height, described, parts)


def tier_bars(rows: Sequence[tuple[str, int]], width: int = 480, height: int = 34,
              title: str = "Partners by tier") -> str:
    """One stacked bar of partners by tier, best tier darkest, each segment named with its count."""
    total = sum(n for _, n in rows) or 1
    shades = ["#1f3a5f", "#4b6a91", "#8a9fbd", "#c5d0e0", "#e4e9f1", "#f1f3f7"]
    parts, x = [], 0.0
    for k, (name, n) in enumerate(rows):
        w = width * n / total
        fill = shades[min(k, len(shades) - 1)]
        parts.append(_rect(x, 2, w, height - 4, fill, WHITE, 0.8))
        label = _fit(f"{name}: {n}", w - 4, VALUE)
        if n and w > 14:
            parts.append(_text(x + w / 2, height / 2 + ASCENT * VALUE, label, VALUE, WHITE if k < 2 else INK,
                               "middle", bold=True))
        x += w
    described = ", ".join(f"{name} {n}" for name, n in rows)
    return _svg(width, height, f"{title}: {described}", parts)


__all__ = ["series", "tier_bars"]
