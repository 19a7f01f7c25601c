"""Turning the bytes of real mail into text, whatever the headers claim.

Mail lies about its charset: declarations are missing, misspelled
(``utf8``, ``cp-1251``, ``win-1251``), unknown to Python (``x-unknown``,
``ks_c_5601-1987``) or simply wrong (Windows-1251 labelled ISO-8859-1).
:func:`decode_bytes` tries, in order: pure ASCII, strict UTF-8 (valid UTF-8
with non-ASCII bytes is almost never anything else), the declared charset,
statistical detection (charset-normalizer, when installed), and finally the
declared charset or UTF-8 with replacement characters. It never raises.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["ENCODED_WORD_RUN", "decode_bytes", "decode_header_value", "normalise_charset"]

_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "cp-1251": "cp1251",
    "win-1251": "cp1251",
    "windows1251": "cp1251",
    "x-cp1251": "cp1251",
    "cp-1252": "cp1252",
    "win-1252": "cp1252",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "cp1252",
    "x-mac-cyrillic": "mac-cyrillic",
    "koi8r": "koi8-r",
}

_CRUFT = re.compile(r"[\"'\s]")


def normalise_charset(name: str | None) -> str | None:
    """A Python codec name for a charset label from mail, or None if unknown."""
    if not name:
        return None
    label = _CRUFT.sub("", name).lower()
    if label.startswith("charset="):
        label = label[len("charset=") :]
    label = _ALIASES.get(label, label)
    if not label.isascii() or not label.isprintable() or len(label) > 40:
        return None  # a NUL or control byte in a label: codecs.lookup raises ValueError
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - optional dependency
        return None
    try:
        best = from_bytes(data[:65536]).best()
    except Exception:  # pragma: no cover - detector bug: fall back
        return None
    if best is None:
        return None
    return normalise_charset(best.encoding)


#: labels that mean "nobody chose": an undeclared Russian text often arrives under them
_LATIN_DEFAULTS = frozenset({"ascii", "cp1252", "iso8859-1", "latin-1", "iso8859-15"})
_CYRILLIC_CODECS = ("cp1251", "koi8-r")
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")


def _cyrillic(data: bytes, declared: bool) -> str | None:
    """``cp1251`` or ``koi8-r`` when *data*'s 8-bit bytes read as Russian words, else None.

    Russian text puts its 8-bit bytes in runs (whole words), Western text
    one or two accented letters at a time; under a Latin label two such words
    are needed. Between the two Cyrillic codecs, the right
    one yields mostly lowercase letters: each codec's lowercase is the
    other's uppercase.
    """
    runs = _HIGH_RUN.findall(data[:65536])
    high = sum(len(r) for r in runs)
    words = [r for r in runs if len(r) >= 3]
    if high < 4 or sum(map(len, words)) < 0.7 * high:
        return None
    if declared and len(words) < 2:
        return None  # one run under a Latin label is more likely "äöüß" than Russian
    best, best_lower = None, 0.0
    for codec in _CYRILLIC_CODECS:
        text = b"".join(runs).decode(codec, errors="replace")
        letters = [c for c in text if "\u0400" <= c <= "\u04ff"]
        if len(letters) < 0.9 * high:
            continue
        lower = sum(c.islower() for c in letters) / len(letters)
        if lower > best_lower:
            best, best_lower = codec, lower
    return best if best_lower >= 0.6 else None


def _western(data: bytes) -> bool:
    """Whether undeclared 8-bit bytes read as Western European words in windows-1252:
    isolated accented letters (``Jürgen Müller``), never runs of them."""
    runs = _HIGH_RUN.findall(data[:65536])
    if not runs or sum(len(r) for r in runs) / len(runs) > 1.5:
        return False
    text = b"".join(runs).decode("cp1252", errors="replace")
    return all(c.isalpha() for c in text)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode *data*; return ``(text, note)`` where *note* says what was guessed.

    >>> decode_bytes("Привет".encode("koi8-r"), "koi8-r")
    ('Привет', None)
    """
    if not data:
        return "", None
    if data.isascii():
        if b"\x1b$" in data or b"\x1b(" in data:
            try:
                return data.decode("iso2022_jp_ext"), None
            except UnicodeDecodeError:
                pass
        return data.decode("ascii"), None
    codec = normalise_charset(declared)
    if codec != "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if codec is None or codec in ("ascii", "cp1252", "iso8859-15"):
                return text, None
    if codec is None or codec in _LATIN_DEFAULTS:
        cyrillic = _cyrillic(data, declared=codec is not None and codec != "ascii")
        if cyrillic is not None:
            return data.decode(cyrillic), (
                f"charset {declared or 'undeclared'!s}: decoded as {cyrillic} (Cyrillic text)"
            )
    if codec is not None and codec != "ascii":
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    if _western(data):
        return data.decode("cp1252"), f"charset {declared or 'undeclared'!s}: decoded as cp1252"
    guessed = _detect(data)
    if guessed is not None:
        try:
            text = data.decode(guessed)
        except UnicodeDecodeError:
            pass
        else:
            return text, f"charset {declared or 'undeclared'!s}: decoded as {guessed} (detected)"
    fallback = codec if codec not in (None, "ascii") else "utf-8"
    assert fallback is not None
    return (
        data.decode(fallback, errors="replace"),
        f"charset {declared or 'undeclared'!s}: undecodable bytes replaced",
    )


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=")
#: adjacent encoded words (whitespace between them is not content)
ENCODED_WORD_RUN = re.compile(
    r"=\?[^?\s]+\?[QqBb]\?[^?]*\?=(?:[ \t]+=\?[^?\s]+\?[QqBb]\?[^?]*\?=)*"
)
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(=\?)")


def _decode_q(payload: str) -> bytes:
    payload = payload.replace("_", " ")
    out = bytearray()
    i = 0
    raw = payload.encode("latin-1", errors="replace")
    while i < len(raw):
        ch = raw[i]
        if ch == 0x3D and i + 3 <= len(raw):
            pair = raw[i + 1 : i + 3]
            try:
                out.append(int(pair, 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(ch)
        i += 1
    return bytes(out)


def _decode_b(payload: str) -> bytes:
    import binascii

    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return binascii.a2b_base64(cleaned)
    except (binascii.Error, ValueError):
        return payload.encode("latin-1", errors="replace")


def _raw_to_str(value: str, hint: str | None) -> str:
    """Undo surrogate-escaped 8-bit header bytes (raw UTF-8 or legacy charsets)."""
    if "\x1b" in value and value.isascii():
        return decode_bytes(value.encode("ascii"))[0]
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", errors="surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return decode_bytes(raw, hint)[0]


def decode_header_value(value: str | None, hint: str | None = None) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit bytes; unfold; drop CR/LF.

    Adjacent encoded words in the same charset are joined before decoding, so
    a multi-byte character split across two words survives. The result never
    contains CR or LF (no header injection through a decoded subject).
    *hint* is the charset to try for raw 8-bit bytes (the body's, usually).
    """
    if not value:
        return ""
    value = _raw_to_str(str(value), hint)
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    if "=?" in value:
        value = _BETWEEN_WORDS.sub(r"\1\2", value)
        out: list[str] = []
        pos = 0
        pending: list[tuple[str, bytes]] = []

        def flush() -> None:
            if not pending:
                return
            charset = pending[0][0]
            blob = b"".join(chunk for _, chunk in pending)
            out.append(decode_bytes(blob, charset)[0])
            pending.clear()

        for match in _ENCODED_WORD.finditer(value):
            if match.start() > pos:
                flush()
                out.append(value[pos : match.start()])
            charset = match.group(1).split("*", 1)[0]
            enc = match.group(2).upper()
            payload = match.group(3)
            chunk = _decode_b(payload) if enc == "B" else _decode_q(payload)
            if pending and pending[0][0].lower() != charset.lower():
                flush()
            pending.append((charset, chunk))
            pos = match.end()
        flush()
        out.append(value[pos:])
        value = "".join(out)
    value = value.replace("\r", " ").replace("\n", " ").replace("\x00", "")
    return value.strip()
