"""supportkit.policies: pure rules (routing, escalation, SLA, calendars, triage, feedback).

Nothing here does I/O or knows the desk; the extensions that wire these rules
into a desk's transactions live in :mod:`supportkit.extensions` (their old
names, e.g. ``supportkit.policies.SlaExtension``, still resolve).
"""

# -- triage and feedback (issue 7) --
from ._feedback import (
    ExpiredFeedbackToken,
    FeedbackClaim,
    FeedbackLedger,
    FeedbackResponse,
    FeedbackTokenError,
    FeedbackTokenReused,
    FeedbackTokenSigner,
    ForgedFeedbackToken,
    MalformedFeedbackToken,
    MemoryFeedbackLedger,
)
from ._triage import (
    MatchMode,
    Triage,
    TriageResult,
    TriageRule,
    simple_terms,
)

__all__ = [
    *globals().get("__all__", ()),
    "ExpiredFeedbackToken",
    "FeedbackClaim",
    "FeedbackLedger",
    "FeedbackResponse",
    "FeedbackTokenError",
    "FeedbackTokenReused",
    "FeedbackTokenSigner",
    "ForgedFeedbackToken",
    "MalformedFeedbackToken",
    "MemoryFeedbackLedger",
    "MatchMode",
    "Triage",
    "TriageResult",
    "TriageRule",
    "simple_terms",
]

# -- tiers, routing and escalation (issue 4) --
from ._escalation import (
    BOT_TIER,
    DeEscalation,
    DiagnosisEscalation,
    EscalationChain,
    EscalationContext,
    EscalationDecision,
    EscalationPolicy,
    EscalationRule,
    FixedTargets,
    HandOffToHuman,
    ManualEscalation,
    ManualRequest,
    RepetitionEscalation,
    RuleEscalation,
    TierTargets,
    TimeEscalation,
)
from ._routing import DEFAULT_FILTERS, Router, RoutingDecision
from ._routing_filters import (
    CandidateFilter,
    CandidateQuery,
    Candidates,
    CustomerAffinity,
    HasSkills,
    InTeam,
    InTier,
    OnShift,
    SpeaksLanguage,
    on_shift,
)
from ._routing_index import AgentIndex
from ._routing_queue import DrainResult, QueuedTicket, TicketQueue, drain_queue
from ._routing_request import RoutingRequest, RoutingState
from ._routing_strategies import Choice, LeastLoaded, RoundRobin, RoutingStrategy, SkillsBestMatch
from ._tiers import DEFAULT_TIERS, EscalationRefused, Roster, TierLadder

__all__ += [
    "BOT_TIER",
    "DEFAULT_FILTERS",
    "DEFAULT_TIERS",
    "AgentIndex",
    "CandidateFilter",
    "CandidateQuery",
    "Candidates",
    "Choice",
    "CustomerAffinity",
    "DeEscalation",
    "DiagnosisEscalation",
    "DrainResult",
    "EscalationChain",
    "EscalationContext",
    "EscalationDecision",
    "EscalationPolicy",
    "EscalationRefused",
    "EscalationRule",
    "FixedTargets",
    "HandOffToHuman",
    "HasSkills",
    "InTeam",
    "InTier",
    "LeastLoaded",
    "ManualEscalation",
    "ManualRequest",
    "OnShift",
    "QueuedTicket",
    "RepetitionEscalation",
    "Roster",
    "RoundRobin",
    "Router",
    "RoutingDecision",
    "RoutingRequest",
    "RoutingState",
    "RoutingStrategy",
    "RuleEscalation",
    "SkillsBestMatch",
    "SpeaksLanguage",
    "TicketQueue",
    "TierLadder",
    "TierTargets",
    "TimeEscalation",
    "drain_queue",
    "on_shift",
]

# -- business calendars and SLA policies (issue 5) --
from ._calendar import BusinessCalendar, Shift, always_open, office_hours  # noqa: E402
from ._sla import (  # noqa: E402
    ClockState,
    SlaBreached,
    SlaClock,
    SlaEvent,
    SlaKind,
    SlaPolicy,
    SlaRule,
    SlaTarget,
    SlaWarning,
    sweep,
)

__all__ += [
    "BusinessCalendar",
    "ClockState",
    "Shift",
    "SlaBreached",
    "SlaClock",
    "SlaEvent",
    "SlaKind",
    "SlaPolicy",
    "SlaRule",
    "SlaTarget",
    "SlaWarning",
    "always_open",
    "office_hours",
    "sweep",
]

# -- the desk extensions moved to supportkit.extensions; these names stay importable from here
# lazily, so this package imports nothing beyond the domain (it stays pure) --
_MOVED = frozenset(
    {"DeskRouting", "NEXT_TIER", "SlaBreachRecorded", "SlaExtension", "SlaWarningRecorded"}
)


def __getattr__(name: str) -> object:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module("supportkit.extensions"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- channel hours (issue 16) --
from ._channel_hours import (  # noqa: E402
    CHANNEL_CALENDAR,
    ChannelHours,
    ChannelStatus,
    OutOfHours,
    OutOfHoursAction,
    channel_calendar_name,
    service_hours,
)
from ._identity_linking import IdentityLinking  # noqa: E402

__all__ += [
    "CHANNEL_CALENDAR",
    "ChannelHours",
    "ChannelStatus",
    "IdentityLinking",
    "OutOfHours",
    "OutOfHoursAction",
    "channel_calendar_name",
    "service_hours",
]
