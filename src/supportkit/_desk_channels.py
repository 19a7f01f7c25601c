"""Channel availability on the desk: ``desk.channel_status`` and what a closed channel does.

The desk's :class:`~supportkit.policies.ChannelHours` (``SupportDesk(channel_hours=...)``)
is the one place channel hours are set. A request registered while its
channel is closed is marked in the same transaction: the ticket records
:class:`~supportkit.domain.ReceivedOutOfHours` (next opening, queue or
redirect) and keeps it in ``custom_fields["out_of_hours"]``, where the
acknowledgement, routing and the phone's callbacks find it.
"""

from __future__ import annotations

from datetime import datetime

from ._desk_core import DeskCore
from ._out_of_hours import OUT_OF_HOURS_FIELD, mark_out_of_hours
from .domain._model import ensure_utc
from .policies._channel_hours import ChannelHours, ChannelStatus

__all__ = ["OUT_OF_HOURS_FIELD", "ChannelUseCases", "mark_out_of_hours"]


class ChannelUseCases(DeskCore):
    def channel_status(self, channel: str, at: datetime | None = None) -> ChannelStatus:
        """Whether *channel* is open at *at* (default: now), its next opening, and what it
        does with a request while closed (queue or redirect). A desk without
        ``channel_hours`` has every channel open.

        >>> from supportkit import SupportDesk
        >>> from supportkit.policies import service_hours
        >>> from datetime import UTC, datetime
        >>> desk = SupportDesk(channel_hours=service_hours("UTC"))
        >>> s = desk.channel_status("chat", datetime(2026, 1, 3, 12, tzinfo=UTC))  # a Saturday
        >>> s.open, s.next_open.isoformat()
        (False, '2026-01-05T09:00:00+00:00')
        """
        when = ensure_utc(at) if at is not None else ensure_utc(self.clock.now())
        hours = self.channel_hours or ChannelHours({})
        return hours.status(channel, when)
