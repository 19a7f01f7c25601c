"""Knowledge base search latency: supportkit's FTS5 index against a raw FTS5 query.

At 1,000 and 10,000 published articles (generated from the bilingual test
KB in ``tests/data/kb`` with variations: every article is a test article
with its sentences shuffled, a product name added to the title and a few
words from the rest of the corpus mixed into the body), it times:

- ``fts5-index``: ``FTS5SearchIndex.search(question, locale, 10)``: the
  whole path: analysis of the question (lemmas, stems), typo correction
  against the index vocabulary, synonym expansion (the starter list), roots,
  the MATCH query with the locale filter and weighted ``bm25()``, hit objects.
- ``kb-fts5``: ``KnowledgeBase.search`` over that index (adds the article
  look-up per hit).
- ``raw-fts5`` (the floor the issue names): a plain FTS5 table of Snowball
  stems of title, tags and body (no stop-word removal, no roots) on the same
  articles, ``SELECT rowid FROM plain WHERE plain MATCH ? ORDER BY bm25(plain)
  LIMIT 10`` with the MATCH expression (the question's stems OR-ed) prepared
  outside the timing; no locale filter, no weights, no id look-up.
- ``memory-bm25``: ``MemorySearchIndex.search`` (pure Python) on the same articles.

With ``--semantic`` (needs ``supportkit[semantic]``) it also times, in the
same rounds, ``kb-fts5+semantic``: ``KnowledgeBase.search`` with the
``SemanticReranker`` (multilingual-e5-small, ``E5Encoder(threads=1)``: ONNX
Runtime when installed; the question encoded on a worker thread while BM25
searches, the default), and ``kb-fts5+semantic-seq``: the same with
``overlap=False`` (encoded after BM25). Every question is encoded afresh (no question
cache). Article vectors are what a running desk has cached: to keep the
set-up short, each generated article uses the vector of the test article it
was made from (encoded once), which changes the ranking, not the time.
The overlap runs on a second thread, whose CPU time a thread clock would
not see: ``--semantic`` therefore always uses the wall clock.

Queries are the labelled questions of ``tests/data/kb/questions_*.toml``
(English and Russian, with the unanswerable ones), repeated for
``--rounds`` rounds after a warm-up. The database is a file in WAL mode,
warm in the page cache. Target: fts5-index p95 within 2x of the floor.

    .venv/bin/python benchmarks/bench_kb.py                # 1k and 10k
    .venv/bin/python benchmarks/bench_kb.py --sizes 1000 --rounds 5
    .venv/bin/python benchmarks/bench_kb.py --sizes 10000 --semantic
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "kb"
sys.path.insert(0, str(ROOT / "src"))

from supportkit.knowledge import (  # noqa: E402
    Analyzer,
    E5Encoder,
    FTS5SearchIndex,
    IndexedDocument,
    KnowledgeBase,
    MemorySearchIndex,
    SemanticReranker,
)
from supportkit.knowledge._fts5 import fts5_query  # noqa: E402

AT = datetime(2026, 1, 1, tzinfo=UTC)
NOISE_MIN, NOISE_MAX = 2, 8
CACHE_KIB = 65_536  # the page cache the SQLite storage is expected to configure (64 MiB)
PRODUCTS = ["Alpha", "Nova", "Orbit", "Pulse", "Zenit", "Квант", "Вектор", "Сигма"]


def load() -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    articles: list[dict[str, object]] = []
    for locale in ("en", "ru"):
        with (DATA / f"articles_{locale}.toml").open("rb") as f:
            articles += [{**a, "locale": locale} for a in tomllib.load(f)["article"]]
    questions = []
    for locale in ("en", "ru"):
        with (DATA / f"questions_{locale}.toml").open("rb") as f:
            for texts in tomllib.load(f)["answers"].values():
                questions += [{"text": t, "locale": locale} for t in texts]
    return articles, questions


def generate(n: int, seed: int = 7) -> list[IndexedDocument]:
    """*n* article variants of the test KB, deterministic for a given seed."""
    articles, _ = load()
    rng = random.Random(seed)
    vocab: dict[str, list[str]] = {"en": [], "ru": []}
    for a in articles:
        vocab[str(a["locale"])] += str(a["body"]).split()
    docs = []
    for i in range(n):
        a = articles[i % len(articles)]
        locale = str(a["locale"])
        sentences = [s.strip() for s in str(a["body"]).replace("\n", " ").split(". ") if s.strip()]
        rng.shuffle(sentences)
        noise = " ".join(rng.choices(vocab[locale], k=rng.randint(NOISE_MIN, NOISE_MAX)))
        docs.append(
            IndexedDocument(
                article_id=f"a{i}",
                locale=locale,
                title=f"{a['title']} ({rng.choice(PRODUCTS)} {i})",
                body=". ".join(sentences) + ". " + noise,
                tags=tuple(a["tags"]),  # type: ignore[arg-type]
            )
        )
    return docs


def percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "p50": q[49] * 1e3,
        "p95": q[94] * 1e3,
        "p99": q[98] * 1e3,
        "mean": statistics.fmean(samples) * 1e3,
    }


def compare(
    backends: dict[str, Callable[[str, str], object]],
    queries: list[tuple[str, str]],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, dict[str, float]]:
    """Per round, every backend runs every query; figures are the median round.

    Interleaving the backends round by round and taking the median round
    keeps a neighbour process or a GC pause from deciding a comparison.
    """
    for fn in backends.values():  # warm-up
        for text, locale in queries:
            fn(text, locale)
    per_round: dict[str, list[dict[str, float]]] = {name: [] for name in backends}
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in backends.items():
                samples = []
                for text, locale in queries:
                    t0 = clock()
                    fn(text, locale)
                    samples.append(clock() - t0)
                per_round[name].append(percentiles(samples))
                gc.collect()
    finally:
        gc.enable()
    return {
        name: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        for name, rows in per_round.items()
    }


class SourceVectors:
    """An ``Encoder``: questions through e5, generated articles by their source's vector."""

    def __init__(self) -> None:
        self.e5 = E5Encoder(threads=1)
        articles, _ = load()
        texts = {str(a["title"]): f"{a['title']}\n{a['body']}" for a in articles}
        self.by_title = {title: self.e5.passage(text) for title, text in texts.items()}

    def query(self, text: str) -> Sequence[float]:
        return self.e5.query(text)

    def passage(self, text: str) -> Sequence[float]:
        # a generated title is "<source title> (<product> <n>)"
        return self.by_title[text.split("\n", 1)[0].rsplit(" (", 1)[0]]


def run(
    n: int, rounds: int, clock: Callable[[], float], semantic: bool = False
) -> tuple[dict[str, dict[str, float]], float]:
    _, questions = load()
    queries = [(q["text"], q["locale"]) for q in questions]
    docs = generate(n)
    analyzer = Analyzer()  # lemmas when pymorphy3 is installed
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "kb.sqlite", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        index = FTS5SearchIndex(conn, analyzer=analyzer)
        ids = iter(d.article_id for d in docs)
        kb = KnowledgeBase(index, id_source=lambda: next(ids))
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        for d in docs:
            kb.create(title=d.title, body=d.body, locale=d.locale, tags=d.tags, at=AT, publish=True)
        conn.execute("COMMIT")
        build_s = time.perf_counter() - t0
        # Merge the index segments and checkpoint the WAL: the state of a
        # knowledge base that is read far more often than it is written.
        conn.execute(f"INSERT INTO {index.table}({index.table}) VALUES ('optimize')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        memory = MemorySearchIndex(analyzer, planner=index.planner)
        for d in docs:
            memory.add(d)

        plain = Analyzer(stop_words=(), lemmas=False, root_length=0)
        conn.execute("CREATE VIRTUAL TABLE plain USING fts5(text)")
        conn.execute("BEGIN")
        for d in docs:
            text = " ".join(plain.terms(f"{d.title} {' '.join(d.tags)} {d.body}"))
            conn.execute("INSERT INTO plain (text) VALUES (?)", (text,))
        conn.execute("COMMIT")
        conn.execute("INSERT INTO plain(plain) VALUES ('optimize')")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        prepared = {q: fts5_query(plain.terms(q) or ["none"]) for q, _ in queries}
        sql = "SELECT rowid FROM plain WHERE plain MATCH ? ORDER BY bm25(plain) LIMIT 10"
        backends: dict[str, Callable[[str, str], object]] = {
            "fts5-index": lambda q, loc: index.search(q, loc, 10),
            "kb-fts5": lambda q, loc: kb.search(q, locale=loc, limit=10),
            "raw-fts5": lambda q, loc: conn.execute(sql, (prepared[q],)).fetchall(),
            "memory-bm25": lambda q, loc: memory.search(q, loc, 10),
        }
        if semantic:
            encoder = SourceVectors()
            for name, overlap in (("kb-fts5+semantic", True), ("kb-fts5+semantic-seq", False)):
                reranker = SemanticReranker(encoder, question_cache_size=0, overlap=overlap)
                backends[name] = partial(search_with, kb, reranker)
        results = compare(backends, queries, rounds, clock)
        conn.close()
    return results, build_s


def search_with(kb: KnowledgeBase, reranker: SemanticReranker, q: str, loc: str) -> object:
    kb.reranker = reranker
    try:
        return kb.search(q, locale=loc, limit=10)
    finally:
        kb.reranker = None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="also time the semantic re-ranker at the same sizes (needs supportkit[semantic])",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: perf_counter; cpu: this thread's CPU time, which leaves out time "
        "the scheduler gave to other processes (use on a loaded, shared machine)",
    )
    args = parser.parse_args()
    if args.semantic:
        args.clock = "wall"
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    print(
        f"# KB search latency (ms), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    n_questions = len(load()[1])
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {args.clock} clock, median of {args.rounds} rounds, each {n_questions} questions "
        "per backend; "
        f"{os.cpu_count()} CPUs, load average {load_avg:.2f} at start\n"
    )
    print("| articles | backend | p50 | p95 | p99 | mean | p95 / floor p95 |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    verdicts = []
    for n in args.sizes:
        r, build_s = run(n, args.rounds, clock, args.semantic)
        floor = r["raw-fts5"]["p95"]
        for name, f in r.items():
            print(
                f"| {n:,} | {name} | {f['p50']:.3f} | {f['p95']:.3f} | {f['p99']:.3f} | "
                f"{f['mean']:.3f} | {f['p95'] / floor:.2f}x |"
            )
        for name in ("fts5-index", "kb-fts5+semantic", "kb-fts5+semantic-seq"):
            if name not in r:
                continue
            p95 = r[name]["p95"]
            ok = p95 <= 2 * floor
            verdicts.append(
                f"{n:,} articles: {name} p95 {p95:.3f} ms vs floor {floor:.3f} ms "
                f"({p95 / floor:.2f}x) -> {'meets' if ok else 'MISSES'} target (<=2x)"
            )
        verdicts.append(f"{n:,} articles: index build {build_s:.2f} s")
    print()
    for v in verdicts:
        print(v)


if __name__ == "__main__":
    main()
