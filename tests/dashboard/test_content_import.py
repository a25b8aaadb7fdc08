"""CSV import of content: preview with line-level errors, then confirm; nothing written before."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from bot.content.cache import content_version
from bot.dashboard.content_import import IMPORT_MAX_BYTES
from bot.models import AuditLog, BudgetLine, Contract
from bot.redis import get_redis
from tests.dashboard.conftest import csrf_from, login

EDITOR = "editeur@mairie-cotonou.example"
URL = "/dashboard/cotonou/content/budget_lines/import"
HEADER = "fiscal_year,phase,direction,section,sector,amount_xof,sample\n"


@pytest.fixture
def editor(client, make_staff):
    make_staff(EDITOR, roles={"cotonou": "editor"})
    login(client, EDITOR)
    return client


def upload(client, data: bytes, url: str = URL, filename: str = "budget.csv"):
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm_url(html: str) -> str:
    match = re.search(r'action="(/dashboard/[^"]+/import/[^"]+)"', html)
    assert match, "no confirm form in the preview"
    return match.group(1)


def confirm(client, html: str):
    return client.post(confirm_url(html), data={"csrf_token": csrf_from(html)})


def _budget_count(session, commune) -> int:
    session.rollback()
    query = select(func.count()).select_from(BudgetLine).where(BudgetLine.commune_id == commune.id)
    return session.scalar(query)


def _imports(session) -> list[AuditLog]:
    session.rollback()
    return list(session.scalars(select(AuditLog).where(AuditLog.action == "import")))


def test_file_with_errors_shows_line_and_column_and_writes_nothing(
    editor, session, communes
) -> None:
    before = _budget_count(session, communes["cotonou"])
    data = (
        HEADER
        + "2026,voted,depense,investissement,Voirie,1000,false\n"
        + "2026,voted,depense,investissement,Santé,beaucoup,false\n"
        + "2026,planned,depense,investissement,Eau,1000,false\n"
    ).encode()
    response = upload(editor, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<tr data-line="3" data-column="amount_xof">' in html
    assert "doit être un nombre entier" in html
    assert '<tr data-line="4" data-column="phase">' in html
    assert 'id="confirm-form"' not in html
    # Only the errors: the valid line 2 is not announced as an addition.
    assert 'id="import-counts"' not in html and 'id="import-changes"' not in html
    assert "À ajouter" not in html and "Rien n&#39;a été enregistré" in html
    # Columns are named as on the content form.
    assert "<td>Montant (F CFA)</td>" in html and "<td>Phase</td>" in html
    assert "<td>amount_xof</td>" not in html
    assert _budget_count(session, communes["cotonou"]) == before
    assert _imports(session) == []


def test_good_file_previews_then_imports_with_one_audit_row(editor, session, communes) -> None:
    cotonou = communes["cotonou"]
    before, version = _budget_count(session, cotonou), content_version(get_redis())
    data = (
        HEADER
        + "2026,voted,depense,investissement,Voirie,1000,false\n"
        + "2024,voted,recette,fonctionnement,Fiscalité locale,22000000000,false\n"
        + "2024,voted,recette,investissement,Emprunts,4500000000,true\n"
    ).encode()
    preview = upload(editor, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "À ajouter : 1 · À modifier : 1 · Inchangées : 1" in html
    assert 'data-line="2" data-action="create"' in html
    assert "Montant (F CFA) : 21500000000 → 22000000000" in html
    assert _budget_count(session, cotonou) == before  # a preview writes nothing

    response = confirm(editor, html)
    assert response.status_code == 303
    assert "done=imported" in response.headers["Location"]
    assert _budget_count(session, cotonou) == before + 1
    fiscal = session.scalar(
        select(BudgetLine).where(
            BudgetLine.commune_id == cotonou.id,
            BudgetLine.fiscal_year == 2024,
            BudgetLine.phase == "voted",
            BudgetLine.sector == "Fiscalité locale",
        )
    )
    assert fiscal.amount_xof == 22_000_000_000 and fiscal.is_sample is False
    (entry,) = _imports(session)
    assert entry.entity == "budget_lines" and entry.commune_id == cotonou.id
    assert entry.after["created"] == 1 and entry.after["file"] == "budget.csv"
    assert entry.after["updated"] == 1 and entry.after["unchanged"] == 1
    updated = {row["id"]: row for row in entry.after["rows"] if "before" in row}
    assert updated[fiscal.id]["before"] == {"amount_xof": 21_500_000_000, "is_sample": True}
    assert content_version(get_redis()) == version + 1
    listing = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Import terminé : 1 ligne(s) ajoutée(s)" in listing

    again = confirm(editor, html)
    assert again.status_code == 410  # the token is single-use
    assert len(_imports(session)) == 1


def test_token_is_scoped_to_the_staff_who_uploaded(
    client, make_staff, session, communes, app
) -> None:
    make_staff(EDITOR, roles={"cotonou": "editor"})
    make_staff("autre@mairie-cotonou.example", roles={"cotonou": "editor"})
    login(client, EDITOR)
    data = (HEADER + "2026,voted,depense,investissement,Voirie,1000,false\n").encode()
    html = upload(client, data).get_data(as_text=True)
    url = confirm_url(html)
    other = app.test_client()
    login(other, "autre@mairie-cotonou.example")
    token = csrf_from(other.get(URL).get_data(as_text=True))
    assert other.post(url, data={"csrf_token": token}).status_code == 410
    wrong_kind = url.replace("/budget_lines/", "/projects/")
    assert client.post(wrong_kind, data={"csrf_token": csrf_from(html)}).status_code == 410
    forged = url.rsplit("/", 1)[0] + "/" + "A" * 32
    assert client.post(forged, data={"csrf_token": csrf_from(html)}).status_code == 410
    assert confirm(client, html).status_code == 303  # still valid for its owner


def test_oversized_file_is_refused_with_a_clear_message(editor, session, communes) -> None:
    row = "2026,voted,depense,investissement,Voirie,1000,false\n"
    data = (HEADER + row * (IMPORT_MAX_BYTES // len(row) + 10)).encode()
    response = upload(editor, data)
    assert response.status_code == 413
    assert "Fichier trop volumineux : 512 Ko au plus." in response.get_data(as_text=True)
    huge = upload(editor, b"x" * (2 * 1024 * 1024))
    assert huge.status_code == 413  # above the app's own limit: refused, never a 500
    assert _imports(session) == []


def test_non_utf8_file_gets_the_loaders_advice(editor, communes) -> None:
    data = (HEADER + "2026,voted,depense,fonctionnement,Éclairage public,10,false\n").encode(
        "latin-1"
    )
    response = upload(editor, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "n&#39;est pas en UTF-8 ; enregistrez-le en « CSV UTF-8 »" in html
    assert 'data-line="2"' in html


def test_wrong_headers_are_named(editor, communes) -> None:
    data = b"fiscal_year,phase,direction,section,secteur,amount_xof,sample\n2026,voted\n"
    html = upload(editor, data).get_data(as_text=True)
    assert 'data-column="secteur"' in html and "colonne inconnue" in html
    assert 'data-column="sector"' in html and "colonne obligatoire absente" in html


def test_duplicate_keys_in_the_file_are_errors(editor, communes) -> None:
    row = "2026,voted,depense,investissement,Voirie,1000,false\n"
    response = upload(editor, (HEADER + row + row).encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-line="3"' in html and "déjà donné(e) à la ligne 2" in html


def test_duplicate_content_keys_are_named_in_french_and_english(editor, communes) -> None:
    row = "2027-01-05-visite,Visite,2027-01-05 09:00,,,,false\n"
    data = ("key,title,starts_at,ends_at,place,description,sample\n" + row + row).encode()
    url = "/dashboard/cotonou/content/agenda/import"
    html = upload(editor, data, url=url).get_data(as_text=True)
    assert "clé &#39;2027-01-05-visite&#39; en double, déjà donné(e) à la ligne 2" in html
    html = upload(editor, data, url=url + "?lang=en").get_data(as_text=True)
    assert "duplicate key &#39;2027-01-05-visite&#39;, first given on line 2" in html


def test_empty_file_and_missing_file_are_refused(editor, communes) -> None:
    assert upload(editor, HEADER.encode()).status_code == 422
    token = csrf_from(editor.get(URL).get_data(as_text=True))
    response = editor.post(URL, data={"csrf_token": token}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choisissez un fichier CSV." in response.get_data(as_text=True)


def test_html_in_cells_is_escaped_in_the_preview(editor, communes) -> None:
    header = b"ocid,title,method,supplier,amount_xof,date_signed,status,sample\n"
    url = "/dashboard/cotonou/content/contracts/import"
    valid = (
        b"ocds-test-cotonou-2026-009,<script>alert(1)</script>,open,"
        b'"<img src=x onerror=alert(2)>",1000,2026-01-02,active,false\n'
    )
    html = upload(editor, header + valid, url=url).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    wrong = b"<b>bad</b>,t,open,s,1,2026-01-02,active,false\n"
    html = upload(editor, header + wrong, url=url).get_data(as_text=True)
    assert "<b>bad" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html


def test_ocid_held_by_another_commune_is_an_error(editor, session, communes) -> None:
    data = (
        b"ocid,title,method,supplier,amount_xof,date_signed,status,sample\n"
        b"ocds-sample-abomey-calavi-2025-001,t,open,s,1,2026-01-02,active,false\n"
    )
    response = upload(editor, data, url="/dashboard/cotonou/content/contracts/import")
    assert response.status_code == 422
    assert "déjà utilisé par une autre commune" in response.get_data(as_text=True)
    session.rollback()
    ocid = "ocds-sample-abomey-calavi-2025-001"
    held = session.scalar(select(Contract).where(Contract.ocid == ocid))
    assert held.commune_id == communes["abomey-calavi"].id
