"""Per-desk synonyms: words and phrases a customer may use for the words of the articles.

A :class:`Synonyms` list is groups of equivalent words or phrases
(``["refund", "money back", "reimburse"]``). Each group is one *concept*:
wherever an article or a question contains any entry of a group (matched on
analysed terms, so any inflection works), a concept token (``~~`` and the
group's first entry) is added beside the words. The concept has its own
document frequency, so a question's "поддержка" does not pull in every
rare synonym at full weight; it counts once, as one more term. Editing the
list re-indexes the published articles (in the edit's transaction). The desk
owner edits the list (``KnowledgeBase.set_synonyms``; it is stored with the
knowledge base) starting from :meth:`Synonyms.starter`, a list of common
support vocabulary in English and Russian shipped with the package.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Sequence
from importlib import resources

import attrs

from supportkit.domain._errors import ValidationError

from ._stem import ROOT_MARK, Analyzer

__all__ = ["CompiledSynonyms", "Synonyms"]

MAX_GROUPS = 10_000
CONCEPT_MARK = ROOT_MARK * 2


def _group(entries: Iterable[str]) -> tuple[str, ...]:
    if isinstance(entries, str):
        raise ValidationError(
            f"a synonym group must be a list of words or phrases, got the string {entries!r}"
        )
    group = tuple(dict.fromkeys(e.strip() for e in entries if e.strip()))
    if len(group) < 2:
        raise ValidationError(
            f"a synonym group needs at least two different words or phrases, got {list(entries)!r}"
        )
    return group


def _groups(groups: Iterable[Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(_group(g) for g in groups)


@attrs.frozen
class Synonyms:
    """Groups of equivalent words or phrases (each group at least two entries)."""

    groups: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=_groups)

    def __attrs_post_init__(self) -> None:
        if len(self.groups) > MAX_GROUPS:
            raise ValidationError(
                f"a synonym list may hold at most {MAX_GROUPS} groups, got {len(self.groups)}"
            )

    @classmethod
    def starter(cls) -> Synonyms:
        """The shipped starter list of support vocabulary (English and Russian)."""
        text = resources.files(__package__).joinpath("synonyms_starter.toml").read_text("utf-8")
        return cls.from_toml(text)

    @classmethod
    def from_toml(cls, text: str) -> Synonyms:
        """Read ``groups = [["refund", "money back"], ...]`` from TOML text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(f"synonym list is not valid TOML: {exc}") from exc
        groups = data.get("groups")
        if not isinstance(groups, list):
            raise ValidationError(
                "a synonym list needs a top-level 'groups' array of arrays of strings, "
                'e.g. groups = [["refund", "money back"]]'
            )
        return cls(groups)

    def to_toml(self) -> str:
        """The list as TOML that :meth:`from_toml` reads back."""
        lines = ["groups = ["]
        for g in self.groups:
            lines.append("    [" + ", ".join(_quote(e) for e in g) + "],")
        lines.append("]")
        return "\n".join(lines) + "\n"

    @property
    def fingerprint(self) -> str:
        """A short hash of the groups: an index built with other synonyms is rebuilt."""
        return hashlib.sha256(repr(self.groups).encode()).hexdigest()[:12]

    def with_group(self, *entries: str) -> Synonyms:
        """A copy with one more group."""
        return Synonyms((*self.groups, entries))

    def compile(self, analyzer: Analyzer) -> CompiledSynonyms:
        """The groups as analysed term sequences, ready to expand questions."""
        return CompiledSynonyms(analyzer, self.groups)


def _quote(entry: str) -> str:
    return '"' + entry.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CompiledSynonyms:
    """Synonym groups analysed into term sequences by one analyzer."""

    def __init__(self, analyzer: Analyzer, groups: Sequence[Sequence[str]]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self._groups: list[list[tuple[str, ...]]] = []
        self._tokens: list[str] = []
        for g in groups:
            entries = [tuple(analyzer.terms(e)) for e in g]
            entries = [e for e in dict.fromkeys(entries) if e]
            if len(entries) < 2:
                continue
            gid = len(self._groups)
            self._groups.append(entries)
            self._tokens.append(CONCEPT_MARK + "".join(entries[0]))
            for entry in entries:
                self._by_first.setdefault(entry[0], []).append((entry, gid))

    def __len__(self) -> int:
        return len(self._groups)

    def concepts(self, terms: list[str]) -> tuple[list[str], set[str]]:
        """The concept token of every entry found in *terms* (in order), and the terms matched."""
        found: list[str] = []
        matched: set[str] = set()
        for i, term in enumerate(terms):
            for entry, gid in self._by_first.get(term, ()):
                if tuple(terms[i : i + len(entry)]) == entry:
                    matched.update(entry)
                    found.append(self._tokens[gid])
        return found, matched
