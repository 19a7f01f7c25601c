"""When each channel is open, and what a channel does with a request outside its hours.

:class:`ChannelHours` is the one setting of a desk's channel availability:
one :class:`~supportkit.policies.BusinessCalendar` per channel (a channel
it does not name is open around the clock) and an :class:`OutOfHours` rule
per channel. The desk (``SupportDesk(channel_hours=...)``), the SLA clocks
(``SlaRule(calendar=CHANNEL_CALENDAR)``), routing and the channels
themselves (the chat's opening hours, the phone's callbacks) all read it,
so the hours are set once.

Outside hours a channel either **queues** the request (it is registered and
answered when the channel opens; the acknowledgement says when), or
**redirects** it to another channel (the acknowledgement names that channel
and when it is open; the chat asks for an email address). A phone request
outside hours becomes a callback task due at the next opening.

:func:`service_hours` is the table of the service description (seed 002):
email and social networks 24/7, chat and phone Monday to Friday 09:00-18:00.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

import attrs

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import ensure_utc

from ._calendar import BusinessCalendar, always_open, office_hours

__all__ = [
    "CHANNEL_CALENDAR",
    "ChannelHours",
    "ChannelStatus",
    "OutOfHours",
    "OutOfHoursAction",
    "channel_calendar_name",
    "service_hours",
]

#: ``SlaRule(calendar=CHANNEL_CALENDAR)``: measure in the calendar of the ticket's channel.
CHANNEL_CALENDAR = "channel"


class OutOfHoursAction(enum.StrEnum):
    """What a closed channel does with a request: queue it, or send the customer elsewhere."""

    QUEUE = "queue"
    REDIRECT = "redirect"


@attrs.frozen
class OutOfHours:
    """A channel's rule outside its hours: ``OutOfHours()`` queues, ``OutOfHours.redirect("email")``."""

    action: OutOfHoursAction = attrs.field(
        default=OutOfHoursAction.QUEUE, converter=OutOfHoursAction
    )
    to: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.action is OutOfHoursAction.REDIRECT and not self.to:
            raise ConfigurationError(
                "OutOfHours(action='redirect') needs the channel to send customers to: to='email'"
            )
        if self.action is OutOfHoursAction.QUEUE and self.to is not None:
            raise ConfigurationError("OutOfHours(action='queue') takes no to=; use redirect")

    @classmethod
    def queue(cls) -> OutOfHours:
        return cls(OutOfHoursAction.QUEUE)

    @classmethod
    def redirect(cls, to: str) -> OutOfHours:
        return cls(OutOfHoursAction.REDIRECT, to)


_NOTICES = {
    "en": {
        "queue": "Our {channel} is closed now. Your request is registered and we will "
        "answer when we open: {opens}.",
        "redirect": "Our {channel} is closed now; it opens {opens}. We will answer your "
        "request by {to}{to_hours}.",
        "always": ", which is open around the clock",
        "at": " (open from {to_opens})",
    },
    "ru": {
        "queue": "Сейчас {channel} не работает. Ваше обращение зарегистрировано, мы "
        "ответим, когда начнём работу: {opens}.",
        "redirect": "Сейчас {channel} не работает; начало работы: {opens}. Мы ответим на "
        "ваше обращение по каналу {to}{to_hours}.",
        "always": ", который работает круглосуточно",
        "at": " (работает с {to_opens})",
    },
}

_CHANNEL_NAMES = {
    "en": {"chat": "chat", "phone": "phone line", "email": "email", "social": "social pages"},
    "ru": {"chat": "чат", "phone": "телефонная линия", "email": "электронная почта"},
}


@attrs.frozen
class ChannelStatus:
    """Whether *channel* is open at *at* and, when closed, when it opens and what it does."""

    channel: str
    at: datetime
    open: bool
    next_open: datetime | None
    action: OutOfHoursAction | None = None
    redirect_to: str | None = None
    redirect_next_open: datetime | None = None
    timezone: str = "UTC"

    def notice(self, language: str = "en") -> str:
        """The honest line for the customer: closed, when it opens, where the answer comes.

        Empty when the channel is open.
        """
        if self.open or self.next_open is None:
            return ""
        lang = language if language in _NOTICES else "en"
        texts = _NOTICES[lang]
        names = _CHANNEL_NAMES.get(lang, {})
        opens = _local(self.next_open, self.timezone, lang)
        if self.action is OutOfHoursAction.REDIRECT and self.redirect_to:
            if self.redirect_next_open is None or self.redirect_next_open <= self.at:
                to_hours = texts["always"] if self.redirect_next_open is None else ""
            else:
                to_hours = texts["at"].format(
                    to_opens=_local(self.redirect_next_open, self.timezone, lang)
                )
            return texts["redirect"].format(
                channel=names.get(self.channel, self.channel),
                opens=opens,
                to=names.get(self.redirect_to, self.redirect_to),
                to_hours=to_hours,
            )
        return texts["queue"].format(channel=names.get(self.channel, self.channel), opens=opens)

    def to_dict(self) -> dict[str, object]:
        """JSON-compatible values (for a host's status endpoint)."""
        return {
            "channel": self.channel,
            "at": self.at.isoformat(),
            "open": self.open,
            "next_open": self.next_open.isoformat() if self.next_open else None,
            "action": self.action.value if self.action else None,
            "redirect_to": self.redirect_to,
        }


def _local(at: datetime, timezone: str, language: str) -> str:
    from zoneinfo import ZoneInfo

    local = at.astimezone(ZoneInfo(timezone))
    if language == "ru":
        return f"{local:%d.%m.%Y %H:%M} ({timezone})"
    return f"{local:%a %d %b %Y %H:%M} ({timezone})"


def _calendars(value: Mapping[str, BusinessCalendar]) -> dict[str, BusinessCalendar]:
    out = dict(value)
    for name, cal in out.items():
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"channel names must be non-empty strings, got {name!r}")
        if not isinstance(cal, BusinessCalendar):
            raise ConfigurationError(
                f"channel {name!r}: hours must be a BusinessCalendar (e.g. office_hours()), "
                f"got {cal!r}"
            )
    return out


def _rules(value: Mapping[str, OutOfHours]) -> dict[str, OutOfHours]:
    out = dict(value)
    for name, rule in out.items():
        if not isinstance(rule, OutOfHours):
            raise ConfigurationError(
                f"channel {name!r}: out-of-hours rule must be OutOfHours(...), got {rule!r}"
            )
    return out


@attrs.frozen
class ChannelHours:
    """The opening hours of every channel and what each does when closed.

    >>> hours = service_hours("Europe/Moscow")
    >>> hours.is_open("email", datetime(2026, 1, 3, 23, tzinfo=UTC))
    True
    >>> hours.is_open("chat", datetime(2026, 1, 3, 23, tzinfo=UTC))
    False
    """

    calendars: Mapping[str, BusinessCalendar] = attrs.field(converter=_calendars, hash=False)
    out_of_hours: Mapping[str, OutOfHours] = attrs.field(factory=dict, converter=_rules, hash=False)
    timezone: str = "UTC"

    def __attrs_post_init__(self) -> None:
        for name, rule in self.out_of_hours.items():
            if rule.to is not None:
                if rule.to == name:
                    raise ConfigurationError(f"channel {name!r} redirects to itself")
                target = self.out_of_hours.get(rule.to)
                if target is not None and target.action is OutOfHoursAction.REDIRECT:
                    raise ConfigurationError(
                        f"channel {name!r} redirects to {rule.to!r}, which redirects again; "
                        "redirect to a channel that queues or is always open"
                    )

    def calendar(self, channel: str) -> BusinessCalendar | None:
        """The channel's calendar; ``None`` for a channel open around the clock."""
        return self.calendars.get(channel)

    def is_open(self, channel: str, at: datetime) -> bool:
        cal = self.calendars.get(channel)
        return cal is None or cal.is_open(at)

    def rule(self, channel: str) -> OutOfHours:
        return self.out_of_hours.get(channel, OutOfHours())

    def status(self, channel: str, at: datetime) -> ChannelStatus:
        """Open or closed at *at*, the next opening, and the out-of-hours rule."""
        if not isinstance(channel, str) or not channel.strip():
            raise ValidationError("channel_status needs a channel name, e.g. 'chat'")
        at = ensure_utc(at)
        cal = self.calendars.get(channel)
        if cal is None or cal.is_open(at):
            return ChannelStatus(channel, at, True, None, timezone=self.timezone)
        rule = self.rule(channel)
        redirect_next: datetime | None = None
        if rule.to is not None:
            target = self.calendars.get(rule.to)
            redirect_next = None if target is None else target.next_open(at)
        return ChannelStatus(
            channel,
            at,
            False,
            cal.next_open(at),
            rule.action,
            rule.to,
            redirect_next,
            timezone=self.timezone,
        )

    def sla_calendars(self) -> dict[str, BusinessCalendar]:
        """The calendars by the names ``SlaRule(calendar=CHANNEL_CALENDAR)`` resolves to."""
        return {channel_calendar_name(c): cal for c, cal in self.calendars.items()}


def channel_calendar_name(channel: str) -> str:
    """The SLA calendar name of *channel*'s hours (``"channel:chat"``)."""
    return f"{CHANNEL_CALENDAR}:{channel}"


def service_hours(
    timezone: str = "Europe/Moscow",
    *,
    country: str | None = None,
    chat_out_of_hours: OutOfHours | None = None,
    phone_out_of_hours: OutOfHours | None = None,
) -> ChannelHours:
    """The service description's table (seed 002) as a ready preset.

    ============== ==================
    channel        hours
    ============== ==================
    email          24/7
    chat           Mon-Fri 09:00-18:00
    phone          Mon-Fri 09:00-18:00
    social         24/7
    ============== ==================

    Outside hours the chat redirects to email (the customer leaves an
    address) and the phone queues (a callback is due at the next opening);
    pass ``chat_out_of_hours`` / ``phone_out_of_hours`` to change that.
    """
    office = office_hours(timezone, country=country)
    return ChannelHours(
        calendars={
            "email": always_open(timezone),
            "social": always_open(timezone),
            "chat": office,
            "phone": office,
        },
        out_of_hours={
            "chat": chat_out_of_hours or OutOfHours.redirect("email"),
            "phone": phone_out_of_hours or OutOfHours.queue(),
        },
        timezone=timezone,
    )
