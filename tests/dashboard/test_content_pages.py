"""Content pages: lists, create, edit and delete forms for the six kinds, and who may use them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.content.cache import content_version
from bot.dashboard.content_kinds import KINDS
from bot.models import AgendaItem, AuditLog, BudgetLine, Contract, Document, GoodPractice, Project
from bot.redis import get_redis
from tests.dashboard.conftest import csrf_from, login

EDITOR = "editeur@mairie-cotonou.example"
XSS = "<script>alert(1)</script>"

VALID = {
    "budget_lines": {
        "fiscal_year": "2026",
        "phase": "voted",
        "direction": "depense",
        "section": "investissement",
        "sector": "Voirie de test",
        "amount_xof": "1500000",
    },
    "documents": {
        "key": "",
        "type": "pta",
        "fiscal_year": "2026",
        "title": "Plan de travail annuel 2026",
        "url": "https://example.org/pta-2026.pdf",
        "summary": "",
        "published_on": "2026-01-15",
    },
    "projects": {
        "key": "pta-2026-test",
        "fiscal_year": "2026",
        "title": "Pavage test",
        "sector": "Voirie",
        "arrondissement": "12e arrondissement",
        "status": "in_progress",
        "progress": "10",
        "budget_xof": "1000000",
    },
    "contracts": {
        "ocid": "ocds-test-cotonou-2026-001",
        "title": "Pavage test",
        "method": "open",
        "supplier": "Entreprise Test SARL",
        "amount_xof": "5000000",
        "date_signed": "2026-02-01",
        "status": "active",
    },
    "agenda": {
        "key": "2026-12-01-visite-test",
        "title": "Visite test",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-01T10:30",
        "place": "Hôtel de ville",
        "description": "",
    },
    "good_practices": {
        "key": "",
        "title": "Budget affiché au marché",
        "sector": "Transparence",
        "year": "2025",
        "summary": "Le budget est affiché au marché.",
    },
}
MODELS = {
    "budget_lines": BudgetLine,
    "documents": Document,
    "projects": Project,
    "contracts": Contract,
    "agenda": AgendaItem,
    "good_practices": GoodPractice,
}


@pytest.fixture
def editor(client, make_staff):
    make_staff(EDITOR, roles={"cotonou": "editor"})
    login(client, EDITOR)
    return client


def _count(session, model, commune) -> int:
    session.rollback()
    return session.scalar(
        select(func.count()).select_from(model).where(model.commune_id == commune.id)
    )


def _audits(session, action: str, entity: str) -> list[AuditLog]:
    session.rollback()
    query = select(AuditLog).where(AuditLog.action == action, AuditLog.entity == entity)
    return list(session.scalars(query.order_by(AuditLog.id)))


def _post_form(client, url: str, values: dict[str, str]):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **values})


def _newest(session, model, commune):
    session.rollback()
    query = select(model).where(model.commune_id == commune.id).order_by(model.id.desc())
    return session.scalars(query).first()


def test_menu_and_index_link_the_six_kinds(editor, communes) -> None:
    html = editor.get("/dashboard/cotonou/content").get_data(as_text=True)
    assert ">Contenus</a>" in html
    for slug in KINDS:
        assert f"/dashboard/cotonou/content/{slug}" in html


@pytest.mark.parametrize("kind", list(KINDS))
def test_list_shows_sample_rows_labelled(editor, communes, kind) -> None:
    response = editor.get(f"/dashboard/cotonou/content/{kind}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Données d&#39;exemple" in html
    assert 'data-sample="true"' in html


def test_list_is_in_english_on_request(editor, communes) -> None:
    html = editor.get("/dashboard/cotonou/content/budget_lines?lang=en").get_data(as_text=True)
    assert "Sample data" in html and "Budget lines" in html


def test_list_pages_long_lists(editor, session, communes) -> None:
    cotonou = communes["cotonou"]
    for index in range(60):
        title = f"Pratique {index:02d}"
        session.add(GoodPractice(commune_id=cotonou.id, title=title, summary="s", year=2020))
    session.commit()
    first = editor.get("/dashboard/cotonou/content/good_practices").get_data(as_text=True)
    assert first.count("<tr data-id=") == 50 and 'rel="next"' in first
    last = editor.get("/dashboard/cotonou/content/good_practices?page=99").get_data(as_text=True)
    assert 'rel="prev"' in last and 'rel="next"' not in last


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_through_the_form_writes_row_audit_and_bumps_cache(
    editor, session, communes, kind
) -> None:
    model, cotonou = MODELS[kind], communes["cotonou"]
    before, version = _count(session, model, cotonou), content_version(get_redis())
    response = _post_form(editor, f"/dashboard/cotonou/content/{kind}/new", VALID[kind])
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/content/{kind}?done=created")
    assert _count(session, model, cotonou) == before + 1
    row = _newest(session, model, cotonou)
    assert row.is_sample is False
    assert content_version(get_redis()) == version + 1
    (entry,) = _audits(session, "create", model.__tablename__)
    assert entry.entity_id == str(row.id) and entry.after["id"] == row.id
    assert entry.commune_id == cotonou.id
    listing = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ligne ajoutée." in listing


def test_blank_key_is_made_from_the_title(editor, session, communes) -> None:
    _post_form(editor, "/dashboard/cotonou/content/good_practices/new", VALID["good_practices"])
    _post_form(editor, "/dashboard/cotonou/content/good_practices/new", VALID["good_practices"])
    session.rollback()
    keys = session.scalars(
        select(GoodPractice.content_key).where(GoodPractice.title == "Budget affiché au marché")
    ).all()
    assert sorted(keys) == ["budget-affiche-au-marche", "budget-affiche-au-marche-2"]


def test_agenda_times_are_typed_in_local_time(editor, session, communes) -> None:
    _post_form(editor, "/dashboard/cotonou/content/agenda/new", VALID["agenda"])
    row = _newest(session, AgendaItem, communes["cotonou"])
    assert row.starts_at.isoformat() == "2026-12-01T08:00:00+00:00"
    form = editor.get(f"/dashboard/cotonou/content/agenda/{row.id}/edit").get_data(as_text=True)
    assert 'value="2026-12-01T09:00"' in form


@pytest.mark.parametrize("kind", list(KINDS))
def test_edit_through_the_form_updates_and_audits(editor, session, communes, kind) -> None:
    model, cotonou = MODELS[kind], communes["cotonou"]
    row = _newest(session, model, cotonou)
    url = f"/dashboard/cotonou/content/{kind}/{row.id}/edit"
    values = KINDS[kind].texts(row)
    values.pop("sample")  # unchecked box: the row stops being sample data
    column = "sector" if kind == "budget_lines" else "title"
    values[column] = "Modifié " + XSS
    response = _post_form(editor, url, values)
    assert response.status_code == 303, response.get_data(as_text=True)
    session.rollback()
    row = session.get(model, row.id)
    assert getattr(row, column) == "Modifié " + XSS and row.is_sample is False
    (entry,) = _audits(session, "update", model.__tablename__)
    assert entry.before["is_sample"] is True and entry.after[column] == "Modifié " + XSS
    listing = editor.get(f"/dashboard/cotonou/content/{kind}").get_data(as_text=True)
    assert XSS not in listing and "&lt;script&gt;" in listing


@pytest.mark.parametrize("kind", list(KINDS))
def test_delete_removes_the_row_and_keeps_it_in_the_audit(editor, session, communes, kind) -> None:
    model, cotonou = MODELS[kind], communes["cotonou"]
    row = _newest(session, model, cotonou)
    row_id, version = row.id, content_version(get_redis())
    url = f"/dashboard/cotonou/content/{kind}/{row_id}/delete"
    page = editor.get(url)
    assert page.status_code == 200
    assert 'class="danger" id="delete-button"' in page.get_data(as_text=True)
    response = _post_form(editor, url, {})
    assert response.status_code == 303
    session.rollback()
    assert session.get(model, row_id) is None
    (entry,) = _audits(session, "delete", model.__tablename__)
    assert entry.entity_id == str(row_id) and entry.before["id"] == row_id
    assert content_version(get_redis()) == version + 1


BAD = {
    "budget_lines": ({"amount_xof": "1 500 000 F", "phase": "maybe"}, ["amount_xof", "phase"]),
    "documents": ({"url": "javascript:alert(1)", "published_on": "15/01/2026"}, ["url"]),
    "projects": ({"arrondissement": "99e arrondissement", "progress": "140"}, ["progress"]),
    "contracts": ({"ocid": "not-an-ocid", "date_signed": ""}, ["ocid", "date_signed"]),
    "agenda": ({"ends_at": "2026-12-01T08:00"}, ["ends_at"]),
    "good_practices": ({"year": "1800", "title": "x" * 301}, ["year", "title"]),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_bad_values_give_422_with_messages_and_change_nothing(
    editor, session, communes, kind
) -> None:
    model, cotonou = MODELS[kind], communes["cotonou"]
    before, version = _count(session, model, cotonou), content_version(get_redis())
    changes, fields = BAD[kind]
    response = _post_form(
        editor, f"/dashboard/cotonou/content/{kind}/new", {**VALID[kind], **changes}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "rien n&#39;a été enregistré" in html
    for field in fields:
        assert f'id="error-{field}"' in html
    assert _count(session, model, cotonou) == before
    assert _audits(session, "create", model.__tablename__) == []
    assert content_version(get_redis()) == version


def test_messages_of_the_content_rules_are_in_french(editor, communes) -> None:
    values = {**VALID["budget_lines"], "amount_xof": "beaucoup"}
    response = _post_form(editor, "/dashboard/cotonou/content/budget_lines/new", values)
    html = response.get_data(as_text=True)
    assert "doit être un nombre entier, en chiffres seulement, reçu &#39;beaucoup&#39;" in html
    assert 'value="beaucoup"' in html  # the typed value is shown again


def test_existing_key_is_refused_on_create_and_on_edit(editor, session, communes) -> None:
    values = {**VALID["contracts"], "ocid": "ocds-sample-cotonou-2025-001"}
    response = _post_form(editor, "/dashboard/cotonou/content/contracts/new", values)
    assert response.status_code == 422
    assert "Cet ocid est déjà utilisé par un autre marché." in response.get_data(as_text=True)
    row = _newest(session, BudgetLine, communes["cotonou"])
    other = session.scalars(
        select(BudgetLine).where(BudgetLine.commune_id == row.commune_id, BudgetLine.id != row.id)
    ).first()
    values = {**KINDS["budget_lines"].texts(other), "sample": "true"}
    response = _post_form(editor, f"/dashboard/cotonou/content/budget_lines/{row.id}/edit", values)
    assert response.status_code == 422
    assert "Une ligne budgétaire existe déjà" in response.get_data(as_text=True)


def test_ocid_of_another_commune_is_refused(editor, communes) -> None:
    values = {**VALID["contracts"], "ocid": "ocds-sample-abomey-calavi-2025-001"}
    response = _post_form(editor, "/dashboard/cotonou/content/contracts/new", values)
    assert response.status_code == 422
    assert "déjà utilisé par une autre commune" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "values",
    [{}, {"fiscal_year": "9" * 400}, {"amount_xof": "9" * 30}, {"sector": "\x00"}],
)
def test_odd_input_never_gives_a_500(editor, values) -> None:
    response = _post_form(editor, "/dashboard/cotonou/content/budget_lines/new", values)
    assert response.status_code == 422


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_row_of_another_commune_is_404(editor, session, communes, action) -> None:
    other = _newest(session, Project, communes["abomey-calavi"])
    url = f"/dashboard/cotonou/content/projects/{other.id}/{action}"
    assert editor.get(url).status_code == 404
    token = csrf_from(editor.get("/dashboard/cotonou/content/projects/new").get_data(as_text=True))
    assert editor.post(url, data={"csrf_token": token}).status_code == 404
    session.rollback()
    assert session.get(Project, other.id) is not None


def test_unknown_kind_is_404(editor, communes) -> None:
    assert editor.get("/dashboard/cotonou/content/events").status_code == 404


def test_viewer_reads_but_cannot_write(client, make_staff, session, communes) -> None:
    make_staff("lecteur@mairie-cotonou.example", roles={"cotonou": "viewer"})
    login(client, "lecteur@mairie-cotonou.example")
    listing = client.get("/dashboard/cotonou/content/projects")
    assert listing.status_code == 200
    assert "/content/projects/new" not in listing.get_data(as_text=True)
    row = _newest(session, Project, communes["cotonou"])
    token = csrf_from(client.get("/dashboard/cotonou/content").get_data(as_text=True))
    for url in (
        "/dashboard/cotonou/content/projects/new",
        f"/dashboard/cotonou/content/projects/{row.id}/edit",
        f"/dashboard/cotonou/content/projects/{row.id}/delete",
        "/dashboard/cotonou/content/projects/import",
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, data={"csrf_token": token, **VALID["projects"]}).status_code == 403
    assert _audits(session, "create", "projects") == []


def test_staff_of_another_commune_gets_403(client, make_staff, communes) -> None:
    make_staff("agent@mairie-calavi.example", roles={"abomey-calavi": "editor"})
    login(client, "agent@mairie-calavi.example")
    assert client.get("/dashboard/cotonou/content/projects").status_code == 403
    assert client.get("/dashboard/cotonou/content/projects/new").status_code == 403


def test_anonymous_is_sent_to_login(client, communes) -> None:
    response = client.get("/dashboard/cotonou/content/projects")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
