"""A stateful hypothesis test: a SupportDesk on some backend against a small reference model.

The machine plays random sequences of use cases (new requests, threaded
replies, agent replies, notes, assignment, every lifecycle event, escalation,
duplicates, invalid events) and after each step checks the invariants:

- every ticket is in a known state, the one the model predicts;
- its history chains (each ``from_status`` is the previous ``to_status``,
  the first leaves the initial state, the last reaches the status);
- its version grows by exactly one with every change and never otherwise;
- no event is lost: each ticket's stored events are the ones the model
  expects, the outbox sequence is gap-free and increasing, every stored event
  was published exactly once after commit, and nothing published is unstored;
- a rejected call changes nothing at all.

Use it on any backend (see :func:`desk_state_machine`)::

    TestDeskOnMine = desk_state_machine(lambda: MyStorage(...)).TestCase
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import Any, ClassVar

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from ..desk import SupportDesk
from ..domain._errors import (
    GuardRejected,
    InvalidTransition,
    MalformedMessage,
    NotFound,
    SupportKitError,
    ValidationError,
)
from ..domain._events import DomainEvent, event_type
from ..domain._model import Agent, Ticket
from ..ports._clock import FakeClock
from ..ports._storage import Storage, TicketQuery
from ..storage.memory import MemoryStorage

__all__ = ["DeskStateMachine", "desk_state_machine"]

# The reference model of the default lifecycle, written out independently of it.
_MOVES: dict[tuple[str, str], str] = {
    ("start_diagnosis", "registered"): "diagnosing",
    ("wait_on_customer", "registered"): "waiting_on_customer",
    ("wait_on_customer", "diagnosing"): "waiting_on_customer",
    ("customer_replied", "waiting_on_customer"): "diagnosing",
    **{("resolve", s): "resolved" for s in ("registered", "diagnosing", "waiting_on_customer")},
    ("reopen", "resolved"): "diagnosing",
    ("close", "resolved"): "closed",
    **{
        ("close_as_spam", s): "closed"
        for s in ("received", "registered", "diagnosing", "waiting_on_customer")
    },
    **{
        ("close_as_duplicate", s): "closed"
        for s in ("received", "registered", "diagnosing", "waiting_on_customer", "resolved")
    },
}
_STATES = frozenset(
    ("received", "registered", "diagnosing", "waiting_on_customer", "resolved", "closed")
)
_FINAL = "closed"
_SENDERS = ("ann@example.com", "bob@example.com", "chat-user-7")
_RECEIVED = "ticket.received"
_MESSAGE = "ticket.message_added"
_STATUS = "ticket.status_changed"


@attrs.define
class _ModelTicket:
    id: str
    number: int
    sender: str
    status: str = "registered"
    version: int = 1
    tier: str = "L1"
    messages: int = 1
    history: int = 1
    events: list[str] = attrs.Factory(lambda: [_RECEIVED, _MESSAGE, _STATUS])
    external_ids: list[str] = attrs.Factory(list)
    responded: bool = False  # an agent has replied (the first reply starts the diagnosis)


class DeskStateMachine(RuleBasedStateMachine):
    """Drives a desk built on ``storage_factory()``; subclass or use :func:`desk_state_machine`."""

    #: builds the backend for one example: a Storage, or a context manager yielding one
    #: (closed, or exited, when the example ends)
    storage_factory: ClassVar[Callable[[], AbstractContextManager[Storage]]] = MemoryStorage
    tickets: Bundle[str] = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self._resources = ExitStack()
        self.storage = self._resources.enter_context(type(self).storage_factory())
        self.clock = FakeClock()
        self.desk = SupportDesk(self.storage, clock=self.clock)
        self.published: list[DomainEvent] = []
        self.desk.signals.event.connect(self._on_event, sender=self.desk, weak=False)
        self.model: dict[str, _ModelTicket] = {}
        self.customers: dict[str, str] = {}  # sender -> customer id
        self.counter = 0
        for agent_id in ("a1", "a2"):
            self.desk.add_agent(Agent(agent_id, f"Agent {agent_id}"))

    def _on_event(self, sender: Any, *, event: DomainEvent) -> None:
        self.published.append(event)

    def teardown(self) -> None:
        self._resources.close()

    # -- helpers -------------------------------------------------------------------------
    def _next_external_id(self) -> str:
        self.counter += 1
        return f"<m{self.counter}@stateful.test>"

    def _snapshot(self, ticket_id: str) -> tuple[Any, ...]:
        with self.storage.unit_of_work() as uow:
            return (
                uow.get_ticket(ticket_id),
                uow.messages_for(ticket_id),
                uow.history_for(ticket_id),
                uow.events_since(0, limit=10**9),
                uow.count_tickets(TicketQuery()),
            )

    def _rejected(
        self, ticket_id: str, error: type[SupportKitError], call: Callable[[], object]
    ) -> None:
        before = self._snapshot(ticket_id)
        published = len(self.published)
        try:
            call()
        except error:
            pass
        else:
            raise AssertionError(f"expected {error.__name__}, the call succeeded")
        assert self._snapshot(ticket_id) == before, "a rejected call changed stored data"
        assert len(self.published) == published, "a rejected call published events"

    def _changed(self, m: _ModelTicket, *events: str) -> None:
        m.version += 1
        m.events.extend(events)

    def _new_ticket(self, ticket_id: str, sender: str, external_id: str) -> _ModelTicket:
        with self.storage.unit_of_work() as uow:
            number = uow.get_ticket(ticket_id).number
        m = _ModelTicket(ticket_id, number, sender, external_ids=[external_id])
        assert ticket_id not in self.model
        self.model[ticket_id] = m
        return m

    def _check_customer(self, sender: str, ticket_id: str) -> None:
        with self.storage.unit_of_work() as uow:
            customer_id = uow.get_ticket(ticket_id).customer_id
        assert self.customers.setdefault(sender, customer_id) == customer_id

    # -- inbound ---------------------------------------------------------------------------
    @rule(target=tickets, sender=st.sampled_from(_SENDERS))
    def receive_new(self, sender: str) -> str:
        self.clock.advance(minutes=7)
        ext = self._next_external_id()
        channel = "email" if "@" in sender else "chat"
        t = self.desk.receive(
            channel, sender, "Something is broken", subject="Help", external_id=ext
        )
        assert t.status == "registered"
        self._new_ticket(t.id, sender, ext)
        self._check_customer(sender, t.id)
        return t.id

    @rule(
        target=tickets,
        ticket_id=tickets,
        how=st.sampled_from(("in_reply_to", "references", "token", "ticket_id")),
    )
    def receive_reply(self, ticket_id: str, how: str) -> str:
        self.clock.advance(minutes=3)
        m = self.model[ticket_id]
        ext = self._next_external_id()
        kwargs: dict[str, Any] = {"subject": "Re: Help", "external_id": ext}
        if how == "in_reply_to":
            kwargs["in_reply_to"] = m.external_ids[-1]
        elif how == "references":
            kwargs["references"] = ["<unknown@elsewhere>", m.external_ids[0]]
        elif how == "token":
            kwargs["subject"] = f"Re: [#{m.number}] Help"
        else:
            kwargs["ticket_id"] = ticket_id
        channel = "email" if "@" in m.sender else "chat"
        t = self.desk.receive(channel, m.sender, "More details", **kwargs)
        if m.status == _FINAL:
            assert t.id != ticket_id, "a reply to a closed ticket must open a new one"
            assert t.custom_fields.get("follow_up_of") == m.number
            self._new_ticket(t.id, m.sender, ext)
            return t.id
        assert t.id == ticket_id, f"reply threaded by {how} went to another ticket"
        m.messages += 1
        m.external_ids.append(ext)
        if m.status in ("resolved", "waiting_on_customer"):
            m.status = "diagnosing"
            m.history += 1
            self._changed(m, _MESSAGE, _STATUS)
        else:
            self._changed(m, _MESSAGE)
        return t.id

    @rule(ticket_id=tickets)
    def duplicate_delivery_changes_nothing(self, ticket_id: str) -> None:
        m = self.model[ticket_id]
        before = self._snapshot(ticket_id)
        channel = "email" if "@" in m.sender else "chat"
        t = self.desk.receive(channel, m.sender, "again", external_id=m.external_ids[0])
        assert t.id == ticket_id
        assert self._snapshot(ticket_id) == before

    @rule(ticket_id=tickets)
    def malformed_inbound_is_rejected(self, ticket_id: str) -> None:
        self._rejected(
            ticket_id, MalformedMessage, lambda: self.desk.receive("email", "  ", "text")
        )

    # -- agents' use cases --------------------------------------------------------------------
    @rule(ticket_id=tickets, text=st.sampled_from(("Thanks, looking into it", "", "   ")))
    def reply(self, ticket_id: str, text: str) -> None:
        self.clock.advance(minutes=5)
        m = self.model[ticket_id]

        def call() -> object:
            return self.desk.reply(ticket_id, "a1", text)

        if not text.strip():
            self._rejected(ticket_id, MalformedMessage, call)
        elif m.status == _FINAL:
            self._rejected(ticket_id, InvalidTransition, call)
        else:
            call()
            m.messages += 1
            if not m.responded and m.status == "registered":  # first reply: in progress
                m.status = "diagnosing"
                m.history += 1
                self._changed(m, _MESSAGE, _STATUS)
            else:
                self._changed(m, _MESSAGE)
            m.responded = True

    @rule(ticket_id=tickets)
    def note(self, ticket_id: str) -> None:
        self.clock.advance(minutes=1)
        self.desk.add_note(ticket_id, "a2", "internal: check the logs")
        m = self.model[ticket_id]
        m.messages += 1
        self._changed(m, _MESSAGE)

    @rule(ticket_id=tickets, agent=st.sampled_from(("a1", "a2", None, "ghost")))
    def assign(self, ticket_id: str, agent: str | None) -> None:
        m = self.model[ticket_id]

        def call() -> Ticket:
            return self.desk.assign(ticket_id, agent, actor="lead")

        if agent == "ghost":
            self._rejected(ticket_id, NotFound, call)
        else:
            t = call()
            assert t.assignee_id == agent
            self._changed(m, "ticket.assigned")

    @rule(
        ticket_id=tickets,
        event=st.sampled_from(
            (
                "start_diagnosis",
                "wait_on_customer",
                "resolve",
                "close",
                "reopen",
                "close_as_spam",
                "explode",
                "customer_replied",
                "register",
            )
        ),
        give_reason=st.booleans(),
    )
    def lifecycle_event(self, ticket_id: str, event: str, give_reason: bool) -> None:
        self.clock.advance(minutes=11)
        m = self.model[ticket_id]
        reason = "the customer confirmed" if give_reason else " "
        d = self.desk
        calls: dict[str, Callable[[], object]] = {
            "start_diagnosis": lambda: d.start_diagnosis(ticket_id, actor="a1"),
            "wait_on_customer": lambda: d.wait_on_customer(ticket_id, actor="a1"),
            "resolve": lambda: d.resolve(ticket_id, actor="a1", resolution=reason),
            "close": lambda: d.close(ticket_id, actor="a1"),
            "reopen": lambda: d.reopen(ticket_id, actor="a1", reason="not fixed"),
            "close_as_spam": lambda: d.close_as_spam(ticket_id, actor="a1", reason=reason),
        }
        call = calls.get(event, lambda: d.transition(ticket_id, event, actor="a1"))
        dest = _MOVES.get((event, m.status))
        if dest is None:
            self._rejected(ticket_id, InvalidTransition, call)
            return
        if event in ("resolve", "close_as_spam") and not give_reason:
            self._rejected(ticket_id, GuardRejected, call)
            return
        call()
        m.status = dest
        m.history += 1
        self._changed(m, _STATUS)

    @rule(ticket_id=tickets, original=tickets)
    def close_as_duplicate(self, ticket_id: str, original: str) -> None:
        m = self.model[ticket_id]

        def call() -> object:
            return self.desk.close_as_duplicate(ticket_id, actor="a1", duplicate_of=original)

        if original == ticket_id:
            self._rejected(ticket_id, ValidationError, call)
        elif ("close_as_duplicate", m.status) not in _MOVES:
            self._rejected(ticket_id, InvalidTransition, call)
        else:
            call()
            m.status = _FINAL
            m.history += 1
            self._changed(m, _STATUS)

    @rule(ticket_id=tickets, tier=st.sampled_from(("L1", "L2", "L3", "L9")))
    def escalate(self, ticket_id: str, tier: str) -> None:
        m = self.model[ticket_id]

        def call() -> object:
            return self.desk.escalate(ticket_id, tier, actor="a1", reason="needs an expert")

        if tier == "L9" or (m.status != _FINAL and tier == m.tier):
            self._rejected(ticket_id, ValidationError, call)
        elif m.status == _FINAL:
            self._rejected(ticket_id, InvalidTransition, call)
        else:
            call()
            m.tier = tier
            m.history += 1
            self._changed(m, "ticket.escalated")

    @rule(ticket_id=tickets)
    def unknown_ticket_is_not_found(self, ticket_id: str) -> None:
        self._rejected(
            ticket_id, NotFound, lambda: self.desk.start_diagnosis("no-such-ticket", actor="a1")
        )

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def tickets_match_the_model(self) -> None:
        lifecycle = self.desk.lifecycle
        with self.storage.unit_of_work() as uow:
            for m in self.model.values():
                t = uow.get_ticket(m.id)
                assert t.status in _STATES
                assert t.status in lifecycle.states
                assert (t.status, t.version, t.tier) == (m.status, m.version, m.tier), m
                history = uow.history_for(m.id)
                assert len(history) == m.history
                assert history[0].from_status == lifecycle.initial
                assert history[-1].to_status == t.status
                for prev, entry in itertools.pairwise(history):
                    assert entry.from_status == prev.to_status, history
                    assert entry.at >= prev.at
                assert len(uow.messages_for(m.id)) == m.messages
                stored = [event_type(se.event) for se in uow.events_for(m.id)]
                assert stored == m.events, (stored, m.events)

    @invariant()
    def no_event_is_lost(self) -> None:
        self.desk.flush_outbox()
        with self.storage.unit_of_work() as uow:
            stored = uow.events_since(0, limit=10**9)
            pending = uow.pending_events()
        seqs = [se.seq for se in stored]
        assert all(b == a + 1 for a, b in itertools.pairwise(seqs)), seqs
        assert [se.event for se in stored] == self.published
        assert pending == []
        assert all(se.published for se in stored)


def desk_state_machine(
    storage_factory: Callable[[], AbstractContextManager[Storage]],
) -> type[DeskStateMachine]:
    """A :class:`DeskStateMachine` on the backend *storage_factory* builds (one per example).

    The factory returns a Storage (closed after the example) or a context
    manager yielding one, for backends that need cleaning up::

        @contextlib.contextmanager
        def pg_storage():
            with fresh_schema() as url, PostgresStorage(url) as storage:
                yield storage

        TestDeskOnPostgres = desk_state_machine(pg_storage).TestCase
    """
    name = getattr(storage_factory, "__name__", "Storage")
    return type(
        f"DeskStateMachineOn{name}",
        (DeskStateMachine,),
        {"storage_factory": staticmethod(storage_factory)},
    )
