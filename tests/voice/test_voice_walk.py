"""Whole calls through the real webhook: the USSD menus read aloud, answered with keys."""

from __future__ import annotations

from sqlalchemy import select

from bot import conversation
from bot.content import cache
from bot.dashboard import content_audio
from bot.gsm import is_gsm7
from bot.models import Commune, Contact, OutboundMessage
from bot.models.enums import Channel, DocumentType
from bot.redis import get_redis
from tests.languages.conftest import mp3_bytes
from tests.voice.conftest import VoiceCall
from tests.voice.shape import said

PHONE = "+2290197123456"


def _state_kept(app, call: VoiceCall) -> bool:
    with app.app_context():
        return conversation.load(get_redis(), Channel.VOICE, call.session_id) is not None


def test_dial_in_pick_cotonou_and_budget_hears_the_sample_budget(app, client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    assert call.collects_digits
    assert "Choisissez votre commune" in call.heard
    assert call.choices()["Cotonou"] == "1"

    call.choose("Cotonou")
    assert call.collects_digits and "Communes+ Cotonou" in call.heard
    call.choose("Budget")
    heard = call.heard
    assert "Budget" in heard and "Données d'exemple" in heard  # the sample label, read aloud
    assert "milliard" in heard  # the figures, read whole
    assert call.choices()["Recevoir par SMS"] == "1"

    assert _state_kept(app, call)
    assert len(call.hang_up()) == 0  # <Response/>: nothing more to do
    assert not _state_kept(app, call)


def test_long_content_is_read_whole_not_cut_to_a_screen(client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    call.choose("Projets")
    first_say = call.xml[0][0].text or ""
    assert len(first_say) > 160
    assert "..." not in first_say[-5:]


def test_keys_repeat_page_back_and_home(client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    menu = call.heard
    assert "tapez 8" in menu and "Bonnes pratiques" not in call.choices()
    assert "tapez 0" not in menu  # the first page of the main menu has nowhere to go back to

    call.press("8")
    second = call.choices()
    assert "Bonnes pratiques" in second and "Budget" not in second
    assert "Communes+ Cotonou" not in call.heard  # paging reads the choices, not the title
    assert "tapez 0" in call.heard and "tapez 9" in call.heard

    call.press("0")  # back a page
    assert call.choices()["Budget"] == "1"

    call.choose("Budget")
    budget = call.heard
    assert call.press("*") is not None and call.heard == budget  # star: the same, again
    call.press("0")  # back a step
    assert "Communes+ Cotonou" in call.heard
    call.choose("Budget")
    call.press("9")  # home
    assert "Communes+ Cotonou" in call.heard and call.choices()["Budget"] == "1"


def test_missing_or_bad_keys_repeat_the_menu_politely(client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    menu = call.choices()
    for form in ({}, {"dtmfDigits": ""}, {"dtmfDigits": "#"}):
        call.post(**form)
        assert call.collects_digits
        assert call.heard.startswith("Nous n'avons pas reçu votre choix.")
        assert call.choices() == menu
    for bad in ("8" * 3, "x", "12", "<b>", "8#9"):
        call.press(bad)
        assert call.collects_digits
        assert call.heard.startswith("Choix non reconnu.")
        assert call.choices() == menu


def test_silence_hears_the_choices_again_then_a_goodbye(client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    first, again, goodbye = call.xml
    assert first.attrib["numDigits"] == "1"
    assert first.attrib["callbackUrl"] == "http://localhost/webhooks/at/voice"
    assert again.attrib == first.attrib
    assert said(again).startswith("Nous n'avons pas entendu votre choix.")
    assert "Pour Cotonou, tapez 1." in said(again)
    assert "Au revoir" in (goodbye.text or "")


def test_sms_copy_of_a_content_screen_ends_the_call_and_sends_the_text(
    client, session, loaded, run_jobs
) -> None:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    call.choose("Budget")
    call.choose("Recevoir par SMS")
    assert call.says_goodbye and "par SMS" in said(call.xml)
    run_jobs()
    session.rollback()
    [copy] = session.scalars(select(OutboundMessage)).all()
    assert copy.channel is Channel.SMS
    assert "Budget" in copy.text and is_gsm7(copy.text)


def test_the_commune_chosen_by_voice_is_remembered_for_the_next_call(
    client, session, loaded
) -> None:
    VoiceCall(client, PHONE).choose("Abomey-Calavi")
    again = VoiceCall(client, PHONE)
    assert "Communes+ Abomey-Calavi" in again.heard
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert contact.preferred_channel is Channel.VOICE


def test_english_speaker_hears_english(client, session, loaded) -> None:
    session.add(Contact(phone_e164=PHONE, language="en"))
    session.commit()
    call = VoiceCall(client, PHONE)
    assert "Choose your commune" in call.heard
    call.choose("Cotonou")
    assert call.choices()["Budget"] == "1"
    assert "To hear this again, press star." in call.heard


def test_an_answered_call_we_placed_says_who_is_calling(client, loaded) -> None:
    call = VoiceCall(client, PHONE, direction="Outbound")
    assert call.heard.startswith("Bonjour, ici Communes+ : vous avez demandé à être appelé.")
    assert call.choices()["Cotonou"] == "1"


def test_a_question_needing_typed_words_says_so_instead_of_waiting(client, loaded) -> None:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    call.choose("Participer")
    call.choose("Question pour une seance")
    heard = call.heard
    if "doit être écrite" not in heard:  # several sessions open: choose one first
        call.press("1")
        heard = call.heard
    assert "doit être écrite" in heard and "tapez 0" in heard


def test_a_recording_in_the_callers_language_is_played(client, session, loaded, make_staff) -> None:
    staff = make_staff("editeur@mairie-cotonou.example", roles={"cotonou": "editor"})
    cotonou = session.scalar(select(Commune).where(Commune.slug == "cotonou"))
    account = cache.snapshot(session, "cotonou").latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    content_audio.store(session, staff, cotonou, "documents", account.id, "fon", mp3_bytes(2000))
    session.commit()
    cache.clear()
    [recording] = content_audio.recordings_of(session, "documents", account.id).values()
    session.add(Contact(phone_e164=PHONE, language="fon", commune_id=cotonou.id))
    session.commit()

    call = VoiceCall(client, PHONE)
    call.choose("Compte administratif")
    first = call.xml[0]
    assert [child.tag for child in first] == ["Say", "Play", "Say"]
    assert "(Données d'exemple)" in (first[0].text or "")  # the sample label, still said
    assert first[1].attrib["url"] == (
        f"http://localhost/media/audio/{recording.id}-{recording.sha256[:8]}.mp3"
    )
    assert "tapez 1" in (first[2].text or "")
