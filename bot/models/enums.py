"""Closed vocabularies of the domain, stored in the database by their value.

The values are a contract with reports, content files and the API: French words
where the mairies use French ones (recette, fonctionnement, reddition_de_comptes).
"""

from enum import StrEnum


class AreaKind(StrEnum):
    ARRONDISSEMENT = "arrondissement"
    QUARTIER = "quartier"


class Channel(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"


class Provider(StrEnum):
    AFRICASTALKING = "africastalking"
    TWILIO = "twilio"
    META = "whatsapp_cloud"  # Meta's WhatsApp Cloud API
    CONSOLE = "console"


class Topic(StrEnum):
    SESSIONS = "sessions"
    REDDITION = "reddition"
    BUDGET = "budget"
    URGENCES = "urgences"
    ALL = "all"
    # The weekly SMS summary of what changed in the commune: a subscription of its
    # own, never a broadcast topic, and not part of "all" (bot/participation).
    DIGEST = "digest"


class DocumentType(StrEnum):
    BUDGET_PRIMITIF = "budget_primitif"
    COMPTE_ADMINISTRATIF = "compte_administratif"
    PTA = "pta"
    PDC = "pdc"
    PLAN_PASSATION = "plan_passation"
    PV_SESSION = "pv_session"
    RAPPORT_REDDITION = "rapport_reddition"
    AUTRE = "autre"


class BudgetPhase(StrEnum):
    VOTED = "voted"
    EXECUTED = "executed"


class BudgetDirection(StrEnum):
    RECETTE = "recette"
    DEPENSE = "depense"


class BudgetSection(StrEnum):
    FONCTIONNEMENT = "fonctionnement"
    INVESTISSEMENT = "investissement"


class ProjectStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class ProcurementMethod(StrEnum):
    """OCDS procurementMethod codes."""

    OPEN = "open"
    SELECTIVE = "selective"
    LIMITED = "limited"
    DIRECT = "direct"


class ContractStatus(StrEnum):
    """OCDS contract status codes."""

    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"


class EventType(StrEnum):
    SESSION_ORDINAIRE = "session_ordinaire"
    SESSION_EXTRAORDINAIRE = "session_extraordinaire"
    REDDITION_DE_COMPTES = "reddition_de_comptes"
    AUDIENCE_PUBLIQUE = "audience_publique"


class EventStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    POSTPONED = "postponed"
    HELD = "held"
    CANCELLED = "cancelled"


class FeedbackCategory(StrEnum):
    VOIRIE = "voirie"
    ASSAINISSEMENT = "assainissement"
    EAU = "eau"
    ELECTRICITE = "electricite"
    SANTE = "sante"
    EDUCATION = "education"
    MARCHES = "marches"
    ETAT_CIVIL = "etat_civil"
    SECURITE = "securite"
    AUTRE = "autre"


class FeedbackStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class Satisfaction(StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"
    UNKNOWN = "unknown"


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class MessageStatus(StrEnum):
    """Outbound status; it only moves forward (see bot/models/messaging.py)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    SKIPPED = "skipped"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


class BroadcastKind(StrEnum):
    """What a broadcast is: written by staff, or one of the alerts an event schedules."""

    MANUAL = "manual"
    ANNOUNCEMENT = "announcement"  # the event is published
    REMINDER = "reminder"  # the day before
    START = "start"  # it starts now, here is how to follow
    SUMMARY = "summary"  # after it is held
    CHANGE = "change"  # moved: to those already alerted
    CANCELLATION = "cancellation"  # cancelled: to those already alerted


class StaffRoleName(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    AGENT = "agent"
    VIEWER = "viewer"
