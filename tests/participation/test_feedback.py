"""Feedback tickets: filing on every channel, SUIVI, the lifecycle and the limits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.db import get_session
from bot.engine import message_turn
from bot.gsm import is_gsm7
from bot.matching import fold
from bot.models import Area, Contact, Feedback, FeedbackUpdate, OutboundMessage
from bot.models.enums import Channel, FeedbackCategory, FeedbackStatus, Satisfaction
from bot.participation import feedback as tickets
from bot.participation.feedback_cli import group as feedback_cli
from bot.redis import get_redis
from tests.participation.dialog import UssdPhone, sms

PHONE = "+2290197111111"
OTHER = "+2290197222222"


def _ticket(session) -> Feedback:
    session.expire_all()
    [ticket] = session.scalars(select(Feedback)).all()
    return ticket


def test_ussd_dialog_files_a_ticket(client, session, loaded) -> None:
    phone = UssdPhone(client, PHONE)
    phone.participate("Signaler un probleme")
    assert "De quoi s'agit-il" in phone.screen
    phone.choose("Voirie")
    assert "arrondissement" in phone.screen
    phone.choose("7e")
    assert "quartier" in phone.screen.lower()
    phone.send("Gbegamey")
    phone.send("Nid de poule rue 12*3 devant l'ecole")  # a * typed inside free text
    assert "numero" in phone.screen
    end = phone.choose("Non, anonyme")
    assert end.startswith("END ")
    ticket = _ticket(session)
    assert ticket.ref in end and "SUIVI" in end
    assert ticket.channel is Channel.USSD and ticket.category is FeedbackCategory.VOIRIE
    assert ticket.text == "Nid de poule rue 12*3 devant l'ecole"
    assert ticket.quartier_text == "Gbegamey" and ticket.anonymous
    area = session.get(Area, ticket.area_id)
    assert area.name == "7e arrondissement"
    assert ticket.status is FeedbackStatus.RECEIVED
    [update] = session.scalars(select(FeedbackUpdate)).all()
    assert update.new_status is FeedbackStatus.RECEIVED and update.old_status is None


def test_sms_keyword_asks_only_what_is_missing(client, session, run_jobs, loaded) -> None:
    [ask_commune] = sms(client, session, run_jobs, PHONE, "AVIS Les ordures ne sont pas ramassees")
    assert "commune" in ask_commune
    [ask_area] = sms(client, session, run_jobs, PHONE, "1")  # Cotonou; category guessed
    assert "arrondissement" in ask_area and "De quoi" not in ask_area
    [ask_quartier] = sms(client, session, run_jobs, PHONE, "3e")  # typed, matched by spelling
    assert "quartier" in ask_quartier.lower()
    [ask_anonymous] = sms(client, session, run_jobs, PHONE, "passer")
    assert "numero" in ask_anonymous
    [done] = sms(client, session, run_jobs, PHONE, "1")
    ticket = _ticket(session)
    assert ticket.ref in done
    assert ticket.category is FeedbackCategory.ASSAINISSEMENT
    assert ticket.text == "Les ordures ne sont pas ramassees"
    assert session.get(Area, ticket.area_id).name == "3e arrondissement"
    assert ticket.quartier_text is None and not ticket.anonymous
    # The dialog is over: the next message starts from the menu, not from the ticket.
    [menu] = sms(client, session, run_jobs, PHONE, "MENU")
    assert "Communes+ Cotonou" in menu


def test_whatsapp_keeps_photos_and_location(session, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    redis = get_redis()

    def say(text: str = "", **attached) -> str:
        [reply] = message_turn(session, redis, contact.id, Channel.WHATSAPP, text, **attached).texts
        session.commit()
        return reply

    photo = {"url": "https://example.org/m/1.jpg", "content_type": "image/jpeg"}
    say("PLAINTE le lampadaire est eteint depuis un mois", media=(photo,))
    say("1")  # Cotonou; electricite guessed
    say("1er")
    say("Zongo")
    attach = say(location={"latitude": 6.36, "longitude": 2.42})
    assert "recu" in attach.lower()
    say("Terminer")
    done = say("Oui, avec mon numero")
    ticket = _ticket(session)
    assert ticket.ref in done
    assert ticket.category is FeedbackCategory.ELECTRICITE
    assert ticket.media == [photo]
    assert ticket.location == {"latitude": 6.36, "longitude": 2.42}


def test_description_is_asked_again_when_empty_and_cut_when_huge(session, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    redis = get_redis()

    def say(text: str) -> str:
        return message_turn(session, redis, contact.id, Channel.SMS, text).texts[0]

    for text in ("AVIS", "1", "1", "1", "1"):  # Cotonou, voirie, 1er, skip the quartier
        say(text)
    assert "trop court" in say("ok")
    say("x " * 5000)
    say("1")
    assert len(_ticket(session).text) == tickets.MAX_TEXT


def _file(session, contact_id: int, channel: Channel = Channel.SMS, draft_id: str = "d1"):
    return tickets.file(
        session,
        tickets.Draft(
            commune_slug="cotonou",
            contact_id=contact_id,
            channel=channel,
            category=FeedbackCategory.EAU,
            text="Pas d'eau au robinet public",
            draft_id=draft_id,
        ),
    )


def test_the_same_draft_submitted_at_once_is_one_ticket(app, session, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    barrier = threading.Barrier(4)
    refs: list[str] = []

    def submit() -> None:
        with app.app_context():
            barrier.wait()
            ticket, _created = _file(get_session(), contact.id, draft_id="same-draft")
            refs.append(ticket.ref)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refs) == 4 and len(set(refs)) == 1
    assert session.scalar(select(func.count()).select_from(Feedback)) == 1


def test_daily_limit_answers_politely(app, client, session, run_jobs, loaded) -> None:
    app.config["FEEDBACK_DAILY_LIMIT"] = 1
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    _file(session, contact.id)
    [reply] = sms(client, session, run_jobs, PHONE, "AVIS la route est coupee")
    assert "demain" in reply
    assert session.scalar(select(func.count()).select_from(Feedback)) == 1


def test_suivi_tells_only_the_author(client, session, run_jobs, loaded) -> None:
    author = Contact(phone_e164=PHONE)
    session.add_all([author, Contact(phone_e164=OTHER)])
    session.commit()
    ticket, _ = _file(session, author.id)
    [stranger] = sms(client, session, run_jobs, OTHER, f"SUIVI {ticket.ref}")
    [unknown] = sms(client, session, run_jobs, OTHER, "SUIVI AV-ZZZZ")
    assert stranger.replace(ticket.ref, "AV-ZZZZ") == unknown  # no hint that it exists
    assert "robinet" not in stranger
    [mine] = sms(client, session, run_jobs, PHONE, f"suivi {ticket.ref.lower().replace('-', ' ')}")
    assert ticket.ref in mine and "recu" in mine
    [listing] = sms(client, session, run_jobs, PHONE, "SUIVI")
    assert ticket.ref in listing


def test_each_change_reaches_the_citizen_by_sms_after_ussd(session, run_jobs, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    ticket, _ = _file(session, contact.id, channel=Channel.USSD)
    tickets.change_status(session, ticket, FeedbackStatus.ACKNOWLEDGED)
    tickets.change_status(session, ticket, FeedbackStatus.IN_PROGRESS, "Equipe envoyée lundi.")
    session.commit()
    run_jobs()
    news = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [m.channel for m in news] == [Channel.SMS, Channel.SMS]
    assert ticket.ref in news[0].text and "pris en compte" in news[0].text
    assert "Equipe envoy" in news[1].text and is_gsm7(news[1].text)
    assert [u.new_status for u in ticket.updates] == [
        FeedbackStatus.RECEIVED,
        FeedbackStatus.ACKNOWLEDGED,
        FeedbackStatus.IN_PROGRESS,
    ]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((FeedbackStatus.RESOLVED,), FeedbackStatus.ACKNOWLEDGED),
        ((FeedbackStatus.IN_PROGRESS,), FeedbackStatus.RECEIVED),
        ((FeedbackStatus.REJECTED,), FeedbackStatus.RESOLVED),
    ],
)
def test_lifecycle_refuses_going_backwards(session, loaded, path, refused) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    ticket, _ = _file(session, contact.id)
    for status in path:
        tickets.change_status(session, ticket, status)
    with pytest.raises(tickets.RefusedChange):
        tickets.change_status(session, ticket, refused)


def test_resolved_asks_whether_it_is_solved(client, session, run_jobs, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    ticket, _ = _file(session, contact.id)
    tickets.change_status(session, ticket, FeedbackStatus.RESOLVED, "Fuite reparee.")
    session.commit()
    run_jobs()
    [news] = session.scalars(select(OutboundMessage)).all()
    assert "1 Oui 2 Non 3 En partie 4 Je ne sais pas" in news.text
    [thanks] = sms(client, session, run_jobs, PHONE, "3")
    assert "Merci" in thanks
    assert _ticket(session).satisfaction is Satisfaction.PARTLY


def test_stop_in_the_middle_of_the_ussd_dialog(client, session, loaded) -> None:
    phone = UssdPhone(client, PHONE)
    phone.participate("Signaler un probleme")
    phone.choose("Eau")
    end = phone.send("STOP")
    assert end.startswith("END ") and "ne recevrez plus" in end
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert contact.opted_out_at is not None
    assert session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_stop_in_the_middle_of_the_sms_dialog(client, session, run_jobs, loaded) -> None:
    sms(client, session, run_jobs, PHONE, "AVIS la route est coupee")
    [confirmation] = sms(client, session, run_jobs, PHONE, "STOP")
    assert "ne recevrez plus" in confirmation
    [reply] = sms(client, session, run_jobs, PHONE, "1")
    assert "arrondissement" not in reply  # the dialog ended with STOP
    assert session.scalar(select(func.count()).select_from(Feedback)) == 0


@pytest.mark.parametrize(
    ("typed", "ref"),
    [
        ("SUIVI AV-7K2P", "AV-7K2P"),
        ("suivi av 7k2p", "AV-7K2P"),
        ("av7k2p", "AV-7K2P"),
        ("7K2P", "AV-7K2P"),
        ("AV-7K2O", None),  # O is not in the alphabet: not a reference
        ("rien", None),
    ],
)
def test_find_ref(typed: str, ref: str | None) -> None:
    assert tickets.find_ref(typed) == ref


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Les ordures debordent au carrefour", FeedbackCategory.ASSAINISSEMENT),
        ("Pas d'eau au robinet", FeedbackCategory.EAU),
        ("Ca ne marche pas du tout", None),
        ("La route est inondee pres de l'ecole", None),  # two categories: ask
    ],
)
def test_guess_category(text: str, category: FeedbackCategory | None) -> None:
    assert tickets.guess_category(fold(text).split()) == category


def test_cli_lists_masked_and_moves_tickets(app, runner, session, run_jobs, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    ticket, _ = _file(session, contact.id)
    listing = runner.invoke(feedback_cli, ["list", "--commune", "cotonou"])
    assert listing.exit_code == 0, listing.output
    assert ticket.ref in listing.output and PHONE not in listing.output
    assert "** **" in listing.output
    moved = runner.invoke(feedback_cli, ["status", ticket.ref, "resolved", "--note", "Fait."])
    assert moved.exit_code == 0, moved.output
    refused = runner.invoke(feedback_cli, ["status", ticket.ref, "received"])
    assert refused.exit_code != 0 and "cannot become" in refused.output
    assert runner.invoke(feedback_cli, ["status", "AV-NONE", "resolved"]).exit_code != 0


def test_suite_with_nothing_left_is_not_taken_as_an_answer(session, loaded) -> None:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    redis = get_redis()
    message_turn(session, redis, contact.id, Channel.SMS, "AVIS les ordures debordent")
    [areas] = message_turn(session, redis, contact.id, Channel.SMS, "1").texts  # Cotonou
    [again] = message_turn(session, redis, contact.id, Channel.SMS, "SUITE").texts
    assert again == areas


def test_ussd_cut_off_resumes_with_what_was_already_said(client, session, loaded) -> None:
    phone = UssdPhone(client, PHONE, session_id="ATUid_cut")
    phone.participate("Signaler un probleme")
    phone.choose("Eau")
    phone.choose("2e")
    phone.send("Cadjehoun")  # then the network drops the session
    again = UssdPhone(client, PHONE, session_id="ATUid_again")
    assert "Reprendre" in again.screen
    again.choose("Oui, reprendre")
    assert "Decrivez le probleme" in again.screen
    again.send("Pas d'eau a la borne fontaine depuis lundi")
    again.choose("Oui, avec mon numero")
    ticket = _ticket(session)
    assert ticket.category is FeedbackCategory.EAU and ticket.quartier_text == "Cadjehoun"
    assert session.get(Area, ticket.area_id).name == "2e arrondissement"
