"""Screens on what the commune holds and who it is: the mayor's agenda, council and
accountability sessions, good practices, and the commune's facts."""

from __future__ import annotations

from bot.content.cache import COUNCIL_SESSIONS, EventInfo
from bot.flows.info_common import (
    Page,
    capitalized,
    join,
    lowered,
    number,
    screen,
    sentence,
    shortened,
)
from bot.i18n import format_date, format_datetime
from bot.models.enums import DocumentType, EventStatus, EventType

MAX_AGENDA = 3
MAX_AGENDA_ITEMS = 4  # lines of a session's agenda
MAX_DECISIONS = 3
MAX_PRACTICES = 3
TITLE_LIMIT = 80
SUMMARY_LIMIT = 110
EVENT_SUMMARY_LIMIT = 200
ARRONDISSEMENT_NAMES_LIMIT = 150
ARRONDISSEMENT_WORD = " arrondissement"


@screen("info.agenda.title")
def agenda(page: Page) -> None:
    upcoming = [item for item in page.snap.agenda if item.upcoming][:MAX_AGENDA]
    if not upcoming:
        page.add(page.t("info.agenda.none", of_commune=page.of_commune))
        return
    page.add(page.t("info.agenda.heading", of_commune=page.of_commune))
    for item in upcoming:
        when = capitalized(format_datetime(item.starts_at, page.lang))
        title = shortened(item.title, TITLE_LIMIT)
        if item.place:
            page.add(page.t("info.agenda.line", when=when, place=item.place, title=title), item)
        else:
            page.add(page.t("info.agenda.line_no_place", when=when, title=title), item)


def _session_details(page: Page, event: EventInfo, with_agenda: bool = True) -> None:
    """Where the session is, its agenda and how to follow it."""
    if event.place:
        page.add(page.t("info.event.place", place=sentence(event.place)), event)
    if with_agenda and event.agenda:
        items = [sentence(item) for item in event.agenda[:MAX_AGENDA_ITEMS]]
        page.add(page.t("info.event.agenda", items=join(page.lang, items)), event)
    if event.follow_live:
        page.add(page.t("info.event.follow", how=lowered(sentence(event.follow_live))), event)


def _when(page: Page, event: EventInfo) -> str:
    when = format_datetime(event.starts_at, page.lang)
    if event.status == EventStatus.POSTPONED:
        return page.t("info.event.postponed", when=when)
    return when


@screen("info.council.title")
def council(page: Page) -> None:
    snap = page.snap
    upcoming = snap.next_event(*COUNCIL_SESSIONS)
    if upcoming is None:
        page.add(page.t("info.council.none", of_commune=page.of_commune))
    else:
        kind = page.t(f"info.council.kind.{upcoming.type.value}")
        line = page.t(
            "info.council.next", kind=kind, of_commune=page.of_commune, when=_when(page, upcoming)
        )
        page.add(line, upcoming)
        _session_details(page, upcoming)
    last = snap.last_event(*COUNCIL_SESSIONS)
    if last is None:
        return
    held_on = format_date(last.starts_at, page.lang)
    if last.decisions:
        titles = [sentence(d.title) for d in last.decisions[:MAX_DECISIONS]]
        rest = len(last.decisions) - MAX_DECISIONS
        if rest > 0:
            titles.append(page.t("info.council.more_decisions", count=rest))
        line = page.t("info.council.decisions", date=held_on, decisions=join(page.lang, titles))
        page.add(line, last, *last.decisions)
    elif last.summary:
        summary = shortened(last.summary, EVENT_SUMMARY_LIMIT)
        page.add(page.t("info.council.last_summary", date=held_on, summary=summary), last)


@screen("info.reddition.title")
def reddition(page: Page) -> None:
    snap = page.snap
    upcoming = snap.next_event(EventType.REDDITION_DE_COMPTES)
    if upcoming is None:
        page.add(page.t("info.reddition.none", of_commune=page.of_commune))
    else:
        line = page.t("info.reddition.next", of_commune=page.of_commune, when=_when(page, upcoming))
        page.add(line, upcoming)
        # No agenda here: the reply would outgrow two SMS, and the point is to attend.
        _session_details(page, upcoming, with_agenda=False)
        key = (
            "info.reddition.questions_yes"
            if upcoming.accepts_questions
            else "info.reddition.questions_no"
        )
        page.add(page.t(key), upcoming)
    last = snap.last_event(EventType.REDDITION_DE_COMPTES)
    if last is not None and last.summary:
        held_on = format_date(last.starts_at, page.lang)
        summary = shortened(last.summary, EVENT_SUMMARY_LIMIT)
        page.add(page.t("info.reddition.last", date=held_on, summary=summary), last)
    report = snap.latest_document(DocumentType.RAPPORT_REDDITION)
    if report is not None and report.url:
        page.add(page.t("info.reddition.report", url=report.url), report)


@screen("info.practices.title")
def good_practices(page: Page) -> None:
    practices = page.snap.good_practices[:MAX_PRACTICES]
    if not practices:
        page.add(page.t("info.practices.none", commune=page.snap.name))
        return
    page.add(page.t("info.practices.heading", of_commune=page.of_commune))
    for practice in practices:
        line = page.t(
            "info.practices.line",
            title=sentence(shortened(practice.title, TITLE_LIMIT)),
            summary=shortened(practice.summary, SUMMARY_LIMIT),
        )
        page.add(line, practice)


@screen("info.about.title")
def about(page: Page) -> None:
    """The commune's facts: real data, never sample (the label shows only if it were)."""
    snap, lang = page.snap, page.lang
    page.add(page.t("info.about.commune", commune=snap.name, department=snap.department))
    if snap.population:
        if snap.population_year:
            line = page.t(
                "info.about.population",
                population=number(snap.population, lang),
                year=snap.population_year,
            )
        else:
            line = page.t("info.about.population_undated", population=number(snap.population, lang))
        page.add(line)
    names = list(snap.arrondissements)
    if not names:
        return
    key = "info.about.arrondissement_one" if len(names) == 1 else "info.about.arrondissements"
    page.add(page.t(key, count=len(names), names=_abbreviated(page, names)))


def _abbreviated(page: Page, names: list[str]) -> str:
    """ "1er, 2e, ..., 13e" for "1er arrondissement", ...; long lists end with "and N more"."""
    if len(names) > 1 and all(name.endswith(ARRONDISSEMENT_WORD) for name in names):
        names = [name.removesuffix(ARRONDISSEMENT_WORD) for name in names]
    shown: list[str] = []
    for position, name in enumerate(names):
        rest = len(names) - position
        if shown and len(", ".join([*shown, name])) > ARRONDISSEMENT_NAMES_LIMIT and rest > 1:
            return ", ".join(shown) + " " + page.t("info.about.more", count=rest)
        shown.append(name)
    return ", ".join(shown)
