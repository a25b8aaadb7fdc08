"""Money screens: the budget, the compte administratif, the PTA projects, the contracts.

On WhatsApp the budget answer carries its chart, and the compte administratif
and the PTA their document (`Reply.attachments`); SMS and USSD show the text alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from bot.charts import chart_path
from bot.charts.data import budget_chart
from bot.content.cache import CommuneSnapshot, DocumentInfo, snapshot
from bot.flows.base import Attachment, Context, Option, Reply
from bot.flows.info_common import Page, capitalized, join, screen, shortened
from bot.i18n import format_amount, format_date, format_percent
from bot.models.enums import BudgetPhase, DocumentType, ProjectStatus

TOP_SECTORS = 3
MAX_YEAR_OPTIONS = 2
MAX_PROJECTS = 5
MAX_CONTRACTS = 3
TITLE_LIMIT = 70
SUMMARY_LIMIT = 200
# Progress means something only for work under way.
SHOW_PROGRESS = (ProjectStatus.IN_PROGRESS, ProjectStatus.SUSPENDED)


def with_attachments(
    show: Callable[[Context], Reply], attach: Callable[[Page], tuple[Attachment, ...]]
) -> Callable[[Context], Reply]:
    """The screen `show`, its content reply carrying what `attach` finds.

    Kept in the snapshot beside the reply it extends, and built again when
    `show` answers with another reply (the content changed): a USSD hop gets
    the very same Reply object each time, and its rendered pages stay cached.
    """

    @functools.wraps(show)
    def run(ctx: Context) -> Reply:
        reply = show(ctx)
        snap = snapshot(ctx.session, ctx.commune_slug) if ctx.commune_slug else None
        if snap is None or not reply.content:
            return reply
        key = (run, ctx.lang, str(ctx.data.get("year")))
        cached = snap.replies.get(key)
        if cached is None or cached[0] is not reply:
            cached = (reply, replace(reply, attachments=attach(Page(ctx, snap))))
            snap.replies[key] = cached
        return cached[1]

    return run


def budget_year(snap: CommuneSnapshot, requested: int | None) -> int:
    """The year a budget answer shows: the one asked for, else the latest voted."""
    if requested in snap.years:
        return requested
    return max(snap.voted_years or snap.years)


@screen("info.budget.title")
def _budget(page: Page) -> list[Option]:
    snap, lang = page.snap, page.lang
    if not snap.years:
        page.add(page.t("info.budget.none", commune=snap.name))
        return []
    year = budget_year(snap, page.requested_year())
    voted = snap.budget(year, BudgetPhase.VOTED)
    executed = snap.budget(year, BudgetPhase.EXECUTED)
    if voted is None:
        page.add(page.t("info.budget.voted_missing", year=year, of_commune=page.of_commune))
    else:
        page.add(
            page.t(
                "info.budget.voted",
                year=year,
                of_commune=page.of_commune,
                recettes=format_amount(voted.recettes, lang),
                depenses=format_amount(voted.depenses, lang),
            ),
            voted,
        )
        page.add(
            page.t(
                "info.budget.sections",
                fonctionnement=format_amount(voted.depenses_fonctionnement, lang),
                investissement=format_amount(voted.depenses_investissement, lang),
            ),
            voted,
        )
    if executed is None:
        page.add(page.t("info.budget.not_executed"))
    else:
        amounts = {
            "recettes": format_amount(executed.recettes, lang),
            "depenses": format_amount(executed.depenses, lang),
        }
        if voted is not None and voted.depenses > 0:
            rate = format_percent(executed.depenses, voted.depenses, lang)
            page.add(page.t("info.budget.executed_rate", rate=rate, **amounts), executed, voted)
        else:
            page.add(page.t("info.budget.executed", **amounts), executed)
    if voted is not None and voted.depense_sectors:
        sectors = [
            page.t("info.budget.sector", sector=s.sector, amount=format_amount(s.amount_xof, lang))
            for s in voted.depense_sectors[:TOP_SECTORS]
        ]
        page.add(page.t("info.budget.top_sectors", sectors=join(lang, sectors)), voted)
    others = sorted((y for y in snap.voted_years if y != year), reverse=True)
    return [
        Option(f"year:{other}", page.t("info.budget.year_option", year=other))
        for other in others[:MAX_YEAR_OPTIONS]
    ]


def _chart(page: Page) -> tuple[Attachment, ...]:
    snap = page.snap
    if not snap.years:
        return ()
    year = budget_year(snap, page.requested_year())
    chart = budget_chart(snap, year)
    if chart is None:
        return ()
    caption = page.t("whatsapp_media.chart.caption", year=year, of_commune=page.of_commune)
    if chart.sample:
        caption = f"{caption} ({page.t('sample.label')})"
    return (Attachment(chart_path(snap.slug, year, page.lang), caption, "image/png"),)


budget = with_attachments(_budget, _chart)


def _account(snap: CommuneSnapshot, requested: int | None) -> DocumentInfo | None:
    """The compte administratif of the year asked for, else the latest."""
    accounts = [d for d in snap.documents if d.type == DocumentType.COMPTE_ADMINISTRATIF]
    return next(
        (d for d in accounts if d.fiscal_year == requested), accounts[0] if accounts else None
    )


@screen("info.ca.title")
def _compte_administratif(page: Page) -> None:
    snap, lang = page.snap, page.lang
    doc = _account(snap, page.requested_year())
    if doc is None:
        page.add(page.t("info.ca.none", commune=snap.name))
        return
    if doc.fiscal_year is None:
        heading = page.t("info.ca.heading_undated", of_commune=page.of_commune)
    else:
        heading = page.t("info.ca.heading", year=doc.fiscal_year, of_commune=page.of_commune)
    if doc.summary:
        heading = f"{heading} {shortened(doc.summary, SUMMARY_LIMIT)}"
    page.add(heading, doc)
    executed = snap.budget(doc.fiscal_year, BudgetPhase.EXECUTED) if doc.fiscal_year else None
    if executed is not None:
        page.add(
            page.t(
                "info.ca.figures",
                recettes=format_amount(executed.recettes, lang),
                depenses=format_amount(executed.depenses, lang),
            ),
            executed,
        )
    if doc.url:
        page.add(page.t("info.ca.read", url=doc.url), doc)
    else:
        page.add(page.t("info.ca.no_url"), doc)


def sendable(doc: DocumentInfo) -> bool:
    """Whether a provider can fetch the document and show it as a file in the chat.

    A PDF over https, from real content: the links of the sample documents are
    invented, and a file the provider cannot fetch fails the whole message.
    """
    if not doc.url or doc.is_sample:
        return False
    parts = urlsplit(doc.url)
    return parts.scheme == "https" and parts.path.lower().endswith(".pdf")


def _document(doc: DocumentInfo | None, link: bool) -> tuple[Attachment, ...]:
    """The document as a file when it can be one; else as a link when `link`."""
    if doc is None or not doc.url:
        return ()
    if sendable(doc):
        return (Attachment(doc.url, doc.title, "application/pdf"),)
    return (Attachment(doc.url, doc.title),) if link else ()


def _account_file(page: Page) -> tuple[Attachment, ...]:
    # The answer's text already gives the link: only the file is added.
    return _document(_account(page.snap, page.requested_year()), link=False)


compte_administratif = with_attachments(_compte_administratif, _account_file)


def projects_year(snap: CommuneSnapshot, requested: int | None) -> int | None:
    """The year a projects answer shows: the one asked for, else the latest; None: no project."""
    years = {p.fiscal_year for p in snap.projects}
    if not years:
        return None
    return requested if requested in years else max(years)


@screen("info.projects.title")
def _projects(page: Page) -> None:
    snap = page.snap
    year = projects_year(snap, page.requested_year())
    if year is None:
        page.add(page.t("info.projects.none", commune=snap.name))
        return
    chosen = [p for p in snap.projects if p.fiscal_year == year]  # largest budget first
    page.add(page.t("info.projects.heading", year=year, of_commune=page.of_commune), *chosen)
    for project in chosen[:MAX_PROJECTS]:
        status = page.t(f"info.project_status.{project.status.value}")
        if project.status in SHOW_PROGRESS:
            status = page.t("info.projects.progress", status=status, progress=project.progress)
        details = [status] if project.arrondissement is None else [status, project.arrondissement]
        line = page.t(
            "info.projects.line",
            title=shortened(project.title, TITLE_LIMIT),
            details=", ".join(details),
        )
        page.add(line, project)
    rest = len(chosen) - MAX_PROJECTS
    if rest == 1:
        page.add(page.t("info.projects.more_one"))
    elif rest > 1:
        page.add(page.t("info.projects.more", count=rest))


def _work_plan(page: Page) -> tuple[Attachment, ...]:
    # The projects answer does not give the PTA's link: without the file, the link.
    snap = page.snap
    year = projects_year(snap, page.requested_year())
    plan = next(
        (d for d in snap.documents if d.type == DocumentType.PTA and d.fiscal_year == year), None
    )
    return _document(plan, link=True)


projects = with_attachments(_projects, _work_plan)


@screen("info.contracts.title")
def contracts(page: Page) -> None:
    snap, lang = page.snap, page.lang
    if not snap.contracts:
        page.add(page.t("info.contracts.none", commune=snap.name))
        return
    page.add(page.t("info.contracts.heading", of_commune=page.of_commune))
    for contract in snap.contracts[:MAX_CONTRACTS]:
        details = [contract.supplier, format_amount(contract.amount_xof, lang)]
        if contract.date_signed is not None:
            details.append(
                page.t("info.contracts.signed", date=format_date(contract.date_signed, lang))
            )
        details.append(page.t(f"info.contract_status.{contract.status.value}"))
        line = page.t(
            "info.contracts.line",
            title=capitalized(shortened(contract.title, TITLE_LIMIT)),
            details=", ".join(details),
        )
        page.add(line, contract)
