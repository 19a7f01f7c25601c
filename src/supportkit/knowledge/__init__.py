"""supportkit.knowledge: knowledge base, search, first-line bot, macros.

The public names are listed in ``__all__``; the modules behind them are private.
"""

# after the modules above: the SQL tables import the article model
from ._article import Article, ArticleStatus, ArticleVersion, HelpfulnessVotes
from ._bot import (
    DEFAULT_HANDOVER_PHRASES,
    Answer,
    Answerer,
    BotDecision,
    BotReply,
    FirstLineBot,
    Handover,
    HandoverReason,
    RetrievalAnswerer,
)
from ._calibration import FEATURES, BotCalibration, ranking_features
from ._complaint_intake import DEFAULT_COMPLAINT_KEYWORDS, ComplaintIntake
from ._complaints import (
    COMPLAINT_LIFECYCLE,
    ComplaintAction,
    ComplaintPolicy,
    complaint_lifecycle,
    open_complaint_ticket,
)
from ._desk import DEFAULT_HANDOVER_REPLIES, BotOnInbound, TriageOnRegistration
from ._feedback_desk import (
    FEEDBACK_NAMESPACE,
    REMINDER_TIMER,
    ComplaintOpened,
    FeedbackAlreadyGiven,
    FeedbackCollector,
    FeedbackReceived,
    FeedbackRequested,
    KvFeedbackLedger,
)
from ._fts5 import FTS5SearchIndex
from ._kb import ArticleMatch, ArticleNotFound, KnowledgeBase
from ._kb_sql import KNOWLEDGE_SCHEMA
from ._macros import (
    PLACEHOLDERS,
    AddTags,
    ChangeStatus,
    Macro,
    MacroAction,
    MacroContext,
    MacroResult,
    RemoveTags,
    SetCategory,
    SetCustomField,
    SetPriority,
    apply_field_actions,
)
from ._rerank import (
    E5Encoder,
    Encoder,
    PendingQuestion,
    SemanticReranker,
    semantic_available,
)
from ._search import (
    BM25Parameters,
    IndexedDocument,
    MemorySearchIndex,
    QueryPlanner,
    SearchHit,
    SearchIndex,
)
from ._stem import Analyzer, lemmas_available
from ._store import ArticleStore
from ._synonyms import Synonyms
from ._training import TrainingOffers, TrainingSession, TrainingSignupRefused

__all__ = [
    "COMPLAINT_LIFECYCLE",
    "DEFAULT_COMPLAINT_KEYWORDS",
    "DEFAULT_HANDOVER_PHRASES",
    "DEFAULT_HANDOVER_REPLIES",
    "FEATURES",
    "FEEDBACK_NAMESPACE",
    "KNOWLEDGE_SCHEMA",
    "PLACEHOLDERS",
    "REMINDER_TIMER",
    "AddTags",
    "Analyzer",
    "Answer",
    "Answerer",
    "Article",
    "ArticleMatch",
    "ArticleNotFound",
    "ArticleStatus",
    "ArticleStore",
    "ArticleVersion",
    "BM25Parameters",
    "BotCalibration",
    "BotDecision",
    "BotOnInbound",
    "BotReply",
    "ChangeStatus",
    "ComplaintAction",
    "ComplaintIntake",
    "ComplaintOpened",
    "ComplaintPolicy",
    "E5Encoder",
    "Encoder",
    "FTS5SearchIndex",
    "FeedbackAlreadyGiven",
    "FeedbackCollector",
    "FeedbackReceived",
    "FeedbackRequested",
    "FirstLineBot",
    "Handover",
    "HandoverReason",
    "HelpfulnessVotes",
    "IndexedDocument",
    "KnowledgeBase",
    "KvFeedbackLedger",
    "Macro",
    "MacroAction",
    "MacroContext",
    "MacroResult",
    "MemorySearchIndex",
    "PendingQuestion",
    "QueryPlanner",
    "RemoveTags",
    "RetrievalAnswerer",
    "SearchHit",
    "SearchIndex",
    "SemanticReranker",
    "SetCategory",
    "SetCustomField",
    "SetPriority",
    "Synonyms",
    "TrainingOffers",
    "TrainingSession",
    "TrainingSignupRefused",
    "TriageOnRegistration",
    "apply_field_actions",
    "complaint_lifecycle",
    "lemmas_available",
    "open_complaint_ticket",
    "ranking_features",
    "semantic_available",
]
