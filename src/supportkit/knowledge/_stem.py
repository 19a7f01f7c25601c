"""Text analysis for knowledge base search: tokens, stop words, lemmas, Snowball stems, roots.

Every token is stemmed by the language of its own script (Cyrillic tokens by
the Russian stemmer, everything else by the English one), so a question that
mixes "API" and "ключ" is analysed correctly without knowing its locale.
Russian tokens are first reduced to their dictionary form (lemma) when the
optional ``pymorphy3`` package is installed (``supportkit[lemmas]``), so
"шёл" and "идти", "людей" and "человек" meet; without it the Snowball stem
alone is used. A *root* (the first letters of a term, marked ``~``) is
indexed beside each term, so a verb in the question finds the noun in the
article ("установить" / "установка").
The same :class:`Analyzer` feeds the in-memory index, the FTS5 index (which
stores pre-analysed text) and keyword triage, so all of them agree on terms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from supportkit.domain._errors import ConfigurationError

__all__ = [
    "DEFAULT_STOP_WORDS",
    "ENGLISH_STOP_WORDS",
    "ROOT_MARK",
    "RUSSIAN_STOP_WORDS",
    "Analyzer",
    "lemmas_available",
]

ROOT_MARK = "~"
DEFAULT_ROOT_LENGTH = 6

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing done during each
    few for from further get got had has have having he her here hers herself him himself
    his how i if in into is it its itself just let me more most my myself no nor not now
    of on once only or other our ours ourselves over own please same she should
    so some such than that the their theirs them themselves then there these they this
    those through to too under until very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t don doesn didn isn
    can't cannot won i'm im ve ll re d also still yet hi hello thanks thank
    """.split()  # noqa: SIM905
)

RUSSIAN_STOP_WORDS: frozenset[str] = frozenset(
    """
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
    ее её мне было вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или
    ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут
    где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз тоже себе под
    будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой
    тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой
    хоть после над больше тот через эти нас про всего них какая много разве три эту моя
    впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда
    конечно всю между это мое моё мои мою моего моей моим моих ваш ваша ваше ваши вашего
    вашей вашу вашим ваших свой своя свои своего своей своим своих меня мной нам нами
    пожалуйста здравствуйте привет спасибо добрый день как-то почему что-то ли
    """.split()  # noqa: SIM905
)


DEFAULT_STOP_WORDS: frozenset[str] = RUSSIAN_STOP_WORDS
"""Measured on the development half of the question set (docs/knowledge-base.md):
removing English stop words lost top-1 answers ("when", "where", "how long"
carry the question), removing Russian ones helped; so only Russian ones go."""


def _load_stemmers() -> tuple[Callable[[str], str], Callable[[str], str]]:
    try:
        import snowballstemmer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError(
            "knowledge base search needs the snowballstemmer package for English and "
            "Russian stemming; install it with: pip install 'supportkit[search]'"
        ) from exc
    english: Any = snowballstemmer.stemmer("english")
    russian: Any = snowballstemmer.stemmer("russian")
    return english.stemWord, russian.stemWord


def _load_morph() -> Any | None:
    try:
        import pymorphy3
    except ImportError:
        return None
    return pymorphy3.MorphAnalyzer(lang="ru")


def lemmas_available() -> bool:
    """Whether Russian lemmas can be used (``pymorphy3`` and its dictionary are installed)."""
    try:
        import pymorphy3  # noqa: F401
    except ImportError:
        return False
    return True


class Analyzer:
    """Turn text into search terms: lower-cased, stop words dropped, lemmatised, stemmed.

    >>> Analyzer(lemmas=False).terms("Забыл пароль от аккаунта, how do I reset passwords?")
    ['заб', 'парол', 'аккаунт', 'reset', 'password']

    *lemmas*: reduce Russian words to their dictionary form before stemming
    (None: when ``pymorphy3`` is installed). *root_length*: the letters kept
    in a term's root (0: no roots). Terms are cached per analyzer (bounded),
    so repeated words cost a dict look-up.
    """

    def __init__(
        self,
        *,
        stop_words: Iterable[str] | None = None,
        lemmas: bool | None = None,
        root_length: int = DEFAULT_ROOT_LENGTH,
        cache_size: int = 100_000,
    ) -> None:
        self._stop = frozenset(stop_words) if stop_words is not None else DEFAULT_STOP_WORDS
        self._english, self._russian = _load_stemmers()
        self._morph: Any | None = None
        if lemmas or lemmas is None:
            self._morph = _load_morph()
            if self._morph is None and lemmas:
                raise ConfigurationError(
                    "Russian lemmas need the pymorphy3 package and its dictionary; install them "
                    "with: pip install 'supportkit[lemmas]' (or pass lemmas=None to fall back "
                    "to Snowball stems when they are absent)"
                )
        if root_length < 0:
            raise ConfigurationError(f"root_length must be 0 or more, got {root_length!r}")
        self.root_length = root_length
        self._cache: dict[str, str] = {}
        self._unknown: dict[str, bool] = {}
        self._cache_size = cache_size

    @property
    def uses_lemmas(self) -> bool:
        """Whether Russian words are lemmatised (pymorphy3) before stemming."""
        return self._morph is not None

    @property
    def fingerprint(self) -> str:
        """What decides the indexed text: an index built with another fingerprint is rebuilt."""
        lemmas = "pymorphy3" if self._morph is not None else "none"
        stop = hashlib.sha256(" ".join(sorted(self._stop)).encode()).hexdigest()[:8]
        return f"analyzer-2;lemmas={lemmas};roots={self.root_length};stop={stop}"

    def tokens(self, text: str) -> list[str]:
        """Lower-cased word tokens (letters and digits), ``ё`` folded to ``е``."""
        return _TOKEN.findall(text.lower().replace("ё", "е"))

    def stem(self, token: str) -> str:
        """Stem one lower-cased token with the stemmer of its script."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if _CYRILLIC.search(token):
            morph = self._morph
            stem = self._russian(token if morph is None else morph.parse(token)[0].normal_form)
        else:
            stem = self._english(token)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = stem
        return stem

    def is_stop_word(self, token: str) -> bool:
        return token in self._stop

    def content_tokens(self, text: str) -> list[str]:
        """The tokens that become terms: stop words and 1-letter words removed."""
        stop = self._stop
        return [t for t in self.tokens(text) if t not in stop and (len(t) > 1 or t.isdigit())]

    def terms(self, text: str) -> list[str]:
        """The stemmed terms of *text* in order, stop words and 1-letter words removed."""
        return [self.stem(tok) for tok in self.content_tokens(text)]

    def misspelt(self, token: str) -> bool:
        """Whether *token* is a Russian word the dictionary does not know (needs lemmas)."""
        morph = self._morph
        return (
            morph is not None and bool(_CYRILLIC.search(token)) and not morph.word_is_known(token)
        )

    def roots(self, terms: Iterable[str]) -> list[str]:
        """The root of each term: its first *root_length* letters, marked with ``~``.

        Roots let words of one family meet when their stems differ (a verb and
        its noun); they are indexed in a field of their own with a low weight.
        Number terms have no root.
        """
        n = self.root_length
        if n == 0:
            return []
        return [ROOT_MARK + t[:n] for t in terms if len(t) >= n - 1 and not t.isdigit()]

    def __call__(self, text: str) -> list[str]:
        return self.terms(text)
