"""Drawing a budget chart as a PNG with Pillow, sized and lettered for a phone.

800 x 1000 pixels, portrait like a phone screen, text no smaller than 18 px:
the title (commune and year), a red "sample data" band when the figures are
sample, a legend, then two grouped bars per section (voted, executed) on one
scale, then the largest sectors as pairs of horizontal bars on another.
Bars are flat rectangles of exactly VOTED or EXECUTED (no anti-aliasing), so
their length in pixels is the amount on the chart's scale, to the pixel.

Accented letters need a font that has them: the first of DejaVu Sans,
Liberation Sans or Noto Sans found under the system font folders. Without one,
Pillow's own font is used and the text loses its accents (it has no glyphs for
them, and a box in place of "é" reads worse than "e").
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from PIL import Image, ImageDraw, ImageFont

from bot.charts.data import BudgetChart, Pair
from bot.i18n import DEFAULT_LANGUAGE, t

WIDTH, HEIGHT = 800, 1000
MARGIN = 40

WHITE = (255, 255, 255)
INK = (33, 33, 33)
MUTED = (90, 90, 90)
RULE = (153, 153, 153)
VOTED = (11, 93, 59)
EXECUTED = (208, 140, 27)
SAMPLE_BAND = (163, 59, 59)

TITLE_Y = 28
SUBTITLE_Y = 80
SAMPLE_BOX = (MARGIN, 116, WIDTH - MARGIN, 158)
LEGEND_Y = 172
SECTION_HEADING_Y = 214
SECTION_TOP, SECTION_BASE = 258, 520
"""The section panel: the bars stand on SECTION_BASE, the tallest reaches
SECTION_BASE - SECTION_BAR_MAX, its amount is written above it."""
SECTION_BAR_MAX = 220
SECTION_BAR_WIDTH, SECTION_BAR_GAP = 120, 16
SECTOR_HEADING_Y = 588
SECTOR_TOP = 630
SECTOR_ROW = 64
SECTOR_BAR_HEIGHT = 16
SECTOR_BAR_MAX = 540
"""The longest sector bar; the room to its right holds the amounts."""
FOOTER_Y = 966

BILLION, MILLION = 1_000_000_000, 1_000_000

FONT_FOLDERS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
FONT_FILES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def render_png(chart: BudgetChart, lang: str) -> bytes:
    """The chart as PNG bytes, its text in `lang`."""
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    pen = _Pen(ImageDraw.Draw(image), lang)
    values = [v for pair in (*chart.sections, *chart.sectors) for v in (pair.voted, pair.executed)]
    # Billions with a decimal read well from 10 billions up; below, millions keep
    # small sectors apart (0.2 and 0.25 billion are 200 and 250 million).
    unit = BILLION if max((v or 0 for v in values), default=0) >= 10 * BILLION else MILLION
    unit_name = t(
        "whatsapp_media.chart.unit.billion"
        if unit == BILLION
        else "whatsapp_media.chart.unit.million",
        lang,
    )

    pen.text(
        (MARGIN, TITLE_Y),
        t("whatsapp_media.chart.title", lang, commune=chart.commune, year=chart.year),
        38,
        bold=True,
    )
    pen.text(
        (MARGIN, SUBTITLE_Y),
        t("whatsapp_media.chart.subtitle", lang, unit=unit_name),
        24,
        fill=MUTED,
    )
    if chart.sample:
        pen.draw.rectangle(SAMPLE_BOX, fill=SAMPLE_BAND)
        pen.centered(SAMPLE_BOX, t("sample.label", lang), 26, fill=WHITE, bold=True)
    _legend(pen)
    pen.text((MARGIN, SECTION_HEADING_Y), t("whatsapp_media.chart.by_section", lang), 26, bold=True)
    _sections(pen, chart.sections, unit)
    if chart.sectors:
        heading = t("whatsapp_media.chart.by_sector", lang, count=len(chart.sectors))
        pen.text((MARGIN, SECTOR_HEADING_Y), heading, 26, bold=True)
        _sectors(pen, chart.sectors, unit)
    pen.text((MARGIN, FOOTER_Y), t("whatsapp_media.chart.source", lang), 18, fill=MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def section_bar_height(value: int, top: int) -> int:
    """Pixels of a section bar: `value` on a scale where `top` is SECTION_BAR_MAX."""
    return round(SECTION_BAR_MAX * value / top) if top > 0 else 0


def sector_bar_width(value: int, top: int) -> int:
    return round(SECTOR_BAR_MAX * value / top) if top > 0 else 0


def _legend(pen: _Pen) -> None:
    x = MARGIN
    for color, key in (
        (VOTED, "whatsapp_media.chart.voted"),
        (EXECUTED, "whatsapp_media.chart.executed"),
    ):
        pen.draw.rectangle((x, LEGEND_Y, x + 22, LEGEND_Y + 22), fill=color)
        label = t(key, pen.lang)
        pen.text((x + 32, LEGEND_Y - 2), label, 22)
        x += 32 + int(pen.font(22).getlength(pen.fit(label))) + 40


def _sections(pen: _Pen, sections: Iterable[Pair], unit: int) -> None:
    sections = tuple(sections)
    top = max((v or 0 for pair in sections for v in (pair.voted, pair.executed)), default=0)
    slot = (WIDTH - 2 * MARGIN) // max(len(sections), 1)
    pen.draw.line((MARGIN, SECTION_BASE, WIDTH - MARGIN, SECTION_BASE), fill=RULE, width=2)
    for index, pair in enumerate(sections):
        left = MARGIN + index * slot
        first = left + (slot - 2 * SECTION_BAR_WIDTH - SECTION_BAR_GAP) // 2
        for offset, value, color in ((0, pair.voted, VOTED), (1, pair.executed, EXECUTED)):
            x = first + offset * (SECTION_BAR_WIDTH + SECTION_BAR_GAP)
            if value is None:
                pen.centered(
                    (x, SECTION_BASE - 40, x + SECTION_BAR_WIDTH, SECTION_BASE - 4),
                    t("whatsapp_media.chart.not_published", pen.lang),
                    18,
                    fill=MUTED,
                )
                continue
            height = section_bar_height(value, top)
            if height > 0:
                # Rectangle corners are inclusive: the last row is the baseline's neighbour.
                pen.draw.rectangle(
                    (x, SECTION_BASE - height, x + SECTION_BAR_WIDTH - 1, SECTION_BASE - 1),
                    fill=color,
                )
            label_box = (
                x,
                SECTION_BASE - height - 32,
                x + SECTION_BAR_WIDTH,
                SECTION_BASE - height - 4,
            )
            pen.centered(label_box, pen.number(value, unit), 22, fill=INK)
        name = t(f"whatsapp_media.chart.section.{pair.label}", pen.lang)
        pen.centered((left, SECTION_BASE + 8, left + slot, SECTION_BASE + 40), name, 24, bold=True)


def _sectors(pen: _Pen, sectors: Iterable[Pair], unit: int) -> None:
    sectors = tuple(sectors)
    top = max((v or 0 for pair in sectors for v in (pair.voted, pair.executed)), default=0)
    for index, pair in enumerate(sectors):
        y = SECTOR_TOP + index * SECTOR_ROW
        pen.text((MARGIN, y), pair.label, 22, width=WIDTH - 2 * MARGIN)
        for offset, value, color in ((0, pair.voted, VOTED), (1, pair.executed, EXECUTED)):
            bar_y = y + 28 + offset * (SECTOR_BAR_HEIGHT + 2)
            if value is None:
                label, end = t("whatsapp_media.chart.not_published", pen.lang), MARGIN
            else:
                width = sector_bar_width(value, top)
                if width > 0:
                    pen.draw.rectangle(
                        (MARGIN, bar_y, MARGIN + width - 1, bar_y + SECTOR_BAR_HEIGHT - 1),
                        fill=color,
                    )
                label, end = pen.number(value, unit), MARGIN + width
            pen.text((end + 8, bar_y - 3), label, 18, fill=MUTED)


class _Pen:
    """Text in the chart's language, in a font that has its letters, fitted to a width."""

    def __init__(self, draw: ImageDraw.ImageDraw, lang: str) -> None:
        self.draw = draw
        self.lang = lang
        self.fonts = _fonts()

    def font(self, size: int, bold: bool = False) -> Font:
        return _font(self.fonts[1] if bold else self.fonts[0], size)

    def fit(self, text: str) -> str:
        return text if self.fonts[0] is not None else _ascii(text)

    def text(
        self,
        at: tuple[int, int],
        text: str,
        size: int,
        *,
        fill: tuple[int, int, int] = INK,
        bold: bool = False,
        width: int = WIDTH - 2 * MARGIN,
    ) -> None:
        font = self.font(size, bold)
        self.draw.text(at, _shortened(self.fit(text), font, width), font=font, fill=fill)

    def centered(
        self,
        box: tuple[int, int, int, int],
        text: str,
        size: int,
        *,
        fill: tuple[int, int, int] = INK,
        bold: bool = False,
    ) -> None:
        font = self.font(size, bold)
        text = _shortened(self.fit(text), font, box[2] - box[0])
        middle = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        self.draw.text(middle, text, font=font, fill=fill, anchor="mm")

    def number(self, value: int, unit: int) -> str:
        try:
            locale = Locale.parse(self.lang)
        except (UnknownLocaleError, ValueError):
            locale = Locale.parse(DEFAULT_LANGUAGE)
        pattern = "#,##0.0" if unit == BILLION else "#,##0"
        formatted = format_decimal(value / unit, format=pattern, locale=locale)
        return " ".join(formatted.split())


@functools.cache
def _fonts() -> tuple[Path | None, Path | None]:
    """(regular, bold) font files with accented letters; (None, None) when none is installed."""
    for regular, bold in FONT_FILES:
        found = [_find(regular), _find(bold)]
        if found[0] is not None:
            return found[0], found[1] or found[0]
    return None, None


def _find(name: str) -> Path | None:
    for folder in FONT_FOLDERS:
        if folder.is_dir():
            match = next(folder.rglob(name), None)
            if match is not None:
                return match
    return None


@functools.cache
def _font(path: Path | None, size: int) -> Font:
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


def _ascii(text: str) -> str:
    """The text without accents, for a font that lacks them ("Données" -> "Donnees")."""
    text = text.replace("’", "'").replace("œ", "oe").replace("Œ", "OE")
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "replace")
        .decode("ascii")
    )


def _shortened(text: str, font: Font, width: int) -> str:
    """`text` cut with "..." to at most `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."
