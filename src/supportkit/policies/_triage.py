"""Triage rules: category, priority and tags for a new ticket, from its first message.

A :class:`TriageRule` matches when *all* its conditions hold: any of its
keywords (a word or a phrase) appears in the subject or text, the channel
is one of its channels, the customer segment is one of its segments. An
empty condition always holds. :class:`Triage` evaluates the rules in order:

* ``MatchMode.ALL`` (default): every matching rule contributes. The
  category (and the kind of support, ``kind=``) comes from the first matching
  rule that sets one, the priority
  is the highest any matching rule sets, the tags are the union.
* ``MatchMode.FIRST``: only the first matching rule applies.

Keywords are compared as sequences of terms produced by *terms*. The
default is plain lower-cased words; pass
``supportkit.knowledge.Analyzer().terms`` to match stemmed words, so that
"refund" also matches "refunds" and "возврат" matches "возврата".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence

import attrs

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._model import Priority, Ticket

from .._fields import str_tuple

__all__ = ["MatchMode", "Triage", "TriageResult", "TriageRule", "simple_terms"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

Terms = Callable[[str], Sequence[str]]


def simple_terms(text: str) -> list[str]:
    """Lower-cased words, ``ё`` folded to ``е``; no stemming."""
    return _WORD.findall(text.lower().replace("ё", "е"))


class MatchMode(enum.StrEnum):
    FIRST = "first"
    ALL = "all"


def _frozen_strs(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


@attrs.frozen
class TriageRule:
    """When the conditions hold, set *category*, *priority* and add *tags*."""

    name: str
    keywords: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    channels: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strs)
    segments: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strs)
    category: str | None = None
    priority: Priority | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen_strs)
    kind: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.keywords or self.channels or self.segments):
            raise ConfigurationError(
                f"triage rule {self.name!r} has no condition; give it keywords, channels "
                "or segments (a rule that always matches is a default, set it on the desk)"
            )
        if self.category is None and self.priority is None and not self.tags and not self.kind:
            raise ConfigurationError(
                f"triage rule {self.name!r} changes nothing; set a category, priority, tags or kind"
            )


@attrs.frozen
class TriageResult:
    """What triage decided; ``None`` means "leave as it is"."""

    category: str | None = None
    priority: Priority | None = None
    tags: frozenset[str] = frozenset()
    matched_rules: tuple[str, ...] = ()
    kind: str | None = None

    def apply_to(self, ticket: Ticket) -> None:
        """Set the decided fields on *ticket* (a registration use case calls this)."""
        if self.category is not None:
            ticket.category = self.category
        if self.priority is not None:
            ticket.priority = self.priority
        ticket.tags = ticket.tags | self.tags


class Triage:
    """An ordered list of rules and how to combine them."""

    def __init__(
        self,
        rules: Iterable[TriageRule],
        *,
        mode: MatchMode = MatchMode.ALL,
        terms: Terms = simple_terms,
    ) -> None:
        self.rules = tuple(rules)
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigurationError(f"triage rule names must be unique; repeated: {dupes}")
        self.mode = MatchMode(mode)
        self._terms = terms
        self._keywords: list[tuple[tuple[str, ...], ...]] = []
        for rule in self.rules:
            compiled = []
            for keyword in rule.keywords:
                kw_terms = tuple(terms(keyword))
                if not kw_terms:
                    raise ConfigurationError(
                        f"triage rule {rule.name!r}: keyword {keyword!r} has no words to match"
                    )
                compiled.append(kw_terms)
            self._keywords.append(tuple(compiled))

    def _matches(self, index: int, words: Sequence[str], channel: str, segment: str | None) -> bool:
        rule = self.rules[index]
        if rule.channels and channel not in rule.channels:
            return False
        if rule.segments and segment not in rule.segments:
            return False
        keywords = self._keywords[index]
        return not keywords or any(_contains(words, kw) for kw in keywords)

    def classify(
        self,
        subject: str,
        text: str = "",
        *,
        channel: str,
        segment: str | None = None,
    ) -> TriageResult:
        """Triage a new ticket from its subject, first message, channel and customer segment."""
        words = [*self._terms(subject), "\x00", *self._terms(text)]
        category: str | None = None
        kind: str | None = None
        priority: Priority | None = None
        tags: set[str] = set()
        matched: list[str] = []
        for i, rule in enumerate(self.rules):
            if not self._matches(i, words, channel, segment):
                continue
            matched.append(rule.name)
            if category is None:
                category = rule.category
            if kind is None:
                kind = rule.kind
            if rule.priority is not None and (priority is None or rule.priority > priority):
                priority = rule.priority
            tags |= rule.tags
            if self.mode is MatchMode.FIRST:
                break
        return TriageResult(category, priority, frozenset(tags), tuple(matched), kind)


def _contains(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 1:
        return phrase[0] in words
    first = phrase[0]
    return any(
        words[i] == first and tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)
    )
