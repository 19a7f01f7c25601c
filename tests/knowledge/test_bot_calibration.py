"""The bot's confidence is a calibrated probability fitted on the labelled development half."""

from __future__ import annotations

import pytest
from kb_calibration import fit, precision_recall, samples
from kb_testdata import QUALITY_KEY, load_articles, load_questions

from supportkit.domain._errors import ConfigurationError
from supportkit.knowledge import (
    BotCalibration,
    BotReply,
    FirstLineBot,
    Handover,
    HandoverReason,
    KnowledgeBase,
    RetrievalAnswerer,
    lemmas_available,
)


@pytest.mark.skipif(not lemmas_available(), reason="the shipped fit was made with pymorphy3")
def test_shipped_coefficients_are_what_the_fitting_script_computes(
    request: pytest.FixtureRequest, memory_kb: KnowledgeBase
) -> None:
    fitted, table = fit(memory_kb)
    request.config.stash.setdefault(QUALITY_KEY, []).extend(["bot calibration (dev half):", *table])
    shipped = BotCalibration.shipped()
    assert shipped.weights == pytest.approx(fitted.weights, abs=1e-5)
    assert shipped.intercept == pytest.approx(fitted.intercept, abs=1e-5)
    assert shipped.threshold == fitted.threshold


def test_shipped_semantic_coefficients_are_what_the_fitting_script_computes(
    request: pytest.FixtureRequest, semantic_kb: KnowledgeBase
) -> None:
    fitted, table = fit(semantic_kb)
    request.config.stash.setdefault(QUALITY_KEY, []).extend(
        ["bot calibration with the semantic re-ranker (dev half):", *table]
    )
    shipped = BotCalibration.shipped(semantic=True)
    assert RetrievalAnswerer(semantic_kb).calibration == shipped
    if shipped.weights == pytest.approx(fitted.weights, abs=1e-4):
        assert shipped.intercept == pytest.approx(fitted.intercept, abs=1e-4)
        assert shipped.threshold == fitted.threshold
        return
    # The 4-bit engine's vectors differ between CPUs (it picks its kernels by instruction set:
    # on an AVX-512 machine the first weight fits to 2.71 where the shipped fit has 2.49), so
    # the fit is exact only where it was made. Elsewhere the shipped fit must still do, on this
    # machine's vectors, what it promises on the development half.
    dev = [q for q in load_questions(answerable=False) if q.half == "dev"]
    _, _, precision, recall = precision_recall(
        shipped, samples(semantic_kb, dev), shipped.threshold
    )
    assert precision == pytest.approx(shipped.precision, abs=0.03)
    assert recall == pytest.approx(shipped.recall, abs=0.03)


def test_precision_and_recall_on_the_test_half_with_the_semantic_reranker(
    request: pytest.FixtureRequest, semantic_kb: KnowledgeBase
) -> None:
    calibration = BotCalibration.shipped(semantic=True)
    test = [q for q in load_questions(answerable=False) if q.half == "test"]
    answered, right, precision, recall = precision_recall(
        calibration, samples(semantic_kb, test), calibration.threshold
    )
    line = (
        f"bot with the semantic re-ranker on the test half at threshold "
        f"{calibration.threshold:.2f}: {answered} answered, {right} right, precision "
        f"{precision:.3f}, recall {recall:.3f} (dev: precision {calibration.precision}, "
        f"recall {calibration.recall})"
    )
    print(line)
    request.config.stash.setdefault(QUALITY_KEY, []).append(line)
    assert precision >= 0.85, line
    assert recall >= 0.85, line


def test_default_threshold_is_the_calibration_one(memory_kb: KnowledgeBase) -> None:
    bot = FirstLineBot(RetrievalAnswerer(memory_kb))
    assert bot.min_confidence == BotCalibration.shipped().threshold


def test_precision_and_recall_on_the_test_half_at_the_shipped_threshold(
    request: pytest.FixtureRequest, memory_kb: KnowledgeBase
) -> None:
    calibration = BotCalibration.shipped()
    test = [q for q in load_questions(answerable=False) if q.half == "test"]
    answered, right, precision, recall = precision_recall(
        calibration, samples(memory_kb, test), calibration.threshold
    )
    line = (
        f"bot on the test half at threshold {calibration.threshold:.2f}: {answered} answered, "
        f"{right} right, precision {precision:.3f}, recall {recall:.3f} (dev: precision "
        f"{calibration.precision}, recall {calibration.recall})"
    )
    print(line)
    request.config.stash.setdefault(QUALITY_KEY, []).append(line)
    assert precision >= 0.8, line
    assert recall >= 0.85, line


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_a_question_matching_an_article_exactly_is_answered_not_handed_over(
    memory_kb: KnowledgeBase, locale: str
) -> None:
    bot = FirstLineBot(RetrievalAnswerer(memory_kb))
    for article in load_articles():
        if article["locale"] != locale:
            continue
        decision = bot.decide(article["title"], locale=locale)
        if isinstance(decision, Handover) and decision.reason is HandoverReason.CUSTOMER_ASKED:
            continue  # "Чат-бот и переключение на оператора" asks for an operator
        assert isinstance(decision, BotReply), (article["title"], decision)
        assert decision.article_ids == (article["key"],)


def test_questions_no_article_answers_are_handed_over(memory_kb: KnowledgeBase) -> None:
    bot = FirstLineBot(RetrievalAnswerer(memory_kb))
    unanswerable = [q for q in load_questions(answerable=False) if not q.answers]
    answered = [
        q.text for q in unanswerable if isinstance(bot.decide(q.text, locale=q.locale), BotReply)
    ]
    assert len(answered) <= len(unanswerable) // 10, answered


def test_a_calibration_with_the_wrong_features_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="weights"):
        BotCalibration(0.0, (1.0,), 0.5)
    with pytest.raises(ConfigurationError, match="features"):
        BotCalibration.from_json(
            '{"features": ["x"], "intercept": 0, "weights": [], "threshold": 1}'
        )
    with pytest.raises(ConfigurationError, match="threshold"):
        BotCalibration(0.0, (1.0, 1.0, 1.0), 1.5)


def test_calibration_round_trips_through_json() -> None:
    shipped = BotCalibration.shipped()
    assert BotCalibration.from_json(shipped.to_json()) == shipped
