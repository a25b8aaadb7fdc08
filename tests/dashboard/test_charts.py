"""Inline SVG charts: proportional, safe with no data, and escaping every label."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"
XSS = "<script>alert(1)</script>"


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def _bars(markup: str) -> list[ET.Element]:
    return [rect for rect in _svg(markup).iter(f"{SVG}rect") if rect.get("class") == "bar"]


def _heights(markup: str) -> list[float]:
    return [float(rect.get("height")) for rect in _bars(markup)]


def test_bar_heights_are_proportional_and_the_largest_fills_the_plot() -> None:
    heights = _heights(charts.bar_chart("c", "Title", [("a", 10), ("b", 20), ("c", 40)]))
    assert heights == [charts.PLOT_HEIGHT / 4, charts.PLOT_HEIGHT / 2, charts.PLOT_HEIGHT]


def test_bars_stand_on_the_axis() -> None:
    for rect in _bars(charts.bar_chart("c", "Title", [("a", 3), ("b", 7)])):
        bottom = float(rect.get("y")) + float(rect.get("height"))
        assert bottom == pytest.approx(charts.TOP + charts.PLOT_HEIGHT)


def test_a_fixed_top_sets_the_scale() -> None:
    heights = _heights(charts.bar_chart("c", "Rates", [("a", 50), ("b", 100)], top=100))
    assert heights == [charts.PLOT_HEIGHT / 2, charts.PLOT_HEIGHT]


@pytest.mark.parametrize("bars", [[], [("a", 0), ("b", 0)]])
def test_no_data_draws_an_empty_chart(bars) -> None:
    markup = charts.bar_chart("c", "Nothing yet", bars)
    assert all(height == 0 for height in _heights(markup))
    assert _svg(markup).find(f"{SVG}title").text == "Nothing yet"


def test_zero_data_in_stacked_and_line_charts_divides_by_nothing() -> None:
    stacked = charts.stacked_bar_chart("s", "S", ["x", "y"], [("one", [0, 0]), ("two", [0, 0])])
    assert _heights(stacked) == [0, 0, 0, 0]
    line = _svg(charts.line_chart("l", "L", ["d1", "d2"], [("in", [0, 0])]))
    points = line.find(f"{SVG}polyline").get("points").split()
    assert {float(point.split(",")[1]) for point in points} == {charts.TOP + charts.PLOT_HEIGHT}
    assert charts.line_chart("e", "Empty", [], [])


def test_stacked_layers_add_up_to_a_proportional_bar() -> None:
    markup = charts.stacked_bar_chart(
        "s", "S", ["week", "month"], [("received", [1, 4]), ("in_progress", [1, 0])]
    )
    rects = _bars(markup)
    week = [float(r.get("height")) for r in rects if r.get("data-label") == "week"]
    month = [float(r.get("height")) for r in rects if r.get("data-label") == "month"]
    assert sum(week) == pytest.approx(charts.PLOT_HEIGHT / 2)
    assert sum(month) == pytest.approx(charts.PLOT_HEIGHT)
    # The second layer sits on top of the first.
    first, second = (r for r in rects if r.get("data-label") == "week")
    assert float(second.get("y")) + float(second.get("height")) == pytest.approx(
        float(first.get("y"))
    )


def test_line_points_are_proportional() -> None:
    line = _svg(charts.line_chart("l", "L", ["a", "b", "c"], [("out", [0, 5, 10])]))
    ys = [float(p.split(",")[1]) for p in line.find(f"{SVG}polyline").get("points").split()]
    base = charts.TOP + charts.PLOT_HEIGHT
    assert [base - y for y in ys] == [0, charts.PLOT_HEIGHT / 2, charts.PLOT_HEIGHT]


def test_every_chart_is_named_for_screen_readers() -> None:
    for markup in (
        charts.bar_chart("bars", "Bars", [("a", 1)]),
        charts.stacked_bar_chart("stack", "Stack", ["a"], [("s", [1])]),
        charts.line_chart("line", "Line", ["a"], [("s", [1])]),
    ):
        svg = _svg(markup)
        title = svg.find(f"{SVG}title")
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == title.get("id") == f"{svg.get('id')}-title"


def test_titles_labels_and_series_names_are_escaped() -> None:
    for markup in (
        charts.bar_chart(XSS, XSS, [(XSS, 1)]),
        charts.stacked_bar_chart("s", XSS, [XSS], [(XSS, [1])]),
        charts.line_chart("l", XSS, [XSS], [(XSS, [1])]),
    ):
        assert XSS not in markup
        assert "&lt;script&gt;" in markup
        # Still well-formed: the text stays text.
        assert _svg(markup).find(f"{SVG}title").text == XSS


def test_many_labels_are_thinned_so_they_do_not_overlap() -> None:
    labels = [f"d{n}" for n in range(30)]
    svg = _svg(charts.line_chart("l", "L", labels, [("in", [1] * 30)]))
    shown = [t.text for t in svg.iter(f"{SVG}text") if t.text and t.text.startswith("d")]
    assert len(shown) == 10
    # Counted back from the last label (today), which is always shown.
    assert shown[-1] == "d29" and shown[-2] == "d26"


def test_long_labels_are_cut_under_the_bar_and_kept_whole_in_its_tooltip() -> None:
    long = "En cours de traitement depuis longtemps"
    svg = _svg(charts.bar_chart("c", "C", [(long, 1)] + [(str(n), 1) for n in range(9)]))
    [under] = [t.text for t in svg.iter(f"{SVG}text") if t.text and t.text.startswith("En")]
    assert under.endswith("…") and len(under) < len(long)
    alone = charts.bar_chart("c", "C", [(long, 1)])
    assert _bars(alone)[0].get("data-label") == long
    assert f"<title>{long}: 1</title>" in alone
