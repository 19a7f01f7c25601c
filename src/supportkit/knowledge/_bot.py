"""The first-line bot: answer from the knowledge base, or hand over to a person.

The bot is pure and stateless: the caller (the desk) passes the number of
turns the bot already took on the ticket, records every turn as a message
and performs the hand-off. The part that produces answers is the
:class:`Answerer` Protocol; :class:`RetrievalAnswerer` (the default) answers
with the best knowledge base article and needs no network.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import attrs

from supportkit.domain._errors import ConfigurationError

from ._calibration import BotCalibration, ranking_features
from ._kb import ArticleMatch, KnowledgeBase
from ._stem import Analyzer

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

__all__ = [
    "DEFAULT_HANDOVER_PHRASES",
    "Answer",
    "Answerer",
    "BotDecision",
    "BotReply",
    "FirstLineBot",
    "Handover",
    "HandoverReason",
    "RetrievalAnswerer",
]

DEFAULT_HANDOVER_PHRASES: tuple[str, ...] = (
    # English
    "human",
    "humans",
    "real person",
    "live person",
    "operator",
    "agent",
    "agents",
    "operators",
    "representative",
    "talk to someone",
    "speak to someone",
    # Russian (matched on stems, so any case ending works: "оператора", "оператором")
    "оператор",
    "живой человек",
    "позовите человека",
    "соедините с человеком",
    "поговорить с человеком",
    "сотрудник поддержки",
    "менеджер",
    "специалист",
    "консультант",
)


@attrs.frozen
class Answer:
    """What an answerer proposes: text, how sure it is (0..1) and the articles used."""

    text: str
    confidence: float
    article_ids: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0 or math.isnan(self.confidence):
            raise ConfigurationError(
                f"answer confidence must be between 0 and 1, got {self.confidence!r}; "
                "an Answerer must normalise its score"
            )


@runtime_checkable
class Answerer(Protocol):
    """Anything that can propose an answer: retrieval, a language model, rules, ..."""

    def answer(self, question: str, locale: str) -> Answer:
        """Propose an answer to *question* written in *locale*."""
        ...


class RetrievalAnswerer:
    """Answer with the best published article in the customer's locale.

    The confidence is a calibrated probability that the best article answers
    the question (:class:`BotCalibration`: a logistic model over the ranking
    features, fitted on a labelled question set; default: the shipped fit for
    how *knowledge_base* searches, with or without its semantic re-ranker).
    """

    def __init__(
        self, knowledge_base: KnowledgeBase, *, calibration: BotCalibration | None = None
    ) -> None:
        self.knowledge_base = knowledge_base
        self.calibration = calibration or BotCalibration.shipped(
            semantic=knowledge_base.reranker is not None
        )

    def features(self, question: str, locale: str) -> tuple[ArticleMatch, tuple[float, ...]] | None:
        """The best match for *question* and its ranking features (None: nothing found)."""
        matches = self.knowledge_base.search(question, locale=locale, limit=2)
        if not matches:
            return None
        best = matches[0]
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        planner = self.knowledge_base.planner
        return best, ranking_features(planner, question, best.score, runner_up)

    def answer(self, question: str, locale: str) -> Answer:
        found = self.features(question, locale)
        if found is None:
            return Answer("", 0.0, ())
        best, features = found
        text = f"{best.article.title}\n\n{best.article.body.strip()}"
        return Answer(text, self.calibration.probability(features), (best.article.id,))


class HandoverReason(enum.StrEnum):
    CUSTOMER_ASKED = "customer_asked"
    LOW_CONFIDENCE = "low_confidence"
    TURN_LIMIT = "turn_limit"


@attrs.frozen
class BotReply:
    """The bot answers: send *text* to the customer as the bot's message."""

    text: str
    confidence: float
    article_ids: tuple[str, ...]


@attrs.frozen
class Handover:
    """A person takes over; *answer* is what the bot would have said (for the agent)."""

    reason: HandoverReason
    detail: str
    answer: Answer | None = None


BotDecision = BotReply | Handover


class FirstLineBot:
    """Decide, for one inbound message, whether the bot answers or hands over.

    Hands over when the customer asks for a person (any of *handover_phrases*,
    matched word by word, Russian words by stem), when the bot already took *max_turns* turns on
    the ticket, or when the answer's confidence is below *min_confidence* (default: the
    threshold of the answerer's calibration, chosen on labelled questions; else 0.5).
    """

    def __init__(
        self,
        answerer: Answerer,
        *,
        min_confidence: float | None = None,
        max_turns: int = 3,
        handover_phrases: Iterable[str] = DEFAULT_HANDOVER_PHRASES,
        analyzer: Analyzer | None = None,
    ) -> None:
        if min_confidence is None:
            calibration = getattr(answerer, "calibration", None)
            min_confidence = (
                calibration.threshold if isinstance(calibration, BotCalibration) else 0.5
            )
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigurationError(f"min_confidence must be in 0..1, got {min_confidence!r}")
        if max_turns < 1:
            raise ConfigurationError(
                f"max_turns must be at least 1, got {max_turns!r}; "
                "to send everything to people, do not use a bot"
            )
        self.answerer = answerer
        self.min_confidence = min_confidence
        self.max_turns = max_turns
        self._analyzer = analyzer or Analyzer()
        self._phrases: list[tuple[str, tuple[str, ...]]] = []
        for phrase in handover_phrases:
            terms = tuple(self._phrase_terms(phrase))
            if not terms:
                raise ConfigurationError(f"handover phrase {phrase!r} has no words to match")
            self._phrases.append((phrase, terms))

    def _phrase_terms(self, text: str) -> list[str]:
        # Russian words are stemmed (rich inflection); English words are compared
        # as written, because English stems conflate "humane" with "human".
        a = self._analyzer
        return [
            a.stem(t) if _CYRILLIC.search(t) else t for t in a.tokens(text) if not a.is_stop_word(t)
        ]

    def asks_for_person(self, text: str) -> str | None:
        """The handover phrase found in *text*, or None."""
        terms = self._phrase_terms(text)
        for phrase, wanted in self._phrases:
            n = len(wanted)
            for i in range(len(terms) - n + 1):
                if tuple(terms[i : i + n]) == wanted:
                    return phrase
        return None

    def decide(self, text: str, *, locale: str, turns_taken: int = 0) -> BotDecision:
        """The bot's decision on an inbound message; *turns_taken* is its answers so far."""
        phrase = self.asks_for_person(text)
        if phrase is not None:
            return Handover(
                HandoverReason.CUSTOMER_ASKED, f"customer asked for a person ({phrase!r})"
            )
        if turns_taken >= self.max_turns:
            return Handover(
                HandoverReason.TURN_LIMIT,
                f"the bot already answered {turns_taken} times (limit {self.max_turns})",
            )
        answer = self.answerer.answer(text, locale)
        if answer.confidence < self.min_confidence or not answer.text.strip():
            return Handover(
                HandoverReason.LOW_CONFIDENCE,
                f"confidence {answer.confidence:.2f} is below {self.min_confidence:.2f}",
                answer,
            )
        return BotReply(answer.text, answer.confidence, answer.article_ids)
