"""Email settings as a host keeps them (URLs or mappings) → pollers, senders, addresses.

URLs: ``imap://user:pass@host:143/INBOX``, ``imaps://...`` (implicit TLS, port
993); ``smtp://user:pass@host:25``, ``smtp+starttls://...`` (port 587),
``smtps://...`` (implicit TLS, port 465). User names and passwords are
percent-decoded. Mappings use the field names of :class:`ImapPoller` and
:class:`SmtpSender`; an unknown key is a :class:`ConfigurationError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from supportkit.channels._inbound import Address
from supportkit.domain._errors import ConfigurationError
from supportkit.domain._redact import redact_url

from ._imap import ImapPoller
from ._parse import parse_addresses
from ._smtp import SmtpSender

__all__ = ["address_from", "poller_from", "sender_from"]

_IMAP_SCHEMES = {"imap": (143, False), "imaps": (993, True)}
_SMTP_SCHEMES = {"smtp": (25, "none"), "smtp+starttls": (587, "starttls"), "smtps": (465, "tls")}


def _from_mapping(cls: type[Any], values: Mapping[str, Any], what: str) -> Any:
    fields = {f.name for f in attrs.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigurationError(
            f"{what} settings have unknown keys {unknown}; known keys are {sorted(fields)}"
        )
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigurationError(f"{what} settings {dict(values)!r} are incomplete: {exc}") from exc


def _split(url: str, schemes: Mapping[str, Any], what: str) -> Any:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigurationError(
            f"{what} URL {redact_url(url)!r} is not understood; use "
            + " or ".join(f"{s}://user:password@host:port" for s in schemes)
        )
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigurationError(f"{what} URL {redact_url(url)!r} has a bad port") from None
    return parts


def poller_from(value: ImapPoller | Mapping[str, Any] | str) -> ImapPoller:
    """An :class:`ImapPoller` from a poller, a mapping of its fields or an ``imap(s)://`` URL."""
    if isinstance(value, ImapPoller):
        return value
    if isinstance(value, Mapping):
        return _from_mapping(ImapPoller, value, "IMAP")  # type: ignore[no-any-return]
    if not isinstance(value, str):
        raise ConfigurationError(f"IMAP settings must be a URL or a mapping, got {value!r}")
    parts = _split(value, _IMAP_SCHEMES, "IMAP")
    port, ssl = _IMAP_SCHEMES[parts.scheme]
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapPoller(
        parts.hostname,
        parts.port or port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        folder=folder,
        ssl=ssl,
    )


def sender_from(value: SmtpSender | Mapping[str, Any] | str) -> SmtpSender:
    """An :class:`SmtpSender` from a sender, a mapping of its fields or an ``smtp(s)://`` URL."""
    if isinstance(value, SmtpSender):
        return value
    if isinstance(value, Mapping):
        return _from_mapping(SmtpSender, value, "SMTP")  # type: ignore[no-any-return]
    if not isinstance(value, str):
        raise ConfigurationError(f"SMTP settings must be a URL or a mapping, got {value!r}")
    parts = _split(value, _SMTP_SCHEMES, "SMTP")
    port, security = _SMTP_SCHEMES[parts.scheme]
    return SmtpSender(
        parts.hostname,
        parts.port or port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        security=security,
    )


def address_from(value: Address | str) -> Address:
    """The desk's own address from an :class:`Address` or ``"Support <support@example.com>"``."""
    if isinstance(value, Address):
        found: tuple[Address, ...] = (value,)
    elif isinstance(value, str):
        found = parse_addresses(value)
    else:
        raise ConfigurationError(f"the desk address must be a string, got {value!r}")
    if (
        len(found) != 1
        or "@" not in found[0].address
        or any(c in found[0].address + found[0].name for c in "\r\n")
    ):
        raise ConfigurationError(
            f"the desk address {value!r} is not one email address; "
            "write it like 'Support <support@example.com>'"
        )
    return found[0]
