"""Scorecard charts: well-formed SVG, escaped and shortened data text, series and signs that read
without colour, clamping into the plot, text-free bar rows on a shared scale, and charts that
WeasyPrint draws in the scorecard's font when embedded as the scorecard embeds them."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reports import charts

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

NASTY = "<b>x</b> & {{ 7*7 }}"
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


def bars(root: ET.Element) -> list[ET.Element]:
    """The rectangles a bar chart draws, leaving out the tile inside a hatch pattern."""
    tiles = {id(e) for pattern in root.iter("pattern") for e in pattern.iter()}
    return [r for r in root.iter("rect") if id(r) not in tiles]


def span(rect: ET.Element) -> tuple[float, float]:
    return num(rect, "x"), num(rect, "x") + num(rect, "width")


CHARTS = ["trajectory", "layer_bar", "driver_gain", "driver_loss", "benchmark"]
TEXT_FREE = CHARTS[1:]


def every_chart(label: str = "Label", title: str = "Chart") -> dict[str, str]:
    gain, loss = charts.driver_bars([(label, 4.2), (label, -3.1)])
    return {
        "trajectory": charts.trajectory(POINTS, [(1.5, label), (1.7, label)], [(3, label)], [(75, label)],
                                        title=title),
        "layer_bar": charts.layer_bar(72.4, None, title=title),
        "driver_gain": gain,
        "driver_loss": loss,
        "benchmark": charts.benchmark(72.4, 58.0, 45.0, 70.0, label),
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


@pytest.mark.parametrize("name", CHARTS)
def test_data_text_is_escaped_not_markup(name):
    svg = every_chart(NASTY, title=NASTY)[name]
    root = parse(svg)
    assert not list(root.iter("b"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert NASTY in root[0].text


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


def test_control_characters_cannot_break_the_xml():
    label = "tab\there\x00nul\x0bvt\nnewline"
    for svg in every_chart(label, title=label).values():
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
    for svg in (charts.layer_bar(100 / 3, 200 / 3), *charts.driver_bars([("a", 10 / 3), ("b", -20 / 7)]),
                charts.benchmark(100 / 3, 100 / 7, 100 / 9, 200 / 3, "a")):
        coords = [v for e in parse(svg).iter() if e.tag not in ("svg", "pattern")  # their sizes are ints
                  for k, v in e.attrib.items() if k in ("x", "width", "x1", "x2")]
        assert coords and all(len(v.rpartition(".")[2]) == 1 for v in coords)


# ------------------------------------------------------------------ long names


def test_long_labels_stay_whole_in_the_title_and_leave_the_bar_its_size():
    assert len(LONG) == 80
    for draw in (lambda name: charts.layer_bar(50.0, 50.0, title=name),
                 lambda name: charts.driver_bars([(name, 3.0)])[0],
                 lambda name: charts.benchmark(50.0, None, None, None, name)):
        svg, short = draw(LONG), draw("Fit")
        root = parse(svg)
        assert LONG in root[0].text and "…" not in root[0].text  # the accessible name is not shortened
        assert root.get("width") == str(charts.BAR_WIDTH)
        assert svg.replace(LONG, "Fit") == short  # the label changes nothing but the title


def test_long_milestone_stage_and_threshold_names_are_cut():
    root = parse(charts.trajectory(POINTS, [(5, LONG)], [(3, LONG)], [(75, LONG)]))
    cut = [t for t in texts(root) if t.startswith("Partner")]
    assert len(cut) == 3 and all(t.endswith("…") and len(t) < 40 for t in cut)
    for t in root.iter("text"):
        start, end = text_box(t)
        assert 0 <= start and end <= 440 + 0.1


# ------------------------------------------------------------------ trajectory


def test_series_differ_by_dash_and_marker_and_have_a_legend():
    root = parse(charts.trajectory(POINTS))
    names = texts(root)
    assert "Revenue" in names and "Engagement" in names
    lines = list(root.iter("polyline"))
    solid = [p for p in lines if p.get("stroke-dasharray") is None]
    dashed = [p for p in lines if p.get("stroke-dasharray") == "5 3"]
    assert solid and dashed and len(solid) + len(dashed) == len(lines)
    assert all(s.get("stroke") != "none" for s in lines)
    circles, hollow = list(root.iter("circle")), squares(root)
    assert len(in_plot(root, circles)) == 5 and len(in_plot(root, hollow)) == 5
    assert len(circles) == len(hollow) == 5 + 2  # + legend + key beside the last value at the plot's edge
    assert {c.get("fill") for c in circles} == {charts.NAVY}
    assert {s.get("fill") for s in hollow} == {"#ffffff"}
    legend_y = min(num(c, "cy") for c in circles)
    assert legend_y < plot_box(root)[1]
    samples = [p for p in lines if {xy.split(",")[1] for xy in p.get("points").split()} == {f"{legend_y:.1f}"}]
    assert len(samples) == 2  # one line sample per series, beside the legend's markers


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
    assert len(two_point) == 2 + 2  # one run per series + the two legend samples


def test_last_value_of_each_series_is_printed():
    root = parse(charts.trajectory(POINTS))
    assert "72.4" in texts(root) and "61.3" in texts(root)
    top = parse(charts.trajectory([(0, 50.0, 50.4)]))  # nearly equal: nudged apart, higher one on top
    assert num(text_element(top, "50.4"), "y") < num(text_element(top, "50.0"), "y") - 8


def test_points_outside_the_axes_are_clamped_onto_the_plot():
    points = [(-2, 130.0, -10.0), (3, 50.0, 50.0), (6, 40.0, 60.0)]
    root = parse(charts.trajectory(points, milestones=[(-1, "Before start")]))
    left, top, right, bottom = plot_box(root)
    inside = in_plot(root, list(root.iter("circle")))
    assert len(inside) == 3
    assert all(centre(c)[0] > (left + right) / 2 for c in root.iter("circle") if c not in inside)  # legend, key
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
    assert ticks([(40, 50.0, 50.0)]) == [0, 6, 12, 18, 24, 30, 36]
    for last in (1, 7, 8, 15, 22, 30, 60, 150):
        found = ticks([(last, 50.0, 50.0)])
        assert found[0] == 0 and len(found) <= 8 and found[-1] <= last


def test_single_point_draws_markers_without_lines():
    root = parse(charts.trajectory([(4, 61.0, 55.0)]))
    top = plot_box(root)[1]
    assert all(float(xy.split(",")[1]) < top for p in root.iter("polyline") for xy in p.get("points").split())
    assert len(in_plot(root, list(root.iter("circle")))) == 1 and len(in_plot(root, squares(root))) == 1
    assert {"61.0", "55.0"} <= set(texts(root))


def test_no_points_draws_empty_axes_and_a_note():
    for points in ([], [(1, None, None)]):
        root = parse(charts.trajectory(points, stages=[(3, "Ramp")], thresholds=[(75, "A")]))
        assert "No score history yet" in texts(root)
        assert "Months since onboarding start" in texts(root)
        assert not list(root.iter("polyline")) and not list(root.iter("circle"))
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


def test_milestone_at_the_right_edge_is_labelled_to_the_left_of_its_line():
    root = parse(charts.trajectory(POINTS, [(5, "Contract renewal signed")]))
    line = next(line for line in root.iter("line") if line.get("stroke-dasharray") == "1 2")
    assert num(line, "x1") == plot_box(root)[2]
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


# ------------------------------------------------------------------ layer bar


def test_layer_bar_draws_revenue_solid_over_engagement_outlined():
    root = parse(charts.layer_bar(72.4, 65.0))
    revenue, engagement = bars(root)
    assert (revenue.get("fill"), revenue.get("stroke")) == (charts.NAVY, None)
    assert (engagement.get("fill"), engagement.get("stroke")) == (charts.GRID, charts.NAVY)
    assert num(revenue, "y") + num(revenue, "height") < num(engagement, "y")  # revenue on top, apart
    assert num(engagement, "y") + num(engagement, "height") <= num(root, "height")
    assert num(revenue, "height") == num(engagement, "height")
    assert root[0].text == "Layer scores: revenue 72.4; engagement 65.0"


def test_layer_bar_draws_no_bar_for_a_missing_score():
    only_engagement = bars(parse(charts.layer_bar(None, 48.2)))
    assert [(r.get("fill"), r.get("stroke")) for r in only_engagement] == [(charts.GRID, charts.NAVY)]
    only_revenue = bars(parse(charts.layer_bar(48.2, None)))
    assert [(r.get("fill"), r.get("stroke")) for r in only_revenue] == [(charts.NAVY, None)]
    neither = parse(charts.layer_bar(None, None, title="Fit"))
    assert not bars(neither) and list(neither.iter("line"))  # the track's scale is still drawn
    assert neither[0].text == "Fit: revenue not scored; engagement not scored"
    assert parse(charts.layer_bar(48.2, None, title="Fit"))[0].text == "Fit: revenue 48.2; engagement not scored"


def test_layer_bar_length_is_proportional_and_clamped_to_0_100():
    revenue, engagement = bars(parse(charts.layer_bar(72.4, 48.2)))
    assert num(revenue, "x") == num(engagement, "x") == 0
    assert num(revenue, "width") == pytest.approx(0.724 * charts.BAR_WIDTH, abs=0.06)
    assert num(engagement, "width") == pytest.approx(0.482 * charts.BAR_WIDTH, abs=0.06)
    full, empty = bars(parse(charts.layer_bar(130.0, -10.0)))
    assert num(full, "width") == charts.BAR_WIDTH and num(empty, "width") == 0
    wide = parse(charts.layer_bar(50.0, 100.0, width=300, height=20))
    assert (wide.get("width"), wide.get("height")) == ("300", "20")
    assert [num(r, "width") for r in bars(wide)] == [150, 300]
    assert all(num(r, "y") + num(r, "height") <= 20 for r in bars(wide))
    grid = sorted(num(line, "x1") for line in wide.iter("line") if line.get("stroke") == charts.GRID)
    assert grid == [75, 150, 225]  # quarter marks of the 0-100 track


def test_layer_bar_title_escapes_the_data_text():
    svg = charts.layer_bar(10.0, 20.0, title=NASTY)
    assert f"<title>{NASTY.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}: revenue 10.0" in svg
    assert parse(svg)[0].text == f"{NASTY}: revenue 10.0; engagement 20.0"


# ------------------------------------------------------------------ driver bars


def test_driver_bars_are_one_svg_per_driver_in_order():
    svgs = charts.driver_bars([("b", 1.0), ("a", 5.0), ("c", -2.5)])
    assert len(svgs) == 3
    assert [parse(svg)[0].text for svg in svgs] == ["b: +1.0 points", "a: +5.0 points", "c: −2.5 points"]
    assert all(svg.startswith("<svg") and svg.endswith("</svg>") and svg.count("<svg") == 1 for svg in svgs)
    assert charts.driver_bars([]) == []


def test_driver_gains_are_solid_teal_and_losses_hatched_with_an_outline():
    gain, loss, flat = map(parse, charts.driver_bars([("Certified", 4.2), ("Slow replies", -3.1), ("Flat", 0.0)]))
    zero = charts.BAR_WIDTH / 2
    [up] = bars(gain)
    assert (up.get("fill"), up.get("stroke")) == (charts.TEAL, None)
    assert not list(gain.iter("pattern"))  # no loss, no hatch
    [down] = bars(loss)
    pattern = next(loss.iter("pattern"))
    assert down.get("fill") == f"url(#{pattern.get('id')})" and down.get("stroke") == charts.RED
    assert span(up)[0] == span(down)[1] == zero  # both start at the zero line, on opposite sides
    assert span(down)[0] < zero < span(up)[1]
    assert not bars(flat)  # a zero driver gets no bar
    for root in (gain, loss, flat):
        [axis] = [line for line in root.iter("line") if line.get("stroke") == charts.NAVY]
        assert num(axis, "x1") == num(axis, "x2") == zero
        assert (num(axis, "y1"), num(axis, "y2")) == (0, num(root, "height"))
    assert "−3.1" in loss[0].text and "-3.1" not in loss[0].text  # a true minus sign, not a hyphen


def test_driver_bars_share_one_symmetric_scale():
    half = charts.BAR_WIDTH / 2 - 1  # room either side of the zero line

    def lengths(items):
        return [num(bars(parse(svg))[0], "width") for svg in charts.driver_bars(items)]

    assert lengths([("b", 1.0), ("a", 5.0), ("c", -2.5)]) == pytest.approx([half / 5, half, half / 2], abs=0.06)
    assert lengths([("a", 8.0), ("b", -4.0)]) == pytest.approx([half, half / 2], abs=0.06)  # largest fills its side
    assert lengths([("a", -8.0), ("b", 2.0)]) == pytest.approx([half, half / 4], abs=0.06)  # same scale both ways
    assert lengths([("a", 2.0), ("b", 10.0)])[0] == pytest.approx(half / 5, abs=0.06)  # others set the scale


def test_driver_bars_scale_spans_at_least_five_points():
    half = charts.BAR_WIDTH / 2 - 1
    four, two = (bars(parse(svg))[0] for svg in charts.driver_bars([("a", 4.0), ("b", -2.0)]))
    assert num(four, "width") == pytest.approx(half * 4 / 5, abs=0.06)  # not the whole side: the scale is ±5
    assert num(two, "width") == pytest.approx(half * 2 / 5, abs=0.06)
    [small] = bars(parse(charts.driver_bars([("b", 1.0)])[0]))
    assert num(small, "width") == pytest.approx(half / 5, abs=0.06)
    [wide] = bars(parse(charts.driver_bars([("b", 5.0)], width=300, height=12)[0]))
    assert span(wide) == pytest.approx((150, 299), abs=0.06)
    assert num(wide, "y") > 0 and num(wide, "y") + num(wide, "height") < 12


def test_driver_bars_draw_no_text():
    svgs = charts.driver_bars([(NASTY, 4.2), ("Slow replies", -3.1), ("Flat", 0.0), (LONG, -12.0)])
    assert all(not list(parse(svg).iter("text")) and "<text" not in svg for svg in svgs)


def test_hatch_pattern_is_defined_in_the_svg_that_uses_it():
    svgs = charts.driver_bars([("a", -1.0), ("b", 2.0), ("c", -3.0)])
    for svg in (svgs[0], svgs[2]):
        root = parse(svg)
        [pattern] = root.iter("pattern")
        [bar] = bars(root)
        assert bar.get("fill") == f"url(#{pattern.get('id')})"
        assert pattern.get("patternUnits") == "userSpaceOnUse"  # bounding-box patterns misdraw in WeasyPrint
        assert list(pattern.iter("line")) and {r.get("fill") for r in pattern.iter("rect")} == {charts.HATCH_FILL}
        elements = list(root.iter())
        assert elements.index(pattern) < elements.index(bar)  # defined before it is used
    assert "url(#" not in svgs[1] and "<pattern" not in svgs[1]
    assert charts.driver_bars([("a", -1.0), ("b", 2.0), ("c", -3.0)]) == svgs  # ids derived from the inputs


# ------------------------------------------------------------------ benchmark


def x_on_track(score: float, width: int = charts.BAR_WIDTH) -> float:
    """Where a score sits on a benchmark track: 0-100 between the track's ends."""
    return 6 + (width - 12) * score / 100


def test_benchmark_draws_band_median_and_marker():
    root = parse(charts.benchmark(72.4, 58.0, 45.0, 70.0, "Revenue"))
    track, band = bars(root)
    assert span(track) == pytest.approx((x_on_track(0), x_on_track(100)), abs=0.06)
    assert span(band) == pytest.approx((x_on_track(45), x_on_track(70)), abs=0.06)
    assert band.get("fill") == charts.BAND and track.get("fill") == charts.GRID
    assert num(band, "height") > num(track, "height")
    [median] = root.iter("line")
    assert num(median, "x1") == num(median, "x2") == pytest.approx(x_on_track(58), abs=0.06)
    assert num(median, "y1") < num(band, "y") and num(median, "y2") > num(band, "y") + num(band, "height")
    [diamond] = root.iter("path")
    assert diamond.get("fill") == charts.NAVY
    xs = [float(step.split()[0].lstrip("MLZ")) for step in diamond.get("d").split("L")]
    assert (min(xs) + max(xs)) / 2 == pytest.approx(x_on_track(72.4), abs=0.06)
    assert 0 <= min(xs) and max(xs) <= charts.BAR_WIDTH


def test_benchmark_leaves_out_what_is_missing():
    root = parse(charts.benchmark(None, None, 45.0, None, "Engagement"))
    assert not list(root.iter("path")) and not list(root.iter("line"))
    assert len(bars(root)) == 1  # the track only: a band needs both ends
    root = parse(charts.benchmark(50.0, None, None, None, "Engagement"))
    assert len(list(root.iter("path"))) == 1 and not list(root.iter("line")) and len(bars(root)) == 1
    root = parse(charts.benchmark(None, 50.0, None, 60.0, "Engagement"))
    assert not list(root.iter("path")) and len(list(root.iter("line"))) == 1 and len(bars(root)) == 1


def test_benchmark_clamps_to_the_track_and_orders_the_band():
    root = parse(charts.benchmark(130.0, -20.0, 70.0, 45.0, "Revenue"))
    _, band = bars(root)
    assert span(band) == pytest.approx((x_on_track(45), x_on_track(70)), abs=0.06)
    assert num(next(root.iter("line")), "x1") == pytest.approx(x_on_track(0), abs=0.06)
    xs = [float(step.split()[0].lstrip("MLZ")) for step in next(root.iter("path")).get("d").split("L")]
    assert (min(xs) + max(xs)) / 2 == pytest.approx(x_on_track(100), abs=0.06)
    assert max(xs) <= charts.BAR_WIDTH
    assert "segment middle half 45.0–70.0" in root[0].text


def test_benchmark_title_describes_value_median_and_band():
    assert parse(charts.benchmark(72.4, 58.0, 45.0, 70.0, "Revenue"))[0].text == (
        "Revenue: 72.4; segment middle half 45.0–70.0; segment median 58.0")
    assert parse(charts.benchmark(None, None, 45.0, None, "Engagement"))[0].text == "Engagement: not scored"
    assert parse(charts.benchmark(None, 58.0, None, None, "Engagement"))[0].text == (
        "Engagement: not scored; segment median 58.0")
    svg = charts.benchmark(72.4, 58.0, 45.0, 70.0, NASTY)
    assert "<title>&lt;b&gt;x&lt;/b&gt; &amp; {{ 7*7 }}: 72.4;" in svg
    assert parse(svg)[0].text.startswith(f"{NASTY}: 72.4; segment middle half")


def test_benchmark_draws_no_text():
    for args in ((72.4, 58.0, 45.0, 70.0), (None, None, None, None), (10.0, 90.0, 5.0, 95.0)):
        svg = charts.benchmark(*args, NASTY)
        assert not list(parse(svg).iter("text")) and "<text" not in svg


# ------------------------------------------------------------------ WeasyPrint


def test_weasyprint_draws_the_chart_text_in_open_sans_but_not_the_titles():
    """Charts embedded as the scorecard embeds them (an ``<img>`` with a ``data:`` URL and the title as
    alt text) in a page styled by the scorecard's stylesheet: the trajectory's text is drawn in the
    shipped Open Sans, and no title is drawn (alt text would show if an image failed to load)."""
    weasyprint = pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    from reports.fetcher import RestrictedFetcher
    from reports.render import svg_image

    bar_rows = [charts.layer_bar(72.4, None, title="Hidden title two"),
                *charts.driver_bars([("Hidden title three", -3.1), ("Hidden title four", 2.0)]),
                charts.benchmark(None, 58.0, 45.0, 70.0, "Hidden title five")]
    images = [svg_image(charts.trajectory(POINTS, [(2, NASTY)], [(3, "Ramp")], [(75, "A")], title="Hidden title one")),
              *map(svg_image, bar_rows)]
    assert all(str(img).startswith('<img ') and 'src="data:image/svg+xml;base64,' in img for img in images)
    rows = "".join(f'<div class="row"><span class="bar">{img}</span></div>' for img in images[1:])
    # The page margins print "Page n of m" in Open Sans; left out so that only the charts draw text.
    html = ('<html><head><link rel="stylesheet" href="scorecard.css">'
            "<style>@page { @bottom-left { content: none } @bottom-right { content: none } }</style></head>"
            f'<body><div class="chart">{images[0]}</div>{rows}</body></html>')
    fetcher = RestrictedFetcher([TEMPLATES])
    pdf = weasyprint.HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher).write_pdf()
    assert not fetcher.blocked
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (NASTY, "Months since onboarding start", "Ramp", "72.4", "61.3", "Revenue", "Engagement"):
        assert expected in text
    for hidden in ("Hidden title", "not scored", "points", "median"):
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
