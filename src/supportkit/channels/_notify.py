"""Customer notifications: the acknowledgement with the ticket number and status link,
and a word when the ticket is resolved, waits for the customer, or is closed.

Notifications are in-transaction handlers: each one is queued through the
:class:`~supportkit.channels.OutboundDispatcher` atomically with the change
that caused it, so it is delivered (or its failure recorded) like any reply.
Texts come from :data:`DEFAULT_TEMPLATES` (English and Russian), chosen by
the ticket's language. Acknowledgements are never sent for automatic mail
(``meta["auto_submitted"]``) and are rate-limited per sender, so two
auto-responders cannot talk to each other forever.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from ..domain._errors import ConfigurationError
from ..domain._events import StatusChanged
from ..domain._model import Direction, Ticket
from ..ports._channel import AUTO_SUBMITTED, OutboundMessage, is_automated_meta
from ..typing import DeskContext
from ._dispatch import OutboundDispatcher, recipient_for

if TYPE_CHECKING:
    from ..typing import Desk

__all__ = [
    "DEFAULT_TEMPLATES",
    "CustomerNotifier",
    "NotificationTemplate",
    "TrackingLinks",
]

#: the key-value namespace acknowledgements were counted in before core schema 4 moved
#: them to the typed AcknowledgementStore; kept for code that names it
ACK_NAMESPACE = "supportkit.notify.ack"


@attrs.frozen
class NotificationTemplate:
    """Subject and body; placeholders: ``{number} {subject} {name} {status} {tracking_url}``."""

    subject: str
    body: str


_TRACK_EN = "\n\nFollow its status here: {tracking_url}"
_TRACK_RU = "\n\nСледить за статусом можно здесь: {tracking_url}"

DEFAULT_TEMPLATES: Mapping[str, Mapping[str, NotificationTemplate]] = {
    "en": {
        "acknowledgement": NotificationTemplate(
            "[#{number}] We have received your request: {subject}",
            "Hello {name},\n\nthank you for contacting us. Your request is registered "
            "as ticket #{number}; please mention this number when you write to us "
            "about it.{tracking}",
        ),
        "resolved": NotificationTemplate(
            "[#{number}] Your request is resolved: {subject}",
            "Hello {name},\n\nwe have resolved your request #{number}. If the problem "
            "is still there, just reply to this message and we will reopen it.{tracking}",
        ),
        "waiting_on_customer": NotificationTemplate(
            "[#{number}] We are waiting for your reply: {subject}",
            "Hello {name},\n\nto continue with request #{number} we need an answer "
            "from you. Please reply to this message.{tracking}",
        ),
        "closed": NotificationTemplate(
            "[#{number}] Your request is closed: {subject}",
            "Hello {name},\n\nrequest #{number} is now closed. If you write to us "
            "again, we will open a new request.{tracking}",
        ),
    },
    "ru": {
        "acknowledgement": NotificationTemplate(
            "[#{number}] Ваше обращение получено: {subject}",
            "Здравствуйте, {name}!\n\nСпасибо за обращение. Оно зарегистрировано под "
            "номером #{number}; пожалуйста, указывайте этот номер, когда пишете нам "
            "о нём.{tracking}",
        ),
        "resolved": NotificationTemplate(
            "[#{number}] Ваше обращение решено: {subject}",
            "Здравствуйте, {name}!\n\nМы решили ваше обращение #{number}. Если проблема "
            "осталась, просто ответьте на это сообщение, и мы откроем его снова.{tracking}",
        ),
        "waiting_on_customer": NotificationTemplate(
            "[#{number}] Ждём вашего ответа: {subject}",
            "Здравствуйте, {name}!\n\nЧтобы продолжить работу над обращением #{number}, "
            "нам нужен ваш ответ. Пожалуйста, ответьте на это сообщение.{tracking}",
        ),
        "closed": NotificationTemplate(
            "[#{number}] Ваше обращение закрыто: {subject}",
            "Здравствуйте, {name}!\n\nОбращение #{number} закрыто. Если вы напишете нам "
            "снова, мы зарегистрируем новое обращение.{tracking}",
        ),
    },
}

_TRACKING = {"en": _TRACK_EN, "ru": _TRACK_RU}

#: status-changing lifecycle events that tell the customer something, by notification kind
_STATUS_KINDS = {"resolved": "resolved", "waiting_on_customer": "waiting_on_customer"}


class TrackingLinks:
    """Status-tracking links a customer can open without an account.

    Ticket numbers are sequential, so a link carries an HMAC token of the
    number: nobody can read another customer's ticket by counting.

    >>> links = TrackingLinks("https://help.example.com/track/{number}?token={token}", b"k")
    >>> url = links.url(42)
    >>> links.verify(42, url.rsplit("=", 1)[1])
    True
    """

    def __init__(self, url_template: str, secret: str | bytes) -> None:
        if "{number}" not in url_template:
            raise ConfigurationError(
                f"tracking url template {url_template!r} has no {{number}} placeholder"
            )
        if not secret:
            raise ConfigurationError("TrackingLinks needs a non-empty secret")
        self.url_template = url_template
        self._secret = secret.encode() if isinstance(secret, str) else secret

    def token(self, number: int) -> str:
        mac = hmac.new(self._secret, f"track:{number}".encode(), hashlib.sha256)
        return mac.hexdigest()[:24]

    def verify(self, number: int, token: str) -> bool:
        if not isinstance(token, str) or not token.isascii():
            return False  # compare_digest refuses non-ASCII str; such a token is wrong anyway
        return hmac.compare_digest(self.token(number), token)

    def url(self, number: int) -> str:
        return self.url_template.format(number=number, token=self.token(number))


class CustomerNotifier:
    """A desk extension sending acknowledgements and status notifications.

    *kinds* chooses which notifications are sent (default: all of
    ``acknowledgement``, ``resolved``, ``waiting_on_customer``, ``closed``).
    At most *ack_limit* acknowledgements go to one sender per *ack_window*.
    Tickets on *skip_channels*, or on a channel the registry cannot deliver
    for, get no notifications.
    """

    def __init__(
        self,
        dispatcher: OutboundDispatcher,
        *,
        tracking: TrackingLinks | None = None,
        templates: Mapping[str, Mapping[str, NotificationTemplate]] = DEFAULT_TEMPLATES,
        default_language: str = "en",
        kinds: Iterable[str] = ("acknowledgement", "resolved", "waiting_on_customer", "closed"),
        ack_limit: int = 3,
        ack_window: timedelta = timedelta(hours=1),
        skip_channels: Iterable[str] = ("phone",),
    ) -> None:
        self.skip_channels = frozenset(skip_channels)
        self.dispatcher = dispatcher
        self.tracking = tracking
        self.templates = templates
        self.kinds = frozenset(kinds)
        if default_language not in templates:
            raise ConfigurationError(
                f"no templates for the default language {default_language!r}; "
                f"templates exist for {sorted(templates)}"
            )
        for lang, by_kind in templates.items():
            missing = sorted(self.kinds - set(by_kind))
            if missing:
                raise ConfigurationError(f"templates for {lang!r} lack {missing}")
        self.default_language = default_language
        if ack_limit < 1:
            raise ConfigurationError(f"ack_limit must be >= 1, got {ack_limit}")
        self.ack_limit = ack_limit
        self.ack_window = ack_window

    def install(self, desk: Desk) -> None:
        desk.on(StatusChanged, self._on_status_changed)

    # -- rendering ---------------------------------------------------------------------
    def language_for(self, ticket: Ticket) -> str:
        lang = (ticket.language or "").split("-")[0].split("_")[0].lower()
        return lang if lang in self.templates else self.default_language

    def render(self, kind: str, ticket: Ticket, name: str) -> tuple[str, str]:
        """The (subject, body) of notification *kind* for *ticket*."""
        lang = self.language_for(ticket)
        template = self.templates[lang][kind]
        url = self.tracking.url(ticket.number) if self.tracking else ""
        values = {
            "number": ticket.number,
            "subject": ticket.subject,
            "name": name,
            "status": ticket.status,
            "tracking_url": url,
        }
        tracking = _TRACKING.get(lang, _TRACK_EN).format(**values) if url else ""
        return (
            template.subject.format(**values),
            template.body.format(tracking=tracking, **values),
        )

    # -- handlers ----------------------------------------------------------------------
    def _on_status_changed(self, ctx: DeskContext, event: StatusChanged) -> None:
        if event.event == "register":
            kind = "acknowledgement"
        elif event.event == "close":
            kind = "closed"
        else:
            kind = _STATUS_KINDS.get(event.to_status, "")
        if kind not in self.kinds:
            return
        ticket = ctx.ticket(event.ticket_id)
        if ticket.channel in self.skip_channels or ticket.channel not in self.dispatcher.registry:
            return  # nothing can carry it (a phone call is acknowledged on the line)
        inbound = [
            m for m in ctx.messages.messages_for(ticket.id) if m.direction is Direction.INBOUND
        ]
        if inbound and is_automated_meta(inbound[-1].meta):
            return
        customer = ctx.customers.get_customer(ticket.customer_id)
        recipient, name = recipient_for(customer, ticket.channel)
        if not recipient:
            return
        if kind == "acknowledgement" and not self._ack_allowed(ctx, recipient, ctx.now):
            return
        subject, body = self.render(kind, ticket, name or recipient)
        hours = ctx.desk.channel_hours
        if (
            kind == "acknowledgement"
            and hours is not None
            and "out_of_hours" in ticket.custom_fields
        ):
            # honest about the wait: the channel is closed, opens at ..., or answers elsewhere
            status = hours.status(ticket.channel, ticket.received_at)
            body += "\n\n" + status.notice(self.language_for(ticket))
        self.dispatcher.enqueue(
            ctx,
            OutboundMessage(
                delivery_id=f"notify-{ctx.desk.new_id()}",
                ticket_id=ticket.id,
                ticket_number=ticket.number,
                channel=ticket.channel,
                recipient=recipient,
                recipient_name=name,
                text=body,
                subject=subject,
                in_reply_to=inbound[-1].external_id if inbound else None,
                language=self.language_for(ticket),
                kind="notification",
                author="system",
                meta={"notification": kind, AUTO_SUBMITTED: "auto-replied"},
            ),
        )

    def _ack_allowed(self, ctx: DeskContext, sender: str, now: datetime) -> bool:
        # decided in the database, serialised per sender: the limit holds across processes
        return ctx.acknowledgements.claim_acknowledgement(
            sender.strip().lower(), now, window=self.ack_window, limit=self.ack_limit
        )
