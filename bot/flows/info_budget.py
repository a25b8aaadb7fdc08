"""Money screens: the budget, the compte administratif, the PTA projects, the contracts."""

from __future__ import annotations

from bot.flows.base import Option
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


@screen("info.budget.title")
def budget(page: Page) -> list[Option]:
    snap, lang = page.snap, page.lang
    if not snap.years:
        page.add(page.t("info.budget.none", commune=snap.name))
        return []
    year = page.requested_year()
    if year not in snap.years:
        year = max(snap.voted_years or snap.years)
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


@screen("info.ca.title")
def compte_administratif(page: Page) -> None:
    snap, lang = page.snap, page.lang
    accounts = [d for d in snap.documents if d.type == DocumentType.COMPTE_ADMINISTRATIF]
    if not accounts:
        page.add(page.t("info.ca.none", commune=snap.name))
        return
    year = page.requested_year()
    doc = next((d for d in accounts if d.fiscal_year == year), accounts[0])
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


@screen("info.projects.title")
def projects(page: Page) -> None:
    snap = page.snap
    if not snap.projects:
        page.add(page.t("info.projects.none", commune=snap.name))
        return
    years = {p.fiscal_year for p in snap.projects}
    year = page.requested_year()
    if year not in years:
        year = max(years)
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
