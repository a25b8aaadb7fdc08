"""A content reply carries the recording of its document or session in the reader's language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from bot.contacts import profile
from bot.content import cache
from bot.content.cache import COUNCIL_SESSIONS
from bot.content.loader import load_content
from bot.dashboard import content_audio
from bot.engine import context
from bot.flows import info
from bot.flows.base import Context, Reply
from bot.flows.main import STEPS
from bot.models import Commune, Contact, StaffUser
from bot.models.enums import Channel, DocumentType, EventType
from tests.languages.conftest import mp3_bytes, wav_bytes

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def loaded(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    load_content(session)
    session.commit()
    monkeypatch.setattr(cache, "utcnow", lambda: NOW)
    cache.clear()
    yield session
    cache.clear()


@pytest.fixture
def record(loaded: Session, make_staff):
    """Store a recording as the dashboard does, then let the snapshots reload."""
    staff: StaffUser = make_staff("editeur@mairie-cotonou.example", roles={"cotonou": "editor"})
    cotonou = loaded.query(Commune).filter_by(slug="cotonou").one()

    def store(kind: str, item_id: int, language: str, data: bytes | None = None) -> str:
        data = data or mp3_bytes(2000 + len(language))
        content_audio.store(loaded, staff, cotonou, kind, item_id, language, data)
        loaded.commit()
        cache.clear()
        recording = content_audio.recordings_of(loaded, kind, item_id)[language]
        extension = "mp3" if recording.content_type == "audio/mpeg" else "wav"
        return f"/media/audio/{recording.id}-{recording.sha256[:8]}.{extension}"

    return store


def _snapshot(session: Session) -> cache.CommuneSnapshot:
    found = cache.snapshot(session, "cotonou")
    assert found is not None
    return found


def _reader(session: Session, language: str | None) -> int:
    commune = session.query(Commune).filter_by(slug="cotonou").one()
    contact = Contact(phone_e164="+2290197111222", language=language, commune_id=commune.id)
    session.add(contact)
    session.commit()
    return contact.id


def _ctx(session: Session, lang: str) -> Context:
    return Context(session, 1, Channel.VOICE, lang, "cotonou")


def _screen(session: Session, contact_id: int, topic: str) -> Reply:
    """The screen as a voice call would get it, for the contact's own language."""
    ctx = context(session, profile(session, contact_id), Channel.VOICE)
    return STEPS[topic].prompt(ctx)


def test_a_reader_of_the_recorded_language_gets_the_recording(loaded: Session, record) -> None:
    account = _snapshot(loaded).latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    path = record("documents", account.id, "fon")
    reply = _screen(loaded, _reader(loaded, "fon"), "compte_administratif")
    assert reply.audio == path
    # The text is unchanged: French, the fallback for Fon, with its sample label.
    assert reply.title.startswith("Compte administratif") and "(Données d'exemple)" in reply.title


@pytest.mark.parametrize("language", ["en", "fr", "yo", None])
def test_a_reader_of_another_language_gets_none(loaded: Session, record, language) -> None:
    account = _snapshot(loaded).latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    record("documents", account.id, "fon")
    reply = _screen(loaded, _reader(loaded, language), "compte_administratif")
    assert reply.audio is None


def test_french_recording_for_a_language_that_reads_the_screen_in_french(
    loaded: Session, record
) -> None:
    upcoming = _snapshot(loaded).next_event(*COUNCIL_SESSIONS)
    french = record("events", upcoming.id, "fr", wav_bytes())
    # Goun has no texts yet: the screen is French, so is the recording it falls back to.
    assert _screen(loaded, _reader(loaded, "guw"), "council").audio == french
    # English has its own text: a French recording would not match what is read.
    assert info.council(_ctx(loaded, "en")).audio is None
    assert info.council(_ctx(loaded, "fr")).audio == french
    goun = record("events", upcoming.id, "guw")
    assert info.council(_ctx(loaded, "guw")).audio == goun


def test_each_screen_plays_its_own_subject(loaded: Session, record) -> None:
    snap = _snapshot(loaded)
    council = snap.next_event(*COUNCIL_SESSIONS)
    reddition = snap.next_event(EventType.REDDITION_DE_COMPTES)
    council_path = record("events", council.id, "yo")
    reddition_path = record("events", reddition.id, "yo")
    assert info.council(_ctx(loaded, "yo")).audio == council_path
    assert info.reddition(_ctx(loaded, "yo")).audio == reddition_path
    # Screens that list many items, or add up budget lines, have no single recording.
    for screen in (info.budget, info.projects, info.contracts, info.agenda, info.about):
        assert screen(_ctx(loaded, "yo")).audio is None


def test_a_deleted_recording_is_no_longer_played(loaded: Session, record, make_staff) -> None:
    account = _snapshot(loaded).latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    record("documents", account.id, "yo")
    assert info.compte_administratif(_ctx(loaded, "yo")).audio is not None
    staff = loaded.query(StaffUser).one()
    cotonou = loaded.query(Commune).filter_by(slug="cotonou").one()
    assert content_audio.remove(loaded, staff, cotonou, "documents", account.id, "yo")
    loaded.commit()
    cache.clear()
    assert info.compte_administratif(_ctx(loaded, "yo")).audio is None


def test_recordings_do_not_change_what_other_channels_show(loaded: Session, record) -> None:
    before = info.compte_administratif(_ctx(loaded, "fon"))
    account = _snapshot(loaded).latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    record("documents", account.id, "fon")
    after = info.compte_administratif(_ctx(loaded, "fon"))
    assert (after.title, after.text, after.options) == (before.title, before.text, before.options)
