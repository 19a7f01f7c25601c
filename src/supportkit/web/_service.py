"""What the endpoints share: the desk and its parts, who may see which ticket,
and running a change under the caller's ``If-Match``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..domain._errors import ConfigurationError, StaleVersion, TicketNotFound
from ..domain._model import Ticket
from ..extensions import SlaExtension
from ..knowledge import FeedbackCollector, KnowledgeBase, Macro
from ._errors import RequestInvalid
from ._http import Call
from ._json import ticket_json

if TYPE_CHECKING:
    from ..desk import SupportDesk

__all__ = ["Api"]

T = TypeVar("T")


def _find(extensions: Iterable[Any], cls: type[T]) -> T | None:
    return next((e for e in extensions if isinstance(e, cls)), None)


class Api:
    """The desk as the HTTP layer uses it (one per app)."""

    def __init__(
        self,
        desk: SupportDesk,
        *,
        knowledge: KnowledgeBase | None,
        macros: Sequence[Macro],
        customer_channel: str,
        require_if_match: bool,
    ) -> None:
        self.desk = desk
        self.knowledge = knowledge
        names = [m.name for m in macros]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"two macros share a name: {sorted(names)}")
        self.macros = {m.name: m for m in macros}
        self.sla = _find(desk.extensions, SlaExtension)
        self.feedback = _find(desk.extensions, FeedbackCollector)
        self.customer_channel = customer_channel
        self.require_if_match = require_if_match

    # -- reading tickets as someone --------------------------------------------------------
    def label(self, t: Ticket) -> str:
        return self.desk.lifecycle_of(t).definition.public_label(t.status)

    def summary(self, t: Ticket) -> dict[str, Any]:
        return ticket_json(t, self.label(t))

    def agent_ticket(self, call: Call) -> Ticket:
        """The ticket in the path, if the agent may see it (else 404: no hint it exists)."""
        agent = call.agent
        number = call.number()
        t = self.desk.get_ticket_by_number(number)
        if not agent.can_see(t):
            raise TicketNotFound(f"#{number}")
        return t

    def customer_ids(self, call: Call) -> set[str]:
        ids = set()
        for ident in call.customer.identities:
            c = self.desk.find_customer(ident.channel, ident.address)
            if c is not None:
                ids.add(c.id)
        return ids

    def customer_ticket(self, call: Call) -> Ticket:
        """The ticket in the path, if it is one of the customer's (else 404)."""
        number = call.number()
        mine = self.customer_ids(call)
        t = self.desk.get_ticket_by_number(number)
        if t.customer_id not in mine:
            raise TicketNotFound(f"#{number}")
        return t

    # -- changing a ticket under If-Match ------------------------------------------------
    def change(self, call: Call, ticket: Ticket, use_case: Callable[[], T]) -> T:
        """Run *use_case* so that it changes *ticket* only at a version ``If-Match`` names.

        The version is checked where the use case loads the ticket, inside its
        transaction (:meth:`SupportDesk.expect_version`), never by a read before it.
        """
        versions = call.if_match
        if versions is None:
            if self.require_if_match:
                raise RequestInvalid("send If-Match with the ticket's ETag")
            return use_case()
        if ticket.version not in versions:
            raise StaleVersion("ticket", ticket.id, min(versions, default=-1), ticket.version)
        with self.desk.expect_version(ticket.id, ticket.version):
            return use_case()
