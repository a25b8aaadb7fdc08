"""Poll pages: creating, results with bars, closing, the CSV export, and privacy."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.i18n import to_local
from bot.models import Area, AuditLog, Contact, OutboundMessage, Poll, PollOption
from bot.models.enums import AreaKind, Channel, PollStatus
from bot.models.types import utcnow
from bot.participation import polls
from bot.redis import get_queue
from tests.dashboard.conftest import csrf_from, login

EDITOR = "editor@mairie-cotonou.example"
XSS = "<script>alert(1)</script>"
OPTIONS = ["Éclairage public", "Routes pavées", '=HYPERLINK("http://x")']


def _local(delta: timedelta) -> str:
    return to_local(utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


def _form(**changes) -> dict[str, str]:
    values = {
        "question": "Quelle priorité pour votre quartier ?",
        "options": "Éclairage\r\nRoutes\r\nCaniveaux\r\n",
        "opens_at": "",
        "closes_at": _local(timedelta(days=7)),
    }
    return {**values, **changes}


def _poll(session, *, political: bool = False, question: str = "Quelle priorité ?") -> Poll:
    poll = polls.create_poll(
        session, "cotonou", question, OPTIONS, utcnow() + timedelta(days=7), political=political
    )
    session.commit()
    return poll


def _vote(session, poll: Poll, phone: str, position: int, area: Area | None = None) -> int:
    contact = Contact(phone_e164=phone, area_id=area.id if area else None)
    session.add(contact)
    session.commit()
    option = session.scalar(
        select(PollOption.id).where(PollOption.poll_id == poll.id, PollOption.position == position)
    )
    polls.respond(session, poll.id, contact.id, option, Channel.SMS)
    return contact.id


def _arrondissement(session, commune, name: str) -> Area:
    return session.scalar(
        select(Area).where(
            Area.commune_id == commune.id, Area.name == name, Area.kind == AreaKind.ARRONDISSEMENT
        )
    )


@pytest.fixture
def editor(client, make_staff):
    user = make_staff(EDITOR, roles={"cotonou": "editor"})
    login(client, EDITOR)
    return user


def _create(client, data: dict):
    token = csrf_from(client.get("/dashboard/cotonou/polls/new").get_data(as_text=True))
    return client.post("/dashboard/cotonou/polls", data={"csrf_token": token, **data})


def _close(client, poll: Poll):
    page = f"/dashboard/cotonou/polls/{poll.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(f"{page}/close", data={"csrf_token": token})


# --- creating ----------------------------------------------------------------------------


def test_creating_a_poll_opens_it_and_schedules_its_close(client, session, editor) -> None:
    closes = _local(timedelta(days=3))
    response = _create(client, _form(closes_at=closes, political="1"))
    assert response.status_code == 303
    [poll] = session.scalars(select(Poll)).all()
    assert response.headers["Location"].endswith(f"/polls/{poll.id}?done=created")
    assert poll.status is PollStatus.OPEN and poll.political
    assert [o.label for o in poll.options] == ["Éclairage", "Routes", "Caniveaux"]
    assert to_local(poll.closes_at).strftime("%Y-%m-%dT%H:%M") == closes
    registry = get_queue("default").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = get_queue("default").fetch_job(job_id)
    assert job.func_name == polls.CLOSE_JOB and job.args == (poll.id,)
    [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "poll.create")).all()
    assert entry.staff_user_id == editor.id and entry.after["options"] == [
        "Éclairage",
        "Routes",
        "Caniveaux",
    ]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sondage créé" in html and 'id="political-note"' in html


def test_a_poll_can_open_later(client, session, editor) -> None:
    response = _create(client, _form(opens_at=_local(timedelta(days=1))))
    assert response.status_code == 303
    html = client.get("/dashboard/cotonou/polls").get_data(as_text=True)
    assert 'data-state="scheduled"' in html


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"question": "  "}, "question", "Écrivez la question"),
        ({"question": "x" * 201}, "question", "200 caractères"),
        ({"options": "Oui"}, "options", "(ici : 1)"),
        ({"options": "\n".join(str(n) for n in range(10))}, "options", "(ici : 10)"),
        ({"options": "Oui\nNon\n  oui "}, "options", "identiques"),
        ({"options": "Oui\n" + "n" * 201}, "options", "200 caractères"),
        ({"closes_at": ""}, "closes_at", "Indiquez la date"),
        ({"closes_at": "demain"}, "closes_at", "non valables"),
        ({"closes_at": "0001-01-01T00:00"}, "closes_at", "non valables"),
        ({"closes_at": _local(timedelta(hours=-1))}, "closes_at", "dans le futur"),
        ({"closes_at": _local(timedelta(days=800))}, "closes_at", "366 prochains jours"),
        (
            {"opens_at": _local(timedelta(days=5)), "closes_at": _local(timedelta(days=2))},
            "closes_at",
            "après l'ouverture",
        ),
        ({"opens_at": "2026-13-45T99:99"}, "opens_at", "non valables"),
        ({"question": XSS, "options": ""}, "options", "(ici : 0)"),
    ],
)
def test_a_bad_poll_is_refused_with_the_values_kept(
    client, session, editor, changes, field, says
) -> None:
    response = _create(client, _form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="error-{field}"' in html and says in html.replace("&#39;", "'")
    assert XSS not in html
    if "question" not in changes:
        assert "Quelle priorité pour votre quartier ?" in html
    assert session.scalar(select(func.count()).select_from(Poll)) == 0
    assert get_queue("default").scheduled_job_registry.get_job_ids() == []


# --- results -----------------------------------------------------------------------------


def test_results_by_option_and_arrondissement_with_bars(client, session, communes, editor) -> None:
    poll = _poll(session, question=f"Priorité ? {XSS}")
    first = _arrondissement(session, communes["cotonou"], "1er arrondissement")
    _vote(session, poll, "+2290197000001", 2, first)
    _vote(session, poll, "+2290197000002", 2, first)
    _vote(session, poll, "+2290197000003", 1, first)
    _vote(session, poll, "+2290197000004", 2)
    html = client.get(f"/dashboard/cotonou/polls/{poll.id}").get_data(as_text=True)
    assert XSS not in html and "Priorité ? &lt;script&gt;" in html
    results = html.split('id="results"', 1)[1].split("</table>", 1)[0]
    assert 'data-count="3"' in results and "75 %" in results
    assert "width:75.0%" in results and "width:25.0%" in results
    by_area = html.split('id="by-area"', 1)[1].split("</table>", 1)[0]
    assert "1er arrondissement" in by_area and "Non précisé" in by_area
    assert "width:66.7%" in by_area and "width:100.0%" in by_area
    assert "<script" not in html.split("<main>", 1)[1]
    assert "+22901970000" not in html and "** **" not in html


def test_the_csv_export_holds_totals_only(client, session, communes, editor) -> None:
    poll = _poll(session)
    first = _arrondissement(session, communes["cotonou"], "1er arrondissement")
    _vote(session, poll, "+2290197000001", 3, first)
    _vote(session, poll, "+2290197000002", 1)
    response = client.get(f"/dashboard/cotonou/polls/{poll.id}/results.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert set(rows[0]) == {"area", "option", "count"}
    assert {
        "area": "1er arrondissement",
        "option": '\'=HYPERLINK("http://x")',
        "count": "1",
    } in rows
    assert {"area": "Non précisé", "option": "Éclairage public", "count": "1"} in rows
    assert {"area": "Total", "option": "Routes pavées", "count": "0"} in rows
    assert "+229" not in text and "**" not in text


def test_a_political_poll_shows_and_exports_nothing_linking_a_choice_to_a_contact(
    client, session, communes, editor
) -> None:
    poll = _poll(session, political=True)
    first = _arrondissement(session, communes["cotonou"], "1er arrondissement")
    contact_id = _vote(session, poll, "+2290197000001", 1, first)
    html = client.get(f"/dashboard/cotonou/polls/{poll.id}").get_data(as_text=True)
    export = client.get(f"/dashboard/cotonou/polls/{poll.id}/results.csv").get_data(as_text=True)
    for page in (html, export):
        assert (
            "+229" not in page
            and "** **" not in page
            and polls.voter_key(poll.id, contact_id) not in page
        )
    assert "aucune réponse n&#39;est rattachée" in html
    listing = client.get("/dashboard/cotonou/polls").get_data(as_text=True)
    assert "sondage politique" in listing


# --- closing -----------------------------------------------------------------------------


def test_closing_now_sends_the_results_to_participants(client, session, editor, run_jobs) -> None:
    poll = _poll(session)
    voter = _vote(session, poll, "+2290197000001", 2)
    response = _close(client, poll)
    assert response.status_code == 303
    assert "done=closed" in response.headers["Location"]
    assert "envoyés à 1 participant(s)" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    run_jobs()
    session.expire_all()
    assert session.get(Poll, poll.id).status is PollStatus.CLOSED
    [message] = session.scalars(select(OutboundMessage)).all()
    assert message.contact_id == voter and "Routes pavées" in message.text
    [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "poll.close")).all()
    assert entry.before["status"] == "open" and entry.after["status"] == "closed"
    assert entry.after["notified"] == 1

    token = csrf_from(client.get("/dashboard/cotonou/polls").get_data(as_text=True))
    again = client.post(f"/dashboard/cotonou/polls/{poll.id}/close", data={"csrf_token": token})
    assert again.status_code == 422 and "déjà clos" in again.get_data(as_text=True)
    run_jobs()
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 1


# --- who may do what ---------------------------------------------------------------------


def test_an_agent_reads_results_but_cannot_create_or_close(client, session, make_staff) -> None:
    make_staff("agent@mairie-cotonou.example", roles={"cotonou": "agent"})
    login(client, "agent@mairie-cotonou.example")
    poll = _poll(session)
    page = client.get(f"/dashboard/cotonou/polls/{poll.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="close-form"' not in html
    assert client.get(f"/dashboard/cotonou/polls/{poll.id}/results.csv").status_code == 200
    assert 'id="new-poll"' not in client.get("/dashboard/cotonou/polls").get_data(as_text=True)
    assert client.get("/dashboard/cotonou/polls/new").status_code == 403
    token = csrf_from(html)
    assert (
        client.post("/dashboard/cotonou/polls", data={"csrf_token": token, **_form()}).status_code
        == 403
    )
    assert (
        client.post(
            f"/dashboard/cotonou/polls/{poll.id}/close", data={"csrf_token": token}
        ).status_code
        == 403
    )
    session.expire_all()
    assert session.get(Poll, poll.id).status is PollStatus.OPEN
    assert session.scalar(select(func.count()).select_from(Poll)) == 1


def test_other_communes_get_403_and_their_polls_404(client, session, make_staff, editor) -> None:
    calavi = polls.create_poll(
        session, "abomey-calavi", "Question ?", ["A", "B"], utcnow() + timedelta(days=2)
    )
    session.commit()
    token = csrf_from(client.get("/dashboard/cotonou/polls").get_data(as_text=True))
    assert client.get("/dashboard/abomey-calavi/polls").status_code == 403
    assert client.get("/dashboard/abomey-calavi/polls/new").status_code == 403
    assert client.get(f"/dashboard/cotonou/polls/{calavi.id}").status_code == 404
    assert client.get(f"/dashboard/cotonou/polls/{calavi.id}/results.csv").status_code == 404
    assert client.get("/dashboard/cotonou/polls/999999").status_code == 404
    closing = client.post(f"/dashboard/cotonou/polls/{calavi.id}/close", data={"csrf_token": token})
    assert closing.status_code == 404
    assert (
        client.post(
            "/dashboard/abomey-calavi/polls", data={"csrf_token": token, **_form()}
        ).status_code
        == 403
    )
    session.expire_all()
    assert session.get(Poll, calavi.id).status is PollStatus.OPEN


def test_anonymous_visitors_are_sent_to_login(client, session, communes) -> None:
    poll = _poll(session)
    for path in (
        "/dashboard/cotonou/polls",
        "/dashboard/cotonou/polls/new",
        f"/dashboard/cotonou/polls/{poll.id}",
        f"/dashboard/cotonou/polls/{poll.id}/results.csv",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_the_form_in_english_explains_the_political_flag(client, editor) -> None:
    html = client.get("/dashboard/cotonou/polls/new?lang=en").get_data(as_text=True)
    assert "no response is linked to the citizen&#39;s number" in html
    assert '<label for="political"' in html and '<label for="closes_at">' in html
