"""What the money screens attach for WhatsApp, and what SMS and USSD make of it (nothing)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot import models
from bot.channels import render
from bot.charts import chart_path
from bot.content import cache
from bot.flows import info
from bot.flows.base import Attachment, Context
from bot.i18n import t
from bot.models.enums import Channel


def _ctx(session: Session, lang: str = "fr", slug: str = "cotonou", **data: object) -> Context:
    return Context(session, 1, Channel.WHATSAPP, lang, slug, data=dict(data))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_budget_carries_its_chart(session, communes, lang: str) -> None:
    reply = info.budget(_ctx(session, lang))
    [chart] = reply.attachments
    assert chart.url == chart_path("cotonou", 2025, lang)
    assert chart.content_type == "image/png"
    assert "2025" in chart.caption and "Cotonou" in chart.caption
    assert chart.caption.endswith(f"({t('sample.label', lang)})")
    # Built once per snapshot: a USSD hop gets the very same reply, its pages cached.
    assert info.budget(_ctx(session, lang)) is reply
    [other_year] = info.budget(_ctx(session, lang, year=2024)).attachments
    assert other_year.url == chart_path("cotonou", 2024, lang)


def test_sms_and_ussd_show_the_same_text_with_or_without_it(session, communes) -> None:
    reply = info.budget(_ctx(session))
    bare = replace(reply, attachments=())
    assert render.sms(reply, "fr") == render.sms(bare, "fr")
    assert render.ussd(reply, reply.options, 0, "fr", False) == render.ussd(
        bare, bare.options, 0, "fr", False
    )
    assert render.whatsapp(reply, "fr") == render.whatsapp(bare, "fr")


def test_no_budget_no_chart(session, communes) -> None:
    session.execute(delete(models.BudgetLine))
    session.commit()
    cache.clear()
    reply = info.budget(_ctx(session))
    assert reply.attachments == ()
    assert reply.text == t("info.budget.none", "fr", commune="Cotonou")


def test_sample_documents_are_links_never_files(session, communes) -> None:
    assert info.compte_administratif(_ctx(session)).attachments == ()
    [plan] = info.projects(_ctx(session)).attachments
    assert plan == Attachment(
        "https://example.org/communes-plus/sample/cotonou/pta-2025.pdf",
        "Plan de travail annuel 2025 (exemple)",
    )


@pytest.mark.parametrize(
    ("url", "sample", "sent_as_file"),
    [
        ("https://mairie.bj/pta-2025.pdf", False, True),
        ("https://mairie.bj/PTA-2025.PDF?v=2", False, True),
        ("https://mairie.bj/pta-2025.pdf", True, False),
        ("http://mairie.bj/pta-2025.pdf", False, False),
        ("https://mairie.bj/pta-2025.html", False, False),
    ],
)
def test_a_pta_goes_as_a_file_only_when_a_provider_can_fetch_it(
    session, communes, url: str, sample: bool, sent_as_file: bool
) -> None:
    session.execute(delete(models.Document).where(models.Document.type == "pta"))
    session.add(
        models.Document(
            commune_id=communes["cotonou"].id,
            type="pta",
            fiscal_year=2025,
            title="PTA 2025",
            url=url,
            is_sample=sample,
        )
    )
    session.commit()
    cache.clear()
    [plan] = info.projects(_ctx(session)).attachments
    assert plan.url == url
    assert plan.content_type == ("application/pdf" if sent_as_file else None)
