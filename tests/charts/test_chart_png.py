"""The budget chart read back from its PNG: size, mode, and bars that measure the data."""

from __future__ import annotations

import io
from dataclasses import replace

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import models
from bot.charts import draw
from bot.charts.data import BudgetChart, Pair, budget_chart
from bot.content.cache import build_snapshot
from bot.models.enums import BudgetDirection, BudgetPhase, BudgetSection

BAR_COLORS = (draw.VOTED, draw.EXECUTED)


def read(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def section_bars(image: Image.Image) -> list[tuple[tuple[int, int, int], int]]:
    """(colour, height in pixels) of each bar standing on the section baseline, left to right."""
    pixels = image.load()
    bars: list[tuple[tuple[int, int, int], int]] = []
    previous = None
    for x in range(image.width):
        column = [pixels[x, y] for y in range(draw.SECTION_TOP, draw.SECTION_BASE)]
        colours = {c for c in column if c in BAR_COLORS}
        assert len(colours) <= 1, f"two bar colours in column {x}"
        colour = colours.pop() if colours else None
        if colour is not None:
            height = column.count(colour)
            if colour == previous:
                bars[-1] = (colour, max(bars[-1][1], height))
            else:
                bars.append((colour, height))
        previous = colour
    return bars


def sector_bars(image: Image.Image) -> list[tuple[tuple[int, int, int], int]]:
    """(colour, length in pixels) of each horizontal sector bar, top to bottom."""
    pixels = image.load()
    bars: list[tuple[tuple[int, int, int], int]] = []
    previous = None
    for y in range(draw.SECTOR_TOP, draw.FOOTER_Y):
        row = [pixels[x, y] for x in range(image.width)]
        colours = {c for c in row if c in BAR_COLORS}
        colour = colours.pop() if len(colours) == 1 else None
        if colour is not None and colour != previous:
            bars.append((colour, row.count(colour)))
        previous = colour
    return bars


def assert_proportional(measured: list[int], values: list[float], longest: int) -> None:
    """Each length is its value on a scale where the largest value is `longest` pixels,
    to the pixel (rounding): any two lengths are in the ratio of their values."""
    top = max(values)
    assert max(measured) == longest
    for length, value in zip(measured, values, strict=True):
        assert abs(length - longest * value / top) <= 1, (measured, values)


CHART = BudgetChart(
    commune="Cotonou",
    year=2025,
    sections=(
        Pair("fonctionnement", 40_000_000_000, 30_000_000_000),
        Pair("investissement", 20_000_000_000, 5_000_000_000),
    ),
    sectors=(
        Pair("Voirie", 12_000_000_000, 9_000_000_000),
        Pair("Personnel", 8_000_000_000, 8_000_000_000),
        Pair("Assainissement", 6_000_000_000, 1_500_000_000),
    ),
    sample=False,
)


def test_a_phone_sized_png_whose_bars_measure_the_figures() -> None:
    image = read(draw.render_png(CHART, "fr"))
    assert image.size == (800, 1000)
    assert Image.open(io.BytesIO(draw.render_png(CHART, "fr"))).mode == "RGB"

    bars = section_bars(image)
    assert [colour for colour, _ in bars] == [draw.VOTED, draw.EXECUTED] * 2
    values = [40, 30, 20, 5]
    assert_proportional([height for _, height in bars], values, draw.SECTION_BAR_MAX)

    sectors = sector_bars(image)
    assert [colour for colour, _ in sectors] == [draw.VOTED, draw.EXECUTED] * 3
    assert_proportional(
        [length for _, length in sectors], [12, 9, 8, 8, 6, 1.5], draw.SECTOR_BAR_MAX
    )


def test_the_sample_band_shows_only_on_sample_figures() -> None:
    corner = (draw.SAMPLE_BOX[0] + 2, draw.SAMPLE_BOX[1] + 2)
    real = read(draw.render_png(CHART, "fr"))
    sample = read(draw.render_png(replace(CHART, sample=True), "fr"))
    assert real.getpixel(corner) == draw.WHITE
    assert sample.getpixel(corner) == draw.SAMPLE_BAND
    # Only the band differs: the bars are the same.
    assert section_bars(sample) == section_bars(real)


def test_the_text_is_in_the_language_asked() -> None:
    french, english = (read(draw.render_png(CHART, lang)) for lang in ("fr", "en"))
    title = (0, 0, 800, draw.SUBTITLE_Y)
    assert french.crop(title).tobytes() != english.crop(title).tobytes()
    assert section_bars(french) == section_bars(english)


def test_an_unpublished_execution_draws_no_bar_not_an_empty_one() -> None:
    chart = BudgetChart(
        commune="Cotonou",
        year=2026,
        sections=(Pair("fonctionnement", 40, None), Pair("investissement", 20, None)),
        sectors=(Pair("Voirie", 12, None),),
        sample=False,
    )
    bars = section_bars(read(draw.render_png(chart, "en")))
    assert [colour for colour, _ in bars] == [draw.VOTED, draw.VOTED]
    assert_proportional([height for _, height in bars], [40, 20], draw.SECTION_BAR_MAX)


def _spent(session: Session, year: int, phase: BudgetPhase, **where: object) -> int:
    query = (
        select(func.sum(models.BudgetLine.amount_xof))
        .join(models.Commune, models.Commune.id == models.BudgetLine.commune_id)
        .where(
            models.Commune.slug == "cotonou",
            models.BudgetLine.fiscal_year == year,
            models.BudgetLine.phase == phase,
            models.BudgetLine.direction == BudgetDirection.DEPENSE,
        )
    )
    for name, value in where.items():
        query = query.where(getattr(models.BudgetLine, name) == value)
    return int(session.scalar(query) or 0)


def test_the_sample_budget_of_cotonou_is_drawn_from_its_budget_lines(session, communes) -> None:
    chart = budget_chart(build_snapshot(session, "cotonou"), 2025)
    assert chart is not None and chart.sample
    sections = [
        _spent(session, 2025, phase, section=section)
        for section in (BudgetSection.FONCTIONNEMENT, BudgetSection.INVESTISSEMENT)
        for phase in (BudgetPhase.VOTED, BudgetPhase.EXECUTED)
    ]
    image = read(draw.render_png(chart, "fr"))
    assert_proportional([h for _, h in section_bars(image)], sections, draw.SECTION_BAR_MAX)

    voted_sectors = session.execute(
        select(models.BudgetLine.sector, func.sum(models.BudgetLine.amount_xof).label("total"))
        .join(models.Commune, models.Commune.id == models.BudgetLine.commune_id)
        .where(
            models.Commune.slug == "cotonou",
            models.BudgetLine.fiscal_year == 2025,
            models.BudgetLine.phase == BudgetPhase.VOTED,
            models.BudgetLine.direction == BudgetDirection.DEPENSE,
        )
        .group_by(models.BudgetLine.sector)
        .order_by(func.sum(models.BudgetLine.amount_xof).desc())
        .limit(5)
    ).all()
    assert [pair.label for pair in chart.sectors] == [row.sector for row in voted_sectors]
    values = [
        amount
        for row in voted_sectors
        for amount in (row.total, _spent(session, 2025, BudgetPhase.EXECUTED, sector=row.sector))
    ]
    assert_proportional([w for _, w in sector_bars(image)], values, draw.SECTOR_BAR_MAX)
