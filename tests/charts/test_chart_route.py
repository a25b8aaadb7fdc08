"""GET /media/charts/<commune>/<year>/<lang>.png: drawn once, served from memory, never a 500."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot import create_app, models
from bot.charts import chart_path, draw, views
from bot.charts.data import BudgetChart
from bot.content import cache as content_cache
from bot.models.enums import BudgetDirection, BudgetPhase, BudgetSection
from bot.redis import get_redis
from tests.charts.test_chart_png import section_bars

URL = chart_path("cotonou", 2025, "fr")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """Every chart the route draws (commune, year, language), drawn by the real renderer."""
    calls: list[tuple[str, int, str]] = []
    render: Callable[[BudgetChart, str], bytes] = views.render_png

    def counting(chart: BudgetChart, lang: str) -> bytes:
        calls.append((chart.commune, chart.year, lang))
        return render(chart, lang)

    monkeypatch.setattr(views, "render_png", counting)
    return calls


def test_a_second_request_is_served_from_the_cache(client, communes, drawn) -> None:
    first = client.get(URL)
    assert first.status_code == 200
    assert first.mimetype == "image/png"
    assert Image.open(io.BytesIO(first.data)).size == (draw.WIDTH, draw.HEIGHT)
    assert first.headers["ETag"]
    assert first.cache_control.public and first.cache_control.max_age == views.MAX_AGE_SECONDS

    second = client.get(URL)
    assert second.status_code == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert drawn == [("Cotonou", 2025, "fr")]

    english = client.get(chart_path("cotonou", 2025, "en"))
    assert english.status_code == 200 and english.data != first.data
    assert drawn == [("Cotonou", 2025, "fr"), ("Cotonou", 2025, "en")]


def test_a_client_holding_the_chart_gets_304(client, communes, drawn) -> None:
    etag = client.get(URL).headers["ETag"]
    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.head(URL).status_code == 200
    assert len(drawn) == 1


def test_changed_content_draws_the_chart_again(
    app, client, session, communes, drawn, monkeypatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(content_cache, "_monotonic", lambda: clock[0])
    before = client.get(URL)
    investment = session.scalars(
        select(models.BudgetLine).where(
            models.BudgetLine.commune_id == communes["cotonou"].id,
            models.BudgetLine.fiscal_year == 2025,
            models.BudgetLine.phase == BudgetPhase.VOTED,
            models.BudgetLine.direction == BudgetDirection.DEPENSE,
            models.BudgetLine.section == BudgetSection.INVESTISSEMENT,
        )
    ).all()
    for line in investment:
        line.amount_xof *= 3  # investment becomes the tallest bar
    session.commit()
    content_cache.bump_content_version(get_redis(app))
    clock[0] += content_cache.CHECK_INTERVAL_SECONDS

    after = client.get(URL)
    assert after.status_code == 200
    assert after.data != before.data and after.headers["ETag"] != before.headers["ETag"]
    assert len(drawn) == 2
    heights = [h for _, h in section_bars(Image.open(io.BytesIO(after.data)).convert("RGB"))]
    assert heights[2] == draw.SECTION_BAR_MAX  # voted investment
    assert client.get(URL).data == after.data
    assert len(drawn) == 2


@pytest.mark.parametrize(
    "path",
    [
        chart_path("nowhere", 2025, "fr"),
        chart_path("cotonou", 1999, "fr"),
        chart_path("cotonou", 2025, "de"),
        chart_path("cotonou", 2025, "FR"),
        chart_path("cotonou", 2025, "../fr"),
        chart_path("cotonou", 10**30, "fr"),
        chart_path("a" * 5000, 2025, "fr"),
        chart_path("cotonou%00", 2025, "fr"),
        "/media/charts/cotonou/-1/fr.png",
        "/media/charts/cotonou/2025/fr.jpg",
        "/media/charts/cotonou/deux-mille/fr.png",
        "/media/charts/cotonou/2025",
    ],
)
def test_anything_else_is_a_404(client, communes, drawn, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert drawn == []


def test_a_database_out_of_reach_is_a_503(redis_url: str, tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'communes.db'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret",
        }
    )
    response = app.test_client().get(URL)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == views.RETRY_AFTER_SECONDS
