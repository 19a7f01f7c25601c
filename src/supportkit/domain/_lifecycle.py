"""Lifecycles as data, run on one shared ``transitions.Machine`` each.

A :class:`LifecycleDefinition` lists states, the initial state, the final
states and the transitions (event, sources, destination, guards). It is
validated when built: unknown states, states unreachable from the initial
one, or no final state are rejected with :class:`LifecycleDefinitionError`.

A :class:`Lifecycle` compiles a definition into exactly one
``transitions.Machine``. Tickets are never attached to it: the machine
drives one small mutable holder whose state is set from the ticket before a
transition and read back after, so a transition costs the same with ten or
a million live tickets (``Machine.add_model`` is O(n) in attached models).
A transition without guards or callbacks has one possible outcome, so the
machine's own transition table is read once into a dict and such events are
answered from it (a dict lookup instead of a trip through the machine: the
commonest transitions of every use case); guarded ones run on the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from transitions import Machine

from .._fields import str_set, str_tuple
from ._errors import GuardRejected, InvalidTransition, LifecycleDefinitionError

__all__ = [
    "DEFAULT_LIFECYCLE",
    "GuardContext",
    "Lifecycle",
    "LifecycleDefinition",
    "TransitionDef",
    "default_lifecycle",
    "requires",
]


@attrs.frozen
class GuardContext:
    """What a guard sees: the ticket, the event and the use case's arguments."""

    ticket: Any
    event: str
    params: Mapping[str, Any]


#: A guard returns ``None`` to allow the transition, or a reason to refuse it.
Guard = Callable[[GuardContext], str | None]


def requires(param: str, what: str) -> Guard:
    """A guard refusing the transition unless the use case passed a non-blank *param*."""

    def guard(ctx: GuardContext) -> str | None:
        value = ctx.params.get(param)
        if value is None or (isinstance(value, str) and not value.strip()):
            return f"{what} is required: pass {param}=..."
        return None

    guard.__name__ = f"requires_{param}"
    return guard


def _tuple_of_guards(value: Iterable[Guard]) -> tuple[Guard, ...]:
    return tuple(value)


def _tuple_of_transitions(value: Iterable[TransitionDef]) -> tuple[TransitionDef, ...]:
    return tuple(value)


@attrs.frozen
class TransitionDef:
    """``event`` moves a ticket from any of ``sources`` to ``dest`` when every guard allows."""

    event: str
    sources: tuple[str, ...] = attrs.field(converter=str_tuple)
    dest: str
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_tuple_of_guards)


@attrs.frozen
class LifecycleDefinition:
    """A lifecycle as data; validated on construction."""

    name: str
    states: tuple[str, ...] = attrs.field(converter=str_tuple)
    initial: str
    final: frozenset[str] = attrs.field(converter=str_set)
    transitions: tuple[TransitionDef, ...] = attrs.field(converter=_tuple_of_transitions)
    #: the label a customer sees for each state (tracking); defaults to the state name
    public_labels: Mapping[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        where = f"lifecycle {self.name!r}"
        if not self.states:
            raise LifecycleDefinitionError(f"{where} has no states; list at least two")
        if len(set(self.states)) != len(self.states):
            dupes = sorted({s for s in self.states if self.states.count(s) > 1})
            raise LifecycleDefinitionError(f"{where} lists states twice: {dupes}")
        known = set(self.states)
        if self.initial not in known:
            raise LifecycleDefinitionError(
                f"{where}: initial state {self.initial!r} is not one of its states {sorted(known)}"
            )
        if not self.final:
            raise LifecycleDefinitionError(
                f"{where} has no final state: name at least one state in final=... "
                "so tickets can end"
            )
        unknown_final = self.final - known
        if unknown_final:
            raise LifecycleDefinitionError(
                f"{where}: final states {sorted(unknown_final)} are not among its states"
            )
        seen_pairs: set[tuple[str, str]] = set()
        for t in self.transitions:
            for state in (*t.sources, t.dest):
                if state not in known:
                    raise LifecycleDefinitionError(
                        f"{where}: transition {t.event!r} names unknown state {state!r}; "
                        f"known states are {sorted(known)}"
                    )
            if not t.sources:
                raise LifecycleDefinitionError(f"{where}: transition {t.event!r} has no source")
            for s in t.sources:
                if s in self.final:
                    raise LifecycleDefinitionError(
                        f"{where}: transition {t.event!r} leaves final state {s!r}; "
                        "a final state must have no way out"
                    )
                if (t.event, s) in seen_pairs:
                    raise LifecycleDefinitionError(
                        f"{where}: event {t.event!r} is defined twice from state {s!r}"
                    )
                seen_pairs.add((t.event, s))
        reachable = {self.initial}
        frontier = [self.initial]
        while frontier:
            state = frontier.pop()
            for t in self.transitions:
                if state in t.sources and t.dest not in reachable:
                    reachable.add(t.dest)
                    frontier.append(t.dest)
        unreachable = [s for s in self.states if s not in reachable]
        if unreachable:
            raise LifecycleDefinitionError(
                f"{where}: states {unreachable} cannot be reached from {self.initial!r}; "
                "add a transition into them or remove them"
            )
        if not (reachable & self.final):
            raise LifecycleDefinitionError(f"{where}: no final state is reachable")

    def public_label(self, state: str) -> str:
        return self.public_labels.get(state, state.replace("_", " "))


class _Holder:
    """The one model object a lifecycle's Machine drives (see module docstring)."""

    state: str


class Lifecycle:
    """A compiled lifecycle: validates and fires events for any number of tickets."""

    def __init__(self, definition: LifecycleDefinition) -> None:
        self.definition = definition
        self.name = definition.name
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=list(definition.states),
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            name=definition.name,
        )
        for t in definition.transitions:
            self._machine.add_transition(
                t.event,
                list(t.sources),
                t.dest,
                conditions=[self._guard_callback(t)] if t.guards else None,
            )
        self._holder = _Holder()
        self._machine.add_model(self._holder, initial=definition.initial)
        self._allowed: dict[str, tuple[str, ...]] = {
            state: tuple(sorted(self._machine.get_triggers(state))) for state in definition.states
        }
        self._events = frozenset(t.event for t in definition.transitions)
        #: (state, event) -> destination, read from the machine for the transitions with a
        #: single, unconditional outcome (no guards, no callbacks): fired without the machine
        self._direct: dict[tuple[str, str], str] = {}
        for event_name, ev in self._machine.events.items():
            for source, candidates in ev.transitions.items():
                if len(candidates) != 1:
                    continue
                tr = candidates[0]
                if tr.conditions or tr.prepare or tr.before or tr.after or tr.dest is None:
                    continue
                self._direct[(source, event_name)] = tr.dest
        #: (state, event) -> (destination, guards) for a single outcome whose only condition
        #: is its guards: the guards run here, as the machine would run them, without it
        self._guarded: dict[tuple[str, str], tuple[str, tuple[Guard, ...]]] = {}
        for t in definition.transitions:
            if not t.guards:
                continue
            ev = self._machine.events[t.event]
            for source in t.sources:
                candidates = ev.transitions.get(source, [])
                if len(candidates) != 1:
                    continue
                tr = candidates[0]
                if len(tr.conditions) != 1 or tr.prepare or tr.before or tr.after:
                    continue
                self._guarded[(source, t.event)] = (t.dest, tuple(t.guards))

    @staticmethod
    def _guard_callback(t: TransitionDef) -> Callable[[Any], bool]:
        def check(event_data: Any) -> bool:
            ctx: GuardContext = event_data.kwargs["ctx"]
            for guard in t.guards:
                refusal = guard(ctx)
                if refusal:
                    raise _Refused(refusal)
            return True

        return check

    @property
    def initial(self) -> str:
        return self.definition.initial

    @property
    def states(self) -> tuple[str, ...]:
        return self.definition.states

    @property
    def events(self) -> frozenset[str]:
        return self._events

    def is_final(self, state: str) -> bool:
        return state in self.definition.final

    def allowed_events(self, state: str) -> tuple[str, ...]:
        """The events that can fire from *state* (guards not evaluated)."""
        return self._allowed.get(state, ())

    def can_fire(self, state: str, event: str) -> bool:
        return event in self._allowed.get(state, ())

    def fire(self, ticket: Any, event: str, params: Mapping[str, Any] | None = None) -> str:
        """Return the state *event* moves *ticket* (anything with ``id`` and ``status``) to.

        Raises :class:`InvalidTransition` naming the ticket, its state, the
        event and the events allowed now, or :class:`GuardRejected` when a
        guard refuses. The ticket itself is not modified.
        """
        state = ticket.status
        direct = self._direct.get((state, event))
        if direct is not None:
            return direct
        if event not in self._allowed.get(state, ()):
            raise InvalidTransition(ticket.id, state, event, self._allowed.get(state, ()))
        ctx = GuardContext(ticket, event, params or {})
        guarded = self._guarded.get((state, event))
        if guarded is not None:
            dest, guards = guarded
            for guard in guards:
                refusal = guard(ctx)
                if refusal:
                    raise GuardRejected(ticket.id, state, event, self._allowed[state], refusal)
            return dest
        with self._lock:
            self._holder.state = state
            try:
                self._machine.events[event].trigger(self._holder, ctx=ctx)
            except _Refused as refused:
                raise GuardRejected(
                    ticket.id, state, event, self._allowed[state], refused.reason
                ) from None
            return self._holder.state

    def to_mermaid(self) -> str:
        """The lifecycle as a Mermaid ``stateDiagram-v2``."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.definition.initial}"]
        for t in self.definition.transitions:
            lines.extend(f"    {s} --> {t.dest}: {t.event}" for s in t.sources)
        lines.extend(
            f"    {s} --> [*]" for s in self.definition.states if s in self.definition.final
        )
        return "\n".join(lines)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


RECEIVED = "received"
REGISTERED = "registered"
DIAGNOSING = "diagnosing"
WAITING = "waiting_on_customer"
RESOLVED = "resolved"
CLOSED = "closed"

_OPEN = (REGISTERED, DIAGNOSING, WAITING)

DEFAULT_LIFECYCLE = LifecycleDefinition(
    name="default",
    states=(RECEIVED, REGISTERED, DIAGNOSING, WAITING, RESOLVED, CLOSED),
    initial=RECEIVED,
    final={CLOSED},
    transitions=(
        TransitionDef("register", (RECEIVED,), REGISTERED),
        TransitionDef("start_diagnosis", (REGISTERED,), DIAGNOSING),
        TransitionDef("wait_on_customer", (REGISTERED, DIAGNOSING), WAITING),
        TransitionDef("customer_replied", (WAITING,), DIAGNOSING),
        TransitionDef(
            "resolve", _OPEN, RESOLVED, guards=(requires("resolution", "a resolution summary"),)
        ),
        TransitionDef("reopen", (RESOLVED,), DIAGNOSING),
        TransitionDef("close", (RESOLVED,), CLOSED),
        TransitionDef(
            "close_as_spam",
            (RECEIVED, *_OPEN),
            CLOSED,
            guards=(requires("reason", "a reason for closing as spam"),),
        ),
        TransitionDef(
            "close_as_duplicate",
            (RECEIVED, *_OPEN, RESOLVED),
            CLOSED,
            guards=(requires("reason", "a reason (which ticket it duplicates)"),),
        ),
    ),
    public_labels={
        RECEIVED: "received",
        REGISTERED: "registered, waiting for an agent",
        DIAGNOSING: "in progress",
        WAITING: "waiting for your reply",
        RESOLVED: "resolved",
        CLOSED: "closed",
    },
)


def default_lifecycle() -> Lifecycle:
    """The default received → registered → diagnosing → resolved → closed lifecycle."""
    return Lifecycle(DEFAULT_LIFECYCLE)
