"""Macros (canned replies): a reply template plus actions on the ticket.

Placeholders use ``{customer.name}`` syntax and are checked when the macro
is built, so a typo fails at configuration time, not in front of a customer.
Actions are values the desk applies (set priority, category, tags, custom
fields, fire a lifecycle event); :func:`apply_field_actions` applies the
field actions to a ticket for desks that do it themselves.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

import attrs

from supportkit.domain._errors import ValidationError
from supportkit.domain._model import Agent, Customer, Priority, Ticket

from .._fields import str_set

__all__ = [
    "PLACEHOLDERS",
    "AddTags",
    "ChangeStatus",
    "Macro",
    "MacroAction",
    "MacroContext",
    "MacroResult",
    "RemoveTags",
    "SetCategory",
    "SetCustomField",
    "SetPriority",
    "apply_field_actions",
]

PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "customer.name",
        "customer.first_name",
        "customer.email",
        "ticket.number",
        "ticket.id",
        "ticket.subject",
        "ticket.status",
        "ticket.priority",
        "ticket.category",
        "agent.name",
        "agent.first_name",
    }
)


@attrs.frozen
class SetPriority:
    priority: Priority


@attrs.frozen
class SetCategory:
    category: str | None


@attrs.frozen
class AddTags:
    tags: frozenset[str] = attrs.field(converter=str_set)


@attrs.frozen
class RemoveTags:
    tags: frozenset[str] = attrs.field(converter=str_set)


@attrs.frozen
class SetCustomField:
    name: str
    value: object


@attrs.frozen
class ChangeStatus:
    """Fire a lifecycle event (e.g. ``"resolve"``, ``"wait_on_customer"``) after replying."""

    event: str


MacroAction = SetPriority | SetCategory | AddTags | RemoveTags | SetCustomField | ChangeStatus
_ACTION_TYPES = (SetPriority, SetCategory, AddTags, RemoveTags, SetCustomField, ChangeStatus)


def _parse(template: str, macro_name: str) -> tuple[tuple[str, str | None], ...]:
    """Split *template* into (literal, placeholder-or-None) parts, refusing unknown names."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(
            f"macro {macro_name!r}: template is malformed ({exc}); write a literal brace as "
            "'{{' or '}}'"
        ) from exc
    parts: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in parsed:
        if field is not None:
            if field not in PLACEHOLDERS:
                raise ValidationError(
                    f"macro {macro_name!r}: unknown placeholder {{{field}}}; "
                    f"known placeholders: {', '.join(sorted(PLACEHOLDERS))}"
                )
            if spec or conversion:
                raise ValidationError(
                    f"macro {macro_name!r}: placeholder {{{field}}} takes no format "
                    "spec or conversion"
                )
        parts.append((literal, field))
    return tuple(parts)


@attrs.frozen
class MacroContext:
    """What placeholders are filled from."""

    ticket: Ticket
    customer: Customer
    agent: Agent | None = None

    def values(self) -> dict[str, str]:
        c, t, a = self.customer, self.ticket, self.agent
        email = next((i.address for i in c.identities if i.channel == "email"), "")
        return {
            "customer.name": c.name,
            "customer.first_name": c.name.split()[0] if c.name.split() else c.name,
            "customer.email": email,
            "ticket.number": str(t.number),
            "ticket.id": t.id,
            "ticket.subject": t.subject,
            "ticket.status": t.status,
            "ticket.priority": t.priority.name.lower(),
            "ticket.category": t.category or "",
            "agent.name": a.name if a else "",
            "agent.first_name": (a.name.split() or [""])[0] if a else "",
        }


@attrs.frozen
class MacroResult:
    """A rendered macro: the reply to send and the actions to apply, in order."""

    reply: str
    actions: tuple[MacroAction, ...]


def _actions(value: Iterable[MacroAction]) -> tuple[MacroAction, ...]:
    return tuple(value)


@attrs.frozen
class Macro:
    """A canned reply with placeholders and ticket actions.

    >>> Macro("thanks", "Hi {customer.first_name}, ticket #{ticket.number} is fixed.",
    ...       actions=(ChangeStatus("resolve"),))  # doctest: +SKIP
    """

    name: str
    template: str
    actions: tuple[MacroAction, ...] = attrs.field(default=(), converter=_actions)
    locale: str | None = None
    _parts: tuple[tuple[str, str | None], ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("a macro needs a non-empty name")
        if not self.template.strip() and not self.actions:
            raise ValidationError(f"macro {self.name!r} has neither a reply nor actions")
        for action in self.actions:
            if not isinstance(action, _ACTION_TYPES):
                raise ValidationError(
                    f"macro {self.name!r}: {action!r} is not a macro action; use SetPriority, "
                    "SetCategory, AddTags, RemoveTags, SetCustomField or ChangeStatus"
                )
        object.__setattr__(self, "_parts", _parse(self.template, self.name))

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(field for _, field in self._parts if field is not None)

    def render(self, context: MacroContext | Mapping[str, str]) -> MacroResult:
        """Fill the placeholders; a Mapping must provide every placeholder used."""
        values = context.values() if isinstance(context, MacroContext) else dict(context)
        missing = self.placeholders - values.keys()
        if missing:
            raise ValidationError(f"macro {self.name!r}: no value for {', '.join(sorted(missing))}")
        out = [
            literal + (values[field] if field is not None else "") for literal, field in self._parts
        ]
        return MacroResult("".join(out), self.actions)


def apply_field_actions(ticket: Ticket, actions: Iterable[MacroAction]) -> list[ChangeStatus]:
    """Apply priority/category/tag/custom-field actions to *ticket*.

    Returns the status changes, which need the lifecycle and are the desk's job.
    """
    pending: list[ChangeStatus] = []
    for action in actions:
        if isinstance(action, SetPriority):
            ticket.priority = action.priority
        elif isinstance(action, SetCategory):
            ticket.category = action.category
        elif isinstance(action, AddTags):
            ticket.tags = ticket.tags | action.tags
        elif isinstance(action, RemoveTags):
            ticket.tags = ticket.tags - action.tags
        elif isinstance(action, SetCustomField):
            ticket.custom_fields[action.name] = action.value
        else:
            pending.append(action)
    return pending
