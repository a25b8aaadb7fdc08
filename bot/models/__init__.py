"""Every model, imported here so `Base.metadata` knows all tables (Alembic reads it)."""

from bot.models.audio import ContentAudio
from bot.models.content import (
    AgendaItem,
    BudgetLine,
    Contract,
    Decision,
    Document,
    Event,
    GoodPractice,
    Project,
)
from bot.models.messaging import Broadcast, InboundMessage, OutboundMessage
from bot.models.participation import (
    Feedback,
    FeedbackUpdate,
    Poll,
    PollOption,
    PollParticipant,
    PollResponse,
    Question,
)
from bot.models.people import Consent, Contact, Subscription
from bot.models.places import Area, Commune
from bot.models.staff import ApiToken, AuditLog, StaffRole, StaffUser

__all__ = [
    "AgendaItem",
    "ApiToken",
    "Area",
    "AuditLog",
    "Broadcast",
    "BudgetLine",
    "Commune",
    "Consent",
    "Contact",
    "ContentAudio",
    "Contract",
    "Decision",
    "Document",
    "Event",
    "Feedback",
    "FeedbackUpdate",
    "GoodPractice",
    "InboundMessage",
    "OutboundMessage",
    "Poll",
    "PollOption",
    "PollParticipant",
    "PollResponse",
    "Project",
    "Question",
    "StaffRole",
    "StaffUser",
    "Subscription",
]
