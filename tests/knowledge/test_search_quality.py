"""Must show: for the bilingual question set, the right article is in the top 3 for >= 90%."""

from __future__ import annotations

import pytest
from kb_testdata import QUALITY_KEY, load_questions

from supportkit.knowledge import KnowledgeBase

TARGET = 0.90


def _top3_rate(kb: KnowledgeBase, locale: str) -> tuple[int, int, list[str]]:
    questions = [q for q in load_questions() if q["locale"] == locale]
    misses = []
    for q in questions:
        found = [m.article.id for m in kb.search(q["text"], locale=locale, limit=3)]
        if q["expected"] not in found:
            misses.append(f"{q['text']!r}: expected {q['expected']}, got {found}")
    return len(questions) - len(misses), len(questions), misses


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("index_name", ["memory", "fts5"])
def test_expected_article_is_in_top_three_for_at_least_90_percent_of_questions(
    request: pytest.FixtureRequest, index_name: str, locale: str
) -> None:
    kb: KnowledgeBase = request.getfixturevalue(f"{index_name}_kb")
    hits, total, misses = _top3_rate(kb, locale)
    rate = hits / total
    figure = f"{index_name:6} {locale}: {hits}/{total} = {rate:.1%} in top 3 (target {TARGET:.0%})"
    print(figure)
    request.config.stash.setdefault(QUALITY_KEY, []).append(figure)
    assert total >= 30, f"question set for {locale} is too small: {total}"
    assert rate >= TARGET, figure + "\nmisses:\n" + "\n".join(misses)


def test_question_set_covers_both_languages_and_only_known_articles(
    memory_kb: KnowledgeBase,
) -> None:
    questions = load_questions()
    assert {q["locale"] for q in questions} == {"en", "ru"}
    for q in questions:
        article = memory_kb.get(q["expected"])
        assert article.locale == q["locale"]
        assert q["text"].strip().lower() != article.title.lower()
