"""`make run` end to end: the real processes, started, answering, stopped, restarted."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.redis import EmbeddedRedis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(instance: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(INSTANCE_PATH=str(instance), PORT=str(port))
    return subprocess.Popen(
        [sys.executable, "-m", "bot.devserver"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            if response.status_code == 200:
                return response.json()
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    pytest.fail("the service did not become healthy within 60 s")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    return output


def test_run_starts_everything_and_restarts_keeping_data(tmp_path: Path) -> None:
    port = _free_port()
    process = _start(tmp_path, port)
    try:
        health = _wait_healthy(port, process)
        # The newcomer's two first pages (README): the simulator and the dashboard.
        simulator = requests.get(f"http://127.0.0.1:{port}/simulator/", timeout=10)
        login_page = requests.get(f"http://127.0.0.1:{port}/dashboard/login", timeout=10)
    finally:
        first = _stop(process)
    assert simulator.status_code == 200 and login_page.status_code == 200
    assert health == {"database": "up", "redis": "up", "status": "ok"}
    assert process.returncode == 0, first
    assert "sample content loaded" in first
    assert f"http://127.0.0.1:{port}/healthz" in first
    assert f"http://127.0.0.1:{port}/simulator/" in first
    login_line = next(line for line in first.splitlines() if "dashboard:" in line)
    assert "login demo@example.org / " in login_line
    assert "stopped" in first
    # Ctrl-C stopped the embedded Redis too: nothing left behind.
    assert not EmbeddedRedis(tmp_path).is_running()

    process = _start(tmp_path, port)
    try:
        _wait_healthy(port, process)
    finally:
        second = _stop(process)
    assert process.returncode == 0, second
    assert "existing data kept" in second
    assert login_line in second.splitlines()
