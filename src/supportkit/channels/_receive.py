"""From a normalised :class:`InboundMessage` to a ticket: the one way channels register messages.

Every channel ends the same way: the message it normalised goes to
``desk.receive`` with its threading references, its attachments, and the
``auto_submitted`` flag (so notifications never answer a machine). What the
desk has no field for (the full text before quote stripping, the sender's
send time, the parser's notes) is kept in the message meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..domain._model import Ticket
from ..ports._channel import AUTO_SUBMITTED
from ._inbound import InboundMessage

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["receive_inbound"]


def receive_inbound(
    desk: SupportDesk,
    message: InboundMessage,
    *,
    ticket_id: str | None = None,
    language: str | None = None,
    meta: Mapping[str, Any] | None = None,
    channel: str | None = None,
) -> Ticket:
    """Register *message* on its ticket (threaded by references, then subject token).

    *channel* overrides ``message.channel`` (a chat after hours becomes an
    ``email`` ticket); *meta* is kept with the stored message.
    """
    kept: dict[str, Any] = dict(meta or {})
    if message.is_automated and AUTO_SUBMITTED not in kept:
        kind = (
            "auto-replied" if message.is_auto_reply else "bounce" if message.is_bounce else "bulk"
        )
        kept[AUTO_SUBMITTED] = kind
    if message.full_text and message.full_text != message.text:
        kept["full_text"] = message.full_text
    if message.sent_at is not None:
        kept["sent_at"] = message.sent_at.isoformat()
    if message.notes:
        kept["notes"] = list(message.notes)
    return desk.receive(
        channel or message.channel,
        message.sender.address,
        message.text or message.full_text,
        subject=message.subject,
        sender_name=message.sender.name or None,
        html=message.html,
        attachments=message.attachments,
        external_id=message.external_id,
        in_reply_to=message.in_reply_to,
        references=message.references,
        ticket_id=ticket_id,
        received_at=message.received_at,
        language=language,
        meta=kept,
    )
