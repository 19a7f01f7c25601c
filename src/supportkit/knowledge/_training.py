"""Training offered as the answer to a request: a guide from the knowledge base, or a
scheduled session (a webinar, an onboarding call) with a signed sign-up link.

User training is one of the kinds of support (seed 000: guides, webinars,
onboarding). :class:`TrainingOffers` answers a ticket with training: the
answer goes to the customer like any reply, the offer is kept on the ticket
(``custom_fields["training"]``) and recorded as
:class:`~supportkit.domain.TrainingOffered`, and the ticket's kind becomes
``training`` (when the desk offers that kind).

A session's sign-up link carries an HMAC token of the session, the ticket
and an expiry, so nobody signs up someone else's ticket by editing the
link; :meth:`TrainingOffers.sign_up` checks it and records the sign-up on
the ticket (:class:`~supportkit.domain.TrainingSignedUp`).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from supportkit._kinds import set_kind_in
from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import Direction, Message, Ticket, ensure_utc
from supportkit.domain._service_events import TrainingOffered, TrainingSignedUp

if TYPE_CHECKING:
    from supportkit.desk import SupportDesk
    from supportkit.typing import DeskContext

    from ._kb import KnowledgeBase

__all__ = ["TrainingOffers", "TrainingSession", "TrainingSignupRefused"]

TRAINING_FIELD = "training"
TRAINING_KIND = "training"


class TrainingSignupRefused(ValidationError):
    """A sign-up link that is forged, expired, or for another session or ticket."""


@attrs.frozen
class TrainingSession:
    """A scheduled training session: a webinar, an onboarding call, a workshop."""

    id: str
    title: str
    starts_at: datetime = attrs.field(converter=ensure_utc)
    duration: timedelta = timedelta(hours=1)
    format: str = "webinar"

    def __attrs_post_init__(self) -> None:
        if not self.id.strip() or not self.title.strip():
            raise ValidationError("a training session needs an id and a title")


_TEXTS = {
    "en": {
        "guide": "This guide shows how to do it step by step: {title}\n{url}",
        "session": "We run a {format} on this: {title}, {when} (UTC). Sign up here: {url}",
    },
    "ru": {
        "guide": "Пошаговое руководство по этому вопросу: {title}\n{url}",
        "session": "Мы проводим обучение ({format}) по этой теме: {title}, {when} (UTC). "
        "Записаться: {url}",
    },
}


class TrainingOffers:
    """Offer training on a desk's tickets (see the module docstring).

    *guide_url* builds a guide's address from ``{article_id}``; *signup_url*
    a session's sign-up link from ``{session}``, ``{ticket}`` and ``{token}``.
    """

    def __init__(
        self,
        desk: SupportDesk,
        *,
        secret: str | bytes,
        signup_url: str = "https://help.example.com/training/{session}?ticket={ticket}&token={token}",
        guide_url: str = "https://help.example.com/kb/{article_id}",
        knowledge_base: KnowledgeBase | None = None,
        link_ttl: timedelta = timedelta(days=30),
        author: str = "training",
    ) -> None:
        if not secret:
            raise ConfigurationError("TrainingOffers needs a non-empty secret for sign-up links")
        for name, template, needed in (
            ("signup_url", signup_url, ("{session}", "{ticket}", "{token}")),
            ("guide_url", guide_url, ("{article_id}",)),
        ):
            missing = [p for p in needed if p not in template]
            if missing:
                raise ConfigurationError(f"{name} {template!r} lacks {missing}")
        self.desk = desk
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self.signup_url = signup_url
        self.guide_url = guide_url
        self.kb = knowledge_base
        self.link_ttl = link_ttl
        self.author = author

    # -- offering -----------------------------------------------------------------------
    def offer_guide(
        self, ticket_id: str, article_id: str, *, actor: str, title: str | None = None
    ) -> Message:
        """Answer with a knowledge-base guide (its title is read from the knowledge base)."""
        if title is None:
            if self.kb is None:
                raise ConfigurationError(
                    "offer_guide needs the guide's title or TrainingOffers(knowledge_base=...)"
                )
            title = self.kb.get(article_id).title
        url = self.guide_url.format(article_id=article_id)
        offer = {"offer": "guide", "reference": article_id, "title": title, "url": url}
        return self._offer(ticket_id, actor, offer, "guide", None)

    def offer_session(self, ticket_id: str, session: TrainingSession, *, actor: str) -> Message:
        """Answer with a scheduled session and a signed sign-up link for this ticket."""
        ticket = self.desk.get_ticket(ticket_id)
        expires = min(session.starts_at, self.desk.clock.now() + self.link_ttl)
        url = self.signup_link(session.id, ticket.number, expires)
        offer = {
            "offer": "session",
            "reference": session.id,
            "title": session.title,
            "url": url,
            "starts_at": session.starts_at.isoformat(),
            "format": session.format,
        }
        return self._offer(ticket_id, actor, offer, "session", session)

    def _offer(
        self,
        ticket_id: str,
        actor: str,
        offer: dict[str, Any],
        kind: str,
        session: TrainingSession | None,
    ) -> Message:
        def use_case(ctx: DeskContext) -> Message:
            ticket = ctx.ticket(ticket_id)
            lang = ticket.language if ticket.language in _TEXTS else "en"
            text = _TEXTS[lang][kind].format(
                title=offer["title"],
                url=offer["url"],
                format=session.format if session else "",
                when=f"{session.starts_at:%Y-%m-%d %H:%M}" if session else "",
            )
            msg = ctx.add_message(
                ticket, Direction.OUTBOUND, actor, text, meta={"training": dict(offer)}
            )
            offers = [*ticket.custom_fields.get(TRAINING_FIELD, []), offer]
            ctx.update(
                ticket, actor, custom_fields={**ticket.custom_fields, TRAINING_FIELD: offers}
            )
            if TRAINING_KIND in ctx.desk.kinds and ticket.kind != TRAINING_KIND:
                set_kind_in(ctx, ticket, TRAINING_KIND, actor=actor)
            ticket.record(
                TrainingOffered(
                    ticket.id,
                    ctx.now,
                    kind,
                    offer["title"],
                    offer["reference"],
                    offer["url"],
                    session.starts_at if session else None,
                )
            )
            return msg

        return self.desk.run(use_case)

    # -- signed sign-up links -----------------------------------------------------------
    def _mac(self, session_id: str, number: int, expires: int) -> str:
        data = f"training:{session_id}:{number}:{expires}".encode()
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()[:32]

    def signup_link(self, session_id: str, ticket_number: int, expires: datetime) -> str:
        stamp = int(ensure_utc(expires).timestamp())
        token = f"{stamp}.{self._mac(session_id, ticket_number, stamp)}"
        return self.signup_url.format(session=session_id, ticket=ticket_number, token=token)

    def sign_up(self, session_id: str, ticket_number: int, token: str) -> Ticket:
        """Record the customer's sign-up from their link; refuses forged or expired links."""
        stamp_text, _, mac = (token or "").partition(".")
        if not stamp_text.isdigit() or not mac:
            raise TrainingSignupRefused(f"sign-up token {token!r} is malformed")
        stamp = int(stamp_text)
        if not hmac.compare_digest(self._mac(session_id, ticket_number, stamp), mac):
            raise TrainingSignupRefused(
                f"sign-up link for session {session_id!r} and ticket #{ticket_number} is not "
                "one we issued"
            )
        now = self.desk.clock.now()
        if now.timestamp() > stamp:
            raise TrainingSignupRefused(
                f"sign-up link for session {session_id!r} expired; ask for a new one"
            )

        def use_case(ctx: DeskContext) -> Ticket:
            ticket = ctx.ticket_by_number(ticket_number)
            offers = list(ticket.custom_fields.get(TRAINING_FIELD, []))
            for i, offer in enumerate(offers):
                if offer.get("offer") == "session" and offer.get("reference") == session_id:
                    if offer.get("signed_up_at"):
                        return ticket  # a second click changes nothing
                    offers[i] = {**offer, "signed_up_at": ctx.now.isoformat()}
                    break
            else:
                raise TrainingSignupRefused(
                    f"ticket #{ticket_number} was not offered session {session_id!r}"
                )
            ctx.update(
                ticket, "customer", custom_fields={**ticket.custom_fields, TRAINING_FIELD: offers}
            )
            ctx.add_message(
                ticket, Direction.NOTE, "training", f"The customer signed up for {session_id}."
            )
            ticket.record(TrainingSignedUp(ticket.id, ctx.now, session_id))
            return ticket

        return self.desk.run(use_case)
