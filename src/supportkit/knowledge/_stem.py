"""Text analysis for knowledge base search: tokens, stop words, Snowball stems.

Every token is stemmed by the language of its own script (Cyrillic tokens by
the Russian stemmer, everything else by the English one), so a question that
mixes "API" and "ключ" is analysed correctly without knowing its locale.
The same :class:`Analyzer` feeds the in-memory index, the FTS5 index (which
stores pre-stemmed text) and keyword triage, so all of them agree on terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from supportkit.domain._errors import ConfigurationError

__all__ = ["ENGLISH_STOP_WORDS", "RUSSIAN_STOP_WORDS", "Analyzer"]

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


class Analyzer:
    """Turn text into search terms: lower-cased, stop words dropped, stemmed.

    >>> Analyzer().terms("Забыл пароль от аккаунта, how do I reset passwords?")
    ['заб', 'парол', 'аккаунт', 'reset', 'password']

    Stems are cached per analyzer (bounded), so repeated words cost a dict look-up.
    """

    def __init__(
        self,
        *,
        stop_words: Iterable[str] | None = None,
        cache_size: int = 100_000,
    ) -> None:
        self._stop = (
            frozenset(stop_words)
            if stop_words is not None
            else ENGLISH_STOP_WORDS | RUSSIAN_STOP_WORDS
        )
        self._english, self._russian = _load_stemmers()
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def tokens(self, text: str) -> list[str]:
        """Lower-cased word tokens (letters and digits), ``ё`` folded to ``е``."""
        return _TOKEN.findall(text.lower().replace("ё", "е"))

    def stem(self, token: str) -> str:
        """Stem one lower-cased token with the stemmer of its script."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        stem = self._russian(token) if _CYRILLIC.search(token) else self._english(token)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = stem
        return stem

    def is_stop_word(self, token: str) -> bool:
        return token in self._stop

    def terms(self, text: str) -> list[str]:
        """The stemmed terms of *text* in order, stop words and 1-letter words removed."""
        stop = self._stop
        return [
            self.stem(tok)
            for tok in self.tokens(text)
            if tok not in stop and (len(tok) > 1 or tok.isdigit())
        ]

    def __call__(self, text: str) -> list[str]:
        return self.terms(text)
