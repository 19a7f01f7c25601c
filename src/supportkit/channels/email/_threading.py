"""Threading: which ticket does a reply belong to, and how replies say so.

Outgoing mail carries a Message-ID the desk generates (from an injected id
source, never a clock or random call here), In-Reply-To/References pointing
at the message it answers, and a ticket token in the subject
(``[Ticket#1234]``). Inbound mail is matched by In-Reply-To, then by
References (newest first), then by the subject token: mail clients keep the
headers, people keep the subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import attrs

from supportkit.channels._inbound import InboundMessage
from supportkit.domain._errors import ValidationError

__all__ = [
    "SubjectToken",
    "make_message_id",
    "match_ticket",
    "reply_references",
    "strip_reply_prefixes",
]

_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}$")


def make_message_id(unique: str, domain: str) -> str:
    """``<unique@domain>``; *unique* comes from the host's id source.

    >>> make_message_id("t-42.m-7", "support.example.com")
    '<t-42.m-7@support.example.com>'
    """
    if not _LOCAL.match(unique):
        raise ValidationError(
            f"message id part {unique!r} is not a valid dot-atom; use letters, digits and .-_"
        )
    if not _DOMAIN.match(domain):
        raise ValidationError(f"message id domain {domain!r} is not a host name")
    return f"<{unique}@{domain}>"


def reply_references(
    parent_id: str | None, parent_references: Sequence[str] = (), limit: int = 20
) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) for a reply to *parent_id* (RFC 5322 §3.6.4).

    References keep the thread's first id and the most recent ones when the
    chain grows past *limit*, so headers stay short but the root is never lost.
    """
    refs = [r for r in parent_references if r]
    if parent_id and parent_id not in refs:
        refs.append(parent_id)
    if len(refs) > limit:
        refs = [refs[0], *refs[-(limit - 1) :]]
    return parent_id, tuple(refs)


_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|wg|fw|fwd|tr|rif|r|ответ|отв|пересл|fwd?)(\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


def strip_reply_prefixes(subject: str) -> str:
    """``"Re: AW: Fwd: Printer"`` → ``"Printer"``."""
    return _PREFIX.sub("", subject).strip()


@attrs.frozen
class SubjectToken:
    """The ticket token in subjects: ``[Ticket#1234]``; also finds ``[#1234]``.

    *prefix* is what the desk writes; *accepted* are the prefixes recognised
    on the way in (customers' clients and other desks mangle them).
    """

    prefix: str = "Ticket#"
    accepted: tuple[str, ...] = ("Ticket#", "#", "Ticket #", "Ticket ")

    def render(self, number: int) -> str:
        return f"[{self.prefix}{number}]"

    def add(self, subject: str, number: int) -> str:
        """The subject with exactly one token for *number* (any old token removed).

        >>> SubjectToken().add("Re: Printer on fire", 42)
        '[Ticket#42] Re: Printer on fire'
        """
        cleaned = self._pattern().sub("", subject)
        cleaned = re.sub(r"\s{2,}", " ", cleaned).strip()
        cleaned = cleaned.replace("\r", " ").replace("\n", " ")
        return f"{self.render(number)} {cleaned}".strip()

    def remove(self, subject: str) -> str:
        """The subject without any ticket token.

        >>> SubjectToken().remove("[Ticket#42] Re: Printer")
        'Re: Printer'
        """
        cleaned = self._pattern().sub("", subject)
        return re.sub(r"\s{2,}", " ", cleaned).strip()

    def find(self, subject: str) -> int | None:
        """The ticket number in *subject*, or None.

        >>> SubjectToken().find("AW: [Ticket#1234] Drucker")
        1234
        """
        match = self._pattern().search(subject or "")
        return int(match.group(1)) if match else None

    def _pattern(self) -> re.Pattern[str]:
        alts = "|".join(
            re.escape(p) for p in sorted(set(self.accepted) | {self.prefix}, key=len, reverse=True)
        )
        return re.compile(rf"\[\s*(?:{alts})\s*(\d{{1,12}})\s*\]", re.IGNORECASE)


def match_ticket(
    message: InboundMessage,
    by_message_id: Callable[[str], str | None],
    by_number: Callable[[int], str | None],
    token: SubjectToken | None = None,
) -> str | None:
    """The id of the ticket *message* continues, or None for a new request.

    *by_message_id* maps a Message-ID the desk stored (inbound or outbound)
    to its ticket id; *by_number* maps a ticket number to its id.
    """
    candidates: list[str] = []
    if message.in_reply_to:
        candidates.append(message.in_reply_to)
    candidates.extend(reversed(message.references))
    seen: set[str] = set()
    for ref in candidates:
        if ref in seen:
            continue
        seen.add(ref)
        found = by_message_id(ref)
        if found is not None:
            return found
    number = (token or SubjectToken()).find(message.subject)
    if number is not None:
        return by_number(number)
    return None
