"""Lemmas, roots, synonyms and typo tolerance, on both index implementations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.knowledge import (
    Analyzer,
    IndexedDocument,
    KnowledgeBase,
    SearchIndex,
    Synonyms,
    _stem,
    lemmas_available,
)
from supportkit.knowledge._typos import edit_distance

T0 = datetime(2026, 1, 5, tzinfo=UTC)
needs_lemmas = pytest.mark.skipif(not lemmas_available(), reason="pymorphy3 is not installed")


def doc(article_id: str, title: str, body: str, locale: str = "ru") -> IndexedDocument:
    return IndexedDocument(article_id, locale, title, body)


def ids(index: SearchIndex, query: str, locale: str = "ru") -> list[str]:
    return [h.article_id for h in index.search(query, locale)]


@needs_lemmas
def test_lemmas_join_forms_that_stems_keep_apart() -> None:
    with_lemmas, stems_only = Analyzer(lemmas=True), Analyzer(lemmas=False)
    assert with_lemmas.terms("людей") == with_lemmas.terms("человек")
    assert stems_only.terms("людей") != stems_only.terms("человек")
    assert with_lemmas.terms("забыла") == with_lemmas.terms("забыть")


def test_without_pymorphy3_the_analyzer_falls_back_to_stems_or_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_stem, "_load_morph", lambda: None)
    assert not Analyzer().uses_lemmas
    assert Analyzer().terms("паролей") == ["парол"]
    with pytest.raises(ConfigurationError, match=r"supportkit\[lemmas\]"):
        Analyzer(lemmas=True)


def test_a_verb_in_the_question_finds_the_noun_in_the_article(any_index: SearchIndex) -> None:
    any_index.add(doc("setup", "Установка и настройка", "Инструкция по установке программы."))
    any_index.add(doc("pay", "Оплата", "Оплата картой."))
    assert ids(any_index, "как установить") == ["setup"]


def test_a_misspelt_russian_word_is_corrected_to_the_indexed_one(any_index: SearchIndex) -> None:
    any_index.add(doc("pwd", "Пароль", "Сброс пароля по ссылке."))
    any_index.add(doc("pay", "Оплата", "Оплата картой."))
    assert ids(any_index, "забыла пороль") == ["pwd"]


def test_a_question_with_only_unknown_words_falls_back_to_the_nearest_terms(
    any_index: SearchIndex,
) -> None:
    any_index.add(doc("sub", "Cancel a subscription", "Cancel the renewal.", "en"))
    assert ids(any_index, "subscripton", "en") == ["sub"]


def test_a_question_far_from_every_article_still_finds_nothing(any_index: SearchIndex) -> None:
    any_index.add(doc("sub", "Cancel a subscription", "Cancel the renewal.", "en"))
    assert ids(any_index, "zzzzqqq", "en") == []


def test_synonyms_find_an_article_written_in_other_words(any_index: SearchIndex) -> None:
    kb = KnowledgeBase(any_index, synonyms=Synonyms())
    kb.create(
        title="Смена электронной почты", body="Адрес в профиле.", locale="ru", at=T0, publish=True
    )
    assert kb.search("поменять имейл", locale="ru") == []
    kb.set_synonyms(Synonyms([["почта", "имейл", "e-mail"]]))
    assert kb.synonyms() == Synonyms([["почта", "имейл", "e-mail"]])
    found = kb.search("поменять имейл", locale="ru")
    assert [m.article.title for m in found] == ["Смена электронной почты"]


def test_the_starter_list_covers_support_vocabulary_in_both_languages() -> None:
    starter = Synonyms.starter()
    words = {w for g in starter.groups for w in g}
    assert {"refund", "money back", "имейл", "почта", "оператор"} <= words
    assert Synonyms.from_toml(starter.to_toml()) == starter


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([["refund"]], "at least two"),
        (["refund"], "the string"),
    ],
)
def test_a_bad_synonym_group_is_refused_with_the_reason(groups: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Synonyms(groups)  # type: ignore[arg-type]


def test_a_synonym_file_without_groups_is_refused() -> None:
    with pytest.raises(ValidationError, match="groups"):
        Synonyms.from_toml('words = ["a", "b"]')


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("password", "pasword", 1), ("password", "passowrd", 1), ("abc", "abc", 0), ("ab", "ba", 1)],
)
def test_edit_distance_counts_insertions_deletions_and_transpositions(
    a: str, b: str, distance: int
) -> None:
    assert edit_distance(a, b, 2) == distance
