"""Fit the bot's calibration on the development half of the labelled question set.

    .venv/bin/python tests/knowledge/kb_calibration.py             # print, and write the JSON
    .venv/bin/python tests/knowledge/kb_calibration.py --semantic  # the same with the re-ranker

For every development question (answerable or not) and every article's own
title (a question its article answers, so that a question matching an
article exactly is known to be a sure case) the bot's search runs on the
test knowledge base; the label is whether the best article answers it. A
logistic regression (Newton's method, a small L2 penalty, no dependency)
maps the ranking features to a probability. The threshold is the one with
the best F1 of precision (answers the bot gives that are right) and recall
(right best articles the bot does answer) on the development questions; the
table of precision and recall per threshold is printed. The result is
written to ``src/supportkit/knowledge/bot_calibration.json`` (with
``--semantic``: the knowledge base searches with the ``SemanticReranker``,
and the fit goes to ``bot_calibration_semantic.json``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kb_testdata import Question, build_kb, load_articles, load_questions

from supportkit.knowledge import (
    BotCalibration,
    KnowledgeBase,
    MemorySearchIndex,
    RetrievalAnswerer,
    SemanticReranker,
)
from supportkit.knowledge._calibration import LEXICAL_JSON, SEMANTIC_JSON

PACKAGE = Path(__file__).resolve().parents[2] / "src/supportkit/knowledge"
L2 = 1e-3
GRID = [round(0.05 * i, 2) for i in range(1, 20)]


@attrs.frozen
class Sample:
    features: tuple[float, ...]
    right: bool


def samples(kb: KnowledgeBase, questions: list[Question]) -> list[Sample]:
    """Features and label of every question the search finds something for."""
    answerer = RetrievalAnswerer(kb, calibration=BotCalibration(0.0, (0, 0, 0), 0.5))
    out = []
    for q in questions:
        found = answerer.features(q.text, q.locale)
        if found is not None:
            best, features = found
            out.append(Sample(features, best.article.id in q.answers))
    return out


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def fit_logistic(data: list[Sample], iterations: int = 50) -> tuple[float, tuple[float, ...]]:
    """Intercept and weights maximising the L2-penalised log-likelihood (Newton's method)."""
    xs = [(1.0, *s.features) for s in data]
    ys = [1.0 if s.right else 0.0 for s in data]
    k = len(xs[0])
    w = [0.0] * k
    for _ in range(iterations):
        grad = [-L2 * w[j] * (j > 0) for j in range(k)]
        hess = [[L2 * (i == j and i > 0) for j in range(k)] for i in range(k)]
        for x, y in zip(xs, ys, strict=True):
            z = sum(a * b for a, b in zip(w, x, strict=True))
            p = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
            for i in range(k):
                grad[i] += (y - p) * x[i]
                for j in range(k):
                    hess[i][j] += p * (1 - p) * x[i] * x[j]
        step = _solve(hess, grad)
        w = [a + b for a, b in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return w[0], tuple(w[1:])


def precision_recall(model: BotCalibration, data: list[Sample], threshold: float) -> tuple:
    """(answered, right among them, precision, recall) at *threshold*.

    Recall is the share of the questions whose best article is right that the bot answers.
    """
    answered = [s for s in data if model.probability(s.features) >= threshold]
    right = sum(s.right for s in answered)
    positives = sum(s.right for s in data) or 1
    precision = right / len(answered) if answered else 1.0
    return len(answered), right, precision, right / positives


def _engine(kb: KnowledgeBase) -> str:
    encoder = kb.reranker.encoder if kb.reranker is not None else None
    return str(getattr(encoder, "engine", type(encoder).__name__))


def fit(kb: KnowledgeBase | None = None) -> tuple[BotCalibration, list[str]]:
    """The calibration fitted on the development half, and the printed table.

    The knowledge base's re-ranker (if any) decides which shipped fit this is.
    """
    kb = kb or build_kb(MemorySearchIndex())
    semantic = kb.reranker is not None
    dev = [q for q in load_questions(answerable=False) if q.half == "dev"]
    titles = [Question(a["locale"], a["title"], frozenset([a["key"]])) for a in load_articles()]
    data = samples(kb, dev)
    intercept, weights = fit_logistic(data + samples(kb, titles))
    model = BotCalibration(intercept, weights, 0.5)
    lines = [
        f"fitted on {len(data)} development questions ({sum(s.right for s in data)} with the "
        f"right best article) and {len(titles)} article titles; on the development questions:"
    ]
    best: tuple[float, float, float, float] | None = None
    for t in GRID:
        n, right, p, r = precision_recall(model, data, t)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        lines.append(
            f"  threshold {t:.2f}: {n:3} answered, {right:3} right, "
            f"precision {p:.3f}, recall {r:.3f}, F1 {f1:.3f}"
        )
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, t, p, r)
    assert best is not None
    _, t, p, r = best
    lines.append(f"chosen threshold {t:.2f} (best F1): precision {p:.3f}, recall {r:.3f}")
    fitted = BotCalibration(
        round(intercept, 6),
        tuple(round(w, 6) for w in weights),
        t,
        "supportkit tests/data/kb development half (questions_en.toml, questions_ru.toml)"
        + (f", SemanticReranker (multilingual-e5-small, {_engine(kb)} engine)" if semantic else ""),
        round(p, 4),
        round(r, 4),
    )
    return fitted, lines


if __name__ == "__main__":
    semantic = "--semantic" in sys.argv[1:]
    kb = build_kb(MemorySearchIndex())
    if semantic:
        kb.reranker = SemanticReranker()
    calibration, table = fit(kb)
    print("\n".join(table))
    out = PACKAGE / (SEMANTIC_JSON if semantic else LEXICAL_JSON)
    out.write_text(calibration.to_json(), encoding="utf-8")
    print(f"written to {out}")
