"""The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched).

A manager reads it top to bottom: the headline numbers as cards, then three
charts (how fast first responses came, how the backlog moved, which
channels keep their SLA), then the table per group.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from ._columns import _COLUMNS, fmt_duration
from ._report import GroupMetrics, MetricsReport

__all__ = ["render_html"]

_W, _H = 640, 240
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 48, 16, 16, 40
_GOOD, _WARN, _BAD, _INK, _MUTED, _ACCENT = (
    "#2e7d32",
    "#f9a825",
    "#c62828",
    "#263238",
    "#90a4ae",
    "#1565c0",
)


def _dur(seconds: float | None) -> str:
    return fmt_duration(seconds)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f}%"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if v <= m * exp:
            return float(m * exp)
    return float(10 * exp)


def _axis(ymax: float, label: str) -> list[str]:
    out = []
    inner_h = _H - _PAD_T - _PAD_B
    for i in range(5):
        v = ymax * i / 4
        y = _H - _PAD_B - inner_h * i / 4
        out.append(
            f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{_W - _PAD_R}" y2="{y:.1f}" '
            f'stroke="#eceff1"/><text x="{_PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'class="tick">{v:g}{label}</text>'
        )
    return out


def histogram_svg(bins: Sequence[tuple[str, int]]) -> str:
    """Vertical bars, one per first-response bucket, each labelled with its count."""
    if not bins or not any(n for _, n in bins):
        return _empty("no first responses in this window")
    ymax = _nice_max(max(n for _, n in bins))
    inner_w = _W - _PAD_L - _PAD_R
    inner_h = _H - _PAD_T - _PAD_B
    step = inner_w / len(bins)
    parts = _axis(ymax, "")
    for i, (label, n) in enumerate(bins):
        h = inner_h * n / ymax
        x = _PAD_L + i * step + step * 0.12
        y = _H - _PAD_B - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.76:.1f}" height="{h:.1f}" '
            f'fill="{_ACCENT}" rx="2"><title>{escape(label)}: {n}</title></rect>'
        )
        if n:
            parts.append(
                f'<text x="{x + step * 0.38:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'class="val">{n}</text>'
            )
        parts.append(
            f'<text x="{x + step * 0.38:.1f}" y="{_H - _PAD_B + 16}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    return _svg(parts, "First response time distribution")


def backlog_svg(points: Sequence[tuple[datetime, int]]) -> str:
    """The number of open tickets at the end of each day, as a line over a light area."""
    if not points:
        return _empty("no backlog data")
    ymax = _nice_max(max(n for _, n in points))
    inner_w = _W - _PAD_L - _PAD_R
    inner_h = _H - _PAD_T - _PAD_B
    n = len(points)

    def xy(i: int, v: int) -> tuple[float, float]:
        x = _PAD_L + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
        return x, _H - _PAD_B - inner_h * v / ymax

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{coords[0][0]:.1f},{_H - _PAD_B} {line} {coords[-1][0]:.1f},{_H - _PAD_B}"
    parts = _axis(ymax, "")
    parts.append(f'<polygon points="{area}" fill="{_ACCENT}" fill-opacity="0.12"/>')
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{_ACCENT}" stroke-width="2.5" '
        'stroke-linejoin="round"/>'
    )
    for (x, y), (t, v) in zip(coords, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_ACCENT}">'
            f"<title>{t.date().isoformat()}: {v} open</title></circle>"
        )
    every = max(1, math.ceil(n / 8))
    for i in range(0, n, every):
        x, _ = coords[i]
        anchor = "start" if i == 0 and n > 1 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{_H - _PAD_B + 16}" text-anchor="{anchor}" class="tick">'
            f"{points[i][0].strftime('%d %b')}</text>"
        )
    x, y = coords[-1]
    parts.append(
        f'<text x="{x - 4:.1f}" y="{y - 8:.1f}" text-anchor="end" class="val">'
        f"{points[-1][1]} open</text>"
    )
    return _svg(parts, "Backlog over time")


def sla_svg(groups: Sequence[GroupMetrics]) -> str:
    """One horizontal bar per channel: the share of SLA targets met (all targets together)."""
    rows = []
    for g in groups:
        met = sum(r.numerator for r in g.sla.values())
        total = sum(r.denominator for r in g.sla.values())
        if total:
            rows.append((g.key, 100.0 * met / total, met, total))
    if not rows:
        return _empty("no SLA outcomes in this window")
    bar_h, gap, label_w = 22, 10, 120
    height = _PAD_T + len(rows) * (bar_h + gap) + 24
    inner_w = _W - label_w - _PAD_R - 80
    parts = []
    for i in range(0, 101, 25):
        x = label_w + inner_w * i / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{_PAD_T - 4}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="#eceff1"/><text x="{x:.1f}" y="{height - 6}" text-anchor="middle" '
            f'class="tick">{i}%</text>'
        )
    for i, (key, pct, met, total) in enumerate(rows):
        y = _PAD_T + i * (bar_h + gap)
        colour = _GOOD if pct >= 95 else _WARN if pct >= 80 else _BAD
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" '
            f'class="lbl">{escape(key)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{inner_w * pct / 100:.1f}" height="{bar_h}" '
            f'fill="{colour}" rx="3"><title>{escape(key)}: {met} of {total} met</title></rect>'
            f'<text x="{label_w + inner_w * pct / 100 + 6:.1f}" y="{y + bar_h * 0.7:.1f}" '
            f'class="val">{pct:.1f}% ({met}/{total})</text>'
        )
    return _svg(parts, "SLA compliance by channel", height)


def _svg(parts: list[str], title: str, height: int = _H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


def _empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'


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
    head = "".join(f"<th>{escape(n)}</th>" for n, _ in _COLUMNS)
    body = []
    for g in (*report.groups, report.total):
        cls = ' class="total"' if g is report.total else ""
        key = "Total" if g is report.total else g.key
        cells = "".join(f"<td>{escape(f(g))}</td>" for _, f in _COLUMNS)
        body.append(f"<tr{cls}><th>{escape(key)}</th>{cells}</tr>")
    return (
        f"<table><thead><tr><th>{escape(report.group_by or 'group')}</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#263238;
margin:0;background:#f5f7f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.sub{color:#607d8b;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px;
margin-bottom:20px}
.card{background:#fff;border-radius:8px;padding:12px 14px;border-top:4px solid #90a4ae;
box-shadow:0 1px 2px #0001}
.card.good{border-color:#2e7d32}.card.warn{border-color:#f9a825}.card.bad{border-color:#c62828}
.label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#607d8b}
.value{font-size:26px;font-weight:600}.note{font-size:12px;color:#78909c}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}
section{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px #0001;
margin-bottom:16px}
svg{width:100%;height:auto}
.tick{font-size:11px;fill:#78909c}.val{font-size:11px;fill:#263238;font-weight:600}
.lbl{font-size:12px;fill:#263238}
.empty{color:#90a4ae;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid #eceff1;text-align:right;white-space:nowrap}
thead th{color:#607d8b;font-weight:600}tbody th{text-align:left}
tr.total{font-weight:700;background:#fafafa}
.tablewrap{overflow-x:auto}
"""


def render_html(report: MetricsReport, *, by_channel: MetricsReport | None = None) -> str:
    """The report as one self-contained HTML page.

    *by_channel* is the same report grouped by channel, for the SLA chart;
    without it the chart uses *report*'s own groups when they are channels.
    """
    t = report.total
    sla_groups: Sequence[GroupMetrics] = ()
    if by_channel is not None:
        sla_groups = by_channel.groups
    elif report.group_by == "channel":
        sla_groups = report.groups
    met = sum(r.numerator for r in t.sla.values())
    total = sum(r.denominator for r in t.sla.values())
    sla_pct = 100.0 * met / total if total else None
    since = report.since.date().isoformat() if report.since else "the beginning"
    until = (report.until or report.at).date().isoformat()
    cards = "".join(
        [
            _card("Tickets", str(t.tickets), f"{t.resolved} resolved"),
            _card(
                "First response",
                _dur(t.first_response.median),
                f"median; p90 {_dur(t.first_response.p90)}",
            ),
            _card("Resolution", _dur(t.resolution.median), f"median; p90 {_dur(t.resolution.p90)}"),
            _card(
                "SLA met",
                _pct(sla_pct),
                f"{met} of {total} targets",
                _tone(sla_pct, 95, 80),
            ),
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
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Support metrics {escape(since)} – {escape(until)}</title>
<style>{_CSS}</style></head>
<body><main>
<h1>Support metrics</h1>
<p class="sub">Tickets received from {escape(since)} to {escape(until)}
{"· business time used" if report.business_time else ""}</p>
<div class="cards">{cards}</div>
<div class="charts">
<section><h2>How fast the first response came</h2>{histogram_svg(report.first_response_histogram)}</section>
<section><h2>Open tickets, day by day</h2>{backlog_svg(report.backlog_series)}</section>
</div>
<section><h2>SLA compliance by channel</h2>{sla_svg(sla_groups)}</section>
<section><h2>By {escape(report.group_by or "total")}</h2>
<div class="tablewrap">{_table(report)}</div></section>
</main></body></html>
"""
