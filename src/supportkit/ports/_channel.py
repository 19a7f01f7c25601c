"""The channel port: how a message reaches the desk and how a reply reaches the customer.

A channel plugin subclasses :class:`Channel` (like httpx's ``BaseTransport``):
it has a ``name``, turns what arrived into an
:class:`~supportkit.ports.InboundMessage` (:meth:`Channel.normalise`)
and delivers an :class:`OutboundMessage`, returning a :class:`DeliveryReceipt`
(:meth:`Channel.deliver`). Delivery failures are told apart by type::

    ChannelError
     +-- DeliveryError            (``permanent`` says whether to retry)
          +-- TransientDeliveryError   a timeout, a 5xx, a full mailbox: retry later
          +-- PermanentDeliveryError   an unknown recipient, a 4xx: retrying cannot help

Any other exception a channel raises counts as transient, so a bug in a
plugin delays a reply but never drops it. :class:`RetryPolicy` decides
when to retry; :class:`ChannelRegistry` finds plugins in the
``supportkit.channels`` entry-point group and validates them.
"""

from __future__ import annotations

import abc
import importlib.metadata
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from ..domain._definitions import is_auto_submitted
from ..domain._errors import ChannelError, ConfigurationError, NotFound, PluginError
from ..domain._events import DomainEvent, register_event
from ..domain._model import Attachment, ensure_utc

if TYPE_CHECKING:
    from ._inbound_message import InboundMessage

__all__ = [
    "AUTO_SUBMITTED",
    "ENTRY_POINT_GROUP",
    "Channel",
    "ChannelRegistry",
    "DeliveryError",
    "DeliveryReceipt",
    "MessageDelivered",
    "OutboundMessage",
    "PermanentDeliveryError",
    "RetryPolicy",
    "TransientDeliveryError",
    "is_automated_meta",
]

ENTRY_POINT_GROUP = "supportkit.channels"

#: The message-meta key marking automatic mail (auto-replies, bounces, bulk).
#: Channels set it on inbound messages (``meta={"auto_submitted": "auto-replied"}``);
#: notifications are never sent for a message carrying a value other than ``"no"``.
AUTO_SUBMITTED = "auto_submitted"


def is_automated_meta(meta: Mapping[str, Any] | None) -> bool:
    """True when message meta says the message was sent by a machine (RFC 3834 style)."""
    return meta is not None and is_auto_submitted(meta.get(AUTO_SUBMITTED))


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else ensure_utc(value)


@attrs.frozen
class OutboundMessage:
    """A reply or notification on its way to a customer.

    ``delivery_id`` is unique per delivery (a message id, or a notification
    id) and stable across retries: a channel may use it to deduplicate.
    ``external_id`` is the id the stored message was given (if any);
    ``in_reply_to`` and ``references`` are the external ids of the
    ticket's earlier messages, newest last, for threading.
    ``kind`` is ``"reply"`` for an agent's or bot's message and
    ``"notification"`` for automatic ones (acknowledgements, status changes);
    a channel should mark notifications as automatic (e.g. the
    ``Auto-Submitted: auto-replied`` mail header).
    """

    delivery_id: str
    ticket_id: str
    ticket_number: int
    channel: str
    recipient: str
    text: str
    subject: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    external_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    language: str = "en"
    kind: str = "reply"
    recipient_name: str = ""
    author: str = ""
    meta: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class DeliveryReceipt:
    """Proof that a channel accepted an outbound message."""

    delivery_id: str
    channel: str
    delivered_at: datetime = attrs.field(converter=ensure_utc)
    external_id: str | None = None
    detail: str = ""


@register_event("ticket.message_delivered")
@attrs.frozen
class MessageDelivered(DomainEvent):
    """A channel accepted an outbound message (``message_id`` is the delivery id)."""

    message_id: str
    channel: str
    attempts: int
    external_id: str | None = None


class DeliveryError(ChannelError):
    """A channel could not deliver; ``permanent`` says whether a retry could help."""

    permanent: bool = False

    def __init__(self, message: str, *, permanent: bool | None = None) -> None:
        super().__init__(message)
        if permanent is not None:
            self.permanent = permanent


class TransientDeliveryError(DeliveryError):
    """Try again later: a timeout, a 5xx, a server that is down."""

    permanent = False


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: an unknown recipient, a refused payload."""

    permanent = True


class Channel(abc.ABC):
    """A way customers write in and replies go out (email, chat, webhook, ...).

    Subclasses set ``name`` (the ticket's channel, e.g. ``"email"``) and
    implement :meth:`deliver`. ``aliases`` lists other ticket channels this
    one delivers for (a webhook channel answering ``"telegram"`` tickets).
    ``receives`` is False when the channel does not normalise payloads
    (outbound only, or taking messages in by its own endpoint like chat).
    """

    name: str = ""
    aliases: tuple[str, ...] = ()
    receives: bool = True

    def normalise(self, payload: Any, *, received_at: datetime) -> InboundMessage:
        """Turn what arrived (raw bytes, a parsed JSON payload, ...) into an InboundMessage.

        Raises MalformedMessage for input that cannot be a message.
        """
        raise ChannelError(
            f"channel {self.name!r} ({type(self).__name__}) does not normalise inbound "
            "payloads; implement normalise() or set receives = False"
        )

    @abc.abstractmethod
    def deliver(self, outbound: OutboundMessage) -> DeliveryReceipt:
        """Send *outbound* to its recipient, or raise a DeliveryError."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has nothing to release."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@attrs.frozen
class RetryPolicy:
    """Exponential backoff: attempt *n* failed -> wait ``base * factor**(n-1)``, capped.

    After ``max_attempts`` failed attempts the failure is permanent.

    >>> policy = RetryPolicy(base=timedelta(seconds=30), max_attempts=4)
    >>> [int(policy.delay(n).total_seconds()) for n in (1, 2, 3)]
    [30, 60, 120]
    >>> policy.gives_up_after(4)
    True
    """

    max_attempts: int = 6
    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)

    def __attrs_post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.base <= timedelta(0) or self.factor < 1:
            raise ConfigurationError(
                f"backoff needs base > 0 and factor >= 1 (got {self.base}, {self.factor})"
            )

    def delay(self, failed_attempts: int) -> timedelta:
        """How long to wait after the *failed_attempts*-th failure."""
        n = max(1, failed_attempts)
        cap = self.max_delay.total_seconds()
        seconds = self.base.total_seconds()
        for _ in range(n - 1):
            if seconds >= cap:
                break
            seconds *= self.factor
        return timedelta(seconds=min(seconds, cap))

    def gives_up_after(self, failed_attempts: int) -> bool:
        return failed_attempts >= self.max_attempts


EntryPoints = Callable[[], Iterable[importlib.metadata.EntryPoint]]


def _installed_entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


class ChannelRegistry:
    """The channels of one desk, by name; plugins come from entry points.

    >>> from supportkit.channels import MemoryChannel
    >>> registry = ChannelRegistry([MemoryChannel("email")])
    >>> registry.get("email").name
    'email'
    """

    def __init__(
        self, channels: Iterable[Channel] = (), *, entry_points: EntryPoints | None = None
    ) -> None:
        self._channels: dict[str, Channel] = {}
        self._routes: dict[str, str] = {}
        self._entry_points = entry_points or _installed_entry_points
        for channel in channels:
            self.add(channel)

    # -- plugins -----------------------------------------------------------------------
    def plugins(self) -> dict[str, type[Channel]]:
        """Every channel class in the ``supportkit.channels`` group, loaded and validated."""
        found: dict[str, type[Channel]] = {}
        for ep in self._entry_points():
            found[ep.name] = self._load_plugin(ep)
        return found

    def _load_plugin(self, ep: importlib.metadata.EntryPoint) -> type[Channel]:
        where = f"channel plugin {ep.name!r} (entry point {ep.name} = {ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:
            raise PluginError(
                f"{where} failed to import: {exc!r}; check the package is installed"
            ) from exc
        if not (isinstance(obj, type) and issubclass(obj, Channel)):
            raise PluginError(
                f"{where} is {obj!r}, not a subclass of supportkit.ports.Channel; "
                "point the entry point at your Channel class"
            )
        if inspect.isabstract(obj):
            missing = sorted(getattr(obj, "__abstractmethods__", ()))
            raise PluginError(f"{where} is abstract: implement {missing}")
        return obj

    def load(self, plugin: str, *args: Any, **kwargs: Any) -> Channel:
        """Build the channel plugin named *plugin* with the given settings and add it."""
        plugins = self.plugins()
        if plugin not in plugins:
            raise PluginError(
                f"no channel plugin named {plugin!r} in the {ENTRY_POINT_GROUP!r} "
                f"entry-point group; installed: {sorted(plugins)}"
            )
        try:
            channel = plugins[plugin](*args, **kwargs)
        except Exception as exc:
            raise PluginError(f"channel plugin {plugin!r} failed to build: {exc!r}") from exc
        return self.add(channel, plugin=plugin)

    # -- channels ----------------------------------------------------------------------
    def add(
        self, channel: Channel, *, also_for: Iterable[str] = (), plugin: str | None = None
    ) -> Channel:
        """Add *channel*; it delivers for its ``name``, its ``aliases`` and *also_for*."""
        label = f"channel plugin {plugin!r}" if plugin else f"channel {channel!r}"
        if not isinstance(channel, Channel):
            raise PluginError(
                f"{label} is a {type(channel).__name__}, not a supportkit.ports.Channel"
            )
        name = channel.name
        if not isinstance(name, str) or not name.strip():
            raise PluginError(f"{label} has no name; set the class attribute `name`")
        if name in self._channels and self._channels[name] is not channel:
            raise ConfigurationError(f"two channels are named {name!r}")
        self._channels[name] = channel
        for route in (name, *channel.aliases, *also_for):
            owner = self._routes.get(route)
            if owner is not None and owner != name:
                raise ConfigurationError(
                    f"ticket channel {route!r} is delivered by {owner!r} already; "
                    f"cannot also route it to {name!r}"
                )
            self._routes[route] = name
        return channel

    def get(self, name: str) -> Channel:
        """The channel that delivers for ticket channel *name*."""
        try:
            return self._channels[self._routes[name]]
        except KeyError:
            raise NotFound(
                "channel",
                name,
                f"registered channels deliver for {sorted(self._routes)}; "
                "add one with ChannelRegistry.add(channel, also_for=[...])",
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._routes

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._channels.values()))

    def names(self) -> list[str]:
        return sorted(self._channels)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
