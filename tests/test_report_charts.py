"""Scorecard charts: well-formed SVG, escaped and shortened data text, series and signs that read
without colour, clamping into the plot, text-free bar charts with a row per item on a shared scale,
and charts that WeasyPrint draws in the scorecard's font when embedded as the scorecard embeds them."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports import charts

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

NASTY = "<b>x</b> & {{ 7*7 }}"
NASTY_XML = "&lt;b&gt;x&lt;/b&gt; &amp; {{ 7*7 }}"
LONG = "Partner enablement and certification programme milestone with a very long name!!"  # 80 characters
POINTS = [(0, 30.0, 42.0), (1, 34.0, 44.5), (2, 38.0, None), (3, None, 50.0), (4, 46.0, 52.0), (5, 72.4, 61.3)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    for element in root.iter():
        element.tag = element.tag.rpartition("}")[2]
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("text")]


def text_element(root: ET.Element, content: str) -> ET.Element:
    return next(t for t in root.iter("text") if t.text == content)


def num(element: ET.Element, name: str) -> float:
    return float(element.get(name))


def plot_box(root: ET.Element) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of a trajectory's plot: the extent of its full-width horizontal lines
    (gridlines, thresholds, x axis)."""
    rules = [line for line in root.iter("line") if line.get("y1") == line.get("y2")
             and num(line, "x2") - num(line, "x1") > 200]
    return (min(num(r, "x1") for r in rules), min(num(r, "y1") for r in rules),
            max(num(r, "x2") for r in rules), max(num(r, "y1") for r in rules))


def squares(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter("rect") if r.get("width") == r.get("height") == "5.6"]


def centre(marker: ET.Element) -> tuple[float, float]:
    if marker.tag == "circle":
        return num(marker, "cx"), num(marker, "cy")
    return num(marker, "x") + 2.8, num(marker, "y") + 2.8


def in_plot(root: ET.Element, markers: list[ET.Element]) -> list[ET.Element]:
    left, top, right, bottom = plot_box(root)
    return [m for m in markers if left <= centre(m)[0] <= right and top <= centre(m)[1] <= bottom]


def text_box(element: ET.Element) -> tuple[float, float]:
    """Estimated horizontal extent of a text element, as the charts estimate it."""
    size, x = num(element, "font-size"), num(element, "x")
    w = len(element.text or "") * charts.CHAR_WIDTH * size
    anchor = element.get("text-anchor", "start")
    start = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
    return start, start + w


def path_points(path: ET.Element) -> list[tuple[float, float]]:
    values = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
    return list(zip(values[::2], values[1::2]))


def span(element: ET.Element) -> tuple[float, float]:
    """Horizontal extent of a rect, line or path."""
    if element.tag == "rect":
        return num(element, "x"), num(element, "x") + num(element, "width")
    if element.tag == "line":
        return num(element, "x1"), num(element, "x2")
    xs = [x for x, _ in path_points(element)]
    return min(xs), max(xs)


def vertical(element: ET.Element) -> tuple[float, float]:
    """Vertical extent of a rect, line or path."""
    if element.tag == "rect":
        return num(element, "y"), num(element, "y") + num(element, "height")
    if element.tag == "line":
        return tuple(sorted((num(element, "y1"), num(element, "y2"))))
    ys = [y for _, y in path_points(element)]
    return min(ys), max(ys)


def mid(element: ET.Element) -> float:
    return sum(span(element)) / 2


def rows_of(root: ET.Element) -> list[list[ET.Element]]:
    """The marks of a bar chart, top first, grouped by the ``ROW``-high band they lie in: every rect,
    line and path except the hatch tile and the full-height rules (grid, zero line). A mark that
    reaches out of its band fails the test."""
    height = num(root, "height")
    assert root.get("height") == f"{charts.ROW * round(height / charts.ROW):g}"  # a whole number of rows
    tiles = {id(e) for pattern in root.iter("pattern") for e in pattern.iter()}
    marks = [e for e in root.iter() if e.tag in ("rect", "line", "path") and id(e) not in tiles
             and vertical(e) != (0, height)]
    rows: list[list[ET.Element]] = [[] for _ in range(round(height / charts.ROW))]
    for mark in sorted(marks, key=vertical):
        top, bottom = vertical(mark)
        i = int(top // charts.ROW)
        assert 0 <= top and bottom <= (i + 1) * charts.ROW + 0.05, f"a {mark.tag} reaches out of row {i}"
        rows[i].append(mark)
    return rows


def x_on_track(score: float, width: int = charts.BAR_WIDTH) -> float:
    """Where a score sits on a benchmark track: 0-100 between the track's ends."""
    return 6 + (width - 12) * score / 100


CHARTS = ["trajectory", "layer_bars", "driver_bars", "benchmark"]
TEXT_FREE = CHARTS[1:]
WITH_DATA_TEXT = ["trajectory", "layer_bars", "driver_bars", "benchmark"]
BARS = ["layer_bars", "driver_bars", "benchmark"]


def every_chart(label: str = "Label", title: str = "Chart") -> dict[str, str]:
    return {
        "trajectory": charts.trajectory(POINTS, [(1.5, label), (1.7, label)], [(3, label)], [(75, label)],
                                        title=title),
        "layer_bars": charts.layer_bars([(label, 72.4, None), (label, None, 48.2)], title=title),
        "driver_bars": charts.driver_bars([(label, 4.2), (label, -3.1)], title=title),
        "benchmark": charts.benchmark([(label, 72.4, 58.0, 45.0, 70.0), (label, None, None, None, None)],
                                      title=title),
    }


# ------------------------------------------------------------------ every chart


@pytest.mark.parametrize("name", CHARTS)
def test_root_is_an_accessible_svg_in_the_chart_font(name):
    svg = every_chart()[name]
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"  # well-formed, in the SVG namespace
    root = parse(svg)
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root[0].tag == "title" and root[0].text
    assert root.get("font-family") == charts.FONT
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert all(t.get("font-family") is None for t in root.iter("text"))  # every text inherits FONT
    assert all(7.5 <= num(t, "font-size") <= 10 for t in root.iter("text"))


@pytest.mark.parametrize("name", WITH_DATA_TEXT)
def test_data_text_is_escaped_not_markup(name):
    svg = every_chart(NASTY, title=NASTY)[name]
    root = parse(svg)
    assert not list(root.iter("b"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert NASTY in root[0].text


@pytest.mark.parametrize("name", BARS)
def test_bar_titles_describe_every_row_with_its_label(name):
    title = parse(every_chart("Row label", title="Chart")[name])[0].text
    assert title.startswith("Chart") and title.count("Row label") == 2


@pytest.mark.parametrize("name", TEXT_FREE)
def test_bars_draw_no_text_their_title_describes_them(name):
    svg = every_chart(NASTY, title=NASTY)[name]
    root = parse(svg)
    assert not list(root.iter("text")) and "<text" not in svg
    assert [e.tag for e in root.iter() if e.text and e.text.strip()] == ["title"]


def test_escaped_labels_keep_their_text_when_there_is_room():
    root = parse(charts.trajectory(POINTS, [(2, NASTY)], [(1, NASTY)], [(75, "A & B")]))
    assert texts(root).count(NASTY) == 2
    assert "A &amp; B" in charts.trajectory(POINTS, thresholds=[(75, "A & B")])
    assert any(t.startswith("<b>x</b>") for t in texts(parse(every_chart(NASTY)["trajectory"])))


@pytest.mark.parametrize("name", WITH_DATA_TEXT)
def test_control_characters_cannot_break_the_xml(name):
    label = "tab\there\x00nul\x0bvt\nnewline"
    svg = every_chart(label, title=label)[name]
    root = parse(svg)
    assert "\x00" not in svg and "\x0b" not in svg
    assert any(t.startswith("tab here nul vt") for t in [*texts(root), root[0].text])


@pytest.mark.parametrize("name", CHARTS)
def test_same_input_same_string(name):
    assert every_chart()[name] == every_chart()[name]


def test_numbers_have_fixed_precision():
    svg = charts.trajectory([(0, 1 / 3, 2 / 3), (1, 50.123456, None)])
    root = parse(svg)
    coords = [v for e in root.iter() for k, v in e.attrib.items() if k in ("x", "y", "cx", "cy", "x1", "y2")]
    assert coords and all(len(v.rpartition(".")[2]) == 1 for v in coords)
    assert {"50.1", "0.7"} <= set(texts(root)) and "0.3" not in texts(root)  # last value of each series
    for svg in (charts.layer_bars([("a", 100 / 3, 200 / 3), ("b", 100 / 7, 1 / 9)]),
                charts.driver_bars([("a", 10 / 3), ("b", -20 / 7), ("c", 1 / 9)]),
                charts.benchmark([("a", 100 / 3, 100 / 7, 100 / 9, 200 / 3), ("b", 1 / 3, 2 / 3, 1 / 7, 3 / 7)])):
        coords = [v for e in parse(svg).iter() if e.tag not in ("svg", "pattern")  # their sizes are ints
                  for k, v in e.attrib.items() if k in ("x", "y", "width", "height", "x1", "x2", "y1", "y2")]
        assert coords and all(len(v.rpartition(".")[2]) == 1 for v in coords)


# ------------------------------------------------------------------ long names


def test_long_labels_stay_whole_in_the_title_and_leave_the_bars_their_size():
    assert len(LONG) == 80
    for draw in (lambda name: charts.layer_bars([(name, 50.0, 50.0), ("b", 20.0, None)]),
                 lambda name: charts.driver_bars([(name, 3.0), ("b", -1.0)]),
                 lambda name: charts.benchmark([(name, 50.0, None, None, None), ("b", 20.0, 30.0, 10.0, 40.0)])):
        svg, short = draw(LONG), draw("Fit")
        root = parse(svg)
        assert LONG in root[0].text and "…" not in root[0].text  # the accessible name is not shortened
        assert root.get("width") == str(charts.BAR_WIDTH)
        hatch = re.compile(r"hatch-neg-[0-9a-f]+")  # the hatch id is derived from the inputs
        assert hatch.sub("hatch", svg.replace(LONG, "Fit")) == hatch.sub("hatch", short)  # only the title changes


def test_long_milestone_stage_and_threshold_names_are_cut():
    root = parse(charts.trajectory(POINTS, [(5, LONG)], [(3, LONG)], [(75, LONG)]))
    cut = [t for t in texts(root) if t.startswith("Partner")]
    assert len(cut) == 3 and all(t.endswith("…") and len(t) < 40 for t in cut)
    for t in root.iter("text"):
        start, end = text_box(t)
        assert 0 <= start and end <= 440 + 0.1


# ------------------------------------------------------------------ trajectory


def test_series_differ_by_dash_and_marker_without_a_legend_in_the_chart():
    root = parse(charts.trajectory(POINTS))
    assert not {"Score", "Revenue", "Engagement", "Months since onboarding start"} & set(texts(root))  # page text
    lines = list(root.iter("polyline"))
    solid = [p for p in lines if p.get("stroke-dasharray") is None]
    dashed = [p for p in lines if p.get("stroke-dasharray") == "5 3"]
    assert solid and dashed and len(solid) + len(dashed) == len(lines)
    assert all(s.get("stroke") != "none" for s in lines)
    circles, hollow = list(root.iter("circle")), squares(root)
    assert len(in_plot(root, circles)) == 5 and len(in_plot(root, hollow)) == 5
    assert len(circles) == len(hollow) == 5 + 1  # + the key beside the last value, right of the plot
    assert {c.get("fill") for c in circles} == {charts.NAVY}
    assert {s.get("fill") for s in hollow} == {"#ffffff"}


def test_where_scores_meet_the_revenue_dot_shows_inside_the_engagement_square():
    root = parse(charts.trajectory([(0, 40.0, 40.0), (1, 55.0, 55.0)]))
    elements = list(root)
    dots, boxes = in_plot(root, list(root.iter("circle"))), in_plot(root, squares(root))
    assert [centre(d) for d in dots] == [centre(b) for b in boxes]
    assert max(map(elements.index, boxes)) < min(map(elements.index, dots))  # dots drawn last, on top
    assert all(num(d, "r") + num(d, "stroke-width") / 2 < num(b, "width") / 2 for d, b in zip(dots, boxes))


def test_missing_scores_break_the_line():
    root = parse(charts.trajectory(POINTS))
    data_lines = [p for p in root.iter("polyline") if len(p.get("points").split()) > 2]
    revenue = [p for p in data_lines if p.get("stroke-dasharray") is None]
    engagement = [p for p in data_lines if p.get("stroke-dasharray")]
    assert [len(p.get("points").split()) for p in revenue] == [3]  # months 0-2; 4-5 is a two-point run
    assert [len(p.get("points").split()) for p in engagement] == [3]  # months 3-5; 0-1 is a two-point run
    two_point = [p for p in root.iter("polyline") if len(p.get("points").split()) == 2]
    assert len(two_point) == 2  # one run per series


def test_last_value_of_each_series_is_printed():
    root = parse(charts.trajectory(POINTS))
    assert "72.4" in texts(root) and "61.3" in texts(root)
    top = parse(charts.trajectory([(0, 50.0, 50.4)]))  # nearly equal: nudged apart, higher one on top
    assert num(text_element(top, "50.4"), "y") < num(text_element(top, "50.0"), "y") - 8


def test_last_markers_end_short_of_the_threshold_names():
    root = parse(charts.trajectory(POINTS, thresholds=[(75, "Gold"), (60, "Silver")]))
    dashed = [line for line in root.iter("line") if line.get("stroke-dasharray") == "3 3"]
    lines_end = min(num(line, "x2") for line in dashed)
    assert lines_end < min(text_box(text_element(root, name))[0] for name in ("Gold", "Silver"))
    last_x = num(text_element(root, "5"), "x")  # month 5, the last tick: where the last points sit
    last = [m for m in [*root.iter("circle"), *squares(root)] if centre(m)[0] == pytest.approx(last_x, abs=0.06)]
    assert len(last) == 2  # revenue's dot and engagement's square
    for marker in last:
        half = num(marker, "r") if marker.tag == "circle" else num(marker, "width") / 2
        assert centre(marker)[0] + half + num(marker, "stroke-width") / 2 < lines_end


def test_points_outside_the_axes_are_clamped_onto_the_plot():
    points = [(-2, 130.0, -10.0), (3, 50.0, 50.0), (6, 40.0, 60.0)]
    root = parse(charts.trajectory(points, milestones=[(-1, "Before start")]))
    left, top, right, bottom = plot_box(root)
    inside = in_plot(root, list(root.iter("circle")))
    assert len(inside) == 3
    assert all(centre(c)[0] > right for c in root.iter("circle") if c not in inside)  # the key by the last value
    assert centre(inside[0]) == (left, top)
    engagement = in_plot(root, squares(root))
    assert len(engagement) == 3 and centre(engagement[0]) == pytest.approx((left, bottom), abs=0.06)
    data = [p for p in root.iter("polyline") if len(p.get("points").split()) > 2]
    for line in data:
        for pair in line.get("points").split():
            x, y = map(float, pair.split(","))
            assert left <= x <= right and top <= y <= bottom
    marker = next(line for line in root.iter("line") if line.get("stroke-dasharray") == "1 2")
    assert num(marker, "x1") == left


def test_x_axis_spans_whole_months_with_few_ticks():
    def ticks(points, milestones=()):
        root = parse(charts.trajectory(points, milestones))
        return [int(t.text) for t in root.iter("text") if t.get("text-anchor") == "middle" and t.text.isdigit()]

    assert ticks([(0, 50.0, 50.0), (11.6, 60.0, 60.0)]) == [0, 2, 4, 6, 8, 10, 12]
    assert ticks([(0.3, 50.0, None)]) == [0, 1]
    assert ticks([(2, 50.0, 50.0)], [(4.2, "Certified")]) == [0, 1, 2, 3, 4, 5]
    assert ticks([(2, 50.0, 50.0)], [(1.0, "1"), (4.2, "2")]) == [0, 1, 2, 3, 4, 5]  # numbered milestones
    assert ticks([(40, 50.0, 50.0)]) == [0, 6, 12, 18, 24, 30, 36]
    for last in (1, 7, 8, 15, 22, 30, 60, 150):
        found = ticks([(last, 50.0, 50.0)])
        assert found[0] == 0 and len(found) <= 8 and found[-1] <= last


def test_single_point_draws_markers_without_lines():
    root = parse(charts.trajectory([(4, 61.0, 55.0)]))
    assert not list(root.iter("polyline"))
    assert len(in_plot(root, list(root.iter("circle")))) == 1 and len(in_plot(root, squares(root))) == 1
    assert {"61.0", "55.0"} <= set(texts(root))


def test_no_points_draws_empty_axes_and_a_note():
    for points in ([], [(1, None, None)]):
        root = parse(charts.trajectory(points, stages=[(3, "Ramp")], thresholds=[(75, "A")]))
        assert "No score history yet" in texts(root)
        assert not list(root.iter("polyline")) and not list(root.iter("circle")) and not squares(root)
        assert {"0", "25", "50", "75", "100"} <= set(texts(root))
        assert not any("Ramp" in t or "…" in t for t in texts(root))  # the stage starts after the axis ends


def test_close_milestones_are_staggered_not_overlapping():
    milestones = [(1.5, "Kick-off workshop"), (4.0, "First deal won"), (4.2, "Certified"), (10.5, "Joint plan")]
    for marks in (milestones, [(2, f"Milestone number {i}") for i in range(6)]):
        root = parse(charts.trajectory(POINTS + [(11, 70.0, 68.0)], marks))
        left, top, right, bottom = plot_box(root)
        labels = [t for t in root.iter("text") if any(t.text.startswith(m[1][:3]) for m in marks)]
        assert labels and all(num(t, "y") < top for t in labels)  # above the plot
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                if num(a, "y") == num(b, "y"):
                    assert text_box(a)[1] <= text_box(b)[0] or text_box(b)[1] <= text_box(a)[0]
    root = parse(charts.trajectory(POINTS + [(11, 70.0, 68.0)], milestones))
    assert len({num(t, "y") for t in root.iter("text") if t.text in ("First deal won", "Certified")}) == 2
    assert len([line for line in root.iter("line") if line.get("stroke-dasharray") == "1 2"]) == 4


def test_crowded_milestones_keep_their_names_on_a_white_ground():
    # a demo partner's first five months: seven milestones, some a few days apart
    marks = [(0.0, "contract signed"), (0.4, "kickoff"), (2.0, "first registered deal"),
             (3.4, "joint marketing plan adopted"), (3.5, "first closed deal"), (4.6, "training complete"),
             (5.1, "certified")]
    root = parse(charts.trajectory([(m, 50.0, 40.0) for m in range(8)], marks))
    elements = list(root)
    labels = [t for t in root.iter("text") if t.text in {name for _, name in marks}]
    assert len(labels) == len(marks)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if num(a, "y") == num(b, "y"):
                assert text_box(a)[1] <= text_box(b)[0] or text_box(b)[1] <= text_box(a)[0]
        ground = elements[elements.index(a) - 1]  # lines passing behind a label stop at its edge
        assert ground.tag == "rect" and ground.get("fill") == "#ffffff"
        assert num(ground, "x") <= text_box(a)[0] and text_box(a)[1] <= num(ground, "x") + num(ground, "width")
        lines = [e for e in elements if e.tag == "line" and e.get("stroke-dasharray") == "1 2"]
        assert all(elements.index(line) < elements.index(ground) for line in lines)


def test_milestone_at_the_last_month_is_labelled_to_the_left_of_its_line():
    root = parse(charts.trajectory(POINTS, [(5, "Contract renewal signed")]))
    line = next(line for line in root.iter("line") if line.get("stroke-dasharray") == "1 2")
    assert num(line, "x1") == num(text_element(root, "5"), "x") < plot_box(root)[2]  # at the last tick
    start, end = text_box(text_element(root, "Contract renewal signed"))
    assert 0 <= start and end <= num(line, "x1")


def test_stages_and_thresholds_are_labelled_inside_and_beside_the_plot():
    root = parse(charts.trajectory(POINTS + [(11, 70.0, 68.0)], stages=[(3, "Ramp"), (9, "Established")],
                                   thresholds=[(75, "A"), (60, "B"), (45, "C")]))
    left, top, right, bottom = plot_box(root)
    ramp, established = text_element(root, "Ramp"), text_element(root, "Established")
    assert left < num(ramp, "x") < right and top < num(ramp, "y") <= bottom
    bands = [r for r in root.iter("rect") if r.get("fill") == charts.STAGE_FILL and num(r, "height") > 20]
    assert len(bands) == 1  # Ramp's; bands alternate, so Established is left plain
    band = bands[0]
    assert (num(band, "x"), num(band, "x") + num(band, "width")) == pytest.approx(
        (num(ramp, "x") - 3, num(established, "x") - 3), abs=0.11)
    for name in "ABC":
        assert num(text_element(root, name), "x") > right
    dashed = [line for line in root.iter("line") if line.get("stroke-dasharray") == "3 3"]
    heights = [bottom - num(line, "y1") for line in dashed]
    assert heights == pytest.approx([(bottom - top) * s / 100 for s in (75, 60, 45)], abs=0.1)



# ------------------------------------------------------------------ layer bars


def test_layer_bars_put_solid_revenue_over_outlined_engagement_in_each_row():
    root = parse(charts.layer_bars([("A", 72.4, 65.0), ("B", 30.0, 90.0), ("C", 55.5, 55.5)]))
    assert (root.get("width"), root.get("height")) == (str(charts.BAR_WIDTH), f"{3 * charts.ROW:g}")
    rows = rows_of(root)
    for revenue, engagement in rows:  # two bars per row, in the row's band
        assert (revenue.get("fill"), revenue.get("stroke")) == (charts.NAVY, None)
        assert (engagement.get("fill"), engagement.get("stroke")) == (charts.GRID, charts.NAVY)
        assert vertical(revenue)[1] < vertical(engagement)[0]  # revenue on top, apart
        assert num(revenue, "height") == num(engagement, "height")
    bars = [bar for row in rows for bar in row]
    assert {num(bar, "x") for bar in bars} == {0}
    assert [num(bar, "width") for bar in bars] == pytest.approx(
        [s / 100 * charts.BAR_WIDTH for s in (72.4, 65.0, 30.0, 90.0, 55.5, 55.5)], abs=0.06)


def test_layer_bars_draw_no_bar_for_a_missing_score():
    root = parse(charts.layer_bars([("A", None, 48.2), ("B", 48.2, None), ("C", None, None)]))
    assert [[(bar.get("fill"), bar.get("stroke")) for bar in row] for row in rows_of(root)] == [
        [(charts.GRID, charts.NAVY)], [(charts.NAVY, None)], []]
    neither = parse(charts.layer_bars([("C", None, None)]))
    assert rows_of(neither) == [[]] and list(neither.iter("line"))  # the track's scale is still drawn


def test_layer_bars_are_clamped_to_0_100_and_scale_with_the_width():
    [[full, empty]] = rows_of(parse(charts.layer_bars([("A", 130.0, -10.0)])))
    assert span(full) == (0, charts.BAR_WIDTH) and span(empty) == (0, 0)
    wide = parse(charts.layer_bars([("A", 50.0, 100.0), ("B", 25.0, None)], width=300))
    assert wide.get("width") == "300"
    assert [[num(bar, "width") for bar in row] for row in rows_of(wide)] == [[150, 300], [75]]
    grid = sorted(num(line, "x1") for line in wide.iter("line") if line.get("stroke") == charts.GRID)
    assert grid == [75, 150, 225]  # quarter marks of the 0-100 track
    assert all(vertical(line) == (0, num(wide, "height")) for line in wide.iter("line"))


def test_layer_bars_title_describes_every_row():
    root = parse(charts.layer_bars([("Fit", 48.2, None), ("Reach", None, None)]))
    assert root[0].text == ("Scores by layer. Fit: revenue 48.2, engagement not scored; "
                            "Reach: revenue not scored, engagement not scored")
    svg = charts.layer_bars([(NASTY, 10.0, 20.0)], title="Areas")
    assert f"<title>Areas. {NASTY_XML}: revenue 10.0, engagement 20.0</title>" in svg


# ------------------------------------------------------------------ driver bars


def test_driver_gains_are_solid_teal_right_of_zero_and_losses_hatched_left():
    root = parse(charts.driver_bars([("Certified", 4.2), ("Slow replies", -3.1), ("Flat", 0.0), ("Plan", 1.0)]))
    zero = charts.BAR_WIDTH / 2
    [up], [down], flat, [small_up] = rows_of(root)
    [pattern] = root.iter("pattern")
    for gain in (up, small_up):
        assert (gain.get("fill"), gain.get("stroke")) == (charts.TEAL, None)
        assert span(gain)[0] == zero < span(gain)[1]
    assert down.get("fill") == f"url(#{pattern.get('id')})" and down.get("stroke") == charts.RED
    assert span(down)[0] < span(down)[1] == zero
    assert flat == []  # a zero driver gets no bar
    [axis] = [line for line in root.iter("line") if line.get("stroke") == charts.NAVY]
    assert span(axis) == (zero, zero) and vertical(axis) == (0, num(root, "height"))


def test_driver_bars_share_one_symmetric_scale():
    half = charts.BAR_WIDTH / 2 - 1  # room either side of the zero line

    def lengths(items, **size):
        return [num(bar, "width") for row in rows_of(parse(charts.driver_bars(items, **size))) for bar in row]

    assert lengths([("b", 1.0), ("a", 5.0), ("c", -2.5)]) == pytest.approx([half / 5, half, half / 2], abs=0.06)
    assert lengths([("a", 8.0), ("b", -4.0)]) == pytest.approx([half, half / 2], abs=0.06)  # largest fills its side
    assert lengths([("a", -8.0), ("b", 2.0)]) == pytest.approx([half, half / 4], abs=0.06)  # same scale both ways
    assert lengths([("a", 2.0), ("b", 10.0)])[0] == pytest.approx(half / 5, abs=0.06)  # others set the scale
    assert lengths([("a", 4.0), ("b", -2.0)]) == pytest.approx([half * 4 / 5, half * 2 / 5], abs=0.06)  # at least ±5
    assert lengths([("b", 1.0)]) == pytest.approx([half / 5], abs=0.06)
    assert lengths([("b", 5.0)], width=300) == pytest.approx([149], abs=0.06)


def test_hatch_pattern_is_defined_once_only_when_there_is_a_loss():
    svg = charts.driver_bars([("a", -1.0), ("b", 2.0), ("c", -3.0)])
    root = parse(svg)
    [pattern] = root.iter("pattern")
    [loss], _, [other_loss] = rows_of(root)
    assert loss.get("fill") == other_loss.get("fill") == f"url(#{pattern.get('id')})"
    assert pattern.get("patternUnits") == "userSpaceOnUse"  # bounding-box patterns misdraw in WeasyPrint
    assert list(pattern.iter("line")) and {r.get("fill") for r in pattern.iter("rect")} == {charts.HATCH_FILL}
    elements = list(root.iter())
    assert elements.index(pattern) < elements.index(loss)  # defined before it is used
    assert charts.driver_bars([("a", -1.0), ("b", 2.0), ("c", -3.0)]) == svg  # the id is derived from the inputs
    gains = charts.driver_bars([("a", 1.0), ("b", 2.0)])
    assert "url(#" not in gains and "<pattern" not in gains


def test_driver_bars_title_describes_every_driver_with_its_sign():
    root = parse(charts.driver_bars([("b", 1.0), ("a", 5.0), ("c", -2.5), ("d", 0.0)]))
    assert root[0].text == "What moves the score (points): b +1.0; a +5.0; c −2.5; d 0.0"
    assert "-2.5" not in root[0].text  # a true minus sign, not a hyphen
    svg = charts.driver_bars([(NASTY, -3.1)], title="Drivers")
    assert f"<title>Drivers (points): {NASTY_XML} −3.1</title>" in svg


# ------------------------------------------------------------------ benchmark


def test_benchmark_draws_track_band_median_and_diamond_in_each_row():
    rows = [("Revenue", 72.4, 58.0, 45.0, 70.0), ("Engagement", 30.0, 50.0, 20.0, 60.0)]
    drawn = rows_of(parse(charts.benchmark(rows)))
    for (_, value, median, low, high), marks in zip(rows, drawn, strict=True):
        assert len(marks) == 4
        [track] = [m for m in marks if m.get("fill") == charts.GRID]
        [band] = [m for m in marks if m.get("fill") == charts.BAND]
        [tick] = [m for m in marks if m.tag == "line"]
        [diamond] = [m for m in marks if m.tag == "path"]
        assert span(track) == pytest.approx((x_on_track(0), x_on_track(100)), abs=0.06)
        assert span(band) == pytest.approx((x_on_track(low), x_on_track(high)), abs=0.06)
        assert span(tick) == pytest.approx((x_on_track(median),) * 2, abs=0.06)
        assert mid(diamond) == pytest.approx(x_on_track(value), abs=0.06)
        assert diamond.get("fill") == charts.NAVY and tick.get("stroke") == charts.INK
        assert vertical(tick)[0] < vertical(band)[0] < vertical(track)[0]  # tick crosses the band, band the track
        assert vertical(track)[1] < vertical(band)[1] < vertical(tick)[1]


def test_benchmark_leaves_out_what_is_missing():
    root = parse(charts.benchmark([("a", None, None, 45.0, None), ("b", 50.0, None, None, None),
                                   ("c", None, 50.0, None, 60.0)]))
    assert [sorted(m.tag for m in marks) for marks in rows_of(root)] == [
        ["rect"],  # the track only: a band needs both ends
        ["path", "rect"],
        ["line", "rect"]]


def test_benchmark_clamps_to_the_track_and_orders_the_band():
    root = parse(charts.benchmark([("a", 130.0, -20.0, 70.0, 45.0), ("b", -5.0, 120.0, None, None)]))
    first, second = rows_of(root)
    [band] = [m for m in first if m.get("fill") == charts.BAND]
    assert span(band) == pytest.approx((x_on_track(45), x_on_track(70)), abs=0.06)
    for marks, value_at, median_at in ((first, 100, 0), (second, 0, 100)):
        [tick] = [m for m in marks if m.tag == "line"]
        [diamond] = [m for m in marks if m.tag == "path"]
        assert span(tick)[0] == pytest.approx(x_on_track(median_at), abs=0.06)
        assert mid(diamond) == pytest.approx(x_on_track(value_at), abs=0.06)
        assert 0 <= span(diamond)[0] and span(diamond)[1] <= charts.BAR_WIDTH
    assert "middle half 45.0–70.0" in root[0].text


def test_benchmark_title_describes_every_row():
    root = parse(charts.benchmark([("Revenue", 72.4, 58.0, 45.0, 70.0), ("Engagement", None, 58.0, None, None)]))
    assert root[0].text == ("Against the segment: Revenue 72.4, segment middle half 45.0–70.0, segment median 58.0; "
                            "Engagement not scored, segment median 58.0")
    svg = charts.benchmark([(NASTY, 72.4, None, None, None)], title="Peers")
    assert f"<title>Peers: {NASTY_XML} 72.4</title>" in svg


# ------------------------------------------------------------------ WeasyPrint


def test_weasyprint_draws_the_chart_text_in_open_sans_but_not_the_titles():
    """Charts embedded as the scorecard embeds them (an ``<img>`` with a ``data:`` URL and the title as
    alt text) in a page styled by the scorecard's stylesheet: the trajectory's text is drawn in the
    shipped Open Sans, and no title is drawn (alt text would show if an image failed to load)."""
    weasyprint = pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    from reports.fetcher import RestrictedFetcher
    from reports.render import svg_image

    trajectory = charts.trajectory(POINTS, [(2, NASTY), (3, "1")], [(3, "Ramp")], [(75, "A")], title="Hidden title one")
    bars = [svg_image(chart, "bars") for chart in (
        charts.layer_bars([("Hidden title two", 72.4, None)]),
        charts.driver_bars([("Hidden title three", -3.1), ("Hidden title four", 2.0)]),
        charts.benchmark([("Hidden title five", None, 58.0, 45.0, 70.0)]))]
    images = [svg_image(trajectory), *bars]
    assert all(img.startswith('<img ') and 'src="data:image/svg+xml;base64,' in img for img in images)
    rows = "".join(f'<div class="rows">{img}</div>' for img in bars)
    # The page margins print "Page n of m" in Open Sans; left out so that only the charts draw text.
    html = ('<html><head><link rel="stylesheet" href="scorecard.css">'
            "<style>@page { @bottom-left { content: none } @bottom-right { content: none } }</style></head>"
            f'<body><div class="chart">{images[0]}</div>{rows}</body></html>')
    fetcher = RestrictedFetcher([TEMPLATES])
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).write_pdf()
    assert not fetcher.blocked
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (NASTY, "Ramp", "72.4", "61.3"):
        assert expected in text
    for hidden in ("Hidden title", "not scored", "points", "median", "Revenue", "Engagement"):
        assert hidden not in text
    assert pdf_fonts(reader) == {"Open-Sans", "Open-Sans-Bold"}  # bold: the last values


def pdf_fonts(reader) -> set[str]:
    """Base names (without the subset tag) of the fonts used on the pages and in their images."""
    found: set[str] = set()

    def walk(resources) -> None:
        resources = resources.get_object()
        found.update(str(f.get_object()["/BaseFont"]).rpartition("+")[2] for f in resources.get("/Font", {}).values())
        for inner in (*resources.get("/XObject", {}).values(), *resources.get("/Pattern", {}).values()):
            if "/Resources" in inner.get_object():
                walk(inner.get_object()["/Resources"])

    for page in reader.pages:
        walk(page["/Resources"])
    return found
