"""Outbound mail: build a proper MIME reply, send it over SMTP (smtplib).

:func:`build_message` is pure (the date and Message-ID are given);
:class:`SmtpSender` sends and maps failures to :class:`TransientChannelError`
(4xx replies, refused or dropped connections, timeouts: retry later) or
:class:`PermanentChannelError` (5xx replies, authentication failures).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime

import attrs

from supportkit.channels._inbound import Address
from supportkit.domain._errors import ValidationError
from supportkit.domain._model import Attachment, ensure_utc

from ._errors import PermanentChannelError, TransientChannelError

__all__ = ["OutboundEmail", "SmtpSender", "build_message"]


def _no_newlines(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValidationError(
            f"{what} {value!r} contains a line break; headers cannot, strip CR/LF first"
        )
    return value


@attrs.frozen
class OutboundEmail:
    """One mail to send. ``auto_submitted`` is ``"auto-replied"`` or
    ``"auto-generated"`` for mail no person wrote (RFC 3834), else None."""

    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    message_id: str
    html: str | None = None
    cc: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    reply_to: Address | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    #: each attachment's metadata with its bytes
    attachments: tuple[tuple[Attachment, bytes], ...] = ()


def _header_address(addr: Address) -> HeaderAddress:
    _no_newlines(addr.address, "address")
    _no_newlines(addr.name, "display name")
    try:
        return HeaderAddress(display_name=addr.name, addr_spec=addr.address)
    except (ValueError, IndexError) as exc:
        raise ValidationError(f"cannot send to {addr.address!r}: {exc}") from exc


def build_message(mail: OutboundEmail, date: datetime) -> EmailMessage:
    """The MIME message for *mail*: text, or text + HTML as multipart/alternative,
    inside multipart/mixed when it has attachments."""
    if not mail.to:
        raise ValidationError("an outbound email needs at least one recipient in 'to'")
    msg = EmailMessage()
    msg["From"] = _header_address(mail.sender)
    msg["To"] = [_header_address(a) for a in mail.to]
    if mail.cc:
        msg["Cc"] = [_header_address(a) for a in mail.cc]
    if mail.reply_to is not None:
        msg["Reply-To"] = _header_address(mail.reply_to)
    msg["Subject"] = _no_newlines(mail.subject, "subject")
    msg["Date"] = format_datetime(ensure_utc(date))
    msg["Message-ID"] = _no_newlines(mail.message_id, "Message-ID")
    if mail.in_reply_to:
        msg["In-Reply-To"] = _no_newlines(mail.in_reply_to, "In-Reply-To")
    if mail.references:
        msg["References"] = " ".join(_no_newlines(r, "reference") for r in mail.references)
    if mail.auto_submitted:
        msg["Auto-Submitted"] = _no_newlines(mail.auto_submitted, "Auto-Submitted")
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in mail.extra_headers:
        msg[_no_newlines(name, "header name")] = _no_newlines(value, f"header {name}")
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    for attachment, data in mail.attachments:
        _attach(msg, attachment, data)
    return msg


def _attach(msg: EmailMessage, attachment: Attachment, data: bytes) -> None:
    maintype, _, subtype = attachment.content_type.partition("/")
    if not subtype or maintype.lower() in ("multipart", "message"):
        maintype, subtype = "application", "octet-stream"  # sent as the bytes they are
    cid = attachment.content_id
    msg.add_attachment(
        data,
        maintype=maintype,
        subtype=subtype,
        filename=_no_newlines(attachment.filename, "attachment filename"),
        disposition="inline" if attachment.inline else "attachment",
        cid=f"<{_no_newlines(cid, 'Content-ID').strip('<>')}>" if cid else None,
    )


@attrs.frozen
class SmtpSender:
    """Sends mail through one SMTP server; one connection per :meth:`send`.

    ``security`` is ``"none"``, ``"starttls"`` or ``"tls"`` (implicit TLS, port 465).
    """

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    security: str = "none"
    timeout: float = 30.0
    local_hostname: str | None = None
    ssl_context: ssl.SSLContext | None = attrs.field(default=None, repr=False)

    def send(
        self, message: EmailMessage, recipients: Sequence[str] | None = None
    ) -> dict[str, int]:
        """Deliver *message*; raise Transient/PermanentChannelError on failure.

        Returns the recipients the server refused while accepting the others
        (address → SMTP code); empty when everyone was accepted.
        """
        where = f"SMTP server {self.host}:{self.port}"
        try:
            client: smtplib.SMTP
            if self.security == "tls":
                client = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=self.ssl_context,
                )
            else:
                client = smtplib.SMTP(
                    self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
            with client:
                if self.security == "starttls":
                    client.starttls(context=self.ssl_context)
                if self.username is not None:
                    client.login(self.username, self.password or "")
                refused = client.send_message(
                    message, to_addrs=list(recipients) if recipients is not None else None
                )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            detail = "; ".join(
                f"{rcpt}: {code} {msg!r}" for rcpt, (code, msg) in exc.recipients.items()
            )
            if any(400 <= c < 500 for c in codes):
                raise TransientChannelError(
                    f"{where} deferred every recipient ({detail}); retry later", code=min(codes)
                ) from exc
            raise PermanentChannelError(
                f"{where} refused every recipient ({detail}); check the addresses",
                code=max(codes) if codes else None,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentChannelError(
                f"{where} rejected the login for {self.username!r} ({exc.smtp_code}); "
                "check the credentials",
                code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            if 400 <= exc.smtp_code < 500:
                raise TransientChannelError(
                    f"{where} answered {exc.smtp_code} {text!r}; retry later", code=exc.smtp_code
                ) from exc
            raise PermanentChannelError(
                f"{where} answered {exc.smtp_code} {text!r}; the message was not accepted",
                code=exc.smtp_code,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientChannelError(
                f"{where} unreachable or dropped the connection ({type(exc).__name__}: {exc}); "
                "retry later"
            ) from exc
        return {rcpt: code for rcpt, (code, _) in refused.items()}
