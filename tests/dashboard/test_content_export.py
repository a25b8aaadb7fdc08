"""CSV export (a round trip with import) and the contracts' OCDS release package."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import delete, select

from bot.dashboard.content_kinds import KINDS
from bot.models import Contract, GoodPractice
from tests.dashboard.conftest import login
from tests.dashboard.test_content_import import confirm, upload

VIEWER = "lecteur@mairie-cotonou.example"
EDITOR = "editeur@mairie-cotonou.example"


@pytest.fixture
def viewer(client, make_staff):
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    return client


@pytest.fixture
def editor(client, make_staff):
    make_staff(EDITOR, roles={"cotonou": "editor"})
    login(client, EDITOR)
    return client


def _export(client, kind: str) -> str:
    response = client.get(f"/dashboard/cotonou/content/{kind}/export.csv")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_viewer_exports_csv_with_the_import_columns(viewer, communes) -> None:
    response = viewer.get("/dashboard/cotonou/content/projects/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "cotonou-projects.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert tuple(rows[0]) == KINDS["projects"].columns
    assert any(row[0] == "pta-2025-pavage-rue-12e" and row[-1] == "true" for row in rows[1:])


@pytest.mark.parametrize("kind", list(KINDS))
def test_export_then_import_is_a_round_trip(editor, session, communes, kind) -> None:
    exported = _export(editor, kind)
    model = KINDS[kind].model
    session.execute(delete(model).where(model.commune_id == communes["cotonou"].id))
    session.commit()
    url = f"/dashboard/cotonou/content/{kind}/import"
    preview = upload(editor, exported.encode(), url=url)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert confirm(editor, html).status_code == 303
    assert _export(editor, kind) == exported


def test_importing_an_unchanged_export_changes_nothing(editor, communes) -> None:
    exported = _export(editor, "agenda")
    url = "/dashboard/cotonou/content/agenda/import"
    html = upload(editor, exported.encode(), url=url).get_data(as_text=True)
    assert "À ajouter : 0 · À modifier : 0 · Inchangées : 5" in html


def test_contracts_as_an_ocds_release_package(viewer, session, communes) -> None:
    cotonou = communes["cotonou"]
    response = viewer.get("/dashboard/cotonou/content/contracts/ocds.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    package = json.loads(response.get_data(as_text=True))
    assert package["uri"].endswith("/dashboard/cotonou/content/contracts/ocds.json")
    assert package["version"] == "1.1"
    assert package["publishedDate"].endswith("Z")
    assert package["publisher"] == {"name": "Mairie de Cotonou"}
    releases = {release["ocid"]: release for release in package["releases"]}
    count = session.query(Contract).filter(Contract.commune_id == cotonou.id).count()
    assert len(releases) == count

    active = releases["ocds-sample-cotonou-2025-001"]
    assert active["tag"] == ["contract"] and active["id"].startswith(active["ocid"])
    assert active["date"].endswith("Z")
    assert active["buyer"] == {"id": "BJ-MAIRIE-cotonou", "name": "Mairie de Cotonou"}
    (award,) = active["awards"]
    assert award["value"] == {"amount": 1_720_000_000, "currency": "XOF"}
    assert award["suppliers"][0]["name"] == "Entreprise Exemple BTP SARL"
    (contract,) = active["contracts"]
    assert contract["dateSigned"] == "2025-03-18" and contract["status"] == "active"
    assert contract["awardID"] == award["id"]
    party_ids = {party["id"] for party in active["parties"]}
    assert active["buyer"]["id"] in party_ids and award["suppliers"][0]["id"] in party_ids
    assert active["tender"]["procurementMethod"] == "open"
    assert active["x_sample"] is True

    pending = releases["ocds-sample-cotonou-2025-004"]
    assert pending["tag"] == ["award"] and "contracts" not in pending
    assert releases["ocds-sample-cotonou-2025-005"]["contracts"][0]["status"] == "terminated"


def test_exports_need_a_role_in_the_commune(client, make_staff, communes) -> None:
    make_staff("agent@mairie-calavi.example", roles={"abomey-calavi": "viewer"})
    login(client, "agent@mairie-calavi.example")
    assert client.get("/dashboard/cotonou/content/contracts/ocds.json").status_code == 403
    assert client.get("/dashboard/cotonou/content/contracts/export.csv").status_code == 403


def test_a_cell_that_would_run_as_a_formula_is_guarded_and_comes_back_intact(
    editor, session, communes
) -> None:
    title = '=HYPERLINK("http://evil.example","Cliquez")'
    row = session.scalar(
        select(GoodPractice).where(GoodPractice.commune_id == communes["cotonou"].id).limit(1)
    )
    row.title, row.summary = title, "-- pas une formule, mais commence par un tiret"
    session.commit()
    exported = _export(editor, "good_practices")
    cells = [c for r in csv.reader(io.StringIO(exported.lstrip("\ufeff"))) for c in r]
    assert "'" + title in cells and title not in cells
    assert "'-- pas une formule, mais commence par un tiret" in cells
    url = "/dashboard/cotonou/content/good_practices/import"
    html = upload(editor, exported.encode(), url=url).get_data(as_text=True)
    assert "Inchangées : " in html and "À modifier : 0" in html  # the guard is taken off
