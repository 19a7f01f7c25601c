"""Glue between the knowledge tools and :class:`~supportkit.SupportDesk`.

Both are desk *extensions*: pass them as ``SupportDesk(extensions=[...])``.
They install in-transaction handlers, so what they do is stored in the
same unit of work as the message that triggered them.

- :class:`TriageOnRegistration` sets category, priority and tags on every
  new ticket from its subject, first message, channel and customer segment.
- :class:`BotOnInbound` lets the first-line bot answer inbound messages on
  its channels; every bot turn is a message on the ticket (``meta["bot"]``),
  and a hand-over adds a note with the reason, a message to the customer and
  the ``bot-handover`` tag, after which the bot stays silent on that ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from supportkit._kinds import set_kind_in
from supportkit.domain._errors import ConfigurationError
from supportkit.domain._events import MessageAdded, TicketReceived
from supportkit.domain._model import Direction, Message, Ticket
from supportkit.policies._triage import Triage

from ._bot import BotReply, FirstLineBot

if TYPE_CHECKING:
    from supportkit.typing import Desk, DeskContext

__all__ = ["DEFAULT_HANDOVER_REPLIES", "BotOnInbound", "TriageOnRegistration"]

DEFAULT_HANDOVER_REPLIES: Mapping[str, str] = {
    "en": "I am passing your question to a member of our team; they will reply here.",
    "ru": "Передаю ваш вопрос сотруднику поддержки, он ответит здесь.",
}


class TriageOnRegistration:
    """Apply :class:`~supportkit.policies.Triage` to every new ticket."""

    def __init__(self, triage: Triage, *, actor: str = "triage") -> None:
        self.triage = triage
        self.actor = actor

    def install(self, desk: Desk) -> None:
        for rule in self.triage.rules:
            if rule.kind is not None and rule.kind not in desk.kinds:
                raise ConfigurationError(
                    f"triage rule {rule.name!r} sets kind {rule.kind!r}, which the desk does "
                    f"not offer (kinds: {list(desk.kinds)}); pass SupportDesk(kinds=...)"
                )
        desk.on(TicketReceived, self._on_received)

    def _on_received(self, ctx: DeskContext, event: TicketReceived) -> None:
        ticket = ctx.ticket(event.ticket_id)
        first = next(
            (m for m in ctx.uow.messages_for(ticket.id) if m.direction is Direction.INBOUND),
            None,
        )
        segment = ctx.uow.get_customer(ticket.customer_id).segment
        result = self.triage.classify(
            ticket.subject, first.text if first else "", channel=ticket.channel, segment=segment
        )
        changes: dict[str, object] = {}
        if result.category is not None:
            changes["category"] = result.category
        if result.priority is not None:
            changes["priority"] = result.priority
        if result.tags - ticket.tags:
            changes["tags"] = ticket.tags | result.tags
        if changes:
            ctx.update(ticket, self.actor, **changes)
        if result.kind is not None and ticket.kind is None:
            set_kind_in(ctx, ticket, result.kind, actor=self.actor)


class BotOnInbound:
    """Run the first-line bot on inbound messages of *channels* (all when None)."""

    def __init__(
        self,
        bot: FirstLineBot,
        *,
        channels: Iterable[str] | None = ("chat",),
        author: str = "bot",
        handover_tag: str = "bot-handover",
        handover_replies: Mapping[str, str] = DEFAULT_HANDOVER_REPLIES,
        default_locale: str = "en",
        routing: Any | None = None,
    ) -> None:
        self.bot = bot
        self.routing = routing
        self.channels = None if channels is None else frozenset(channels)
        self.author = author
        self.handover_tag = handover_tag
        self.handover_replies = dict(handover_replies)
        self.default_locale = default_locale

    def install(self, desk: Desk) -> None:
        desk.on(MessageAdded, self._on_message)

    def _wants(self, ticket: Ticket, event: MessageAdded) -> bool:
        return (
            event.direction == Direction.INBOUND.value
            and (self.channels is None or event.channel in self.channels)
            and self.handover_tag not in ticket.tags
            and ticket.assignee_id is None
        )

    def _on_message(self, ctx: DeskContext, event: MessageAdded) -> None:
        ticket = ctx.ticket(event.ticket_id)
        if not self._wants(ticket, event):
            return
        messages = ctx.uow.messages_for(ticket.id)
        inbound: Message | None = next((m for m in messages if m.id == event.message_id), None)
        if inbound is None or not inbound.text.strip():
            return
        turns = sum(
            1 for m in messages if m.direction is Direction.OUTBOUND and m.meta.get("bot") is True
        )
        locale = ticket.language or self.default_locale
        decision = self.bot.decide(inbound.text, locale=locale, turns_taken=turns)
        if isinstance(decision, BotReply):
            ctx.add_message(
                ticket,
                Direction.OUTBOUND,
                self.author,
                decision.text,
                in_reply_to=inbound.external_id,
                meta={
                    "bot": True,
                    "confidence": round(decision.confidence, 4),
                    "article_ids": list(decision.article_ids),
                },
            )
            return
        draft = decision.answer
        ctx.add_message(
            ticket,
            Direction.NOTE,
            self.author,
            f"Bot handed over ({decision.reason.value}): {decision.detail}",
            meta={
                "bot": "handover",
                "reason": decision.reason.value,
                "draft_article_ids": list(draft.article_ids) if draft else [],
            },
        )
        reply = self.handover_replies.get(locale) or self.handover_replies.get(self.default_locale)
        if reply:
            ctx.add_message(
                ticket,
                Direction.OUTBOUND,
                self.author,
                reply,
                meta={"bot": "handover", "reason": decision.reason.value},
            )
        ctx.update(ticket, self.author, tags=ticket.tags | {self.handover_tag})
        if self.routing is not None:
            # the escalation issue's hand-off (HandOffToHuman): bot tier -> first human tier
            self.routing.evaluate(ctx, ticket, bot_failed=True)
