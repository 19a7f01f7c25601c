"""Which language a customer wrote in, when the channel does not say.

A script-based guess: it is certain for the scripts that belong to few
languages (Cyrillic, Greek, Hebrew, Arabic, Hangul, kana, Han) and says
nothing about Latin text, where the desk's default applies. Pure and cheap:
it reads at most the first 2,000 characters.
"""

from __future__ import annotations

__all__ = ["detect_language"]

_SAMPLE = 2_000
_MIN_LETTERS = 3
_UKRAINIAN = frozenset("іїєґІЇЄҐ")
_BELARUSIAN = frozenset("ўЎ")


def _script(ch: str) -> str | None:
    o = ord(ch)
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if 0x0370 <= o <= 0x03FF:
        return "el"
    if 0x0590 <= o <= 0x05FF:
        return "he"
    if 0x0600 <= o <= 0x06FF:
        return "ar"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF:
        return "ko"
    if 0x3040 <= o <= 0x30FF:
        return "ja"
    if 0x4E00 <= o <= 0x9FFF:
        return "han"
    if ch.isalpha():
        return "latin"
    return None


def detect_language(text: str) -> str | None:
    """The language *text* is written in (``"ru"``, ``"uk"``, ``"el"``, ...), or None.

    None means "cannot tell": Latin-script text, too few letters, or a mix
    with no script holding most letters.

    >>> detect_language("Здравствуйте, не приходит счёт за май")
    'ru'
    >>> detect_language("My invoice is wrong") is None
    True
    """
    sample = text[:_SAMPLE]
    if sample.isascii():  # every ASCII letter is Latin: nothing to tell, without a loop
        return None
    counts: dict[str, int] = {}
    for ch in sample:
        script = _script(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    letters = sum(counts.values())
    if letters < _MIN_LETTERS:
        return None
    script, n = max(counts.items(), key=lambda kv: kv[1])
    if n * 2 <= letters or script == "latin":
        return None
    if script == "cyrillic":
        if any(ch in _UKRAINIAN for ch in sample):
            return "uk"
        return "be" if any(ch in _BELARUSIAN for ch in sample) else "ru"
    if script == "han":  # Han with kana is Japanese; Han alone, Chinese
        return "ja" if counts.get("ja") else "zh"
    return script
