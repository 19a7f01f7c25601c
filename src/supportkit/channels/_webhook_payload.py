"""The inbound webhook payload: one JSON schema for web forms, messengers, social networks, forums.

Every field but ``sender`` is optional; at least one of ``text``, ``html``
or ``attachments`` must be present. Unknown top-level fields are refused
(a typo like ``"txt"`` would otherwise lose the message body); put
anything source-specific under ``meta``.

====================  =========================================================
field                 meaning
====================  =========================================================
sender                the customer's handle on the source: an email address
                      (web form), a messenger user id, a forum user name
name                  display name
text                  the message as plain text
html                  the message as HTML (sanitised before it is stored)
subject               subject or topic title
external_id           the source's id of this message: makes a retry harmless
in_reply_to           the source's id of the message this one answers
thread_id             the source's conversation id (chat, forum topic, DM
                      thread): later messages with it join the same ticket
ticket_number         the ticket the customer says this is about
language              ``en``, ``ru``, ... (picks notification templates)
sent_at               ISO 8601 time with an offset
attachments           list of ``{filename, content_type, size, sha256?, url?}``
auto_submitted        true (or a RFC 3834 value) for automatic messages
meta                  a JSON object kept with the message
====================  =========================================================
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ..domain._errors import MalformedMessage
from ..domain._model import Attachment
from ._inbound import Address, InboundMessage
from ._json_guard import check_json_values, loads_guarded

__all__ = ["UnsupportedContentType", "WebhookPayload", "parse_payload"]


class UnsupportedContentType(MalformedMessage):
    """A body that is neither JSON nor a urlencoded form."""


_LIMITS = {
    "sender": 320,
    "name": 200,
    "subject": 998,
    "external_id": 256,
    "in_reply_to": 256,
    "thread_id": 256,
    "language": 16,
}
_FIELDS = frozenset(
    {
        *_LIMITS,
        "text",
        "html",
        "ticket_number",
        "sent_at",
        "attachments",
        "auto_submitted",
        "meta",
    }
)
MAX_ATTACHMENTS = 100
_MAX_TICKET_NUMBER = 2**63 - 1


@attrs.frozen
class WebhookPayload:
    """A validated inbound webhook message."""

    sender: str
    name: str = ""
    text: str = ""
    html: str | None = None
    subject: str = ""
    external_id: str | None = None
    in_reply_to: str | None = None
    thread_id: str | None = None
    ticket_number: int | None = None
    language: str | None = None
    sent_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    attachment_urls: dict[str, str] = attrs.Factory(dict)
    auto_submitted: str | None = None
    meta: dict[str, Any] = attrs.Factory(dict)

    def to_inbound(
        self,
        source: str,
        raw: bytes,
        received_at: datetime,
        html: str | None,
        *,
        fallback_id: str | None = None,
    ) -> InboundMessage:
        """The channel-neutral message; ids are prefixed with *source* to keep sources apart.

        *html* is the sanitised form of ``self.html``. *fallback_id* names the
        message when the payload has no ``external_id`` (the raw body's id), so
        processing one kept body twice registers it once.
        """
        own = self.external_id or fallback_id
        return InboundMessage(
            channel=source,
            external_id=f"{source}:{own}" if own else None,
            sender=Address(self.sender, self.name),
            subject=self.subject,
            text=self.text,
            full_text=self.text,
            html=html,
            attachments=self.attachments,
            in_reply_to=f"{source}:{self.in_reply_to}" if self.in_reply_to else None,
            sent_at=self.sent_at,
            received_at=received_at,
            is_auto_reply=self.auto_submitted is not None,
            raw=raw,
        )


def _str(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedMessage(f"field {field!r} must be a string, got {type(value).__name__}")
    text = str(value)
    limit = _LIMITS.get(field)
    if limit is not None and len(text) > limit:
        raise MalformedMessage(f"field {field!r} is {len(text)} characters; the limit is {limit}")
    return text


def _attachments(value: Any) -> tuple[tuple[Attachment, ...], dict[str, str]]:
    if value is None:
        return (), {}
    if not isinstance(value, list):
        raise MalformedMessage("field 'attachments' must be a list of objects")
    if len(value) > MAX_ATTACHMENTS:
        raise MalformedMessage(f"{len(value)} attachments; at most {MAX_ATTACHMENTS} per message")
    out: list[Attachment] = []
    urls: dict[str, str] = {}
    for i, item in enumerate(value):
        where = f"attachments[{i}]"
        if not isinstance(item, Mapping):
            raise MalformedMessage(f"{where} must be an object with filename, content_type, size")
        filename = item.get("filename")
        ctype = item.get("content_type", "application/octet-stream")
        size = item.get("size", 0)
        if not isinstance(filename, str) or not filename.strip() or len(filename) > 255:
            raise MalformedMessage(f"{where}.filename must be a non-empty string (<= 255 chars)")
        if not isinstance(ctype, str) or "/" not in ctype:
            raise MalformedMessage(f"{where}.content_type {ctype!r} is not a MIME type")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MalformedMessage(f"{where}.size must be a non-negative integer of bytes")
        sha = item.get("sha256")
        if sha is not None and not isinstance(sha, str):
            raise MalformedMessage(f"{where}.sha256 must be a hex string")
        url = item.get("url")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise MalformedMessage(f"{where}.url must be an http(s) URL")
            urls[filename] = url
        out.append(
            Attachment(filename.replace("\r", "").replace("\n", ""), ctype, size, sha256=sha)
        )
    return tuple(out), urls


def _from_mapping(data: Any) -> WebhookPayload:
    if not isinstance(data, Mapping):
        raise MalformedMessage(f"the payload must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise MalformedMessage(
            f"unknown fields {unknown}; known fields are {sorted(_FIELDS)} "
            "(put source-specific data under 'meta')"
        )
    sender = (_str(data, "sender") or "").strip()
    if not sender:
        raise MalformedMessage("field 'sender' is required: the customer's address or user id")
    text = data.get("text", "")
    html = data.get("html")
    if not isinstance(text, str) or (html is not None and not isinstance(html, str)):
        raise MalformedMessage("fields 'text' and 'html' must be strings")
    attachments, urls = _attachments(data.get("attachments"))
    if not text.strip() and not (html or "").strip() and not attachments:
        raise MalformedMessage("the message has no text, html or attachments")
    number = data.get("ticket_number")
    if number is not None:
        text_number = str(number).lstrip("#") if not isinstance(number, bool) else "x"
        if not text_number.isascii() or not text_number.isdigit() or len(text_number) > 19:
            raise MalformedMessage(
                f"ticket_number {str(number)[:40]!r} is not a number (a ticket number is digits)"
            )
        number = int(text_number)
        if not 0 < number <= _MAX_TICKET_NUMBER:
            raise MalformedMessage(f"ticket_number must be 1..{_MAX_TICKET_NUMBER}")
    sent_at = None
    if data.get("sent_at") is not None:
        raw = data["sent_at"]
        shown = str(raw)[:60]
        try:
            sent_at = datetime.fromisoformat(str(raw)[:64].replace("Z", "+00:00"))
        except ValueError:
            raise MalformedMessage(f"sent_at {shown!r} is not an ISO 8601 time") from None
        if sent_at.tzinfo is None:
            raise MalformedMessage(f"sent_at {shown!r} has no time zone; add an offset or Z")
        try:  # a time only representable in its own offset (year 1 or 9999) is refused
            sent_at = sent_at.astimezone(UTC)
            sent_at + timedelta(days=2)
            sent_at - timedelta(days=2)
        except OverflowError:
            raise MalformedMessage(f"sent_at {shown!r} is out of range") from None
    meta = data.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise MalformedMessage("field 'meta' must be a JSON object")
    auto = data.get("auto_submitted")
    auto_value = None if auto in (None, False, "no", "") else str(auto)
    if auto is True:
        auto_value = "auto-generated"
    return WebhookPayload(
        sender=sender,
        name=(_str(data, "name") or "").strip(),
        text=text,
        html=html,
        subject=_str(data, "subject") or "",
        external_id=_str(data, "external_id"),
        in_reply_to=_str(data, "in_reply_to"),
        thread_id=_str(data, "thread_id"),
        ticket_number=number,
        language=_str(data, "language"),
        sent_at=sent_at,
        attachments=attachments,
        attachment_urls=urls,
        auto_submitted=auto_value,
        meta=dict(meta),
    )


def parse_payload(body: bytes, content_type: str) -> WebhookPayload:
    """Parse a JSON or ``application/x-www-form-urlencoded`` body; MalformedMessage if bad."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("application/json", "") or ctype.endswith("+json"):
        return _from_mapping(loads_guarded(body, "the JSON body"))
    if ctype == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=False, strict_parsing=False
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedMessage(f"the form body cannot be decoded: {exc}") from None
        form: dict[str, Any] = {}
        for key, value in pairs:
            if key in form:
                raise MalformedMessage(f"form field {key!r} is given twice")
            form[key] = value
        check_json_values(form, "the form")
        return _from_mapping(form)
    raise UnsupportedContentType(
        f"unsupported content type {ctype!r}; send application/json or "
        "application/x-www-form-urlencoded"
    )
