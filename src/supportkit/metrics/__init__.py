"""supportkit.metrics: the numbers a support service is judged by, and reports of them.

Calculators stream ticket facts (:class:`MetricsCalculator`,
:func:`compute_metrics`, :func:`iter_ticket_facts`) or push the work into a
SQL database (:func:`sql_metrics`); both produce a :class:`MetricsReport`,
which the renderers turn into a terminal table, JSON, CSV or a
self-contained HTML page with charts. The formulas are in
``docs/metrics-and-reports.md``.
"""

from ..domain._definitions import response_waits
from ._breakdown import (
    NO_CATEGORY,
    NO_TAG,
    TopicFacts,
    TopicRow,
    breakdown,
    iter_topic_facts,
    sql_topic_facts,
    sql_topics,
    top_topics,
    topic_facts_of,
)
from ._calc import MetricsCalculator, compute_metrics
from ._complaints import (
    ComplaintMetrics,
    complaint_metrics,
    sql_complaint_metrics,
    stored_complaint_metrics,
    with_complaints,
)
from ._html import render_html
from ._records import (
    DIMENSIONS,
    FeedbackRecord,
    SlaOutcome,
    TicketFacts,
    facts_of,
    group_key,
    iter_ticket_facts,
    period_key,
    sla_outcome_of,
    sla_outcomes_from_clocks,
    stored_feedback,
)
from ._render import FORMATS, render, render_csv, render_json, render_table
from ._report import GroupMetrics, MetricsReport
from ._snapshot import SnapshotReader, data_range, read_snapshot
from ._sql import sql_metrics
from ._stats import (
    AGEING_BUCKETS,
    RESPONSE_HISTOGRAM,
    CsatSummary,
    DurationSummary,
    NpsSummary,
    Rate,
    percentile,
)
from ._topics import (
    TOPIC_DIMENSIONS,
    TopicsView,
    TopicTrend,
    stored_topics,
    topics_of,
    topics_over_time,
    weeks_covering,
    with_topics,
)

__all__ = [
    "AGEING_BUCKETS",
    "DIMENSIONS",
    "FORMATS",
    "NO_CATEGORY",
    "NO_TAG",
    "RESPONSE_HISTOGRAM",
    "TOPIC_DIMENSIONS",
    "ComplaintMetrics",
    "CsatSummary",
    "DurationSummary",
    "FeedbackRecord",
    "GroupMetrics",
    "MetricsCalculator",
    "MetricsReport",
    "NpsSummary",
    "Rate",
    "SlaOutcome",
    "SnapshotReader",
    "TicketFacts",
    "TopicFacts",
    "TopicRow",
    "TopicTrend",
    "TopicsView",
    "breakdown",
    "complaint_metrics",
    "compute_metrics",
    "data_range",
    "facts_of",
    "group_key",
    "iter_ticket_facts",
    "iter_topic_facts",
    "percentile",
    "period_key",
    "read_snapshot",
    "render",
    "render_csv",
    "render_html",
    "render_json",
    "render_table",
    "response_waits",
    "sla_outcome_of",
    "sla_outcomes_from_clocks",
    "sql_complaint_metrics",
    "sql_metrics",
    "sql_topic_facts",
    "sql_topics",
    "stored_complaint_metrics",
    "stored_feedback",
    "stored_topics",
    "top_topics",
    "topic_facts_of",
    "topics_of",
    "topics_over_time",
    "weeks_covering",
    "with_complaints",
    "with_topics",
]
