"""Polls: dialogs on USSD, SMS and WhatsApp, one answer per citizen, results, privacy, CLI."""

from __future__ import annotations

import csv
import io
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db import get_session
from bot.gsm import segment_info
from bot.models import (
    Area,
    Commune,
    Contact,
    InboundMessage,
    OutboundMessage,
    Poll,
    PollOption,
    PollParticipant,
    PollResponse,
)
from bot.models.enums import AreaKind, Channel, PollStatus
from bot.models.types import utcnow
from bot.participation import poll_results, polls
from bot.participation.polls_cli import group
from bot.redis import get_queue
from tests.participation.dialog import UssdPhone, sms, turn

PHONE = "+2290197123456"
QUESTION = "Quelle priorité pour votre quartier en 2027 ?"
OPTIONS = ["Éclairage public", "Routes pavées", "Caniveaux"]


def _poll(session, *, political: bool = False, question: str = QUESTION, **times) -> int:
    closes_at = times.pop("closes_at", utcnow() + timedelta(days=7))
    poll = polls.create_poll(
        session, "cotonou", question, OPTIONS, closes_at, political=political, **times
    )
    session.commit()
    return poll.id


def _option(session, poll_id: int, label: str) -> int:
    return session.scalar(
        select(PollOption.id).where(PollOption.poll_id == poll_id, PollOption.label == label)
    )


def _contact(session, phone: str = PHONE, **fields) -> int:
    contact = Contact(phone_e164=phone, **fields)
    session.add(contact)
    session.commit()
    return contact.id


def _responses(session, poll_id: int) -> list[PollResponse]:
    session.expire_all()
    return list(session.scalars(select(PollResponse).where(PollResponse.poll_id == poll_id)))


# --- USSD --------------------------------------------------------------------------------


def _ussd_to_polls(client, session_id: str) -> UssdPhone:
    ussd = UssdPhone(client, PHONE, session_id)
    ussd.participate("Sondages")
    return ussd


def test_ussd_answer_then_change_of_mind(client, session, loaded) -> None:
    poll_id = _poll(session)
    ussd = _ussd_to_polls(client, "ATUid_poll_1")
    assert "Sondage" in ussd.screen and "Quelle priorité" in ussd.screen
    assert "Votre choix" not in ussd.screen
    done = ussd.choose("Routes pavées")
    assert done.startswith("END ")
    assert "Réponse enregistrée : Routes pavées" in done and "jusqu'au" in done
    [response] = _responses(session, poll_id)
    assert response.option_id == _option(session, poll_id, "Routes pavées")
    assert response.channel is Channel.USSD
    assert response.contact_id is not None

    again = _ussd_to_polls(client, "ATUid_poll_2")
    assert "Votre choix : Routes pavées" in again.screen
    changed = again.choose("Caniveaux")
    assert changed.startswith("END ") and "Réponse changée : Caniveaux" in changed
    [response] = _responses(session, poll_id)
    assert response.option_id == _option(session, poll_id, "Caniveaux")


def test_ussd_several_polls_are_listed_by_question(client, session, loaded) -> None:
    _poll(session)
    long_question = "Faut-il déplacer le marché de Dantokpa vers un nouveau site plus grand ?"
    second = _poll(session, question=long_question, closes_at=utcnow() + timedelta(days=9))
    ussd = _ussd_to_polls(client, "ATUid_poll_list")
    assert "Sondages en cours" in ussd.screen
    assert "Quelle priorité" in ussd.screen and "..." in ussd.screen  # the long one shortened
    question = ussd.choose("Faut-il")
    assert "Dantokpa" in question
    assert ussd.choose("Éclairage public").startswith("END ")
    [response] = _responses(session, second)
    assert response.option_id == _option(session, second, "Éclairage public")


def test_ussd_cut_off_on_the_question_resumes_it(client, session, loaded) -> None:
    poll_id = _poll(session)
    _ussd_to_polls(client, "ATUid_poll_cut")  # then the network drops
    resumed = UssdPhone(client, PHONE, "ATUid_poll_resumed")
    assert "Reprendre" in resumed.screen
    assert "Quelle priorité" in resumed.choose("Oui, reprendre")
    assert resumed.choose("Caniveaux").startswith("END ")
    [response] = _responses(session, poll_id)
    assert response.option_id == _option(session, poll_id, "Caniveaux")


def test_ussd_stop_in_the_middle_of_a_poll(client, session, loaded) -> None:
    poll_id = _poll(session)
    ussd = _ussd_to_polls(client, "ATUid_poll_stop")
    stopped = ussd.send("STOP")
    assert stopped.startswith("END ") and "ne recevrez plus" in stopped
    assert _responses(session, poll_id) == []
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert contact.opted_out_at is not None


def test_ussd_poll_closed_while_its_question_is_shown(client, session, loaded) -> None:
    poll_id = _poll(session)
    ussd = _ussd_to_polls(client, "ATUid_poll_late")
    poll_results.close_poll(session, poll_id)
    session.commit()
    refused = ussd.choose("Caniveaux")
    assert refused.startswith("END ") and "ne prend pas de réponses" in refused
    assert _responses(session, poll_id) == []


# --- SMS and WhatsApp --------------------------------------------------------------------


def test_sms_keyword_then_number_through_the_webhook(client, session, loaded, run_jobs) -> None:
    poll_id = _poll(session)
    [communes] = sms(client, session, run_jobs, PHONE, "SONDAGE")
    assert "Cotonou" in communes  # the commune is asked first
    [question] = sms(client, session, run_jobs, PHONE, "1")
    assert "Quelle priorité" in question and "2 Routes pavées" in question
    [done] = sms(client, session, run_jobs, PHONE, "2")
    assert "Réponse enregistrée : Routes pavées" in done
    [response] = _responses(session, poll_id)
    assert response.channel is Channel.SMS
    assert response.option_id == _option(session, poll_id, "Routes pavées")


def test_sms_text_answers_are_matched_fuzzily(session, loaded) -> None:
    poll_id = _poll(session)
    cotonou = session.scalar(select(Commune.id).where(Commune.slug == "cotonou"))
    contact_id = _contact(session, commune_id=cotonou)
    question = turn(session, contact_id, "sondage")
    assert "Quelle priorité" in question
    assert "Réponse enregistrée : Routes pavées" in turn(session, contact_id, "routes pavees")
    # Answered again in one message, with a typo: the choice changes.
    changed = turn(session, contact_id, "SONDAGE canivaux")
    assert "Réponse changée : Caniveaux" in changed
    assert "Réponse changée : Éclairage public" in turn(session, contact_id, "SONDAGE 1")
    [response] = _responses(session, poll_id)
    assert response.option_id == _option(session, poll_id, "Éclairage public")
    # After the end of the dialog, a number is a main-menu choice again, not an answer.
    assert "Réponse" not in turn(session, contact_id, "2")
    assert len(_responses(session, poll_id)) == 1


def test_sms_unknown_words_after_the_keyword_show_the_question(session, loaded) -> None:
    poll_id = _poll(session)
    cotonou = session.scalar(select(Commune.id).where(Commune.slug == "cotonou"))
    contact_id = _contact(session, commune_id=cotonou)
    reply = turn(session, contact_id, "SONDAGE peut-etre")
    assert "Quelle priorité" in reply and "3 Caniveaux" in reply
    assert _responses(session, poll_id) == []


def test_sms_stop_in_the_middle_then_the_menu(client, session, loaded, run_jobs) -> None:
    poll_id = _poll(session)
    sms(client, session, run_jobs, PHONE, "SONDAGE")
    [question] = sms(client, session, run_jobs, PHONE, "1")
    assert "Quelle priorité" in question
    [confirmation] = sms(client, session, run_jobs, PHONE, "STOP")
    assert "ne recevrez plus" in confirmation
    [menu] = sms(client, session, run_jobs, PHONE, "2")
    # Not an answer to the poll: the dialog ended, "2" is the main menu's second topic.
    assert "Compte administratif" in menu
    assert _responses(session, poll_id) == []


def test_whatsapp_dialog(session, loaded) -> None:
    poll_id = _poll(session)
    contact_id = _contact(session)
    assert "Cotonou" in turn(session, contact_id, "Sondage", Channel.WHATSAPP)
    question = turn(session, contact_id, "Cotonou", Channel.WHATSAPP)
    assert question.startswith("*Sondage*") and "\n3. Caniveaux" in question
    done = turn(session, contact_id, "Caniveaux", Channel.WHATSAPP)
    assert "Réponse enregistrée : Caniveaux" in done and "jusqu'au" in done
    [response] = _responses(session, poll_id)
    assert response.channel is Channel.WHATSAPP


def test_no_open_poll_is_said_politely(session, loaded) -> None:
    closed = _poll(session)
    poll_results.close_poll(session, closed)
    later = _poll(session, opens_at=utcnow() + timedelta(days=1))
    cotonou = session.scalar(select(Commune.id).where(Commune.slug == "cotonou"))
    contact_id = _contact(session, commune_id=cotonou)
    reply = turn(session, contact_id, "SONDAGE 1")
    assert "Aucun sondage n'est ouvert à Cotonou" in reply
    for poll_id in (closed, later):
        with pytest.raises(ValueError, match="takes no answers"):
            polls.respond(
                session, poll_id, contact_id, _option(session, poll_id, "Caniveaux"), "sms"
            )
    assert _responses(session, closed) == _responses(session, later) == []


# --- domain ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "closes_in", "opens_in", "message"),
    [
        (["Oui"], 1, None, "2 to 9 options"),
        ([str(n) for n in range(10)], 1, None, "2 to 9 options"),
        (["Oui", "  "], 1, None, "empty"),
        (["Oui", "oui"], 1, None, "same label"),
        (["Oui", "Non"], -1, None, "close after"),
        (["Oui", "Non"], 2, 3, "close after"),
    ],
)
def test_create_poll_refuses_what_cannot_work(
    session, loaded, options, closes_in, opens_in, message
) -> None:
    now = utcnow()
    opens_at = now + timedelta(days=opens_in) if opens_in is not None else None
    with pytest.raises(ValueError, match=message):
        polls.create_poll(
            session, "cotonou", QUESTION, options, now + timedelta(days=closes_in), opens_at
        )


def test_create_poll_refuses_an_unknown_commune_and_naive_times(session, loaded) -> None:
    later = utcnow() + timedelta(days=1)
    with pytest.raises(ValueError, match="unknown commune"):
        polls.create_poll(session, "paris", QUESTION, OPTIONS, later)
    with pytest.raises(ValueError, match="time zone"):
        polls.create_poll(session, "cotonou", QUESTION, OPTIONS, later.replace(tzinfo=None))


def test_answerable_reads_status_and_clock(session, loaded) -> None:
    poll = session.get(Poll, _poll(session, opens_at=utcnow() + timedelta(hours=1)))
    assert not polls.answerable(poll, utcnow())
    assert polls.answerable(poll, poll.opens_at)
    assert not polls.answerable(poll, poll.closes_at)
    assert polls.open_polls(session, "cotonou") == []
    assert polls.open_polls(session, "cotonou", poll.opens_at) == [poll]


def test_one_response_per_contact_and_change_of_mind(session, loaded) -> None:
    poll_id = _poll(session)
    contact_id = _contact(session)
    first, second = (_option(session, poll_id, label) for label in OPTIONS[:2])
    assert polls.respond(session, poll_id, contact_id, first, Channel.SMS) is False
    assert polls.respond(session, poll_id, contact_id, first, Channel.SMS) is False
    assert polls.respond(session, poll_id, contact_id, second, Channel.WHATSAPP) is True
    [response] = _responses(session, poll_id)
    assert (response.option_id, response.channel) == (second, Channel.WHATSAPP)
    assert session.scalar(select(func.count()).select_from(PollParticipant)) == 1
    assert polls.current_choice(session, poll_id, contact_id).label == OPTIONS[1]


def test_an_option_of_another_poll_is_refused(session, loaded) -> None:
    poll_id, other = _poll(session), _poll(session)
    contact_id = _contact(session)
    with pytest.raises(ValueError, match="not an option"):
        polls.respond(session, poll_id, contact_id, _option(session, other, "Caniveaux"), "sms")


def test_two_answers_at_once_leave_one_row(app, session, loaded) -> None:
    poll_id = _poll(session)
    contact_id = _contact(session)
    options = [_option(session, poll_id, label) for label in OPTIONS[:2]]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def answer(option_id: int) -> None:
        try:
            with app.app_context():
                start.wait()
                polls.respond(get_session(), poll_id, contact_id, option_id, Channel.SMS)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=answer, args=(option,)) for option in options]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [response] = _responses(session, poll_id)
    assert response.option_id in options


def test_the_database_itself_refuses_a_second_row_per_voter(session, loaded) -> None:
    poll_id = _poll(session)
    contact_id = _contact(session)
    option_id = _option(session, poll_id, "Caniveaux")
    key = polls.voter_key(poll_id, contact_id)
    for _ in range(2):
        session.add(
            PollResponse(poll_id=poll_id, option_id=option_id, voter_key=key, channel="sms")
        )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def _arrondissement(session, name: str) -> Area:
    return session.scalar(
        select(Area).where(Area.name == name, Area.kind == AreaKind.ARRONDISSEMENT)
    )


def test_results_by_option_and_by_arrondissement(session, loaded) -> None:
    poll_id = _poll(session)
    first, second = (
        _arrondissement(session, "1er arrondissement"),
        _arrondissement(session, "2e arrondissement"),
    )
    quartier = Area(
        commune_id=first.commune_id, kind=AreaKind.QUARTIER, name="Zongo", parent_id=first.id
    )
    session.add(quartier)
    session.commit()
    voters = [
        ("+2290197000001", first.id, "Routes pavées"),
        ("+2290197000002", quartier.id, "Routes pavées"),  # counted in its arrondissement
        ("+2290197000003", second.id, "Caniveaux"),
        ("+2290197000004", None, "Routes pavées"),
    ]
    for phone, area_id, label in voters:
        contact_id = _contact(session, phone, area_id=area_id)
        polls.respond(session, poll_id, contact_id, _option(session, poll_id, label), Channel.SMS)
    outcome = poll_results.results(session, poll_id)
    assert outcome.total == 4
    assert [(o.label, o.count, o.percent) for o in outcome.options] == [
        ("Éclairage public", 0, 0),
        ("Routes pavées", 3, 75),
        ("Caniveaux", 1, 25),
    ]
    assert outcome.by_area == {
        "1er arrondissement": {"Éclairage public": 0, "Routes pavées": 2, "Caniveaux": 0},
        "2e arrondissement": {"Éclairage public": 0, "Routes pavées": 0, "Caniveaux": 1},
        poll_results.UNKNOWN_AREA: {"Éclairage public": 0, "Routes pavées": 1, "Caniveaux": 0},
    }


def test_closing_sends_the_results_once_to_each_participant(session, loaded, run_jobs) -> None:
    poll_id = _poll(session)
    answers = [
        ("+2290197000001", "fr", Channel.USSD, "Routes pavées"),
        ("+2290197000002", "en", Channel.WHATSAPP, "Caniveaux"),
        ("+2290197000003", None, Channel.SMS, "Routes pavées"),
        ("+2290197000004", "fr", Channel.SMS, "Caniveaux"),  # will STOP before the close
    ]
    contacts = {}
    for phone, lang, channel, label in answers:
        contacts[phone] = _contact(session, phone, language=lang)
        polls.respond(session, poll_id, contacts[phone], _option(session, poll_id, label), channel)
    session.get(Contact, contacts["+2290197000004"]).opted_out_at = utcnow()
    session.commit()

    get_queue("default").enqueue("workers.polls.close_poll", poll_id)
    run_jobs()
    session.expire_all()
    assert session.get(Poll, poll_id).status is PollStatus.CLOSED
    sent = {row.contact_id: row for row in session.scalars(select(OutboundMessage))}
    assert set(sent) == {contacts[phone] for phone, *_ in answers[:3]}
    ussd_user = sent[contacts["+2290197000001"]]
    assert ussd_user.channel is Channel.SMS  # the USSD session is over: results come by SMS
    assert "Résultats du sondage" in ussd_user.text and "Routes pavées : 50 % (2)" in ussd_user.text
    assert segment_info(ussd_user.text).segments <= 2
    english = sent[contacts["+2290197000002"]]
    assert english.channel is Channel.WHATSAPP
    assert "Poll results" in english.text and "Caniveaux: 50% (2)" in english.text
    assert "4 answer(s)" in english.text

    assert poll_results.close_poll(session, poll_id) == 0  # a second closing sends nothing
    session.commit()
    run_jobs()
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 3


def test_the_close_is_scheduled_at_the_closing_time(session, loaded) -> None:
    poll = session.get(Poll, _poll(session))
    polls.schedule_close(poll)
    registry = get_queue("default").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = get_queue("default").fetch_job(job_id)
    assert job.func_name == "workers.polls.close_poll" and job.args == (poll.id,)
    assert registry.get_scheduled_time(job) == poll.closes_at.replace(microsecond=0)


def test_a_political_poll_keeps_no_number(session, loaded) -> None:
    poll_id = _poll(session, political=True)
    first = _arrondissement(session, "1er arrondissement")
    contact_id = _contact(session, area_id=first.id)
    polls.respond(session, poll_id, contact_id, _option(session, poll_id, "Caniveaux"), "ussd")
    [response] = _responses(session, poll_id)
    assert response.contact_id is None
    assert response.voter_key == polls.voter_key(poll_id, contact_id)
    # Who took part is known (to send the results), not what they chose.
    assert session.scalar(select(PollParticipant.contact_id)) == contact_id
    [row] = poll_results.export_rows(session, poll_id)
    assert set(row) == {"option", "area", "channel", "responded_at"}
    assert row["option"] == "Caniveaux" and row["area"] == "1er arrondissement"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", row["responded_at"])  # the day only


def test_an_ordinary_poll_export_shows_the_masked_phone(session, loaded) -> None:
    poll_id = _poll(session)
    contact_id = _contact(session)
    polls.respond(session, poll_id, contact_id, _option(session, poll_id, "Caniveaux"), "sms")
    [response] = _responses(session, poll_id)
    assert response.contact_id == contact_id
    [row] = poll_results.export_rows(session, poll_id)
    assert row["phone"] == "+229 01 97 ** ** 56"
    assert row["area"] == poll_results.UNKNOWN_AREA
    assert datetime.fromisoformat(row["responded_at"]).utcoffset() == timedelta(hours=1)


def test_voter_key_depends_on_the_secret_key(app, session) -> None:
    key = polls.voter_key(1, 2)
    assert len(key) == 64 and key != polls.voter_key(2, 1)
    app.config["SECRET_KEY"] = "another-secret"
    assert polls.voter_key(1, 2) != key


# --- CLI ---------------------------------------------------------------------------------


def test_cli_create_results_export_close(runner, session, loaded, run_jobs) -> None:
    args = [
        "create",
        "--commune",
        "cotonou",
        "--question",
        QUESTION,
        "--closes",
        "2030-12-01 18:00",
    ]
    for label in OPTIONS:
        args += ["--option", label]
    created = runner.invoke(group, args)
    assert created.exit_code == 0, created.output
    poll_id = int(re.search(r"poll (\d+) open until", created.output).group(1))
    assert "1er décembre 2030 à 18h00" in created.output
    session.expire_all()
    poll = session.get(Poll, poll_id)
    assert poll.closes_at == datetime(2030, 12, 1, 17, 0, tzinfo=UTC)  # Porto-Novo is UTC+1
    assert not poll.political
    assert get_queue("default").scheduled_job_registry.get_job_ids()

    first = _arrondissement(session, "1er arrondissement")
    for n, label in enumerate(["Caniveaux", "Caniveaux", "Routes pavées"]):
        contact_id = _contact(session, f"+229019700000{n}", area_id=first.id if n else None)
        polls.respond(session, poll_id, contact_id, _option(session, poll_id, label), "sms")

    results = runner.invoke(group, ["results", str(poll_id)])
    assert results.exit_code == 0, results.output
    assert "Caniveaux: 2 (67 %)" in results.output and "total: 3" in results.output
    assert "1er arrondissement: Éclairage public 0, Routes pavées 1, Caniveaux 1" in results.output

    exported = runner.invoke(group, ["export", str(poll_id)])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert [row["option"] for row in rows] == ["Caniveaux", "Caniveaux", "Routes pavées"]
    assert all("**" in row["phone"] for row in rows)

    closed = runner.invoke(group, ["close", str(poll_id)])
    assert closed.exit_code == 0, closed.output
    assert "results queued to 3 participant(s)" in closed.output
    run_jobs()
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 3
    again = runner.invoke(group, ["close", str(poll_id)])
    assert "results queued to 0 participant(s)" in again.output


def test_cli_political_export_has_no_phone_column(runner, session, loaded) -> None:
    args = ["create", "--commune", "cotonou", "--question", "Pour ou contre ?", "--political"]
    args += ["--option", "Pour", "--option", "Contre", "--closes", "2030-12-01 18:00"]
    created = runner.invoke(group, args)
    assert created.exit_code == 0, created.output
    assert "political poll" in created.output
    poll_id = int(re.search(r"poll (\d+)", created.output).group(1))
    contact_id = _contact(session)
    polls.respond(session, poll_id, contact_id, _option(session, poll_id, "Contre"), "sms")
    exported = runner.invoke(group, ["export", str(poll_id)])
    assert exported.output.splitlines()[0] == "option,area,channel,responded_at"
    assert "97" not in exported.output.split("\n", 1)[1]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["create", "--commune", "cotonou", "--question", "Q", "--option", "A",
          "--closes", "2030-12-01 18:00"], 1, "2 to 9 options"),
        (["create", "--commune", "cotonou", "--question", "Q", "--option", "A", "--option", "B",
          "--closes", "demain"], 2, "--closes"),
        (["results", "999"], 1, "no poll 999"),
        (["close", "999"], 1, "no poll 999"),
        (["export", "999"], 1, "no poll 999"),
    ],
)  # fmt: skip
def test_cli_errors_are_clear(runner, loaded, args, code, says) -> None:
    result = runner.invoke(group, args)
    assert result.exit_code == code
    assert says in result.output


def test_the_sms_answering_a_political_poll_is_not_kept_word_for_word(
    client, session, loaded, run_jobs
) -> None:
    poll_id = _poll(session, political=True)
    sms(client, session, run_jobs, PHONE, "SONDAGE")
    sms(client, session, run_jobs, PHONE, "1")
    [done] = sms(client, session, run_jobs, PHONE, "Caniveaux")
    assert "Caniveaux" in done
    [response] = _responses(session, poll_id)
    assert response.contact_id is None
    texts = session.scalars(select(InboundMessage.text).order_by(InboundMessage.id)).all()
    assert texts == ["SONDAGE", "1", ""]
