"""Scorecard charts: well-formed SVG, escaped and shortened data text, series and signs that read
without colour, clamping into the plot, and text that WeasyPrint actually draws."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from reports import charts

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


def every_chart(label: str = "Label", title: str = "Chart") -> list[str]:
    return [
        charts.trajectory(POINTS, [(1.5, label), (1.7, label)], [(3, label)], [(75, label)], title=title),
        charts.layer_bars([(label, 72.4, None), ("Other", None, 12.0)], title=title),
        charts.drivers([(label, 4.2), ("Other", -3.1)], title=title),
        charts.benchmark(72.4, 58.0, 45.0, 70.0, label),
    ]


# ------------------------------------------------------------------ every chart


@pytest.mark.parametrize("index", range(4))
def test_root_is_an_accessible_svg_in_the_chart_font(index):
    root = parse(every_chart()[index])
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root[0].tag == "title" and root[0].text
    assert root.get("font-family") == charts.FONT
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert all(t.get("font-family") is None for t in root.iter("text"))  # every text inherits FONT
    assert all(7.5 <= num(t, "font-size") <= 10 for t in root.iter("text"))


@pytest.mark.parametrize("index", range(4))
def test_data_text_is_escaped_not_markup(index):
    svg = every_chart(NASTY, title=NASTY)[index]
    root = parse(svg)
    assert not list(root.iter("b"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert NASTY in root[0].text
    assert any(t.startswith("<b>x</b>") for t in texts(root))


def test_escaped_labels_keep_their_text_when_there_is_room():
    root = parse(charts.drivers([(NASTY, 2.0)], width=600))
    assert NASTY in texts(root)
    root = parse(charts.trajectory(POINTS, [(2, NASTY)], [(1, NASTY)], [(75, "A & B")]))
    assert texts(root).count(NASTY) == 2
    assert "A &amp; B" in charts.trajectory(POINTS, thresholds=[(75, "A & B")])


def test_control_characters_cannot_break_the_xml():
    label = "tab\there\x00nul\x0bvt\nnewline"
    for svg in every_chart(label, title=label):
        root = parse(svg)
        assert "\x00" not in svg and "\x0b" not in svg
        assert any(t.startswith("tab here nul vt") for t in [*texts(root), root[0].text])


@pytest.mark.parametrize("index", range(4))
def test_same_input_same_string(index):
    assert every_chart()[index] == every_chart()[index]


def test_numbers_have_fixed_precision():
    svg = charts.trajectory([(0, 1 / 3, 2 / 3), (1, 50.123456, None)])
    root = parse(svg)
    coords = [v for e in root.iter() for k, v in e.attrib.items() if k in ("x", "y", "cx", "cy", "x1", "y2")]
    assert coords and all(len(v.rpartition(".")[2]) == 1 for v in coords)
    assert {"50.1", "0.7"} <= set(texts(root)) and "0.3" not in texts(root)  # last value of each series


# ------------------------------------------------------------------ truncation


def test_long_labels_are_cut_with_an_ellipsis_inside_their_column():
    assert len(LONG) == 80
    layer = parse(charts.layer_bars([(LONG, 50.0, 50.0)]))
    driver = parse(charts.drivers([(LONG, 3.0), ("Short", -2.0)]))
    bench = parse(charts.benchmark(50.0, None, None, None, LONG))
    for root in (layer, driver, bench):
        label = next(t for t in root.iter("text") if (t.text or "").startswith("Partner"))
        assert label.text.endswith("…") and len(label.text) < 40
        assert LONG.startswith(label.text[:-1])
        bars = [num(r, "x") for r in root.iter("rect")  # bars and tracks, not legend keys or the hatch tile
                if r.get("height") != "7.0" and r.get("fill") != charts.HATCH_FILL]
        assert text_box(label)[1] <= min(bars) - 4


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


# ------------------------------------------------------------------ layer bars


def test_layer_bars_pair_solid_and_outlined_bars_and_mark_missing_scores():
    root = parse(charts.layer_bars([("Fit", 72.4, 65.0), ("Onboarding", None, 48.2)]))
    bars = [r for r in root.iter("rect") if r.get("height") != "7.0"]
    assert len(bars) == 3  # no bar for the missing revenue score
    assert {(b.get("fill"), b.get("stroke")) for b in bars} == {(charts.NAVY, None), (charts.GRID, charts.NAVY)}
    assert {"72.4", "65.0", "48.2", "—", "Revenue", "Engagement"} <= set(texts(root))
    widths = sorted(num(b, "width") for b in bars)
    assert widths[-1] / widths[0] == pytest.approx(72.4 / 48.2, rel=0.01)


def test_layer_bars_grow_with_the_number_of_layers():
    one = parse(charts.layer_bars([("a", 1.0, 2.0)]))
    three = parse(charts.layer_bars([("a", 1.0, 2.0)] * 3))
    assert num(three, "height") > num(one, "height")
    assert "No layer scores yet" in texts(parse(charts.layer_bars([])))


# ------------------------------------------------------------------ drivers


def test_drivers_sign_and_hatch_tell_losses_from_gains():
    svg = charts.drivers([("Certified", 4.2), ("Slow replies", -3.1), ("Flat", 0.0)])
    root = parse(svg)
    assert {"+4.2", "−3.1", "0.0"} <= set(texts(root))
    assert "-3.1" not in svg  # a true minus sign, not a hyphen
    pattern = next(root.iter("pattern"))
    assert pattern.get("id").startswith("hatch-neg")
    bars = [r for r in root.iter("rect") if r.get("fill") != charts.HATCH_FILL]
    assert len(bars) == 2  # a zero driver gets no bar
    gain, loss = sorted(bars, key=lambda r: -num(r, "x"))
    assert gain.get("fill") == charts.TEAL
    assert loss.get("fill") == f"url(#{pattern.get('id')})" and loss.get("stroke")
    assert num(loss, "x") + num(loss, "width") == pytest.approx(num(gain, "x"), abs=0.11)  # both meet at zero


def test_drivers_keep_order_and_use_a_symmetric_scale_of_at_least_five():
    root = parse(charts.drivers([("b", 1.0), ("a", 5.0), ("c", -2.5)]))
    assert [t for t in texts(root) if t in {"a", "b", "c"}] == ["b", "a", "c"]
    widths = [num(r, "width") for r in root.iter("rect") if r.get("fill") != charts.HATCH_FILL]
    assert widths[1] / widths[0] == pytest.approx(5, rel=0.02) and widths[1] / widths[2] == pytest.approx(2, rel=0.02)
    small = parse(charts.drivers([("b", 1.0)]))
    assert num(next(small.iter("rect")), "width") == pytest.approx(widths[0], abs=0.06)  # still on a ±5 scale
    assert not list(small.iter("pattern"))  # no losses, no hatch


def test_hatch_ids_differ_between_charts_but_not_between_runs():
    first = charts.drivers([("a", -1.0)])
    second = charts.drivers([("b", -1.0)])
    ids = [next(parse(svg).iter("pattern")).get("id") for svg in (first, second)]
    assert ids[0] != ids[1]
    assert charts.drivers([("a", -1.0)]) == first


def test_no_drivers_is_a_note():
    root = parse(charts.drivers([]))
    assert texts(root) == ["No drivers to show"]


# ------------------------------------------------------------------ benchmark


def test_benchmark_draws_band_median_and_marker():
    root = parse(charts.benchmark(72.4, 58.0, 45.0, 70.0, "Revenue"))
    assert {"Revenue", "72.4", "median 58.0"} <= set(texts(root))
    track, band = list(root.iter("rect"))
    assert num(band, "x") > num(track, "x") and num(band, "x") + num(band, "width") < num(track, "x") + num(
        track, "width")
    diamond = next(root.iter("path"))
    assert diamond.get("fill") == charts.NAVY
    value_x = float(diamond.get("d").split()[0][1:])
    assert num(text_element(root, "72.4"), "y") < num(track, "y") < num(text_element(root, "median 58.0"), "y")
    assert value_x == pytest.approx(num(track, "x") + 0.724 * num(track, "width"), abs=0.1)


def test_benchmark_leaves_out_what_is_missing():
    root = parse(charts.benchmark(None, None, 45.0, None, "Engagement"))
    assert "not scored" in texts(root)
    assert not list(root.iter("path")) and not list(root.iter("line"))
    assert len(list(root.iter("rect"))) == 1  # the track only: a band needs both ends
    assert not any(t.startswith("median") for t in texts(root))


# ------------------------------------------------------------------ WeasyPrint


def test_weasyprint_draws_the_chart_text_but_not_the_titles():
    weasyprint = pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    body = "".join([
        charts.trajectory(POINTS, [(2, NASTY)], [(3, "Ramp")], [(75, "A")], title="Hidden title one"),
        charts.layer_bars([("Fit", 72.4, None)], title="Hidden title two"),
        charts.drivers([("Slow replies", -3.1)], title="Hidden title three"),
        charts.benchmark(None, 58.0, 45.0, 70.0, "Engagement"),
    ])
    pdf = io.BytesIO(weasyprint.HTML(string=f"<html><body>{body}</body></html>").write_pdf())
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    for expected in (NASTY, "Months since onboarding start", "Ramp", "72.4", "—", "−3.1", "median 58.0",
                     "not scored"):
        assert expected in text
    assert "Hidden title" not in text
