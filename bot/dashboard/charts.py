"""Small charts as inline SVG, drawn on the server: no script, no library.

Every function returns the whole `<svg>` as `Markup` built with `Markup.format`,
which escapes each label and title it is given, so citizen or staff text in a
label comes out as text. Each chart names itself (`<title>` + `aria-labelledby`)
for screen readers; the page shows the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup

WIDTH = 640
HEIGHT = 240
LEFT = 48  # room for the scale's numbers
RIGHT = 12
TOP = 28  # room for the legend
BOTTOM = 36  # room for the labels
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
GAP = 0.2  # share of a slot left empty between bars
CHAR_WIDTH = 6.5  # an 11px character, roughly
PALETTE = ("#0b5d3b", "#d08c1b", "#3a6ea5", "#a33b3b", "#6b4f9a", "#5c5c5c")

Series = Sequence[tuple[str, Sequence[float]]]
"""(name, one value per label) for each line or stacked layer."""


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _height(value: float, top: float) -> float:
    """`value` in pixels on a scale from 0 to `top`; a zero scale draws nothing."""
    return round(PLOT_HEIGHT * value / top, 2) if top > 0 else 0.0


def _frame(
    chart_id: str, title: str, body: Markup, top: float, fmt: Callable[[float], str]
) -> Markup:
    base = TOP + PLOT_HEIGHT
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" role="img"'
        ' aria-labelledby="{id}-title" viewBox="0 0 {w} {h}" width="100%"'
        ' style="max-width:{w}px" font-size="11" font-family="system-ui, sans-serif">'
        '<title id="{id}-title">{title}</title>'
        '<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#999"/>'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
        '<text x="{tick}" y="{top_text}" text-anchor="end">{max}</text>'
        '<text x="{tick}" y="{base}" text-anchor="end">0</text>'
        "{body}</svg>"
    ).format(
        id=chart_id,
        title=title,
        w=WIDTH,
        h=HEIGHT,
        left=LEFT,
        top=TOP,
        base=base,
        right=LEFT + PLOT_WIDTH,
        tick=LEFT - 4,
        top_text=TOP + 4,
        max=fmt(top),
        body=body,
    )


def _legend(series: Series) -> Markup:
    items = Markup()
    for index, (name, _values) in enumerate(series):
        x = LEFT + index * 140
        items += Markup(
            '<rect x="{}" y="6" width="10" height="10" fill="{}"/><text x="{}" y="15">{}</text>'
        ).format(x, PALETTE[index % len(PALETTE)], x + 14, name)
    return items


def _axis_labels(labels: Sequence[str], slot: float, most: int = 10) -> Markup:
    """Labels under the slots: all when few, else every n-th counting back from the last.

    Each is cut to the room it has; the bar's tooltip and the table keep it whole.
    """
    step = max(1, -(-len(labels) // most))
    last = len(labels) - 1
    drawn = Markup()
    for index, label in enumerate(labels):
        if (last - index) % step == 0:
            drawn += Markup('<text x="{}" y="{}" text-anchor="middle">{}</text>').format(
                round(LEFT + slot * (index + 0.5), 2),
                TOP + PLOT_HEIGHT + 14,
                _fit(label, slot * step),
            )
    return drawn


def _fit(label: str, width: float) -> str:
    room = max(3, int(width // CHAR_WIDTH))
    return label if len(label) <= room else label[: room - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    top: float | None = None,
    fmt: Callable[[float], str] = _number,
) -> Markup:
    """One bar per (label, value), heights proportional on a scale from 0 to `top`.

    `top` defaults to the largest value (a fixed 100 suits percentages).
    """
    scale = top if top is not None else max((value for _, value in bars), default=0)
    slot = PLOT_WIDTH / max(len(bars), 1)
    body = Markup()
    for index, (label, value) in enumerate(bars):
        height = _height(value, scale)
        body += Markup(
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"'
            ' data-label="{}" data-value="{}"><title>{}: {}</title></rect>'
        ).format(
            round(LEFT + slot * (index + GAP / 2), 2),
            round(TOP + PLOT_HEIGHT - height, 2),
            round(slot * (1 - GAP), 2),
            height,
            PALETTE[0],
            label,
            _number(value),
            label,
            fmt(value),
        )
    body += _axis_labels([label for label, _ in bars], slot)
    return _frame(chart_id, title, body, scale, fmt)


def stacked_bar_chart(chart_id: str, title: str, labels: Sequence[str], series: Series) -> Markup:
    """One bar per label, made of one layer per series, stacked from the bottom."""
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    scale = max(totals, default=0)
    slot = PLOT_WIDTH / max(len(labels), 1)
    body = _legend(series)
    for index, label in enumerate(labels):
        base = TOP + PLOT_HEIGHT
        for layer, (name, values) in enumerate(series):
            height = _height(values[index], scale)
            base -= height
            body += Markup(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"'
                ' data-label="{}" data-series="{}" data-value="{}"><title>{}, {}: {}</title></rect>'
            ).format(
                round(LEFT + slot * (index + GAP / 2), 2),
                round(base, 2),
                round(slot * (1 - GAP), 2),
                height,
                PALETTE[layer % len(PALETTE)],
                label,
                name,
                _number(values[index]),
                label,
                name,
                _number(values[index]),
            )
    body += _axis_labels(labels, slot)
    return _frame(chart_id, title, body, scale, _number)


def line_chart(chart_id: str, title: str, labels: Sequence[str], series: Series) -> Markup:
    """One line per series across the labels (days), on a common scale from 0."""
    scale = max((max(values, default=0) for _, values in series), default=0)
    slot = PLOT_WIDTH / max(len(labels), 1)
    body = _legend(series)
    for layer, (name, values) in enumerate(series):
        points = " ".join(
            f"{round(LEFT + slot * (i + 0.5), 2)},{round(TOP + PLOT_HEIGHT - _height(v, scale), 2)}"
            for i, v in enumerate(values)
        )
        body += Markup(
            '<polyline class="line" fill="none" stroke="{}" stroke-width="2" points="{}"'
            ' data-series="{}"><title>{}</title></polyline>'
        ).format(PALETTE[layer % len(PALETTE)], points, name, name)
    body += _axis_labels(labels, slot)
    return _frame(chart_id, title, body, scale, _number)
