"""The API's content writes: the rules of the content files, the audit, the citizens' cache."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.content.cache import content_version
from bot.dashboard import content_edit
from bot.models import AuditLog, BudgetLine
from bot.redis import get_redis
from tests.api.conftest import bearer

LINE = {
    "fiscal_year": 2026,
    "phase": "voted",
    "direction": "depense",
    "section": "investissement",
    "sector": "Assainissement",
    "amount_xof": 1_250_000_000,
}


@pytest.fixture
def editor(token_for) -> dict[str, str]:
    return bearer(token_for("editor@mairie-cotonou.example", roles={"cotonou": "editor"}))


def test_api_content_is_created_replaced_and_deleted(app, client, session, editor) -> None:
    version = content_version(get_redis(app))
    created = client.post("/api/v1/communes/cotonou/budget-lines", json=LINE, headers=editor)
    assert created.status_code == 201, created.json
    assert created.json["amount_xof"] == 1_250_000_000 and created.json["is_sample"] is False
    assert content_version(get_redis(app)) > version
    path = f"/api/v1/communes/cotonou/budget-lines/{created.json['id']}"

    replaced = client.put(path, json={**LINE, "amount_xof": 900_000_000}, headers=editor)
    assert replaced.status_code == 200, replaced.json
    assert client.get(path, headers=editor).json["amount_xof"] == 900_000_000

    assert client.delete(path, headers=editor).status_code == 204
    assert client.get(path, headers=editor).status_code == 404
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "budget_lines").order_by(AuditLog.id)
    ).all()
    assert actions == ["create", "update", "delete"]


def test_api_content_follows_the_files_rules(client, session, editor) -> None:
    before = session.scalar(select(BudgetLine.id).order_by(BudgetLine.id.desc()).limit(1))
    bad = {**LINE, "phase": "guess", "amount_xof": -5, "fiscal_year": "soon"}
    response = client.post("/api/v1/communes/cotonou/budget-lines", json=bad, headers=editor)
    assert response.status_code == 422
    assert {"phase", "amount_xof", "fiscal_year"} <= set(response.json["error"]["fields"])
    assert session.scalar(select(BudgetLine.id).order_by(BudgetLine.id.desc()).limit(1)) == before


def test_api_content_of_another_commune_is_not_found(client, session, editor) -> None:
    from bot.content.cache import commune_id

    calavi_line = session.scalar(
        select(BudgetLine.id).where(BudgetLine.commune_id == commune_id(session, "abomey-calavi"))
    )
    path = f"/api/v1/communes/cotonou/budget-lines/{calavi_line}"
    assert client.put(path, json=LINE, headers=editor).status_code == 404
    assert client.delete(path, headers=editor).status_code == 404


def test_api_two_writers_of_one_key_give_a_conflict_not_an_error(
    client, editor, monkeypatch
) -> None:
    assert client.post("/api/v1/communes/cotonou/budget-lines", json=LINE, headers=editor)
    # As if the other writer committed between our check and our insert.
    monkeypatch.setattr(content_edit, "existing_rows", lambda *_args: {})
    second = client.post("/api/v1/communes/cotonou/budget-lines", json=LINE, headers=editor)
    assert second.status_code == 409
    assert second.json["error"]["status"] == 409


def test_api_contracts_as_ocds(client, editor) -> None:
    package = client.get("/api/v1/communes/cotonou/contracts/ocds", headers=editor).json
    assert package["releases"] and package["publisher"]["name"] == "Mairie de Cotonou"
    release = package["releases"][0]
    assert release["ocid"] and release["buyer"]["name"]
    assert release["awards"][0]["value"]["currency"] == "XOF"
