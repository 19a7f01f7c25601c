from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ConfigurationError
from supportkit.domain._model import Priority, Ticket
from supportkit.knowledge import Analyzer
from supportkit.policies import MatchMode, Triage, TriageResult, TriageRule

RULES = [
    TriageRule("refunds", keywords=("refund", "money back", "возврат"), category="billing"),
    TriageRule(
        "outage",
        keywords=("down", "outage", "error 500", "не работает"),
        category="technical",
        priority=Priority.URGENT,
        tags={"incident"},
    ),
    TriageRule("vip", segments={"vip"}, priority=Priority.HIGH, tags={"vip"}),
    TriageRule("phone", channels={"phone"}, tags={"phone"}),
]


def test_all_matching_rules_contribute_with_first_category_and_highest_priority() -> None:
    result = Triage(RULES).classify(
        "Refund please", "the site is down again", channel="email", segment="vip"
    )
    assert result == TriageResult(
        category="billing",
        priority=Priority.URGENT,
        tags=frozenset({"incident", "vip"}),
        matched_rules=("refunds", "outage", "vip"),
    )


def test_first_match_mode_applies_only_the_first_matching_rule() -> None:
    result = Triage(RULES, mode=MatchMode.FIRST).classify(
        "Refund please", "the site is down", channel="email", segment="vip"
    )
    assert result.matched_rules == ("refunds",)
    assert result.priority is None


def test_channel_and_segment_conditions_must_hold_too() -> None:
    triage = Triage(RULES)
    assert triage.classify("hello", channel="phone").tags == {"phone"}
    assert triage.classify("hello", channel="email", segment="standard") == TriageResult()


def test_multi_word_keywords_match_as_a_phrase_only() -> None:
    triage = Triage(RULES)
    assert triage.classify("money back", channel="email").category == "billing"
    assert triage.classify("back to the money", channel="email").category is None


def test_stemmed_keywords_match_other_word_forms_in_both_languages() -> None:
    triage = Triage(RULES, terms=Analyzer().terms)
    assert triage.classify("Refunds", channel="email").category == "billing"
    assert triage.classify("Оформите возврата денег", channel="email").category == "billing"
    assert triage.classify("Сайт не работал всё утро", channel="chat").category == "technical"


def test_plain_terms_do_not_match_other_word_forms() -> None:
    assert Triage(RULES).classify("Refunds", channel="email").category is None


def test_a_phrase_does_not_match_across_subject_and_text() -> None:
    assert Triage(RULES).classify("money", "back", channel="email").category is None


def test_result_applies_to_a_ticket_on_registration() -> None:
    ticket = Ticket(
        id="t",
        number=1,
        subject="s",
        customer_id="c",
        channel="email",
        status="registered",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        tags=frozenset({"web"}),
    )
    TriageResult("billing", Priority.HIGH, frozenset({"vip"}), ("vip",)).apply_to(ticket)
    assert (ticket.category, ticket.priority, ticket.tags) == (
        "billing",
        Priority.HIGH,
        {"web", "vip"},
    )


@pytest.mark.parametrize(
    ("rule_kwargs", "message"),
    [
        ({"category": "x"}, "no condition"),
        ({"keywords": ("a",)}, "changes nothing"),
    ],
)
def test_rules_that_cannot_work_are_refused(rule_kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TriageRule("r", **rule_kwargs)  # type: ignore[arg-type]


def test_duplicate_rule_names_and_empty_keywords_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="repeated"):
        Triage([RULES[0], RULES[0]])
    with pytest.raises(ConfigurationError, match="no words"):
        Triage([TriageRule("r", keywords=("!!",), category="x")])


@given(
    subject=st.text(max_size=60),
    text=st.text(max_size=200),
    channel=st.sampled_from(["email", "phone", "chat"]),
)
def test_triage_is_total_and_all_mode_is_a_superset_of_first_mode(
    subject: str, text: str, channel: str
) -> None:
    first = Triage(RULES, mode=MatchMode.FIRST).classify(subject, text, channel=channel)
    every = Triage(RULES).classify(subject, text, channel=channel)
    assert set(first.matched_rules) <= set(every.matched_rules)
    assert first.matched_rules == every.matched_rules[:1]
    assert first.tags <= every.tags
