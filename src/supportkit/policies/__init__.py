"""supportkit.policies."""

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
from ._routing_desk import DeskRouting
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
    "DeskRouting",
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

# -- SLA clocks on the desk (issue 5) --
from ._sla_desk import NEXT_TIER, SlaBreachRecorded, SlaExtension, SlaWarningRecorded  # noqa: E402

__all__ += ["NEXT_TIER", "SlaBreachRecorded", "SlaExtension", "SlaWarningRecorded"]
