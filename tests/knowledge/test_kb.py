from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from kb_testdata import T0

from supportkit.domain._errors import NotFound, ValidationError
from supportkit.knowledge import ArticleNotFound, ArticleStatus, KnowledgeBase


@pytest.fixture
def kb() -> KnowledgeBase:
    return KnowledgeBase()


def write(kb: KnowledgeBase, **kw: object):
    args: dict[str, object] = {
        "title": "Reset a forgotten password",
        "body": "Click 'Forgot password' on the sign-in page.",
        "locale": "en",
        "at": T0,
        "category": "account",
        "tags": ["Password", "login", "password"],
    }
    args.update(kw)
    return kb.create(**args)  # type: ignore[arg-type]


def test_new_article_is_a_draft_at_version_one_and_not_searchable(kb: KnowledgeBase) -> None:
    article = write(kb)
    assert article.status is ArticleStatus.DRAFT
    assert article.version == 1
    assert article.tags == ("password", "login")
    assert kb.search("password") == []


def test_published_article_is_found_by_search(kb: KnowledgeBase) -> None:
    article = write(kb, publish=True)
    assert article.published_at == T0
    assert [m.article.id for m in kb.search("forgot my password", locale="en")] == [article.id]


def test_each_edit_adds_a_version_and_keeps_the_history(kb: KnowledgeBase) -> None:
    article = write(kb, publish=True)
    later = T0 + timedelta(days=1)
    kb.edit(article.id, at=later, editor="ann", body="Use the 'Forgot password' link.")
    kb.edit(article.id, at=later, editor="bob", title="Forgotten password", category=None)
    assert [v.number for v in article.versions] == [1, 2, 3]
    assert article.versions[0].body.startswith("Click")
    assert article.body == "Use the 'Forgot password' link."
    assert article.title == "Forgotten password"
    assert article.category is None
    assert article.current.editor == "bob"


def test_editing_a_published_article_updates_the_index(kb: KnowledgeBase) -> None:
    article = write(kb, publish=True)
    kb.edit(article.id, at=T0, title="Refunds", body="Money back within 14 days.", tags=())
    assert kb.search("password") == []
    assert [m.article.id for m in kb.search("refund")] == [article.id]


def test_unpublished_article_leaves_search_but_keeps_its_versions(kb: KnowledgeBase) -> None:
    article = write(kb, publish=True)
    kb.unpublish(article.id)
    assert kb.search("password") == []
    assert kb.get(article.id).status is ArticleStatus.DRAFT
    kb.publish(article.id, at=T0)
    assert len(kb.search("password")) == 1


def test_edit_dated_before_the_current_version_is_refused(kb: KnowledgeBase) -> None:
    article = write(kb)
    with pytest.raises(ValidationError, match="earlier than its version 1"):
        kb.edit(article.id, at=T0 - timedelta(seconds=1), body="x")


def test_naive_timestamps_are_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(ValidationError, match="naive"):
        write(kb, at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "  ", "non-empty title"),
        ("body", "", "non-empty body"),
        ("title", "x" * 301, "limit is 300"),
        ("tags", "password", "wrap it in a tuple"),
        ("locale", " ", "needs a locale"),
    ],
)
def test_invalid_article_content_is_refused_with_a_clear_message(
    kb: KnowledgeBase, field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        write(kb, **{field: value})


def test_unknown_article_raises_article_not_found(kb: KnowledgeBase) -> None:
    with pytest.raises(ArticleNotFound, match="no knowledge base article 'nope'") as info:
        kb.get("nope")
    assert isinstance(info.value, NotFound)


def test_adding_an_article_twice_is_refused(kb: KnowledgeBase) -> None:
    article = write(kb)
    with pytest.raises(ValidationError, match="already in the knowledge base"):
        kb.add(article)


def test_articles_can_be_listed_by_locale_and_status(kb: KnowledgeBase) -> None:
    en = write(kb, publish=True)
    ru = write(kb, title="Сброс пароля", body="Нажмите «Забыли пароль».", locale="RU")
    assert kb.articles(locale="ru") == [ru]
    assert kb.articles(status=ArticleStatus.PUBLISHED) == [en]


def test_helpfulness_votes_are_counted_per_article(kb: KnowledgeBase) -> None:
    a = write(kb, publish=True)
    b = write(kb, title="Refunds", body="Money back.", publish=True)
    kb.record_vote(a.id, helped=True)
    kb.record_vote(a.id, helped=True)
    votes = kb.record_vote(a.id, helped=False)
    assert (votes.helped, votes.not_helped, votes.total) == (2, 1, 3)
    assert votes.ratio == pytest.approx(2 / 3)
    assert kb.votes(b.id).ratio is None
    with pytest.raises(ArticleNotFound):
        kb.record_vote("nope", helped=True)


def test_suggestions_for_a_ticket_use_its_subject_and_text(memory_kb: KnowledgeBase) -> None:
    matches = memory_kb.suggest(
        "Order problem", "The parcel arrived but the glass inside is broken", locale="en"
    )
    assert matches[0].article.id == "en-damaged-item"
    assert len(matches) <= 3


def test_suggestions_in_russian_for_a_russian_ticket(memory_kb: KnowledgeBase) -> None:
    matches = memory_kb.suggest("Оплата", "Списали деньги дважды за один заказ", locale="ru")
    assert matches[0].article.id == "ru-double-charge"
