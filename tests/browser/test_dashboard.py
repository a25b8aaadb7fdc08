"""The staff dashboard in Chromium, driven the way a clerk drives it.

Each test logs in as a staff user of its own (a fresh e-mail) and uses phone
numbers, texts and content keys of its own: the server, database and worker are
shared by the session. Every page is watched for Content-Security-Policy
violations, uncaught script errors and dialogs; any of them fails the test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot.contacts import contact_id_for
from bot.db import get_session
from bot.i18n import LOCAL_TIMEZONE, format_datetime
from bot.models import BudgetLine, Commune, Contact, OutboundMessage
from bot.models.enums import Channel, FeedbackCategory, Topic
from bot.participation import feedback
from bot.participation.subscriptions import subscribe
from bot.staff import create_staff, set_role
from tests.browser.conftest import LiveServer, expect

PASSWORD = "correct horse battery"
ACTOR = "browser-tests"
SLOW_MS = 30_000
"""For what waits on the RQ worker: an alert or a broadcast going out."""


@dataclass
class Watch:
    """What a page did that a clerk must never see: CSP violations, script errors, dialogs."""

    problems: list[str] = field(default_factory=list)

    def console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def page_error(self, error: Any) -> None:
        self.problems.append(f"script error: {error}")

    def dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog ({dialog.type}): {dialog.message}")
        dialog.dismiss()


@pytest.fixture(autouse=True)
def watch(page: Any) -> Iterator[Watch]:
    seen = Watch()
    page.on("console", seen.console)
    page.on("pageerror", seen.page_error)
    page.on("dialog", seen.dialog)
    yield seen
    assert not seen.problems, seen.problems


def _clerk(live_server: LiveServer, roles: dict[str, str]) -> str:
    """A new staff user with `roles` ({commune slug: role}); their e-mail."""
    email = f"clerk-{uuid.uuid4().hex[:10]}@mairie.example.org"
    with live_server.app.app_context():
        session = get_session()
        create_staff(session, email=email, name="Afiavi Dossou", password=PASSWORD, actor=ACTOR)
        for slug, role in roles.items():
            set_role(session, email=email, commune_slug=slug, role=role, actor=ACTOR)
        session.commit()
    return email


def _log_in(page: Any, email: str, start: str = "/dashboard/") -> None:
    page.goto(start)
    expect(page.get_by_role("heading", name="Connexion du personnel")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def _subscriber(live_server: LiveServer, phone: str, commune_slug: str, topic: Topic) -> None:
    """A citizen who said OUI to `topic` alerts of the commune by SMS."""
    with live_server.app.app_context():
        session = get_session()
        contact_id = contact_id_for(session, phone, Channel.SMS)
        commune_id = session.scalar(select(Commune.id).where(Commune.slug == commune_slug))
        subscribe(session, contact_id, commune_id, topic, Channel.SMS, "fr")


def _file_feedback(live_server: LiveServer, phone: str, commune_slug: str, text: str) -> str:
    """A ticket filed by SMS from `phone`, as the feedback flow files it; its reference."""
    with live_server.app.app_context():
        session = get_session()
        contact_id = contact_id_for(session, phone, Channel.SMS)
        session.commit()
        draft = feedback.Draft(
            commune_slug=commune_slug,
            contact_id=contact_id,
            channel=Channel.SMS,
            category=FeedbackCategory.ASSAINISSEMENT,
            text=text,
            draft_id=uuid.uuid4().hex,
        )
        ticket, _created = feedback.file(session, draft)
        return ticket.ref


def test_a_clerk_logs_in_and_sees_the_overview_with_its_charts(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    citizen = "+2290197200101"
    _subscriber(live_server, citizen, "cotonou", Topic.BUDGET)
    _file_feedback(live_server, citizen, "cotonou", "Les ordures du marché Dantokpa")
    _file_feedback(live_server, "+2290197200102", "cotonou", "Caniveau bouché à Akpakpa")
    # A citizen's question and its answer, so the messages chart has something to draw.
    page.goto(f"/simulator/?lang=fr&phone={quote(citizen)}")
    page.fill("#sms-text", "BUDGET COTONOU")
    page.click("#sms-send")
    expect(page.locator("#sms-inbox li.incoming")).to_contain_text("Cotonou", timeout=SLOW_MS)
    email = _clerk(live_server, {"cotonou": "editor"})

    _log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Vue d'ensemble")
    section = page.locator("#commune-cotonou")
    expect(section.get_by_role("heading", level=2)).to_have_text("Cotonou")
    # One commune only: the clerk's role opens Cotonou, not the others.
    expect(page.locator("#commune-abomey-calavi")).to_have_count(0)
    for chart in ("messages", "feedback-status", "feedback-age"):
        expect(section.locator(f"svg#chart-cotonou-{chart}")).to_be_visible()
    expect(section.locator("#feedback-status-cotonou td[data-status=received]")).not_to_have_text(
        "0"
    )
    # The last row is today: the citizen's SMS is counted there.
    today = section.locator("#messages-cotonou tbody tr").last
    expect(today.locator("td[data-direction=in]")).not_to_have_text("0")
    expect(section.locator("td[data-topic=budget]")).not_to_have_text("0")
    expect(page.get_by_role("navigation", name="Menu")).to_contain_text("Séances")
    screenshot("dashboard-overview", docs=True)


def _upload(page: Any, path: Path) -> None:
    page.get_by_label("Fichier CSV").set_input_files(path)
    page.get_by_role("button", name="Vérifier le fichier").click()


def test_a_csv_import_shows_its_errors_then_a_good_file_is_previewed_and_confirmed(
    page: Any, live_server: LiveServer, screenshot: Any, tmp_path: Path
) -> None:
    market, roads = "Taxe sur les marchés de nuit", "Pistes rurales de Zinvié"
    header = "fiscal_year,phase,direction,section,sector,amount_xof,sample"
    bad = tmp_path / "budget-avec-erreur.csv"
    bad.write_text(
        f"{header}\n"
        f"2027,voted,recette,fonctionnement,{market},150000000,false\n"
        f"2027,voted,depense,investissement,{roads},douze millions,false\n",
        encoding="utf-8",
    )
    good = tmp_path / "budget-2027.csv"
    good.write_text(
        f"{header}\n"
        f"2027,voted,recette,fonctionnement,{market},150000000,false\n"
        f"2027,voted,depense,investissement,{roads},12000000,false\n",
        encoding="utf-8",
    )
    _log_in(page, _clerk(live_server, {"abomey-calavi": "editor"}))

    page.goto("/dashboard/abomey-calavi/content/budget_lines")
    page.get_by_role("link", name="Importer un fichier CSV").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Importer un fichier CSV")
    _upload(page, bad)
    expect(page.locator("#preview")).to_have_attribute("data-ok", "false")
    error = page.locator("#import-errors tbody tr")
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("data-line", "3")
    expect(error).to_have_attribute("data-column", "amount_xof")
    expect(page.locator("#preview")).to_contain_text("Rien n'a été enregistré")
    expect(page.get_by_role("button", name="Confirmer l'import")).to_have_count(0)
    screenshot("dashboard-import-errors")
    with live_server.app.app_context():
        written = select(func.count()).where(BudgetLine.sector.in_((market, roads)))
        assert get_session().scalar(written) == 0

    _upload(page, good)
    expect(page.locator("#preview")).to_have_attribute("data-ok", "true")
    expect(page.locator("#import-changes tbody tr[data-action=create]")).to_have_count(2)
    expect(page.locator("#import-counts")).to_contain_text("À ajouter : 2")
    screenshot("dashboard-import-preview", docs=True)
    page.get_by_role("button", name="Confirmer l'import").click()

    expect(page.locator("#done")).to_contain_text("2 ligne(s) ajoutée(s), 0 modifiée(s)")
    rows = page.locator("#content-rows tbody tr")
    expect(rows.filter(has_text=market)).to_have_count(1)
    expect(rows.filter(has_text=roads)).to_contain_text("12 000 000")


def test_an_accountability_session_is_scheduled_then_published_with_its_alerts(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    _subscriber(live_server, "+2290197200301", "akpro-missere", Topic.REDDITION)
    day = datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=10)
    starts = datetime.combine(day, time(10, 0), LOCAL_TIMEZONE)
    title = "Reddition de comptes du budget 2026"
    _log_in(page, _clerk(live_server, {"akpro-missere": "editor"}))

    page.get_by_role("link", name="Séances").click()
    page.get_by_role("link", name="Programmer une séance").click()
    page.get_by_label("Type").select_option(label="Reddition de comptes")
    page.get_by_label("Intitulé").fill(title)
    page.get_by_label("Début (heure de Porto-Novo)").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Lieu").fill("Salle de conférence de la mairie")
    page.get_by_label("Ordre du jour (un point par ligne)").fill(
        "Exécution du budget 2026\nQuestions des citoyens"
    )
    page.get_by_label("Les citoyens peuvent envoyer leurs questions").check()
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#done")).to_contain_text("brouillon")
    expect(page.locator("#alerts-note")).to_be_visible()
    planned = page.locator("#alerts tr.alert")
    expect(planned).to_have_count(3)
    reminder = page.locator("#alerts tr.alert[data-kind=reminder]")
    reminder_at = format_datetime(starts - timedelta(days=1), "fr")
    expect(reminder.locator("td.when")).to_contain_text(reminder_at)
    expect(page.locator("#alerts tr.alert[data-kind=start] td.when")).to_contain_text(
        format_datetime(starts, "fr")
    )
    expect(reminder.locator("td[data-channel=sms]")).to_have_text("1")
    announcement = page.locator("#alerts tr.alert[data-kind=announcement] td.when")
    expect(announcement).to_have_text("Dès la publication")
    # The details read as two compact columns, labels beside their values.
    expect(page.locator("dl#event")).to_have_css("display", "grid")

    page.get_by_role("link", name="Publier").click()
    expect(page.locator("#consequences")).to_contain_text("Ces alertes seront envoyées")
    expect(page.locator("#planned-alerts tr.alert")).to_have_count(3)
    confirm = page.get_by_role("button", name="Confirmer la publication")
    expect(confirm).to_have_css("background-color", "rgb(11, 93, 59)")  # the header's green
    expect(confirm).to_have_css("color", "rgb(255, 255, 255)")
    screenshot("dashboard-event-alerts", docs=True)
    page.get_by_role("button", name="Confirmer la publication").click()

    expect(page.locator("#done")).to_contain_text("Séance publiée")
    expect(page.locator("#event")).to_have_attribute("data-status", "scheduled")
    expect(page.locator("#alerts-note")).to_have_count(0)
    stored = page.locator("#alerts tr.alert[data-broadcast]")
    expect(stored).to_have_count(3)
    screenshot("dashboard-event-published")
    expect(page.locator("#alerts tr.alert[data-kind=reminder]")).to_have_attribute(
        "data-status", "scheduled"
    )
    # The announcement goes at once: its page follows it to the end.
    page.locator("#alerts tr.alert[data-kind=announcement] a").click()
    expect(page.locator("#broadcast")).to_have_attribute("data-status", "done", timeout=SLOW_MS)
    expect(page.locator("td[data-counter=delivered]")).to_have_text("1")
    page.get_by_role("link", name="Voir la séance de cette alerte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_a_broadcast_is_previewed_live_then_sent_and_followed_to_the_end(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    phones = ("+2290197200401", "+2290197200402")
    for phone in phones:
        _subscriber(live_server, phone, "abomey-calavi", Topic.URGENCES)
    text = "Coupure d'eau demain au cœur de Godomey, de 8h à 14h 🚰. Merci de votre patience."
    _log_in(page, _clerk(live_server, {"abomey-calavi": "editor"}))

    page.get_by_role("link", name="Diffusions").click()
    page.get_by_role("link", name="Nouvelle diffusion").click()
    compose_url = page.url
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_label("Thème").select_option(label="Urgences")
    page.get_by_label("WhatsApp", exact=True).uncheck()
    page.get_by_label("Texte en français (obligatoire)").press_sequentially(text)

    # Only compose.js can turn the preview "ready" without the page being sent.
    preview = page.locator("#preview")
    expect(preview).to_have_attribute("data-state", "ready")
    line = page.locator("#preview-sms-fr")
    expect(line.locator("p.preview-source")).to_have_text(text)
    marks = line.locator("p.preview-source mark")
    expect(marks).to_have_text(["œ", "🚰"])
    expect(line.locator("pre.preview-text")).to_contain_text("coeur de Godomey")
    expect(line.locator("pre.preview-text")).not_to_contain_text("🚰")
    segments = line.get_attribute("data-segments")
    assert segments is not None and int(segments) >= 1
    expect(line.locator("ul.preview-facts")).to_contain_text(
        f"Segments SMS par message : {segments}"
    )
    expect(line.locator("ul.preview-warnings")).to_contain_text("Caractères surlignés")
    expect(page.locator("#preview-whatsapp-fr")).to_have_count(0)
    recipients = int(line.get_attribute("data-recipients") or 0)
    assert recipients >= len(phones)
    assert page.url == compose_url and navigations == []
    screenshot("dashboard-broadcast-compose", docs=True)

    page.get_by_label("Urgent").check()
    page.get_by_role("button", name="Envoyer ou programmer").click()
    expect(page.locator("#done")).to_contain_text("Diffusion enregistrée")
    # The page reloads itself (a Refresh header) while the broadcast goes out.
    expect(page.locator("#broadcast")).to_have_attribute("data-status", "done", timeout=SLOW_MS)
    expect(page.locator("td[data-counter=delivered]")).to_have_text(str(recipients))
    expect(page.locator("td[data-counter=queued]")).to_have_text("0")
    expect(page.locator("#delivery-rate")).to_contain_text("100")
    expect(page.locator("pre.broadcast-text[data-language=fr]")).to_have_text(text)
    screenshot("dashboard-broadcast-done", docs=True)
    # Each subscriber got the SMS text: transliterated, the emoji dropped.
    found = re.search(r"/broadcasts/(\d+)", page.url)
    assert found is not None
    with live_server.app.app_context():
        received = dict(
            get_session()
            .execute(
                select(Contact.phone_e164, OutboundMessage.text)
                .join(Contact, Contact.id == OutboundMessage.contact_id)
                .where(OutboundMessage.broadcast_id == int(found.group(1)))
            )
            .all()
        )
    for phone in phones:
        assert received[phone].startswith("Coupure d'eau demain au coeur de Godomey, de 8h à 14h.")


def test_a_status_change_with_a_public_note_reaches_the_citizen_by_sms(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    phone = "+2290197200501"
    text = "Les ordures ne sont plus ramassées rue 214 depuis 2 semaines"
    ref = _file_feedback(live_server, phone, "cotonou", text)
    note = "Camion de ramassage prévu jeudi matin, merci de votre patience."
    _log_in(page, _clerk(live_server, {"cotonou": "agent"}))

    page.get_by_role("link", name="Avis citoyens").click()
    page.get_by_role("link", name=ref).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ref)
    expect(page.locator("#citizen")).to_have_text("+229 01 97 ** ** 01")
    page.get_by_label("Nouveau statut").select_option(label="En cours")
    page.get_by_label("Note publique").fill(note)
    page.get_by_role("button", name="Changer le statut").click()

    expect(page.locator("#done")).to_contain_text("Statut changé")
    expect(page.locator("#ticket td[data-status]")).to_have_attribute("data-status", "in_progress")
    expect(page.locator("#history tbody tr").last).to_contain_text(note)
    screenshot("dashboard-feedback", docs=True)

    page.goto(f"/simulator/?lang=fr&phone={quote(phone)}")
    sms = page.locator("#sms-inbox li.incoming").filter(has_text=ref)
    expect(sms).to_contain_text(note, timeout=SLOW_MS)


def test_markup_in_a_citizen_feedback_shows_as_text_and_runs_nothing(
    page: Any, live_server: LiveServer, screenshot: Any, watch: Watch
) -> None:
    markup = "<img src=x onerror=alert(1)>"
    text = f"Lampadaire cassé {markup} carrefour"
    ref = _file_feedback(live_server, "+2290197200601", "cotonou", text)
    _log_in(page, _clerk(live_server, {"cotonou": "viewer"}))

    page.goto("/dashboard/cotonou/feedback")
    row = page.locator(f"#tickets tr[data-ref={ref}]")
    expect(row).to_contain_text(markup)
    expect(page.locator("#tickets img")).to_have_count(0)
    row.get_by_role("link", name=ref).click()
    expect(page.locator("#citizen-text")).to_have_text(text)
    expect(page.locator("main img")).to_have_count(0)
    screenshot("dashboard-feedback-markup")
    # A viewer reads the ticket but is offered no way to change it.
    expect(page.locator("#status-form")).to_have_count(0)
    assert watch.problems == []
