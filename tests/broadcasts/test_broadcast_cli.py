"""`flask broadcast ...` and `flask event ...`: what staff type, see and leave behind."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.broadcasts import sending
from bot.content.cache import commune_id
from bot.models import AuditLog, Broadcast, Event, OutboundMessage
from bot.models.enums import (
    BroadcastKind,
    BroadcastStatus,
    Channel,
    EventStatus,
    EventType,
    MessageStatus,
    Topic,
)
from bot.models.types import utcnow
from bot.redis import get_queue
from tests.broadcasts.conftest import delivered_numbers, messages

TEXT_FR = "Séance « budget » : fête à 9h"
TEXT_EN = "Budget session at 9"
START = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)  # mardi 12 mars 2030, 10h00 in Porto-Novo


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _audit(session) -> list[tuple[str, str, str, str]]:
    session.expire_all()
    rows = session.scalars(select(AuditLog).order_by(AuditLog.id))
    return [(row.actor, row.action, row.entity, row.entity_id) for row in rows]


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    assert result.exception is None
    return result.output


def _refused(result, code: int, says: str) -> None:
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def _send(runner, *options: str, text_fr: str = TEXT_FR, **invoke: object):
    args = ["broadcast", "send", "--commune", "cotonou", "--topic", "reddition"]
    if text_fr:
        args += ["--text-fr", text_fr]
    return runner.invoke(args=[*args, *options], **invoke)


def _sent_id(output: str) -> int:
    return int(re.search(r"^broadcast (\d+) scheduled for ", output, re.M).group(1))


def _event(session, starts_at: datetime = START, **fields: object) -> Event:
    values: dict[str, object] = {
        "type": EventType.REDDITION_DE_COMPTES,
        "title": "Reddition de comptes 2029",
        "place": "Salle des fêtes",
        "follow_live": "Radio Tokpa 98.5",
        "status": EventStatus.SCHEDULED,
        **fields,
    }
    created = Event(commune_id=commune_id(session, "cotonou"), starts_at=starts_at, **values)
    session.add(created)
    session.commit()
    return created


# --- broadcast send ----------------------------------------------------------------------


def test_broadcast_send_dry_run_shows_each_group_and_stores_nothing(
    session, fake_at, subscriber, runner
) -> None:
    subscriber(language="fr")
    subscriber(language=None)
    subscriber(language="en", topic=Topic.ALL)
    subscriber(channel=Channel.WHATSAPP)
    subscriber(commune="abomey-calavi")
    result = _send(runner, "--text-en", TEXT_EN, "--dry-run")
    output = _ok(result)
    lines = output.splitlines()
    assert "sms en: 1 recipient(s), 1 segment(s) each, about 20 F CFA" in lines
    assert "sms fr: 2 recipient(s), 1 segment(s) each, about 40 F CFA" in lines
    assert "whatsapp fr: 1 recipient(s), 1 segment(s) each, about 5 F CFA" in lines
    assert "whatsapp en: 0 recipient(s), 1 segment(s) each, about 0 F CFA" in lines
    assert "  replaced for SMS (would cost UCS-2): « » ê" in lines
    assert "  1 outside the WhatsApp 24 h window (skipped: no template)" in lines
    # The exact SMS text: transliterated, with the opt-out line; WhatsApp keeps the text.
    assert (
        '  | Séance "budget" : fete à 9h\n  | Répondez STOP pour ne plus recevoir d\'alertes.'
    ) in output
    assert "  | Budget session at 9\n  | Reply STOP to stop these alerts." in output
    assert f"  | {TEXT_FR}\n" in output
    assert "total: 4 recipient(s), about 65 F CFA" in lines
    assert lines[-1] == "nothing sent"
    assert "Send it?" not in output
    assert _count(session, Broadcast) == 0 and _count(session, AuditLog) == 0
    assert get_queue("default").job_ids == []


def test_broadcast_send_asks_for_confirmation(session, fake_at, subscriber, runner) -> None:
    subscriber()
    declined = _send(runner, input="n\n")
    output = _ok(declined)
    assert "Send it? [y/N]" in output and output.splitlines()[-1].endswith("nothing sent")
    assert _count(session, Broadcast) == 0 and _count(session, AuditLog) == 0
    assert get_queue("default").job_ids == []
    accepted = _send(runner, input="y\n")
    broadcast_id = _sent_id(_ok(accepted))
    assert session.get(Broadcast, broadcast_id).status is BroadcastStatus.SCHEDULED
    assert _count(session, Broadcast) == 1


def test_broadcast_send_yes_schedules_audits_and_runs_to_done(
    session, fake_at, subscriber, runner, run_jobs
) -> None:
    first = subscriber()
    second = subscriber(topic=Topic.ALL)
    before = utcnow()
    output = _ok(_send(runner, "--channel", "sms", "--yes"))
    assert "Send it?" not in output
    broadcast_id = _sent_id(output)
    session.expire_all()
    sent = session.get(Broadcast, broadcast_id)
    assert (sent.status, sent.kind, sent.topic) == (
        BroadcastStatus.SCHEDULED,
        BroadcastKind.MANUAL,
        Topic.REDDITION,
    )
    assert sent.channels == ["sms"] and sent.text_by_language == {"fr": TEXT_FR}
    assert before <= sent.scheduled_at <= utcnow()
    [audit] = session.scalars(select(AuditLog))
    assert (audit.actor, audit.action, audit.entity, audit.entity_id) == (
        "cli",
        "send",
        "broadcast",
        str(broadcast_id),
    )
    assert audit.commune_id == sent.commune_id and audit.staff_user_id is None
    assert audit.after == {
        "topic": "reddition",
        "channels": ["sms"],
        "scheduled_at": sent.scheduled_at.isoformat(),
        "urgent": False,
    }
    run_jobs()
    session.expire_all()
    assert session.get(Broadcast, broadcast_id).status is BroadcastStatus.DONE
    assert sorted(delivered_numbers(fake_at)) == sorted([first.phone_e164, second.phone_e164])
    assert {row.status for row in messages(session, sent)} == {MessageStatus.SENT}


def test_broadcast_send_at_a_local_time_waits_for_it(session, fake_at, subscriber, runner):
    subscriber()
    output = _ok(_send(runner, "--at", "2030-12-01 08:00", "--urgent", "--yes"))
    assert "scheduled for dimanche 1er décembre 2030 à 08h00" in output
    sent = session.get(Broadcast, _sent_id(output))
    assert sent.scheduled_at == datetime(2030, 12, 1, 7, 0, tzinfo=UTC)  # Porto-Novo is UTC+1
    assert sent.urgent
    registry = get_queue("default").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == sent.scheduled_at
    assert get_queue("default").job_ids == []


def test_broadcast_send_dry_run_tells_quiet_hours_hold_it(app, session, loaded, fake_at, runner):
    app.config["QUIET_HOURS"] = "21:00-07:00"
    output = _ok(_send(runner, "--at", "2030-12-01 23:00", "--dry-run"))
    assert "quiet hours: held until lundi 2 décembre 2030 à 07h00" in output
    urgent = _ok(_send(runner, "--at", "2030-12-01 23:00", "--urgent", "--dry-run"))
    assert "quiet hours" not in urgent
    assert _count(session, Broadcast) == 0


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        (["--commune", "nowhere"], 1, "commune: unknown commune 'nowhere'"),
        (["--topic", "weather"], 1, "topic: one of sessions, reddition, budget, urgences, all"),
        (["--channel", "fax"], 1, "channels: 'fax' is not one of sms, whatsapp"),
        (["--channel", "ussd"], 1, "channels: 'ussd' is not one of sms, whatsapp"),
        (["--text-fr", "   "], 1, "text: a text in at least one language is needed"),
        (["--text-fr", "x" * 1001], 1, "text.fr: at most 1000 characters"),
        (["--at", "demain 8h"], 2, "Invalid value for --at: 'demain 8h' is not a date and time"),
        (["--var", "sans-egal"], 2, "Invalid value for --var: 'sans-egal' is not KEY=VALUE"),
        (["--var", "=vide"], 2, "Invalid value for --var: '=vide' is not KEY=VALUE"),
    ],
)
def test_broadcast_send_refuses_bad_input_clearly(
    session, fake_at, subscriber, runner, options, code, says
) -> None:
    subscriber()
    result = _send(runner, *options, "--yes")
    _refused(result, code, says)
    assert _count(session, Broadcast) == 0 and _count(session, AuditLog) == 0
    assert get_queue("default").job_ids == []


def test_broadcast_send_without_any_text_is_refused(session, loaded, fake_at, runner) -> None:
    _refused(_send(runner, "--yes", text_fr=""), 1, "text: a text in at least one language")
    assert _count(session, Broadcast) == 0


# --- broadcast status, list, pause, resume, cancel ---------------------------------------


def test_broadcast_status_and_list_show_the_counters(
    session, fake_at, subscriber, runner, run_jobs
) -> None:
    subscriber()
    subscriber()
    broadcast_id = _sent_id(_ok(_send(runner, "--channel", "sms", "--yes")))
    run_jobs()
    session.expire_all()
    status = json.loads(_ok(runner.invoke(args=["broadcast", "status", str(broadcast_id)])))
    assert {key: status[key] for key in ("id", "kind", "status")} == {
        "id": broadcast_id,
        "kind": "manual",
        "status": "done",
    }
    assert [status[name] for name in ("queued", "sent", "delivered", "failed", "skipped")] == [
        0,
        2,
        0,
        0,
        0,
    ]
    for moment in ("scheduled_at", "started_at", "finished_at"):
        assert datetime.fromisoformat(status[moment]).tzinfo is not None
    listed = _ok(runner.invoke(args=["broadcast", "list"])).splitlines()
    [line] = [line for line in listed if line.startswith(f"{broadcast_id}\t")]
    assert line.startswith(f"{broadcast_id}\tcotonou\tmanual\treddition\tdone\t")
    assert line.endswith("\tqueued 0 sent 2 delivered 0 failed 0 skipped 0")
    elsewhere = _ok(runner.invoke(args=["broadcast", "list", "--commune", "abomey-calavi"]))
    assert elsewhere == ""
    _refused(runner.invoke(args=["broadcast", "status", "999"]), 1, "no broadcast 999")


def test_broadcast_pause_and_resume_from_the_cli(
    session, fake_at, subscriber, broadcast, runner, run_jobs
) -> None:
    subscriber()
    subscriber()
    paused = broadcast()
    assert sending.start(session, paused.id) == "2 message(s) in 1 batch(es)"
    output = _ok(runner.invoke(args=["broadcast", "pause", str(paused.id)]))
    assert output == f"broadcast {paused.id}: paused\n"
    run_jobs()  # its batch finds it paused
    session.expire_all()
    assert delivered_numbers(fake_at) == []
    assert session.get(Broadcast, paused.id).count_queued == 2
    output = _ok(runner.invoke(args=["broadcast", "resume", str(paused.id)]))
    assert output == f"broadcast {paused.id}: sending\n"
    run_jobs()
    session.expire_all()
    assert len(delivered_numbers(fake_at)) == 2
    assert session.get(Broadcast, paused.id).status is BroadcastStatus.DONE
    again = runner.invoke(args=["broadcast", "resume", str(paused.id)])
    _refused(again, 1, f"broadcast {paused.id} is done")
    assert session.get(Broadcast, paused.id).status is BroadcastStatus.DONE
    assert _audit(session) == [
        ("cli", "pause", "broadcast", str(paused.id)),
        ("cli", "resume", "broadcast", str(paused.id)),
    ]
    assert [row.after for row in session.scalars(select(AuditLog).order_by(AuditLog.id))] == [
        {"status": "paused"},
        {"status": "sending"},
    ]
    _refused(runner.invoke(args=["broadcast", "pause", "999"]), 1, "no broadcast 999")


def test_broadcast_paused_before_its_start_resumes_as_scheduled(
    session, fake_at, subscriber, runner
) -> None:
    subscriber()
    broadcast_id = _sent_id(_ok(_send(runner, "--at", "2030-12-01 08:00", "--yes")))
    _ok(runner.invoke(args=["broadcast", "pause", str(broadcast_id)]))
    output = _ok(runner.invoke(args=["broadcast", "resume", str(broadcast_id)]))
    assert output == f"broadcast {broadcast_id}: scheduled\n"
    registry = get_queue("default").scheduled_job_registry
    # Its first job and the one resuming queued, both at its time: a second start inserts nothing.
    assert len(registry.get_job_ids()) == 2


def test_broadcast_cancel_from_the_cli_skips_what_is_left(
    session, fake_at, subscriber, broadcast, runner, run_jobs
) -> None:
    subscriber()
    subscriber()
    cancelled = broadcast()
    assert sending.start(session, cancelled.id).startswith("2 message(s)")
    output = _ok(runner.invoke(args=["broadcast", "cancel", str(cancelled.id)]))
    assert output == f"broadcast {cancelled.id}: cancelled (2 message(s) skipped)\n"
    run_jobs()
    session.expire_all()
    assert delivered_numbers(fake_at) == []
    done = session.get(Broadcast, cancelled.id)
    assert (done.status, done.count_queued, done.count_skipped) == (
        BroadcastStatus.CANCELLED,
        0,
        2,
    )
    assert {row.status for row in messages(session, done)} == {MessageStatus.SKIPPED}
    _refused(
        runner.invoke(args=["broadcast", "cancel", str(cancelled.id)]),
        1,
        f"broadcast {cancelled.id} is cancelled",
    )
    assert _audit(session) == [("cli", "cancel", "broadcast", str(cancelled.id))]


def test_broadcast_sweep_prints_the_figures(session, fake_at, broadcast, runner) -> None:
    output = _ok(runner.invoke(args=["broadcast", "sweep"]))
    assert output == "restarted 0, adopted 0, resent 0, failed 0, requeued 0, finished 0\n"
    overdue = broadcast(scheduled_at=utcnow() - timedelta(hours=1))
    assert len(get_queue("default").job_ids) == 1
    output = _ok(runner.invoke(args=["broadcast", "sweep"]))
    assert output == "restarted 1, adopted 0, resent 0, failed 0, requeued 0, finished 0\n"
    assert len(get_queue("default").job_ids) == 2
    assert session.get(Broadcast, overdue.id).status is BroadcastStatus.SCHEDULED


# --- event -------------------------------------------------------------------------------


def test_broadcast_event_list_shows_the_communes_events(session, loaded, fake_at, runner):
    created = _event(session)
    lines = _ok(runner.invoke(args=["event", "list", "--commune", "cotonou"])).splitlines()
    assert (
        f"{created.id}\treddition_de_comptes\tmardi 12 mars 2030 à 10h00\tscheduled\t"
        "not published\tReddition de comptes 2029"
    ) in lines
    cotonou = commune_id(session, "cotonou")
    assert len(lines) == session.scalar(
        select(func.count()).select_from(Event).where(Event.commune_id == cotonou)
    )
    starts = [line.split("\t")[0] for line in lines]
    ordered = session.scalars(
        select(Event.id).where(Event.commune_id == cotonou).order_by(Event.starts_at)
    ).all()
    assert starts == [str(event_id) for event_id in ordered]
    assert created.id not in [
        int(line.split("\t")[0])
        for line in _ok(
            runner.invoke(args=["event", "list", "--commune", "abomey-calavi"])
        ).splitlines()
    ]


def test_broadcast_event_publish_move_and_cancel_from_the_cli(
    session, loaded, fake_at, subscriber, runner, run_jobs
) -> None:
    alerted = subscriber()
    created = _event(session)
    output = _ok(runner.invoke(args=["event", "publish", str(created.id)]))
    lines = output.splitlines()
    assert lines[0] == f"event {created.id}: scheduled"
    assert re.fullmatch(r"  alert \d+: announcement at .+", lines[1])
    assert re.fullmatch(r"  alert \d+: reminder at lundi 11 mars 2030 à 10h00", lines[2])
    assert re.fullmatch(r"  alert \d+: start at mardi 12 mars 2030 à 10h00", lines[3])
    assert len(lines) == 4
    listed = _ok(runner.invoke(args=["event", "list", "--commune", "cotonou"]))
    assert (
        f"{created.id}\treddition_de_comptes\tmardi 12 mars 2030 à 10h00\tscheduled\tpublished"
        in listed
    )
    again = _ok(runner.invoke(args=["event", "publish", str(created.id)]))
    assert again == f"event {created.id}: scheduled\n"
    run_jobs()  # the announcement goes
    session.expire_all()
    assert delivered_numbers(fake_at) == [alerted.phone_e164]

    output = _ok(runner.invoke(args=["event", "move", str(created.id), "--to", "2030-03-14 10:30"]))
    lines = output.splitlines()
    assert lines[0] == f"event {created.id}: scheduled"
    assert re.fullmatch(r"  alert \d+: change at .+", lines[1])
    assert re.fullmatch(r"  alert \d+: reminder at mercredi 13 mars 2030 à 10h30", lines[2])
    assert re.fullmatch(r"  alert \d+: start at jeudi 14 mars 2030 à 10h30", lines[3])
    session.expire_all()
    assert session.get(Event, created.id).starts_at == datetime(2030, 3, 14, 9, 30, tzinfo=UTC)
    _refused(
        runner.invoke(args=["event", "move", str(created.id), "--to", "bientôt"]),
        2,
        "Invalid value for --to: 'bientôt' is not a date and time",
    )

    output = _ok(runner.invoke(args=["event", "cancel", str(created.id)]))
    lines = output.splitlines()
    assert lines[0] == f"event {created.id}: cancelled"
    assert re.fullmatch(r"  alert \d+: cancellation at .+", lines[1]) and len(lines) == 2
    _refused(
        runner.invoke(args=["event", "cancel", str(created.id)]),
        1,
        f"event {created.id} is cancelled",
    )
    fake_at.requests.clear()
    run_jobs()  # the change notice not yet sent was cancelled: only the cancellation goes
    session.expire_all()
    assert delivered_numbers(fake_at) == [alerted.phone_e164]
    announced, told = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))
    assert "mardi 12 mars 2030" in announced.text
    assert told.text.startswith("Mairie de Cotonou : Reddition de comptes 2029, prévu jeudi 14")
    assert "est annulé." in told.text and told.status is MessageStatus.SENT

    assert _audit(session) == [
        ("cli", action, "event", str(created.id))
        for action in ("publish", "publish", "move", "cancel")
    ]
    audits = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert audits[0].after["status"] == "scheduled" and len(audits[0].after["alerts"]) == 3
    assert audits[1].after["alerts"] == []
    assert audits[2].after["starts_at"] == "2030-03-14T09:30:00+00:00"
    assert audits[3].after["status"] == "cancelled"


def test_broadcast_event_held_sends_the_summary_from_the_cli(
    session, loaded, fake_at, subscriber, runner, run_jobs
) -> None:
    reader = subscriber()
    created = _event(session)
    _ok(runner.invoke(args=["event", "publish", str(created.id)]))
    summary = "Le budget 2030 a été présenté."
    output = _ok(runner.invoke(args=["event", "held", str(created.id), "--summary", summary]))
    lines = output.splitlines()
    assert lines[0] == f"event {created.id}: held"
    assert re.fullmatch(r"  alert \d+: summary at .+", lines[1]) and len(lines) == 2
    session.expire_all()
    held = session.get(Event, created.id)
    assert (held.status, held.summary) == (EventStatus.HELD, summary)
    statuses = {
        alert.kind: alert.status
        for alert in session.scalars(select(Broadcast).where(Broadcast.event_id == held.id))
    }
    assert statuses == {
        BroadcastKind.ANNOUNCEMENT: BroadcastStatus.CANCELLED,
        BroadcastKind.REMINDER: BroadcastStatus.CANCELLED,
        BroadcastKind.START: BroadcastStatus.CANCELLED,
        BroadcastKind.SUMMARY: BroadcastStatus.SCHEDULED,
    }
    run_jobs()
    session.expire_all()
    [row] = session.scalars(select(OutboundMessage))
    assert row.contact_id == reader.id and "Résumé : Le budget 2030 a été présenté." in row.text
    _refused(
        runner.invoke(args=["event", "publish", str(created.id)]),
        1,
        f"event {created.id} is held",
    )
    assert [action for _, action, _, _ in _audit(session)] == ["publish", "held"]


@pytest.mark.parametrize(
    "args",
    [
        ["event", "publish", "999"],
        ["event", "move", "999", "--to", "2030-03-14 10:30"],
        ["event", "cancel", "999"],
        ["event", "held", "999", "--summary", "Rien."],
    ],
)
def test_broadcast_event_commands_refuse_unknown_ids(session, loaded, fake_at, runner, args):
    _refused(runner.invoke(args=args), 1, "no event 999")
    assert _count(session, AuditLog) == 0 and _count(session, Broadcast) == 0


@pytest.mark.parametrize("group", ["broadcast", "event"])
def test_broadcast_and_event_lists_name_an_unknown_commune(loaded, runner, group) -> None:
    _refused(runner.invoke(args=[group, "list", "--commune", "nowhere"]), 1, "no commune 'nowhere'")
