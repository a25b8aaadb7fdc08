"""The write functions the JSON API shares with the forms: typed values, errors, scope."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.dashboard import content_edit
from bot.dashboard.forms import FormInvalid
from bot.models import AuditLog, Contract, Project


@pytest.fixture
def editor(make_staff):
    return make_staff("editeur@mairie-cotonou.example", roles={"cotonou": "editor"})


def test_create_update_delete_with_json_typed_values(session, communes, editor) -> None:
    cotonou = communes["cotonou"]
    values = {
        "key": "pta-2026-api",
        "fiscal_year": 2026,
        "title": "Projet API",
        "sector": "Voirie",
        "arrondissement": None,
        "status": "planned",
        "progress": 0,
        "budget_xof": 1000,
    }
    row = content_edit.create(session, editor, cotonou, "projects", values)
    session.commit()
    assert row.is_sample is False and row.area_id is None and row.fiscal_year == 2026
    changed = content_edit.update(
        session,
        editor,
        cotonou,
        "projects",
        row.id,
        {**values, "progress": 100, "status": "completed"},
    )
    session.commit()
    assert changed.progress == 100 and changed.is_sample is False
    content_edit.delete(session, editor, cotonou, "projects", row.id)
    session.commit()
    assert session.get(Project, row.id) is None
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "projects").order_by(AuditLog.id)
    ).all()
    assert actions == ["create", "update", "delete"]


def test_bad_values_raise_form_invalid_per_field(session, communes, editor) -> None:
    with pytest.raises(FormInvalid) as caught:
        content_edit.create(
            session, editor, communes["cotonou"], "contracts", {"ocid": 7, "amount_xof": True}
        )
    assert {"ocid", "amount_xof", "title", "method", "supplier"} <= set(caught.value.errors)
    assert caught.value.errors["title"] == "est obligatoire"


def test_project_status_and_progress_must_agree(session, communes, editor) -> None:
    values = {
        "key": "p",
        "fiscal_year": "2026",
        "title": "t",
        "sector": "s",
        "status": "completed",
        "progress": "40",
        "budget_xof": "1",
    }
    with pytest.raises(FormInvalid) as caught:
        content_edit.create(session, editor, communes["cotonou"], "projects", values)
    assert caught.value.errors == {
        "progress": "doit valoir 100 pour un projet au statut completed, reçu 40"
    }


def test_row_of_another_commune_or_unknown_kind_is_not_found(session, communes, editor) -> None:
    calavi_contract = session.scalars(
        select(Contract).where(Contract.commune_id == communes["abomey-calavi"].id)
    ).first()
    with pytest.raises(content_edit.ContentNotFound):
        content_edit.delete(session, editor, communes["cotonou"], "contracts", calavi_contract.id)
    with pytest.raises(content_edit.ContentNotFound):
        content_edit.create(session, editor, communes["cotonou"], "events", {})
