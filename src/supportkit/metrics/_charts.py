"""The SVG charts of the HTML report (inline, no script): every count axis has whole-number ticks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from ._report import GroupMetrics

__all__ = [
    "backlog_svg",
    "count_axis",
    "csat_svg",
    "empty",
    "histogram_svg",
    "nps_svg",
    "sla_svg",
]

W, H = 640, 240
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 16, 40
GOOD, WARN, BAD, ACCENT = "#2e7d32", "#f9a825", "#c62828", "#1565c0"
_TICKS = 4


def count_axis(top: int) -> tuple[int, int]:
    """(axis maximum, step) for counts up to *top*: whole-number ticks, at most four steps."""
    step = max(1, math.ceil(top / _TICKS))
    if step > 2:  # 1, 2, 5, 10, 20, 25, 50, ... reads better than 7 or 13
        exp = 10 ** math.floor(math.log10(step))
        step = next(m * exp for m in (1, 2, 2.5, 5, 10) if m * exp >= step and m * exp % 1 == 0)
        step = int(step)
    return step * max(1, math.ceil(top / step)), step


def _grid(ymax: int, step: int) -> list[str]:
    out = []
    inner_h = H - PAD_T - PAD_B
    for v in range(0, ymax + 1, step):
        y = H - PAD_B - inner_h * v / ymax
        out.append(
            f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" '
            f'stroke="#eceff1"/><text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'class="tick">{v}</text>'
        )
    return out


def bars_svg(
    bins: Sequence[tuple[str, int]], title: str, colours: Sequence[str] | None = None
) -> str:
    """Vertical bars, one per bin, each labelled with its count, on a whole-number axis."""
    ymax, step = count_axis(max(n for _, n in bins))
    inner_w = W - PAD_L - PAD_R
    inner_h = H - PAD_T - PAD_B
    bar = inner_w / len(bins)
    parts = _grid(ymax, step)
    for i, (label, n) in enumerate(bins):
        h = inner_h * n / ymax
        x = PAD_L + i * bar + bar * 0.12
        y = H - PAD_B - h
        colour = colours[i] if colours else ACCENT
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.76:.1f}" height="{h:.1f}" '
            f'fill="{colour}" rx="2"><title>{escape(label)}: {n}</title></rect>'
        )
        if n:
            parts.append(
                f'<text x="{x + bar * 0.38:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                f'class="val">{n}</text>'
            )
        parts.append(
            f'<text x="{x + bar * 0.38:.1f}" y="{H - PAD_B + 16}" text-anchor="middle" '
            f'class="tick">{escape(label)}</text>'
        )
    return svg(parts, title)


def histogram_svg(bins: Sequence[tuple[str, int]]) -> str:
    """How many first responses fell in each time bucket."""
    if not bins or not any(n for _, n in bins):
        return empty("no first responses in this window")
    return bars_svg(bins, "First response time distribution")


def csat_svg(by_score: Sequence[int]) -> str:
    """How many answers gave each CSAT score 1-5 (4 and 5 count as satisfied)."""
    if not any(by_score):
        return empty("no feedback answers in this window")
    colours = [BAD, BAD, WARN, GOOD, GOOD]
    return bars_svg(
        [(str(i + 1), n) for i, n in enumerate(by_score)], "CSAT answers by score", colours
    )


def nps_svg(by_score: Sequence[int]) -> str:
    """How many answers gave each NPS score 0-10: detractors 0-6, passives 7-8, promoters 9-10."""
    if not any(by_score):
        return empty("no NPS answers in this window")
    colours = [BAD] * 7 + [WARN] * 2 + [GOOD] * 2
    return bars_svg([(str(i), n) for i, n in enumerate(by_score)], "NPS answers by score", colours)


def backlog_svg(points: Sequence[tuple[datetime, int]]) -> str:
    """The number of open tickets at the same time each day, as a line over a light area."""
    if not points:
        return empty("no backlog data")
    ymax, step = count_axis(max(n for _, n in points))
    inner_w = W - PAD_L - PAD_R
    inner_h = H - PAD_T - PAD_B
    n = len(points)

    def xy(i: int, v: int) -> tuple[float, float]:
        x = PAD_L + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
        return x, H - PAD_B - inner_h * v / ymax

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{coords[0][0]:.1f},{H - PAD_B} {line} {coords[-1][0]:.1f},{H - PAD_B}"
    parts = _grid(ymax, step)
    parts.append(f'<polygon points="{area}" fill="{ACCENT}" fill-opacity="0.12"/>')
    parts.append(
        f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="2.5" '
        'stroke-linejoin="round"/>'
    )
    for (x, y), (t, v) in zip(coords, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{ACCENT}">'
            f"<title>{t:%Y-%m-%d %H:%M}: {v} open</title></circle>"
        )
    every = max(1, math.ceil(n / 8))
    for i in range(0, n, every):
        x, _ = coords[i]
        anchor = "start" if i == 0 and n > 1 else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="{anchor}" class="tick">'
            f"{points[i][0].strftime('%d %b')}</text>"
        )
    x, y = coords[-1]
    parts.append(
        f'<text x="{x - 4:.1f}" y="{y - 8:.1f}" text-anchor="end" class="val">'
        f"{points[-1][1]} open</text>"
    )
    return svg(parts, "Backlog over time")


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def sla_svg(groups: Sequence[GroupMetrics]) -> str:
    """One horizontal bar per channel and target: the share of the target's outcomes met."""
    rows = []
    for g in groups:
        for target, r in g.sla.items():
            if r.denominator:
                label = f"{g.key} · {target.replace('_', ' ')}"
                rows.append(
                    (label, 100.0 * r.numerator / r.denominator, r.numerator, r.denominator)
                )
    if not rows:
        return empty("no SLA outcomes in this window")
    width, bar_h, gap, label_w = 1000, 20, 8, 280
    height = PAD_T + len(rows) * (bar_h + gap) + 24
    inner_w = width - label_w - PAD_R - 110
    parts = []
    for i in range(0, 101, 25):
        x = label_w + inner_w * i / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{PAD_T - 4}" x2="{x:.1f}" y2="{height - 20}" '
            f'stroke="#eceff1"/><text x="{x:.1f}" y="{height - 6}" text-anchor="middle" '
            f'class="tick">{i}%</text>'
        )
    for i, (key, pct, met, total) in enumerate(rows):
        y = PAD_T + i * (bar_h + gap)
        colour = GOOD if pct >= 95 else WARN if pct >= 80 else BAD
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" '
            f'class="lbl">{escape(_short(key))}<title>{escape(key)}</title></text>'
            f'<rect x="{label_w}" y="{y}" width="{inner_w * pct / 100:.1f}" height="{bar_h}" '
            f'fill="{colour}" rx="3"><title>{escape(key)}: {met} of {total} met</title></rect>'
            f'<text x="{label_w + inner_w * pct / 100 + 6:.1f}" y="{y + bar_h * 0.7:.1f}" '
            f'class="val">{pct:.1f}% ({met}/{total})</text>'
        )
    return svg(parts, "SLA compliance by channel and target", height, width)


def svg(parts: list[str], title: str, height: int = H, width: int = W) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


def empty(text: str) -> str:
    return f'<p class="empty">{escape(text)}</p>'
