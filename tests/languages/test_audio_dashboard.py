"""Recordings on the dashboard: upload, replace, delete, serve; a refusal stores nothing."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content.audio import MAX_AUDIO_BYTES
from bot.content.cache import content_version
from bot.dashboard.content_audio_views import UPLOAD_BODY_LIMIT
from bot.models import AuditLog, Commune, ContentAudio, Document, Event, Project
from bot.redis import get_redis
from tests.dashboard.conftest import csrf_from, login
from tests.languages.conftest import mp3_bytes, wav_bytes

EDITOR = "editeur@mairie-cotonou.example"
VIEWER = "lecteur@mairie-cotonou.example"


@pytest.fixture
def editor(client: FlaskClient, make_staff) -> FlaskClient:
    make_staff(EDITOR, roles={"cotonou": "editor"})
    login(client, EDITOR)
    return client


def _first(session: Session, model, slug: str):
    commune = session.scalar(select(Commune.id).where(Commune.slug == slug))
    return session.scalar(select(model).where(model.commune_id == commune).order_by(model.id))


def _url(slug: str, kind: str, row_id: int, suffix: str = "") -> str:
    return f"/dashboard/{slug}/audio/{kind}/{row_id}{suffix}"


def _token(client: FlaskClient, page: str) -> str:
    return csrf_from(client.get(page).get_data(as_text=True))


def _upload(
    client: FlaskClient,
    url: str,
    data: bytes,
    language: str = "fon",
    *,
    filename: str = "lecture.mp3",
    content_type: str = "audio/mpeg",
    token: str | None = None,
):
    form = {"language": language, "file": (io.BytesIO(data), filename, content_type)}
    if token is not None:
        form["csrf_token"] = token
    return client.post(url, data=form, content_type="multipart/form-data")


def _recordings(session: Session) -> list[ContentAudio]:
    session.expire_all()
    return list(session.scalars(select(ContentAudio).order_by(ContentAudio.id)))


def _audit(session: Session) -> list[AuditLog]:
    return list(
        session.scalars(
            select(AuditLog).where(AuditLog.entity == "content_audio").order_by(AuditLog.id)
        )
    )


def _path_of(row: ContentAudio) -> str:
    extension = {"audio/mpeg": "mp3", "audio/wav": "wav"}[row.content_type]
    return f"/media/audio/{row.id}-{row.sha256[:8]}.{extension}"


def test_upload_is_stored_audited_and_served_back(
    editor: FlaskClient, session: Session, app
) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    before = content_version(get_redis(app))
    data = mp3_bytes(20_000)
    response = _upload(editor, page, data, token=_token(editor, page))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{page}?done=created")
    assert content_version(get_redis(app)) > before  # USSD and voice snapshots reload
    [row] = _recordings(session)
    assert (row.kind, row.item_id, row.language) == ("documents", document.id, "fon")
    assert row.content_type == "audio/mpeg" and row.size_bytes == len(data)
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    [entry] = _audit(session)
    assert entry.action == "create" and entry.actor == EDITOR
    assert "data" not in entry.after and entry.after["sha256"] == row.sha256

    shown = editor.get(f"{page}?done=created").get_data(as_text=True)
    assert "Enregistrement ajouté." in shown and f'src="{_path_of(row)}"' in shown

    # Public: Africa's Talking fetches it with no session at all.
    served = app.test_client().get(_path_of(row))
    assert served.status_code == 200
    assert served.data == data
    assert served.mimetype == "audio/mpeg"
    assert served.headers["ETag"] == f'"{row.sha256}"'
    assert "immutable" in served.headers["Cache-Control"]
    assert "public" in served.headers["Cache-Control"]
    again = app.test_client().get(_path_of(row), headers={"If-None-Match": f'"{row.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    part = app.test_client().get(_path_of(row), headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.data == data[:4]


def test_replace_same_file_and_delete(editor: FlaskClient, session: Session, app) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    token = _token(editor, page)
    _upload(editor, page, mp3_bytes(), token=token)
    [first] = _recordings(session)
    old_path = _path_of(first)

    wav = wav_bytes()
    response = _upload(
        editor, page, wav, filename="lecture.wav", content_type="audio/x-wav", token=token
    )
    assert response.headers["Location"].endswith("done=replaced")
    [replaced] = _recordings(session)
    assert replaced.id == first.id and replaced.content_type == "audio/wav"
    assert app.test_client().get(old_path).status_code == 404  # the old bytes are gone
    assert app.test_client().get(_path_of(replaced)).data == wav

    same = _upload(editor, page, wav, filename="copie.wav", token=token)
    assert same.headers["Location"].endswith("done=unchanged")
    assert [e.action for e in _audit(session)] == ["create", "update"]

    deleted = editor.post(
        _url("cotonou", "documents", document.id, "/delete"),
        data={"csrf_token": token, "language": "fon"},
    )
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith("done=deleted")
    assert _recordings(session) == []
    assert app.test_client().get(_path_of(replaced)).status_code == 404
    assert [e.action for e in _audit(session)] == ["create", "update", "delete"]
    assert "data" not in _audit(session)[-1].before

    twice = editor.post(
        _url("cotonou", "documents", document.id, "/delete"),
        data={"csrf_token": token, "language": "fon"},
    )
    assert twice.status_code == 422
    assert "pas d&#39;enregistrement dans cette langue" in twice.get_data(as_text=True)


def test_a_session_gets_recordings_too(editor: FlaskClient, session: Session) -> None:
    event = _first(session, Event, "cotonou")
    shown = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    page = _url("cotonou", "events", event.id)
    assert f'href="{page}"' in shown
    response = _upload(editor, page, mp3_bytes(), "yo", token=_token(editor, page))
    assert response.status_code == 303
    [row] = _recordings(session)
    assert (row.kind, row.item_id, row.language) == ("events", event.id, "yo")
    listing = editor.get(page).get_data(as_text=True)
    assert "Retour à la séance" in listing
    for name in ("Francais", "English", "Fongbe", "Goun", "Yoruba"):
        assert name in listing


def test_the_document_edit_page_links_its_recordings(editor: FlaskClient, session) -> None:
    document = _first(session, Document, "cotonou")
    edit = editor.get(f"/dashboard/cotonou/content/documents/{document.id}/edit")
    assert f'href="{_url("cotonou", "documents", document.id)}"' in edit.get_data(as_text=True)
    project = _first(session, Project, "cotonou")
    listed = editor.get(f"/dashboard/cotonou/content/projects/{project.id}/edit")
    assert "/audio/" not in listed.get_data(as_text=True)


def test_deleting_a_document_deletes_its_recordings(editor: FlaskClient, session) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    token = _token(editor, page)
    _upload(editor, page, mp3_bytes(), "fon", token=token)
    _upload(editor, page, wav_bytes(), "fr", token=token)
    assert len(_recordings(session)) == 2
    response = editor.post(
        f"/dashboard/cotonou/content/documents/{document.id}/delete", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert _recordings(session) == []
    assert [e.action for e in _audit(session)] == ["create", "create", "delete", "delete"]


@pytest.mark.parametrize(
    ("data", "language", "status", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(500), "fon", 422, "ni un MP3 ni un WAV"),
        (b"OggS\x00\x02" + bytes(500), "fon", 422, "ni un MP3 ni un WAV"),
        (b"", "fon", 422, "Choisissez un fichier audio"),
        (mp3_bytes(), "de", 422, "Choisissez une des langues"),
        (mp3_bytes(), "../fr", 422, "Choisissez une des langues"),
        (mp3_bytes(MAX_AUDIO_BYTES + 1), "fon", 413, "dépasse 5 Mo"),
    ],
    ids=["png", "ogg", "empty", "unknown-language", "path-language", "over-5-mb"],
)
def test_refused_files_store_nothing_and_say_why(
    editor: FlaskClient, session: Session, data: bytes, language: str, status: int, message: str
) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    # The browser's name and type say MP3; only the bytes count.
    response = _upload(editor, page, data, language, token=_token(editor, page))
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _recordings(session) == [] and _audit(session) == []


def test_no_file_at_all_is_refused(editor: FlaskClient, session: Session) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    response = editor.post(page, data={"csrf_token": _token(editor, page), "language": "fon"})
    assert response.status_code == 422
    assert _recordings(session) == []


def test_a_body_far_over_the_limit_gets_the_polite_413_page(
    editor: FlaskClient, session: Session
) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    response = _upload(editor, page, mp3_bytes(UPLOAD_BODY_LIMIT + 1), token=_token(editor, page))
    assert response.status_code == 413
    assert "trop volumineux" in response.get_data(as_text=True)
    assert _recordings(session) == []


def test_webhooks_keep_their_own_small_limit(client: FlaskClient) -> None:
    # Room is made for recordings on the upload page only.
    big = {"from": "+2290197000001", "to": "20222", "text": "x" * (2 * 1024 * 1024), "id": "1"}
    assert client.post("/webhooks/at/sms", data=big).status_code == 413


def test_missing_csrf_token_is_refused(editor: FlaskClient, session: Session) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    editor.get(page)
    assert _upload(editor, page, mp3_bytes()).status_code == 400
    assert _upload(editor, page, mp3_bytes(), token="forged").status_code == 400
    assert _recordings(session) == []


def test_another_commune_is_forbidden_and_its_items_not_found(
    editor: FlaskClient, session: Session
) -> None:
    token = _token(editor, "/dashboard/cotonou/content")
    calavi_document = _first(session, Document, "abomey-calavi")
    foreign = _url("abomey-calavi", "documents", calavi_document.id)
    assert editor.get(foreign).status_code == 403
    assert _upload(editor, foreign, mp3_bytes(), token=token).status_code == 403
    # Another commune's document, under one's own commune: not found.
    crossed = _url("cotonou", "documents", calavi_document.id)
    assert _upload(editor, crossed, mp3_bytes(), token=token).status_code == 404
    calavi_event = _first(session, Event, "abomey-calavi")
    crossed_event = _url("cotonou", "events", calavi_event.id)
    assert _upload(editor, crossed_event, mp3_bytes(), token=token).status_code == 404
    # Kinds a screen never plays a recording of have no such page.
    project = _first(session, Project, "cotonou")
    assert editor.get(_url("cotonou", "projects", project.id)).status_code == 404
    assert _recordings(session) == []


def test_a_viewer_may_not_upload(client: FlaskClient, make_staff, session: Session) -> None:
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    token = _token(client, "/dashboard/cotonou/content")
    assert client.get(page).status_code == 403
    assert _upload(client, page, mp3_bytes(), token=token).status_code == 403
    assert client.post(page + "/delete", data={"csrf_token": token}).status_code == 403
    assert _recordings(session) == []
    count = select(func.count()).select_from(AuditLog).where(AuditLog.entity == "content_audio")
    assert session.scalar(count) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/media/audio/1-00000000.mp3",
        "/media/audio/abc.mp3",
        "/media/audio/1-00000000.ogg",
        "/media/audio/99999999999999999999-00000000.mp3",
        "/media/audio/../../etc/passwd",
    ],
)
def test_unknown_media_is_not_found(client: FlaskClient, communes, path: str) -> None:
    assert client.get(path).status_code == 404


def test_media_with_the_wrong_digest_or_extension_is_not_found(
    editor: FlaskClient, session: Session, app
) -> None:
    document = _first(session, Document, "cotonou")
    page = _url("cotonou", "documents", document.id)
    _upload(editor, page, mp3_bytes(), token=_token(editor, page))
    [row] = _recordings(session)
    public = app.test_client()
    assert public.get(_path_of(row)).status_code == 200
    assert public.get(f"/media/audio/{row.id}-{row.sha256[:8]}.wav").status_code == 404
    wrong = "0" * 8 if not row.sha256.startswith("0" * 8) else "1" * 8
    assert public.get(f"/media/audio/{row.id}-{wrong}.mp3").status_code == 404
