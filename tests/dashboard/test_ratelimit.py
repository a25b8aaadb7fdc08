"""Failed logins are limited per email (5) and per client IP (20) in 15 minutes."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import login

EMAIL = "clerk@mairie-cotonou.example"
OTHER = "other@mairie-cotonou.example"
WRONG = "not the password at all"


@pytest.fixture
def staff(make_staff):
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    make_staff(OTHER, roles={"cotonou": "viewer"})


def _fail(client, email: str, times: int, **kwargs) -> None:
    for _ in range(times):
        assert login(client, email, WRONG, **kwargs).status_code == 401


def test_five_failures_block_the_email_even_with_the_right_password(client, staff) -> None:
    _fail(client, EMAIL, 5)
    blocked = login(client, EMAIL)
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    html = blocked.get_data(as_text=True)
    assert "Trop de tentatives de connexion" in html
    assert "15 minute(s)" in html
    assert client.get("/dashboard/").status_code == 302
    # Another address from the same place still works.
    assert login(client, OTHER).status_code == 302


def test_the_email_limit_ignores_case(client, staff) -> None:
    _fail(client, EMAIL, 5)
    assert login(client, EMAIL.upper()).status_code == 429


def test_four_failures_then_success_resets_the_email_counter(app, client, staff) -> None:
    _fail(client, EMAIL, 4)
    assert login(client, EMAIL).status_code == 302
    browser = app.test_client()
    _fail(browser, EMAIL, 4)  # would be 8 without the reset
    assert login(browser, EMAIL).status_code == 302


def test_twenty_failures_from_one_ip_block_it(app, staff) -> None:
    attacker = app.test_client()
    here = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    for index in range(20):
        # Different addresses: only the IP counter can reach its limit.
        _fail(attacker, f"guess{index // 4}@mairie-cotonou.example", 1, **here)
    blocked = login(attacker, EMAIL, **here)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # The same staff from another IP is not blocked.
    elsewhere = app.test_client()
    assert login(elsewhere, EMAIL, environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 302


def test_the_ip_comes_from_the_proxy_header(app, staff) -> None:
    """Behind the platform router every client shares one REMOTE_ADDR."""
    attacker = app.test_client()
    via = {"headers": {"X-Forwarded-For": "203.0.113.7"}}
    for index in range(20):
        _fail(attacker, f"guess{index // 4}@mairie-cotonou.example", 1, **via)
    assert login(attacker, EMAIL, **via).status_code == 429
    neighbour = app.test_client()
    assert login(neighbour, EMAIL, headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 302
