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
