"""supportkit.policies."""

# -- triage and feedback (issue 7) --
from ._feedback import (
    ExpiredFeedbackToken as ExpiredFeedbackToken,
    FeedbackClaim as FeedbackClaim,
    FeedbackLedger as FeedbackLedger,
    FeedbackResponse as FeedbackResponse,
    FeedbackTokenError as FeedbackTokenError,
    FeedbackTokenReused as FeedbackTokenReused,
    FeedbackTokenSigner as FeedbackTokenSigner,
    ForgedFeedbackToken as ForgedFeedbackToken,
    MalformedFeedbackToken as MalformedFeedbackToken,
    MemoryFeedbackLedger as MemoryFeedbackLedger,
)
from ._triage import (
    MatchMode as MatchMode,
    Triage as Triage,
    TriageResult as TriageResult,
    TriageRule as TriageRule,
    simple_terms as simple_terms,
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
