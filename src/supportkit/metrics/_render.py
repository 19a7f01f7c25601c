"""Rendering a :class:`MetricsReport`: a terminal table, JSON, CSV (HTML lives in ``_html``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from ..domain._errors import ValidationError
from ._breakdown import TopicRow, top_topics
from ._columns import _num, _pct, columns, fmt_duration
from ._html import render_html
from ._report import MetricsReport

__all__ = ["FORMATS", "fmt_duration", "render", "render_csv", "render_json", "render_table"]

FORMATS = ("table", "json", "csv", "html")


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _window(report: MetricsReport) -> str:
    since = report.since.isoformat() if report.since else "the beginning"
    until = report.until.isoformat() if report.until else report.at.isoformat()
    return f"tickets received from {since} to {until}; backlog at {report.at.isoformat()}"


def render_table(report: MetricsReport) -> str:
    """A plain-text report for a terminal: one row per group, then the total."""
    cols = columns(report)
    header = [report.group_by or "group", *(name for name, _ in cols)]
    rows = [[g.key, *(f(g) for _, f in cols)] for g in report.groups]
    rows.append(["TOTAL", *(f(report.total) for _, f in cols)])
    t = report.total
    parts = [
        "supportkit metrics: " + _window(report),
        "",
        _grid(header, rows),
        "",
        "first response: "
        + ", ".join(
            f"{k} {fmt_duration(getattr(t.first_response, k))}"
            for k in ("mean", "median", "p90", "p95")
        )
        + f" ({t.first_response.count} tickets)",
    ]
    if t.first_response_business is not None:
        fr, rb = t.first_response_business, t.resolution_business
        parts.append(
            f"business time: first response median {fmt_duration(fr.median)}, "
            f"p90 {fmt_duration(fr.p90)}; resolution median "
            f"{fmt_duration(rb.median if rb else None)}"
        )
    if t.sla:
        parts.append(
            "SLA compliance: "
            + ", ".join(
                f"{k} {_pct(r.pct)} ({r.numerator}/{r.denominator})" for k, r in t.sla.items()
            )
        )
    if t.escalation_by_tier:
        parts.append(
            "escalation by tier: "
            + ", ".join(
                f"{k} {_pct(r.pct)} ({r.numerator}/{r.denominator})"
                for k, r in t.escalation_by_tier.items()
            )
        )
    parts.append(
        f"CSAT: {_pct(t.csat.pct)} satisfied, mean {_num(t.csat.mean)} ({t.csat.responses} "
        f"answers); NPS {_num(t.nps.score, 0)} ({t.nps.responses} answers)"
    )
    parts.append(
        f"backlog: {t.backlog} open; ageing " + ", ".join(f"{k} {n}" for k, n in t.ageing.items())
    )
    if report.agent_load:
        top = list(report.agent_load.items())[:10]
        parts.append("agent load (open): " + ", ".join(f"{a} {n}" for a, n in top))
    return "\n".join(parts) + "\n"


def render_json(report: MetricsReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _flat(prefix: str, value: object, out: dict[str, object]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def render_csv(report: MetricsReport) -> str:
    """One row per group and a final ``all`` row; nested metrics become dotted columns."""
    rows = []
    for g in (*report.groups, report.total):
        flat: dict[str, object] = {}
        _flat("", g.to_dict(), flat)
        rows.append(flat)
    columns: list[str] = []
    for r in rows:
        columns.extend(c for c in r if c not in columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def topics_lines(topics: Mapping[str, Sequence[TopicRow]]) -> list[str]:
    """One line per breakdown: its top topics with their ticket counts and shares."""
    out = []
    for by, rows in topics.items():
        top = top_topics(rows, 5)
        if top:
            out.append(
                f"top topics by {by}: "
                + ", ".join(f"{r.key} {r.tickets} ({_pct(r.share.pct)})" for r in top)
            )
    return out


def render(
    report: MetricsReport,
    fmt: str,
    *,
    by_channel: MetricsReport | None = None,
    topics: Mapping[str, Sequence[TopicRow]] | None = None,
) -> str:
    """Render *report* as ``table``, ``json``, ``csv`` or ``html``; *topics* (breakdowns by
    category and by tag, :func:`~supportkit.metrics.breakdown`) add the top topics to the
    table, the JSON and the HTML page."""
    if fmt == "table":
        return render_table(report) + "".join(line + "\n" for line in topics_lines(topics or {}))
    if fmt == "json":
        if not topics:
            return render_json(report)
        data = report.to_dict()
        data["topics"] = {by: [r.to_dict() for r in rows] for by, rows in topics.items()}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report, by_channel=by_channel, topics=topics)
    raise ValidationError(f"unknown report format {fmt!r}; use one of {list(FORMATS)}")
