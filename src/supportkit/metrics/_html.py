"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched).

A manager reads it top to bottom: the headline numbers as cards (in business
time when the report measured it), the charts (how fast first responses
came, how the backlog moved, CSAT and NPS answers, which channels keep their
SLA), the table per group, and the top topics by category and by tag. The
page fits a 1280 px screen without horizontal scrolling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from ._breakdown import TopicRow, top_topics
from ._charts import backlog_svg, csat_svg, histogram_svg, nps_svg, sla_svg
from ._columns import columns, fmt_duration, headline_durations
from ._report import GroupMetrics, MetricsReport

__all__ = ["render_html"]


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}%"


def _card(label: str, value: str, note: str = "", tone: str = "") -> str:
    return (
        f'<div class="card {tone}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div><div class="note">{escape(note)}</div></div>'
    )


def _tone(pct: float | None, good: float, warn: float) -> str:
    if pct is None:
        return ""
    return "good" if pct >= good else "warn" if pct >= warn else "bad"


def _table(report: MetricsReport) -> str:
    cols = columns(report)
    head = "".join(f"<th>{escape(n)}</th>" for n, _ in cols)
    body = []
    for g in (*report.groups, report.total):
        cls = ' class="total"' if g is report.total else ""
        key = "Total" if g is report.total else g.key
        cells = "".join(f"<td>{escape(f(g))}</td>" for _, f in cols)
        body.append(f"<tr{cls}><th>{escape(key)}</th>{cells}</tr>")
    return (
        f"<table><thead><tr><th>{escape(report.group_by or 'group')}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _topics_table(title: str, rows: Sequence[TopicRow]) -> str:
    top = top_topics(rows)
    if not top:
        return f'<div><h3>{escape(title)}</h3><p class="empty">none recorded</p></div>'
    body = "".join(
        f"<tr><th>{escape(r.key)}</th><td>{r.tickets}</td><td>{_pct(r.share.pct)}</td>"
        f"<td>{r.resolved}</td><td>{r.reopened}</td><td>{r.escalated}</td>"
        f"<td>{escape(fmt_duration(r.first_response.median))}</td>"
        f"<td>{escape(fmt_duration(r.resolution.median))}</td></tr>"
        for r in top
    )
    return (
        f"<div><h3>{escape(title)}</h3><table><thead><tr><th>topic</th><th>tickets</th>"
        "<th>share</th><th>resolved</th><th>reopened</th><th>escalated</th>"
        "<th>1st resp med</th><th>resol med</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def _cards(report: MetricsReport) -> str:
    t = report.total
    first, resolution, label = headline_durations(report, t)
    cards = [
        _card("Tickets", str(t.tickets), f"{t.resolved} resolved"),
        _card(
            "First response" + label,
            fmt_duration(first.median),
            f"median; p90 {fmt_duration(first.p90)}",
        ),
        _card(
            "Resolution" + label,
            fmt_duration(resolution.median),
            f"median; p90 {fmt_duration(resolution.p90)}",
        ),
    ]
    for target, r in t.sla.items():
        cards.append(
            _card(
                f"SLA {target.replace('_', ' ')}",
                _pct(r.pct),
                f"{r.numerator} of {r.denominator} met",
                _tone(r.pct, 95, 80),
            )
        )
    cards += [
        _card(
            "CSAT",
            _pct(t.csat.pct),
            f"{t.csat.responses} answers, mean "
            + ("–" if t.csat.mean is None else f"{t.csat.mean:.2f}"),
            _tone(t.csat.pct, 85, 70),
        ),
        _card(
            "NPS",
            "–" if t.nps.score is None else f"{t.nps.score:+.0f}",
            f"{t.nps.responses} answers",
            _tone(t.nps.score, 30, 0),
        ),
        _card(
            "First contact resolution",
            _pct(t.first_contact_resolution.pct),
            f"reopened {_pct(t.reopen.pct)}",
        ),
        _card("Backlog", str(t.backlog), f"open at {report.at:%Y-%m-%d %H:%M} UTC"),
    ]
    return "".join(cards)


_CSS = """
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#263238;
margin:0;background:#f5f7f8}
main{max-width:1240px;margin:0 auto;padding:20px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}h3{font-size:15px;margin:4px 0}
.sub{color:#607d8b;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;
margin-bottom:20px}
.card{background:#fff;border-radius:8px;padding:12px 14px;border-top:4px solid #90a4ae;
box-shadow:0 1px 2px #0001;min-width:0}
.card.good{border-color:#2e7d32}.card.warn{border-color:#f9a825}.card.bad{border-color:#c62828}
.label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#607d8b}
.value{font-size:26px;font-weight:600}.note{font-size:12px;color:#78909c}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0001;
margin-bottom:16px;min-width:0}
svg{display:block;width:100%;height:auto}
.tick{font-size:11px;fill:#78909c}.val{font-size:11px;fill:#263238;font-weight:600}
.lbl{font-size:12px;fill:#263238}
.empty{color:#90a4ae;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:12.5px;table-layout:auto}
th,td{padding:5px 6px;border-bottom:1px solid #eceff1;text-align:right}
td{white-space:nowrap}
thead th{color:#607d8b;font-weight:600;vertical-align:bottom}
tbody th{text-align:left;overflow-wrap:anywhere}
tr.total{font-weight:700;background:#fafafa}
.topics{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px}
@media (max-width:900px){td{white-space:normal}}
"""


def render_html(
    report: MetricsReport,
    *,
    by_channel: MetricsReport | None = None,
    topics: Mapping[str, Sequence[TopicRow]] | None = None,
) -> str:
    """The report as one self-contained HTML page.

    *by_channel* is the same report grouped by channel, for the SLA chart
    (without it the chart uses *report*'s own groups when they are
    channels); *topics* maps ``"category"`` and ``"tag"`` to their
    :func:`~supportkit.metrics.breakdown` rows, for the top topics tables.
    """
    t = report.total
    sla_groups: Sequence[GroupMetrics] = ()
    if by_channel is not None:
        sla_groups = by_channel.groups
    elif report.group_by == "channel":
        sla_groups = report.groups
    since = report.since.date().isoformat() if report.since else "the first ticket"
    until = (report.until or report.at).date().isoformat()
    topic_sections = ""
    if topics:
        tables = "".join(
            _topics_table(f"By {by}", rows) for by, rows in topics.items() if rows is not None
        )
        topic_sections = (
            f'<section id="topics"><h2>Top topics</h2><div class="topics">{tables}</div></section>'
        )
    business = " · business time" if report.business_time else ""
    # the histogram's buckets are clock time; say so when the cards show business time
    clock = " (clock time)" if report.business_time else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support metrics {escape(since)} – {escape(until)}</title>
<style>{_CSS}</style></head>
<body><main>
<h1>Support metrics</h1>
<p class="sub">Tickets received from {escape(since)} to {escape(until)}{business}</p>
<div class="cards">{_cards(report)}</div>
<div class="charts">
<section><h2>How fast the first response came{clock}</h2>{histogram_svg(report.first_response_histogram)}</section>
<section><h2>Open tickets, day by day</h2>{backlog_svg(report.backlog_series)}</section>
<section><h2>CSAT answers</h2>{csat_svg(t.csat.by_score)}</section>
<section><h2>NPS answers</h2>{nps_svg(t.nps.by_score)}</section>
</div>
<section><h2>SLA compliance by channel</h2>{sla_svg(sla_groups)}</section>
<section id="groups"><h2>By {escape(report.group_by or "total")}</h2>{_table(report)}</section>
{topic_sections}
</main></body></html>
"""
