"""LANGUE and the menu's Langue option: every language by its own name, the choice kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.loader import load_content
from bot.engine import message_turn
from bot.gsm import is_gsm7, segment_info
from bot.models import Contact
from bot.models.enums import Channel
from bot.redis import get_redis

PHONE = "+2290197654321"
LIST = "1 Francais\n2 English\n3 Fongbe\n4 Goun\n5 Yoruba\n"
MAIN_MENU_LANGUAGE_OPTION = "12"  # 9 topics, Participer, Changer de commune, Langue


@pytest.fixture
def loaded(session: Session) -> Session:
    load_content(session)
    session.commit()
    return session


def _contact(session: Session) -> int:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    return contact.id


def _say(session: Session, contact_id: int, text: str, channel: Channel = Channel.SMS) -> str:
    [reply] = message_turn(session, get_redis(), contact_id, channel, text).texts
    session.commit()
    if channel is Channel.SMS:
        assert is_gsm7(reply), reply
        assert segment_info(reply).segments <= 2, reply
    return reply


def _language(session: Session, contact_id: int) -> str | None:
    session.expire_all()
    return session.get(Contact, contact_id).language


def test_sms_langue_lists_every_language_and_remembers_the_pick(loaded: Session) -> None:
    contact_id = _contact(loaded)
    _say(loaded, contact_id, "cotonou")
    choice = _say(loaded, contact_id, "LANGUE")
    assert LIST in choice
    assert choice.startswith("Choisissez votre langue / Choose your language")
    menu = _say(loaded, contact_id, "3")
    assert _language(loaded, contact_id) == "fon"
    # Fon has no menu texts yet: the menu comes in French, the fallback.
    assert menu.startswith("Communes+ Cotonou") and "Changer de commune" in menu
    # Remembered: the next message is answered for a Fongbe reader too.
    assert "Changer de commune" in _say(loaded, contact_id, "MENU")
    assert _language(loaded, contact_id) == "fon"


def test_sms_a_language_is_picked_by_its_name(loaded: Session) -> None:
    contact_id = _contact(loaded)
    _say(loaded, contact_id, "cotonou")
    _say(loaded, contact_id, "langue")
    menu = _say(loaded, contact_id, "english")
    assert _language(loaded, contact_id) == "en"
    assert "Change commune" in menu and "Language / Langue" in menu
    _say(loaded, contact_id, "LANGUE")
    _say(loaded, contact_id, "Yoruba")
    assert _language(loaded, contact_id) == "yo"


@pytest.mark.parametrize("answer", ["9", "0", "klingon", "🙂"])
def test_sms_an_unknown_pick_asks_again_and_changes_nothing(loaded: Session, answer: str) -> None:
    contact_id = _contact(loaded)
    _say(loaded, contact_id, "cotonou")
    _say(loaded, contact_id, "LANGUE")
    again = _say(loaded, contact_id, answer)
    assert _language(loaded, contact_id) is None
    if answer == "0":  # 0 is MENU by SMS: back home, nothing chosen
        assert "Changer de commune" in again
    else:
        assert "\nChoix non reconnu.\n" in again and LIST in again


def test_whatsapp_langue_numbers_the_languages(loaded: Session) -> None:
    contact_id = _contact(loaded)
    _say(loaded, contact_id, "cotonou", Channel.WHATSAPP)
    choice = _say(loaded, contact_id, "Langue", Channel.WHATSAPP)
    assert "1. Francais\n2. English\n3. Fongbe\n4. Goun\n5. Yoruba" in choice
    _say(loaded, contact_id, "4", Channel.WHATSAPP)
    assert _language(loaded, contact_id) == "guw"


def test_a_new_catalog_file_is_offered_and_kept(loaded: Session, catalogs: Path) -> None:
    (catalogs / "xyz.yaml").write_text(
        'language.name: "Xyzbe"\nmenu.change_commune: "Xyz commune"\n', encoding="utf-8"
    )
    contact_id = _contact(loaded)
    _say(loaded, contact_id, "cotonou")
    choice = _say(loaded, contact_id, "LANGUE")
    # Among the others by its own name.
    assert "4 Goun\n5 Xyzbe\n6 Yoruba\n" in choice
    menu = _say(loaded, contact_id, "5")
    assert _language(loaded, contact_id) == "xyz"
    # Its own text where it has one, French for everything else.
    assert "Xyz commune" in menu and "Participer" in menu


def _dial(client: FlaskClient, text: str, session_id: str = "ATUid_lang") -> str:
    form = {"sessionId": session_id, "serviceCode": "*202*22#", "phoneNumber": PHONE, "text": text}
    response = client.post("/webhooks/at/ussd", data=form)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    screen = body.removeprefix("CON ").removeprefix("END ")
    assert len(screen) <= 160, screen
    assert is_gsm7(screen), screen
    return body


def test_ussd_menu_option_lists_languages_and_remembers_the_pick(
    client: FlaskClient, loaded: Session
) -> None:
    _dial(client, "")
    _dial(client, "1")  # Cotonou
    listing = _dial(client, f"1*{MAIN_MENU_LANGUAGE_OPTION}")
    assert listing.startswith("CON Choisissez votre langue")
    assert LIST in listing and "0 Retour 00 Accueil" in listing
    menu = _dial(client, f"1*{MAIN_MENU_LANGUAGE_OPTION}*2")
    assert "Communes+ Cotonou" in menu and "1 Budget" in menu
    contact = loaded.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert contact.language == "en"
    # A new session starts in the language chosen.
    home = _dial(client, "", session_id="ATUid_next")
    assert "Administrative account" in home
    _dial(client, MAIN_MENU_LANGUAGE_OPTION, session_id="ATUid_next")
    back_in_french = _dial(client, f"{MAIN_MENU_LANGUAGE_OPTION}*1", session_id="ATUid_next")
    assert "Compte administratif" in back_in_french
    loaded.refresh(contact)
    assert contact.language == "fr"


@pytest.mark.parametrize("pick", ["3", "4", "5"])
def test_ussd_every_screen_fits_in_a_local_language(
    client: FlaskClient, loaded: Session, pick: str
) -> None:
    """Every content screen of a local-language reader, page by page, within 160 GSM-7."""
    _dial(client, "")
    inputs = ["1", MAIN_MENU_LANGUAGE_OPTION, pick]
    _dial(client, "*".join(inputs))
    for topic in range(1, 10):
        path = [*inputs, str(topic)]
        screen = _dial(client, "*".join(path))
        pages = 1
        while "98 " in screen and pages < 10:
            path.append("98")
            screen = _dial(client, "*".join(path))
            pages += 1
        assert pages < 10
        _dial(client, "*".join([*path, "00"]))
        inputs = [*path, "00"]
