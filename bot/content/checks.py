"""One builder per record type: typed values plus the checks across fields and rows.

Each builder takes a `FieldReader` over one raw record and a `seen` dict shared by
the rows of one file (for duplicate keys). A `FieldReader` method returns None only
after recording an error or for a blank optional value, so a record built while
`fields.ok` holds is fully valid; the caller drops it otherwise.
"""

import re
from collections.abc import Hashable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content.records import (
    AgendaItem,
    BudgetLine,
    Contract,
    Decision,
    Document,
    Event,
    GoodPractice,
    Project,
)
from bot.content.sources import FieldReader, Message, yaml_items, yaml_record
from bot.models.enums import (
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    ContractStatus,
    DocumentType,
    EventStatus,
    EventType,
    ProcurementMethod,
    ProjectStatus,
)

LOCAL_ZONE = ZoneInfo("Africa/Porto-Novo")
"""Times in the files are wall-clock times of Benin (UTC+1, no DST)."""

YEARS = (2000, 2100)
DECISION_FIELDS = ("number", "title", "summary")

_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_OCID = re.compile(r"ocds-[a-z0-9]+-\S+")
_URL = re.compile(r"https?://\S+")
_PROGRESS_BY_STATUS = {ProjectStatus.PLANNED: 0, ProjectStatus.COMPLETED: 100}


def _m(name: str, english: str, /, **params: object) -> Message:
    """A problem of the content rules; its French text is in the dashboard_content catalog."""
    return Message(f"dashboard.content.check.{name}", english, **params)


def once(fields: FieldReader, name: str | None, value: Hashable, seen: dict, what: Message) -> None:
    """Record `value` as used; a second use within the file is an error."""
    line = fields.line(name) if name else fields.record.line
    if value in seen:
        message = Message(
            "dashboard.content.check.duplicate",
            "duplicate {what}, first given on line {first}",
            what=what,
            first=seen[value],
        )
        fields.error(name, message, line)
    else:
        seen[value] = line


def _key(fields: FieldReader, seen: dict) -> str | None:
    key = fields.text("key")
    if key is not None and not _SLUG.fullmatch(key):
        message = _m(
            "bad_slug",
            "must be a slug of lowercase letters, digits and hyphens, got {raw!r}",
            raw=key,
        )
        fields.error("key", message, fields.line("key"))
    elif key is not None:
        once(fields, "key", key, seen, _m("what_key", "key {value!r}", value=key))
    return key


def _times(fields: FieldReader, ends_required: bool) -> tuple[datetime | None, datetime | None]:
    starts_at = fields.local_datetime("starts_at", LOCAL_ZONE)
    ends_at = fields.local_datetime("ends_at", LOCAL_ZONE, required=ends_required)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        message = _m("ends_before_start", "must be after starts_at")
        fields.error("ends_at", message, fields.line("ends_at"))
    return starts_at, ends_at


def budget_line(fields: FieldReader, seen: dict) -> BudgetLine:
    line = BudgetLine(
        fiscal_year=fields.integer("fiscal_year", *YEARS),
        phase=fields.choice("phase", BudgetPhase),
        direction=fields.choice("direction", BudgetDirection),
        section=fields.choice("section", BudgetSection),
        sector=fields.text("sector"),
        amount_xof=fields.integer("amount_xof", 0),
        is_sample=fields.boolean("sample"),
    )
    if fields.ok:
        identity = (line.fiscal_year, line.phase, line.direction, line.section, line.sector)
        what = _m(
            "what_budget_line",
            "budget line (same fiscal_year, phase, direction, section and sector)",
        )
        once(fields, None, identity, seen, what)
    return line


def document(fields: FieldReader, seen: dict) -> Document:
    record = Document(
        content_key=_key(fields, seen),
        type=fields.choice("type", DocumentType),
        fiscal_year=fields.integer("fiscal_year", *YEARS),
        title=fields.text("title"),
        url=fields.text("url"),
        summary=fields.text("summary", required=False),
        published_on=fields.date("published_on"),
        is_sample=fields.boolean("sample"),
    )
    if record.url is not None and not _URL.fullmatch(record.url):
        message = _m(
            "bad_url", "must be a web address starting with https://, got {raw!r}", raw=record.url
        )
        fields.error("url", message, fields.line("url"))
    return record


def project(fields: FieldReader, seen: dict, arrondissements: list[str] | None) -> Project:
    """`arrondissements`: the commune's names, or None when commune.yaml is unusable."""
    record = Project(
        content_key=_key(fields, seen),
        fiscal_year=fields.integer("fiscal_year", *YEARS),
        title=fields.text("title"),
        sector=fields.text("sector"),
        arrondissement=fields.text("arrondissement", required=False),
        status=fields.choice("status", ProjectStatus),
        progress=fields.integer("progress", 0, 100),
        budget_xof=fields.integer("budget_xof", 0),
        is_sample=fields.boolean("sample"),
    )
    area = record.arrondissement
    if area is not None and arrondissements is not None and area not in arrondissements:
        allowed = ", ".join(arrondissements)
        message = _m(
            "unknown_arrondissement",
            "unknown arrondissement {name!r}; commune.yaml lists: {allowed}",
            name=area,
            allowed=allowed,
        )
        fields.error("arrondissement", message, fields.line("arrondissement"))
    expected = _PROGRESS_BY_STATUS.get(record.status)
    if expected is not None and record.progress is not None and record.progress != expected:
        message = _m(
            "progress_for_status",
            "must be {expected} for a {status} project, got {progress}",
            expected=expected,
            status=record.status.value,
            progress=record.progress,
        )
        fields.error("progress", message, fields.line("progress"))
    return record


def contract(fields: FieldReader, seen: dict) -> Contract:
    record = Contract(
        ocid=fields.text("ocid"),
        title=fields.text("title"),
        method=fields.choice("method", ProcurementMethod),
        supplier=fields.text("supplier"),
        amount_xof=fields.integer("amount_xof", 0),
        date_signed=fields.date("date_signed"),
        status=fields.choice("status", ContractStatus),
        is_sample=fields.boolean("sample"),
    )
    if record.ocid is not None and not _OCID.fullmatch(record.ocid):
        message = _m(
            "bad_ocid",
            "must be an OCDS ocid like ocds-abc123-2025-001, got {raw!r}",
            raw=record.ocid,
        )
        fields.error("ocid", message, fields.line("ocid"))
    elif record.ocid is not None:
        once(fields, "ocid", record.ocid, seen, _m("what_ocid", "ocid {ocid!r}", ocid=record.ocid))
    return record


def agenda_item(fields: FieldReader, seen: dict) -> AgendaItem:
    content_key, title = _key(fields, seen), fields.text("title")
    starts_at, ends_at = _times(fields, ends_required=False)
    return AgendaItem(
        content_key=content_key,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=fields.text("place", required=False),
        description=fields.text("description", required=False),
        is_sample=fields.boolean("sample"),
    )


def event(fields: FieldReader, seen: dict) -> Event:
    content_key, event_type = _key(fields, seen), fields.choice("type", EventType)
    title = fields.text("title")
    starts_at, ends_at = _times(fields, ends_required=False)
    return Event(
        content_key=content_key,
        type=event_type,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=fields.text("place", required=False),
        follow_live=fields.text("follow_live", required=False),
        agenda=fields.texts("agenda"),
        status=fields.choice("status", EventStatus),
        summary=fields.text("summary", required=False),
        accepts_questions=fields.boolean("accepts_questions", default=False),
        is_sample=fields.boolean("sample"),
        decisions=_decisions(fields),
    )


def _decisions(event_fields: FieldReader) -> tuple[Decision, ...]:
    label, errors = event_fields.label, event_fields.errors
    seen: dict[Hashable, int] = {}
    decisions: list[Decision] = []
    for node in yaml_items(event_fields.record.nodes.get("decisions"), label, errors):
        raw = yaml_record(node, label, DECISION_FIELDS, errors)
        if raw is None:
            event_fields.ok = False
            continue
        fields = FieldReader(label, raw, errors)
        decision = Decision(
            number=fields.text("number"),
            title=fields.text("title"),
            summary=fields.text("summary", required=False),
        )
        if decision.number is not None:
            what = _m("what_decision", "decision number {number!r}", number=decision.number)
            once(fields, "number", decision.number, seen, what)
        if fields.ok:
            decisions.append(decision)
        else:
            event_fields.ok = False
    return tuple(decisions)


def good_practice(fields: FieldReader, seen: dict) -> GoodPractice:
    return GoodPractice(
        content_key=_key(fields, seen),
        title=fields.text("title"),
        sector=fields.text("sector"),
        year=fields.integer("year", *YEARS),
        summary=fields.text("summary"),
        is_sample=fields.boolean("sample"),
    )
