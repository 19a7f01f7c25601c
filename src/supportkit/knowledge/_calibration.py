"""The bot's confidence: a calibrated probability that the top article answers the question.

:func:`ranking_features` describes one search result (how strong the best
match is, how far ahead of the runner-up, how much of the question it
covers); :class:`BotCalibration` turns the features into a probability with
a logistic model fitted on a labelled question set (the development half of
``tests/data/kb``, by ``tests/knowledge/kb_calibration.py``) and carries the
threshold chosen on that set from its precision and recall. The fitted
coefficients ship as data (``bot_calibration.json``, and
``bot_calibration_semantic.json`` for a knowledge base with the semantic
re-ranker); a desk with its own
labelled questions fits its own and passes them to
:class:`~supportkit.knowledge.RetrievalAnswerer`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from importlib import resources
from typing import Any

import attrs

from supportkit.domain._errors import ConfigurationError

from ._search import QueryPlanner

__all__ = ["FEATURES", "BotCalibration", "ranking_features"]

LEXICAL_JSON = "bot_calibration.json"
SEMANTIC_JSON = "bot_calibration_semantic.json"

FEATURES: tuple[str, ...] = ("log_top_score", "margin", "log_terms")
"""The features, in order: log(1 + best BM25 score), (best - runner-up) / best,
log(1 + the question's terms). (The share of the question's terms found in
the best article was tried: collinear with the score, it got a negative
weight and made short questions that match an article exactly look unsure.)"""


def ranking_features(
    planner: QueryPlanner, question: str, best_score: float, runner_up: float
) -> tuple[float, ...]:
    """The :data:`FEATURES` of a search whose best match scored *best_score*."""
    terms = dict.fromkeys(planner.analyzer.terms(question))
    margin = (best_score - runner_up) / best_score if best_score > 0 else 0.0
    return (math.log1p(max(best_score, 0.0)), margin, math.log1p(len(terms)))


def _floats(values: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@attrs.frozen
class BotCalibration:
    """A logistic model over :data:`FEATURES` and the threshold chosen with it."""

    intercept: float
    weights: tuple[float, ...] = attrs.field(converter=_floats)
    threshold: float
    fitted_on: str = ""
    precision: float | None = None
    recall: float | None = None

    def __attrs_post_init__(self) -> None:
        if len(self.weights) != len(FEATURES):
            raise ConfigurationError(
                f"a bot calibration needs {len(FEATURES)} weights ({', '.join(FEATURES)}), "
                f"got {len(self.weights)}"
            )
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigurationError(f"calibration threshold must be in 0..1, got {self.threshold}")

    def probability(self, features: Sequence[float]) -> float:
        """The probability that the best article answers the question."""
        z = self.intercept + sum(w * x for w, x in zip(self.weights, features, strict=True))
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    @classmethod
    def shipped(cls, *, semantic: bool = False) -> BotCalibration:
        """The coefficients fitted on supportkit's labelled question set.

        *semantic*: the fit for a knowledge base searching with the
        :class:`~supportkit.knowledge.SemanticReranker` (its scores differ).
        """
        name = SEMANTIC_JSON if semantic else LEXICAL_JSON
        text = resources.files(__package__).joinpath(name).read_text("utf-8")
        return cls.from_json(text)

    @classmethod
    def from_json(cls, text: str) -> BotCalibration:
        try:
            data: dict[str, Any] = json.loads(text)
            if list(data["features"]) != list(FEATURES):
                raise ConfigurationError(
                    f"calibration features {data['features']} do not match {list(FEATURES)}; "
                    "fit it again with tests/knowledge/kb_calibration.py"
                )
            return cls(
                float(data["intercept"]),
                _floats(data["weights"]),
                float(data["threshold"]),
                str(data.get("fitted_on", "")),
                data.get("precision"),
                data.get("recall"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"bot calibration JSON is unreadable: {exc!r}") from exc

    def to_json(self) -> str:
        data = {
            "features": list(FEATURES),
            "intercept": self.intercept,
            "weights": list(self.weights),
            "threshold": self.threshold,
            "fitted_on": self.fitted_on,
            "precision": self.precision,
            "recall": self.recall,
        }
        return json.dumps(data, indent=2) + "\n"
