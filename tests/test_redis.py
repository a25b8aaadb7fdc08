"""The embedded Redis is a real server, shared by every process of one instance."""

import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker

from bot import create_app
from bot.redis import EmbeddedRedis, get_queue, get_redis


@pytest.fixture
def embedded(tmp_path: Path):
    server = EmbeddedRedis(tmp_path)
    yield server
    server.stop()


def test_starts_once_and_is_shared(embedded: EmbeddedRedis) -> None:
    assert embedded.ensure_running() is True
    assert embedded.ensure_running() is False
    other_view = EmbeddedRedis(embedded.directory.parent)
    assert other_view.url == embedded.url
    assert other_view.ensure_running() is False


def test_another_process_sees_the_same_data(embedded: EmbeddedRedis) -> None:
    embedded.ensure_running()
    redis.Redis.from_url(embedded.url).set("greeting", "bonjour")
    code = (
        "import sys, redis; from bot.redis import EmbeddedRedis;"
        f"e = EmbeddedRedis({str(embedded.directory.parent)!r}); started = e.ensure_running();"
        "print(started, redis.Redis.from_url(e.url).get('greeting').decode())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "bonjour"]


def test_data_survives_a_restart(embedded: EmbeddedRedis) -> None:
    embedded.ensure_running()
    redis.Redis.from_url(embedded.url).set("kept", "1")
    embedded.stop()
    assert not embedded.is_running()
    embedded.ensure_running()
    assert redis.Redis.from_url(embedded.url).get("kept") == b"1"


def test_long_instance_paths_get_a_short_socket(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 120)
    server = EmbeddedRedis(deep)
    assert len(str(server.socket)) < 108
    try:
        server.ensure_running()
        assert server.is_running()
    finally:
        server.stop()


def test_app_without_redis_url_uses_embedded_server(tmp_path: Path) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "REDIS_URL": None})
    try:
        assert get_redis(app).ping()
        assert EmbeddedRedis(tmp_path).is_running()
    finally:
        EmbeddedRedis(tmp_path).stop()


def _double(n: int) -> int:
    return n * 2


def test_queues_run_jobs_on_a_real_worker(app) -> None:
    queue = get_queue("default", app)
    job = queue.enqueue(_double, 21)
    SimpleWorker([queue], connection=get_redis(app)).work(burst=True)
    assert job.return_value() == 42


def test_unknown_queue_is_refused(app) -> None:
    with pytest.raises(ValueError, match="high, default, bulk"):
        get_queue("urgent", app)
    assert isinstance(get_queue("bulk", app), Queue)
