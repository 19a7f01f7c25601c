"""Address headers: parsing and formatting mailbox lists, and choosing whom to answer."""

from __future__ import annotations

import email.message
import email.utils
import re

from supportkit.channels._inbound import Address

from ._charset import ENCODED_WORD_RUN, decode_header_value
from ._headers import _raw_headers

__all__ = ["format_addresses", "parse_addresses"]

_STASHED = re.compile(r"skword\d+x")


def parse_addresses(raw_value: str, hint: str | None = None) -> tuple[Address, ...]:
    """The addresses in a raw address header (From, To, Cc, ...), decoded.

    >>> parse_addresses('"Lee, Ann" <ann@example.com>, bob@example.com')
    (Address(address='ann@example.com', name='Lee, Ann'), Address(address='bob@example.com', name=''))
    """
    if not raw_value.strip():
        return ()
    unfolded = re.sub(r"\r?\n[ \t]*", " ", raw_value)
    # encoded words are decoded first and stood in for by atoms, so what they hold (a comma,
    # two spaces, a quote) is content, never address syntax
    words: dict[str, str] = {}

    def stash(m: re.Match[str]) -> str:
        key = f"skword{len(words)}x"
        words[key] = decode_header_value(m.group(0), hint)
        return key

    unfolded = ENCODED_WORD_RUN.sub(stash, unfolded)
    if any("\udc80" <= ch <= "\udcff" for ch in unfolded) or "\x1b" in unfolded:
        unfolded = decode_header_value(unfolded, hint)

    def restore(text: str) -> str:
        return _STASHED.sub(lambda m: words.get(m.group(0), m.group(0)), text) if words else text

    try:
        pairs = email.utils.getaddresses([unfolded])
    except Exception:
        pairs = []
    out: list[Address] = []
    for name, addr in pairs:
        addr = restore(decode_header_value(addr, hint)).strip().strip("<>").strip()
        name = restore(decode_header_value(name, hint).strip().strip('"').strip())
        if "(" in name and not name.startswith("("):
            name = re.sub(r"\s*\([^()]*\)\s*", " ", name).strip() or name
        name = name.strip("()").strip()
        if not addr and not name:
            continue
        if "@" not in addr and "@" in name:
            addr, name = name, addr
        out.append(Address(addr, name))
    if not out:
        decoded = decode_header_value(raw_value, hint)
        match = re.search(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+", decoded)
        if match:
            name = decoded.replace(match.group(0), "").strip(" <>\"'()")
            out.append(Address(match.group(0), name))
    return tuple(out)


def format_addresses(addresses: tuple[Address, ...]) -> str:
    """Addresses as one header-style string; names quoted only when needed.

    >>> format_addresses((Address("ann@example.com", "Lee, Ann"),))
    '"Lee, Ann" <ann@example.com>'
    """
    out = []
    for item in addresses:
        if not item.name:
            out.append(item.address)
        elif _ATEXT_PHRASE.fullmatch(item.name):
            out.append(f"{item.name} <{item.address}>")
        else:
            escaped = item.name.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{escaped}" <{item.address}>')
    return ", ".join(out)


_ATEXT_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\- ]+")


_MAILBOX = re.compile(r"[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+")


def _usable(address: Address) -> bool:
    """A mailbox one can answer: ``local@domain``, nothing else in it."""
    return bool(_MAILBOX.fullmatch(address.address))


def _sender(msg: email.message.Message, hint: str | None) -> Address:
    """Who to answer: the first usable mailbox of every ``From`` header (there may be two),
    then ``Reply-To``, ``Sender``, ``Return-Path``. An empty (``"Name" <>``) or garbage
    address is skipped, its display name kept for the mailbox that is used instead."""
    name = ""
    for header in ("From", "Reply-To", "Sender", "Return-Path"):
        for value in _raw_headers(msg, header):
            for found in parse_addresses(value, hint):
                if _usable(found):
                    return Address(found.address, found.name or name)
                name = name or found.name
    return Address("", name)
