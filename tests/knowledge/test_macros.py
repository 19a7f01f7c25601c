from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ValidationError
from supportkit.domain._model import Agent, Customer, Identity, Priority, Ticket
from supportkit.knowledge import (
    PLACEHOLDERS,
    AddTags,
    ChangeStatus,
    Macro,
    MacroContext,
    RemoveTags,
    SetCategory,
    SetCustomField,
    SetPriority,
    apply_field_actions,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def ticket() -> Ticket:
    return Ticket(
        id="t-1",
        number=1042,
        subject="Refund for order 77",
        customer_id="c-1",
        channel="email",
        status="diagnosing",
        received_at=T0,
        tags=frozenset({"new"}),
    )


def context() -> MacroContext:
    customer = Customer("c-1", "Anna Petrova", [Identity.of("email", "Anna@Example.com")])
    return MacroContext(ticket(), customer, Agent("a-1", "Boris Ivanov"))


def test_macro_fills_placeholders_from_ticket_customer_and_agent() -> None:
    macro = Macro(
        "refund-done",
        "Hi {customer.first_name}, your refund for #{ticket.number} ({ticket.subject}) "
        "is on its way. {{not a placeholder}} — {agent.name}",
    )
    result = macro.render(context())
    assert result.reply == (
        "Hi Anna, your refund for #1042 (Refund for order 77) is on its way. "
        "{not a placeholder} — Boris Ivanov"
    )
    assert macro.placeholders == {
        "customer.first_name",
        "ticket.number",
        "ticket.subject",
        "agent.name",
    }


def test_unknown_placeholder_is_refused_when_the_macro_is_built() -> None:
    with pytest.raises(
        ValidationError, match=r"unknown placeholder \{customer\.nmae\}.*customer\.name"
    ):
        Macro("typo", "Hello {customer.nmae}")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hello {customer.name!r}", "no format"),
        ("Hello {ticket.number:>5}", "no format"),
        ("Hello {customer.name", "malformed"),
        ("Hello }", "malformed"),
    ],
)
def test_malformed_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Macro("bad", template)


def test_macro_without_reply_or_actions_is_refused() -> None:
    with pytest.raises(ValidationError, match="neither a reply nor actions"):
        Macro("empty", "  ")


def test_macro_actions_must_be_macro_action_values() -> None:
    with pytest.raises(ValidationError, match="is not a macro action"):
        Macro("bad", "x", actions=("resolve",))  # type: ignore[arg-type]


def test_rendering_from_a_mapping_needs_every_placeholder() -> None:
    macro = Macro("m", "Ticket #{ticket.number} for {customer.name}")
    assert macro.render({"ticket.number": "7", "customer.name": "Ann"}).reply == "Ticket #7 for Ann"
    with pytest.raises(ValidationError, match=r"no value for customer\.name"):
        macro.render({"ticket.number": "7"})


def test_macro_actions_set_fields_and_leave_status_changes_to_the_desk() -> None:
    macro = Macro(
        "escalate-billing",
        "We passed this to billing, {customer.name}.",
        actions=(
            SetPriority(Priority.HIGH),
            SetCategory("billing"),
            AddTags({"refund", "vip"}),
            RemoveTags({"new"}),
            SetCustomField("order", "77"),
            ChangeStatus("wait_on_customer"),
        ),
    )
    result = macro.render(context())
    t = ticket()
    pending = apply_field_actions(t, result.actions)
    assert (t.priority, t.category, t.tags) == (Priority.HIGH, "billing", {"refund", "vip"})
    assert t.custom_fields == {"order": "77"}
    assert pending == [ChangeStatus("wait_on_customer")]


def test_customer_email_placeholder_uses_the_email_identity() -> None:
    assert Macro("m", "{customer.email}").render(context()).reply == "anna@example.com"


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=80))
def test_text_without_braces_renders_unchanged(text: str) -> None:
    if text.strip():
        assert Macro("m", text).render({}).reply == text


def test_every_documented_placeholder_renders() -> None:
    template = " ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
    assert "{" not in Macro("all", template).render(context()).reply
