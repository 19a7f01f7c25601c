from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ConfigurationError
from supportkit.knowledge import (
    Answer,
    Answerer,
    BotCalibration,
    BotReply,
    FirstLineBot,
    Handover,
    HandoverReason,
    KnowledgeBase,
    RetrievalAnswerer,
    ranking_features,
)


class FixedAnswerer:
    def __init__(self, confidence: float) -> None:
        self.confidence = confidence
        self.asked: list[tuple[str, str]] = []

    def answer(self, question: str, locale: str) -> Answer:
        self.asked.append((question, locale))
        return Answer("Try turning it off and on.", self.confidence, ("kb-1",))


def test_a_custom_answerer_is_an_answerer() -> None:
    assert isinstance(FixedAnswerer(1.0), Answerer)


def test_bot_answers_when_confident() -> None:
    decision = FirstLineBot(FixedAnswerer(0.9)).decide("My router is slow", locale="en")
    assert decision == BotReply("Try turning it off and on.", 0.9, ("kb-1",))


def test_bot_hands_over_when_not_confident_and_passes_its_draft_to_the_agent() -> None:
    decision = FirstLineBot(FixedAnswerer(0.2), min_confidence=0.5).decide("???", locale="en")
    assert isinstance(decision, Handover)
    assert decision.reason is HandoverReason.LOW_CONFIDENCE
    assert decision.answer is not None
    assert decision.answer.confidence == 0.2
    assert "0.20 is below 0.50" in decision.detail


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Can I speak to a real person please",
        "connect me with an operator",
        "AGENT!",
        "Позовите оператора",
        "соедините с живым человеком, пожалуйста",
        "соедините меня, пожалуйста, с человеком",
        "can I talk to someone from support",
        "хочу поговорить с человеком",
        "Нужен менеджер",
    ],
)
def test_bot_hands_over_when_the_customer_asks_for_a_person(text: str) -> None:
    answerer = FixedAnswerer(1.0)
    decision = FirstLineBot(answerer).decide(text, locale="en")
    assert isinstance(decision, Handover)
    assert decision.reason is HandoverReason.CUSTOMER_ASKED
    assert answerer.asked == [], "no answer is attempted once a person is asked for"


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Где моя посылка?",
        "humane society donation receipt",
        "the person who ordered is my colleague",
        "в команде пять человек",
    ],
)
def test_ordinary_questions_are_not_taken_as_a_request_for_a_person(text: str) -> None:
    assert FirstLineBot(FixedAnswerer(1.0)).asks_for_person(text) is None


def test_bot_hands_over_after_the_turn_limit() -> None:
    bot = FirstLineBot(FixedAnswerer(1.0), max_turns=2)
    assert isinstance(bot.decide("still broken", locale="en", turns_taken=1), BotReply)
    decision = bot.decide("still broken", locale="en", turns_taken=2)
    assert isinstance(decision, Handover)
    assert decision.reason is HandoverReason.TURN_LIMIT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"max_turns": 0}, "max_turns"),
        ({"handover_phrases": ["!!!"]}, "no words"),
    ],
)
def test_bot_configuration_errors_are_clear(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FirstLineBot(FixedAnswerer(1.0), **kwargs)  # type: ignore[arg-type]


def test_answer_confidence_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="between 0 and 1"):
        Answer("x", 1.2)


# -- the default retrieval answerer over the test KB ---------------------------


def test_retrieval_answerer_answers_from_the_best_article(memory_kb: KnowledgeBase) -> None:
    answer = RetrievalAnswerer(memory_kb).answer("I forgot my password", "en")
    assert answer.article_ids == ("en-reset-password",)
    assert answer.text.startswith("Reset a forgotten password")
    assert answer.confidence >= 0.5


def test_retrieval_answerer_is_not_confident_about_unrelated_questions(
    memory_kb: KnowledgeBase,
) -> None:
    for question, locale in [
        ("what is the weather like in Paris tomorrow", "en"),
        ("посоветуйте рецепт борща", "ru"),
    ]:
        answerer = RetrievalAnswerer(memory_kb)
        assert answerer.answer(question, locale).confidence < answerer.calibration.threshold


def test_retrieval_answerer_with_no_match_has_zero_confidence(memory_kb: KnowledgeBase) -> None:
    assert RetrievalAnswerer(memory_kb).answer("zzzz qqqq", "en") == Answer("", 0.0, ())


@given(best=st.floats(0, 1e6), runner_up=st.floats(0, 1e6), terms=st.integers(0, 500))
def test_calibrated_confidence_is_always_between_zero_and_one(
    best: float, runner_up: float, terms: int
) -> None:
    kb = KnowledgeBase()
    features = ranking_features(kb.planner, " ".join(["word"] * terms), best, min(best, runner_up))
    assert 0.0 <= BotCalibration.shipped().probability(features) <= 1.0


def test_bot_end_to_end_answers_one_question_and_hands_another_over(
    memory_kb: KnowledgeBase,
) -> None:
    bot = FirstLineBot(RetrievalAnswerer(memory_kb))
    reply = bot.decide("Посылка пришла, а товар внутри сломан", locale="ru")
    assert isinstance(reply, BotReply)
    assert reply.article_ids == ("ru-damaged-item",)
    handover = bot.decide("мой вопрос про что-то совсем другое", locale="ru", turns_taken=1)
    assert isinstance(handover, Handover)
    assert handover.reason is HandoverReason.LOW_CONFIDENCE
