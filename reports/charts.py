"""Inline SVG charts for the PDF scorecard, drawn as vectors so they stay sharp on paper.

Scorecards are printed, often in greyscale, so no chart relies on colour alone: the two score
series differ by dash pattern and marker shape, gains and losses by solid against hatched fill and
by the sign printed beside them. Partner data reaches the markup only XML-escaped (names can hold
``<`` or ``&``) and shortened with an ellipsis to the room it has, so a long name cannot spill over
the page. The markup depends on nothing but the arguments (fixed number formats, ids derived from
the inputs), so the same scorecard renders to the same bytes.

The markup keeps to what WeasyPrint's own SVG renderer draws well: presentation attributes rather
than CSS; text placed by ``x``, ``y`` and ``text-anchor`` only (it honours little of baseline
alignment, so vertical centring is computed); hatching as a user-space pattern (its
object-bounding-box patterns go wrong once a pattern is reused); no masks, filters or opacity.
Text widths are estimated from the number of characters, as no font metrics are at hand here.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from itertools import chain, count, groupby
from xml.sax.saxutils import escape

FONT = "Open Sans, sans-serif"

NAVY = "#1f3a5f"
GREY = "#8a94a6"
GRID = "#d9dee7"
TEAL = "#2a7f62"
RED = "#b0413e"
INK = "#1c2433"  # body text colour of the scorecard stylesheet
MUTED = "#5b6474"  # its secondary text colour
RULE = "#c5ccd8"  # the stylesheet's rule colour
STAGE_FILL = "#f1f3f7"
BAND = "#b8c0cd"
HATCH_FILL = "#f7e6e5"
WHITE = "#ffffff"

SMALL = 8  # ticks, axis titles, annotations
LABEL = 9  # row labels
VALUE = 8.5  # printed values (bold)
CHAR_WIDTH = 0.55  # average Open Sans glyph width as a share of the font size
ASCENT = 0.35  # baseline offset, as a share of the font size, that centres digits and capitals on a y

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # invalid in XML 1.0 (or, for tab/newline, collapsed anyway)


# ------------------------------------------------------------------ trajectory

LEGEND_BAND = 3  # clear space above the milestone rows (the key and axis title are page text)
FLAG_ROW = 10  # height of one row of milestone labels
FLAG_ROWS = 4  # at most this many staggered rows before labels are shortened instead
FLAG_GAP = 4  # clear space kept around milestone label text
SERIES = (  # label, colour, dash pattern, marker
    ("Revenue", NAVY, "", "circle"),
    ("Engagement", GREY, "5 3", "square"),
)


def trajectory(points: Sequence[tuple[float, float | None, float | None]],
               milestones: Sequence[tuple[float, str]] = (),
               stages: Sequence[tuple[float, str]] = (),
               thresholds: Sequence[tuple[float, str]] = (),
               width: int = 440, height: int = 170,
               title: str = "Score trajectory") -> str:
    """Revenue and engagement scores over months since onboarding start, with milestones, stage
    bands and tier thresholds for context.

    ``points`` are (month, revenue, engagement) sorted by month; a missing score breaks its line.
    The x axis runs from 0 to the last point or milestone (at least 1 month), rounded up; anything
    outside the axes is pulled onto their edge rather than drawn off the plot.
    """
    x_max = math.ceil(max([1.0, *(p[0] for p in points[-1:]), *(m for m, _ in milestones)]))
    step = next(s for s in chain((1, 2, 3, 6), count(12, 12)) if x_max <= 7 * s)
    series = [[(month, row[i]) for month, *row in points] for i in range(2)]
    lasts = [next(((m, v) for m, v in reversed(s) if v is not None), None) for s in series]
    # Right of the plot: threshold names beside their lines, then a column for end-of-line values.
    names = [_fit(label, 40, SMALL) for _, label in thresholds]
    names_w = max((_width(t, SMALL) + 6 for t in names), default=0.0)
    values_w = max((_width(f"{last[1]:.1f}", VALUE) + 9 for last in lasts if last is not None), default=0.0)
    left = 24
    right = width - max(10.0, 6 + names_w + values_w)
    end = right - 8  # the last month sits inside the plot, its markers clear of the threshold names

    def x_of(month: float) -> float:
        return left + (end - left) * min(max(month, 0.0), x_max) / x_max

    flags = _flags([(x_of(m), label) for m, label in sorted(milestones)], width, (right - left) * 0.4)
    top = LEGEND_BAND + FLAG_ROW * (max((f[0] for f in flags if f[0] is not None), default=-1) + 1) + 4
    bottom = height - 16

    def y_of(score: float) -> float:
        return bottom - (bottom - top) * min(max(score, 0.0), 100.0) / 100

    scored = [(style, last) for style, last in zip(SERIES, lasts) if last is not None]
    parts: list[str] = []
    bounds = sorted((x_of(m), label) for m, label in stages if m < x_max)
    stage_names: list[str] = []  # drawn over the milestone lines, which they interrupt
    for i, (x0, label) in enumerate(bounds):
        x1 = bounds[i + 1][0] if i + 1 < len(bounds) else right
        if i % 2 == 0:
            parts.append(_rect(x0, top, x1 - x0, bottom - top, STAGE_FILL))
        parts.append(_line(x0, top, x0, bottom, RULE, 0.75))
        stage_names.append(_knockout(x0 + 3, bottom - 4, _fit(label, x1 - x0 - 6, SMALL), MUTED, "start",
                                     STAGE_FILL if i % 2 == 0 else WHITE))
    for score in (25, 50, 75, 100):
        parts.append(_line(left, y_of(score), right, y_of(score), GRID, 0.6))
    for score in (0, 25, 50, 75, 100):
        parts.append(_text(left - 5, y_of(score) + ASCENT * SMALL, str(score), SMALL, MUTED, "end"))
    taken: list[tuple[float, float, float]] = []  # side labels placed so far: x from, x to, centre y
    for (score, _), name in zip(thresholds, names):
        parts.append(_line(left, y_of(score), right, y_of(score), GREY, 0.7, "3 3"))
        name_y = _side_y(right + 4, y_of(score), _width(name, SMALL), SMALL, taken, top, bottom)
        parts.append(_text(right + 4, name_y + ASCENT * SMALL, name, SMALL, MUTED))
    for row, x, _, _, _ in flags:
        parts.append(_line(x, top if row is None else LEGEND_BAND + FLAG_ROW * row + 1, x, bottom, MUTED, 0.7, "1 2"))
    parts.extend(stage_names)
    parts.extend(_knockout(text_x, LEGEND_BAND + FLAG_ROW * row + 8, text, INK, anchor, WHITE)
                 for row, _, text_x, anchor, text in flags if row is not None)
    parts.append(_line(left, bottom, right, bottom, GREY, 0.8))
    for month in range(0, x_max + 1, step):
        parts.append(_line(x_of(month), bottom, x_of(month), bottom + 3, GREY, 0.8))
        parts.append(_text(x_of(month), bottom + 11, str(month), SMALL, MUTED, "middle"))

    if not scored:
        note = "No score history yet"
        note_w = _width(note, LABEL) + 12
        parts.append(_rect((left + right - note_w) / 2, (top + bottom) / 2 - 8, note_w, 16, WHITE))
        parts.append(_text((left + right) / 2, (top + bottom) / 2 + ASCENT * LABEL, note, LABEL, MUTED, "middle"))
    markers: list[list[str]] = []
    for (_, colour, dash, marker), values in zip(SERIES, series):
        markers.append([])
        for _, run in groupby(values, key=lambda p: p[1] is None):  # a missing score breaks the line
            xy = [(x_of(m), y_of(v)) for m, v in run if v is not None]
            if len(xy) > 1:
                parts.append(_polyline(xy, colour, dash))
            markers[-1].extend(_marker(marker, x, y, colour) for x, y in xy)
    parts.extend(chain.from_iterable(reversed(markers)))  # where the scores meet, a dot shows inside the square
    # Values of the last points: beside the point, or in the value column (after the series marker,
    # as they are away from their point) when they would cross the plot edge.
    for (_, colour, _, marker), (month, score) in scored:
        text = f"{score:.1f}"
        x = x_of(month) + 5
        if x + _width(text, VALUE) > right - 2:
            x = right + 4 + names_w
            text_y = _side_y(x, y_of(score), _width(text, VALUE) + 9, VALUE, taken, top, bottom)
            parts.append(_marker(marker, x + 3, text_y, colour))
            parts.append(_text(x + 9, text_y + ASCENT * VALUE, text, VALUE, INK, bold=True))
        else:
            text_y = _side_y(x, y_of(score), _width(text, VALUE), VALUE, taken, top, bottom)
            parts.append(_text(x, text_y + ASCENT * VALUE, text, VALUE, INK, bold=True))
    return _svg(width, height, title, parts)


def _flags(marks: list[tuple[float, str]], width: float,
           room: float) -> list[tuple[int | None, float, float, str, str]]:
    """Milestone labels as flags beside their line: (row, line x, text x, anchor, text) per label,
    each within 0..``width`` and at most ``room`` wide.

    Rows count down from the top; a label takes the first row where its text clears every other
    label and every other milestone's line (which runs down through the rows below its label),
    preferring text right of its line. When milestones crowd, a line may pass behind another label
    (the caller draws labels over the lines on a white ground) rather than a name being shortened;
    a label that still fits nowhere is shortened, and one that cannot keep two characters gets row
    None: its line is drawn within the plot, without text.
    """
    placed: list[tuple[int, float, float, float]] = []  # row, line x, text start, text end
    out: list[tuple[int | None, float, float, str, str]] = []
    for x, label in marks:
        full = _fit(label, room, SMALL)
        spot = next(((row, start, anchor, text)
                     for text in [full, *(_cut(full, n) for n in range(len(full) - 1, 1, -1))]
                     for lines_too in (True, False)
                     for row in range(FLAG_ROWS)
                     for start, anchor in ((x + 2.5, "start"), (x - 2.5 - _width(text, SMALL), "end"))
                     if 0 <= start and start + _width(text, SMALL) <= width
                     and not _clash(row, x, start, start + _width(text, SMALL), placed, lines_too)), None)
        if spot is None:
            out.append((None, x, x, "start", ""))
            continue
        row, start, anchor, text = spot
        end = start + _width(text, SMALL)
        placed.append((row, x, start, end))
        out.append((row, x, start if anchor == "start" else end, anchor, text))
    return out


def _clash(row: int, x: float, start: float, end: float, placed: list[tuple[int, float, float, float]],
           lines_too: bool) -> bool:
    """Whether a flag in ``row`` (line at ``x``, text over start..end) touches one already placed:
    its text, or with ``lines_too`` also its line."""
    for other_row, other_x, other_start, other_end in placed:
        if other_row == row and start < other_end + FLAG_GAP and other_start < end + FLAG_GAP:
            return True  # text on text
        if lines_too and other_row > row and other_start - FLAG_GAP < x < other_end + FLAG_GAP:
            return True  # this line runs down through a lower label
        if lines_too and other_row < row and start - FLAG_GAP < other_x < end + FLAG_GAP:
            return True  # a higher label's line runs through this text
    return False


def _side_y(x: float, y: float, w: float, size: float, taken: list[tuple[float, float, float]],
            lo: float, hi: float) -> float:
    """Centre height, as near ``y`` as it can be within lo..hi, for a label over x..x+w that keeps
    clear of the labels in ``taken`` (which it then joins): end-of-line values and threshold names
    stay apart when scores are close."""
    h = size + 1.5
    free = next((c for k in range(int(hi - lo) + 1) for c in (y + k, y - k)
                 if lo <= c <= hi and all(abs(c - ty) >= h or x + w <= tx0 or tx1 <= x for tx0, tx1, ty in taken)), y)
    taken.append((x, x + w, free))
    return free


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    """Filled circle (revenue) or hollow square (engagement): tells the series apart without colour."""
    if kind == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.3" fill="{colour}" stroke="{WHITE}" stroke-width="0.6"/>'
    return _rect(x - 2.8, y - 2.8, 5.6, 5.6, WHITE, colour, 1.1)


# ------------------------------------------------------------------ bars

# WeasyPrint lays SVG text out letter by letter and draws each SVG with a fixed overhead, which made
# the bar charts the largest single cost of a batch. Each bar chart is therefore one SVG without
# text, a row per item at the stylesheet's row pitch, and the scorecard prints labels and values
# as ordinary text beside it (cheaper to lay out, and read correctly by text extraction and
# screen readers).

BAR_WIDTH = 125  # natural width in px (33 mm), the width the stylesheet gives the bar column
ROW = 17.4  # px per row: the stylesheet's 4.6 mm row pitch


def layer_bars(rows: Sequence[tuple[str, float | None, float | None]], width: int = BAR_WIDTH,
               title: str = "Scores by layer") -> str:
    """Per layer, revenue (solid navy) over engagement (light, outlined) on a 0-100 track; a
    missing score draws no bar."""
    height = ROW * len(rows)
    bar = (ROW - 6) / 2

    def x_of(score: float) -> float:
        return width * min(max(score, 0.0), 100.0) / 100

    parts = [_line(x_of(s), 0, x_of(s), height, GRID, 0.6) for s in (25, 50, 75)]
    parts.append(_line(0.3, 0, 0.3, height, GREY, 0.6))
    described = []
    for i, (label, revenue, engagement) in enumerate(rows):
        top = i * ROW
        for value, y, fill, stroke in ((revenue, top + 2, NAVY, ""), (engagement, top + 4 + bar, GRID, NAVY)):
            if value is not None:
                parts.append(_rect(0, y, x_of(value), bar, fill, stroke, 0.8))
        described.append(f"{_clean(label)}: " + ", ".join(
            f"{name} {'not scored' if v is None else f'{v:.1f}'}"
            for name, v in (("revenue", revenue), ("engagement", engagement))))
    return _svg(width, height, f"{title}. " + "; ".join(described), parts)


def driver_bars(items: Sequence[tuple[str, float]], width: int = BAR_WIDTH,
                title: str = "What moves the score") -> str:
    """Per driver, a bar either side of a shared zero line, on one symmetric scale spanning at
    least ±5 points (so small drivers do not look large). Gains are solid teal, losses light with a
    red hatch and outline, so the direction reads in greyscale too."""
    height = ROW * len(items)
    scale = max(5.0, *(abs(p) for _, p in items)) if items else 5.0
    zero = width / 2
    per_point = (width / 2 - 1) / scale
    hatch = "hatch-neg-" + hashlib.sha1(repr((list(items), width)).encode()).hexdigest()[:8]
    parts = []
    if any(p < 0 for _, p in items):
        parts.append(f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="4" height="4" '
                     f'patternTransform="rotate(45)">{_rect(0, 0, 4, 4, HATCH_FILL)}'
                     f'{_line(1, 0, 1, 4, RED, 1.2)}</pattern></defs>')
    for i, (_, points) in enumerate(items):
        top, end = i * ROW + 3, zero + points * per_point
        if points > 0:
            parts.append(_rect(zero, top, end - zero, ROW - 6, TEAL))
        elif points < 0:
            parts.append(_rect(end, top, zero - end, ROW - 6, f"url(#{hatch})", RED, 0.8))
    parts.append(_line(zero, 0, zero, height, NAVY, 1))
    described = "; ".join(f"{_clean(label)} {_signed(points)}" for label, points in items)
    return _svg(width, height, f"{title} (points): {described}", parts)


def benchmark(rows: Sequence[tuple[str, float | None, float | None, float | None, float | None]],
              width: int = BAR_WIDTH, title: str = "Against the segment") -> str:
    """Per score (label, value, median, low, high), a 0-100 track: the band is the segment's
    middle half (``low`` to ``high``), the tick its median, the diamond this partner. Missing parts
    are left out."""
    pad = 6  # room for the diamond at either end

    def x_of(score: float) -> float:
        return pad + (width - 2 * pad) * min(max(score, 0.0), 100.0) / 100

    parts, described = [], []
    for i, (label, value, median, low, high) in enumerate(rows):
        mid = (i + 0.5) * ROW
        parts.append(_rect(pad, mid - 2, width - 2 * pad, 4, GRID))
        text = [f"{_clean(label)} {'not scored' if value is None else f'{value:.1f}'}"]
        if low is not None and high is not None:
            low, high = sorted((low, high))
            parts.append(_rect(x_of(low), mid - 5, x_of(high) - x_of(low), 10, BAND))
            text.append(f"segment middle half {low:.1f}–{high:.1f}")
        if median is not None:
            parts.append(_line(x_of(median), mid - 7, x_of(median), mid + 7, INK, 1.2))
            text.append(f"segment median {median:.1f}")
        if value is not None:
            x = x_of(value)
            parts.append(f'<path d="M{_n(x)} {_n(mid - 5.5)} L{_n(x + 5.5)} {_n(mid)} L{_n(x)} {_n(mid + 5.5)} '
                         f'L{_n(x - 5.5)} {_n(mid)} Z" fill="{NAVY}" stroke="{WHITE}" stroke-width="0.8"/>')
        described.append(", ".join(text))
    return _svg(width, ROW * len(rows), f"{title}: " + "; ".join(described), parts)


# ------------------------------------------------------------------ markup helpers

def _svg(width: int, height: float, title: str, parts: list[str]) -> str:
    """Root element at its natural pixel size, with an accessible name and the chart font for all text."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:g}" '
            f'viewBox="0 0 {width} {height:g}" role="img" font-family="{FONT}">'
            f"<title>{escape(_clean(title))}</title>{''.join(parts)}</svg>")


def _knockout(x: float, baseline: float, text: str, fill: str, anchor: str, ground: str) -> str:
    """Small text on a patch of ``ground`` colour, so lines passing behind it stop short of the letters."""
    w = _width(text, SMALL)
    start = x - w if anchor == "end" else x
    ground_patch = _rect(start - 1, baseline - 0.8 * SMALL, w + 2, SMALL, ground)
    return ground_patch + _text(x, baseline, text, SMALL, fill, anchor)


def _text(x: float, y: float, text: str, size: float, fill: str, anchor: str = "start", bold: bool = False) -> str:
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size:g}" fill="{fill}"{anchor_attr}{weight}>'
            f"{escape(text)}</text>")


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float, dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{width:g}"{dash_attr}/>')


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str = "", stroke_width: float = 0) -> str:
    stroke_attr = f' stroke="{stroke}" stroke-width="{stroke_width:g}"' if stroke else ""
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"{stroke_attr}/>'


def _polyline(xy: list[tuple[float, float]], stroke: str, dash: str) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in xy)
    return (f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="1.6" '
            f'stroke-linejoin="round"{dash_attr}/>')


def _n(v: float) -> str:
    """A coordinate to one decimal (never "-0.0"), so equal charts are equal strings."""
    s = f"{v:.1f}"
    return "0.0" if s == "-0.0" else s


def _signed(points: float) -> str:
    """Points with an explicit sign and a true minus ("+4.2", "−3.1"); zero has none."""
    s = f"{abs(points):.1f}"
    return s if s == "0.0" else ("+" if points > 0 else "−") + s


def _clean(text: str) -> str:
    """Data text as one line: control characters (not allowed in XML) and runs of whitespace become a space."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def _width(text: str, size: float) -> float:
    """Estimated rendered width; Open Sans metrics are not available here."""
    return len(text) * CHAR_WIDTH * size


def _cut(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters, ending in "…" when shortened."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _fit(text: str, room: float, size: float) -> str:
    """Data text shortened to the characters that fit ``room`` px at ``size`` px."""
    return _cut(_clean(text), max(1, int(room / (CHAR_WIDTH * size))))


# ------------------------------------------------------------------ population stability (pscore monitor)

PSI_WIDTH = 420
PSI_LABEL = 170  # px of the row given to the label


def psi_bars(rows: Sequence[tuple[str, float, str]], title: str = "PSI by input",
             bands: tuple[float, float] = (0.10, 0.25)) -> str:
    """Per input (label, PSI, band), a bar from 0 with the band limits as dashed lines; a shifted bar
    is solid red, one to investigate light with a red outline, a stable one navy, and the PSI is
    printed beside each, so the band reads in greyscale too."""
    height = ROW * len(rows) + 14
    top = max([0.3, *(p for _, p, _ in rows if p == p)]) * 1.1
    room = PSI_WIDTH - PSI_LABEL - 34

    def x_of(value: float) -> float:
        return PSI_LABEL + room * min(max(value, 0.0), top) / top

    parts = []
    for limit in bands:
        parts.append(_line(x_of(limit), 0, x_of(limit), height - 12, GREY, 0.8, "3 2"))
        parts.append(_text(x_of(limit), height - 2, f"{limit:.2f}", SMALL, MUTED, "middle"))
    fills = {"shifted": (RED, ""), "investigate": (HATCH_FILL, RED), "stable": (NAVY, "")}
    for i, (label, value, band) in enumerate(rows):
        y = i * ROW
        parts.append(_text(PSI_LABEL - 4, y + ROW * 0.68, _fit(label, PSI_LABEL - 8, SMALL + 1), SMALL + 1, INK, "end"))
        if value == value:
            fill, stroke = fills.get(band, (GREY, ""))
            parts.append(_rect(PSI_LABEL, y + 3, max(x_of(value) - PSI_LABEL, 0.8), ROW - 6, fill, stroke, 0.8))
            parts.append(_text(x_of(value) + 3, y + ROW * 0.68, f"{value:.2f}", SMALL, INK))
    parts.append(_line(PSI_LABEL, 0, PSI_LABEL, height - 12, INK, 0.8))
    described = "; ".join(f"{_clean(label)} {value:.2f} ({band})" for label, value, band in rows if value == value)
    return _svg(PSI_WIDTH, height, f"{title}: {described}", parts)


def then_now_bars(bins: Sequence[tuple[str, float, float]], title: str, width: int = PSI_WIDTH) -> str:
    """Per bin (label, share then, share now), two bars side by side: then light and outlined, now
    solid navy, each share printed above; the bins' labels below."""
    height = 120
    plot = height - 30
    top = max([0.05, *(max(a, b) for _, a, b in bins if a == a and b == b)]) * 1.15
    slot = (width - 8) / max(len(bins), 1)
    bar = min(slot * 0.38, 22)
    parts = [_line(4, plot, width - 4, plot, INK, 0.8)]
    for i, (label, then, now) in enumerate(bins):
        left = 4 + i * slot + slot / 2 - bar
        for k, (value, fill, stroke) in enumerate(((then, GRID, NAVY), (now, NAVY, ""))):
            if value != value:
                continue
            h = plot * value / top
            parts.append(_rect(left + k * bar, plot - h, bar - 1, h, fill, stroke, 0.8))
        parts.append(_text(4 + i * slot + slot / 2, plot + 10, _fit(label, slot - 2, SMALL - 0.5), SMALL - 0.5, MUTED,
                           "middle"))
    parts.append(_rect(width - 120, 2, 8, 8, GRID, NAVY, 0.8))
    parts.append(_text(width - 108, 9, "then", SMALL, INK))
    parts.append(_rect(width - 70, 2, 8, 8, NAVY))
    parts.append(_text(width - 58, 9, "now", SMALL, INK))
    described = "; ".join(f"{_clean(label)}: {then:.0%} then, {now:.0%} now" for label, then, now in bins
                          if then == then and now == now)
    return _svg(width, height, f"{title}: {described}", parts)
