from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportkit.domain._errors import ConfigurationError, ValidationError
from supportkit.domain._model import Priority, Ticket
from supportkit.policies import (
    DeEscalation,
    DiagnosisEscalation,
    EscalationChain,
    EscalationContext,
    EscalationDecision,
    EscalationRefused,
    EscalationRule,
    FixedTargets,
    HandOffToHuman,
    ManualEscalation,
    ManualRequest,
    RepetitionEscalation,
    RuleEscalation,
    TierLadder,
    TimeEscalation,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def ticket(**kw):
    base = {
        "id": "t1",
        "number": 1,
        "subject": "Cannot log in",
        "customer_id": "c1",
        "channel": "email",
        "status": "registered",
        "received_at": NOW - timedelta(hours=3),
        "registered_at": NOW - timedelta(hours=3),
    }
    base.update(kw)
    return Ticket(**base)


def ctx(**kw):
    kw.setdefault("now", NOW)
    return EscalationContext(**kw)


def test_manual_escalation_climbs_one_tier_with_its_reason():
    d = ManualEscalation().evaluate(
        ticket(), ctx(manual=ManualRequest("needs database access", actor="ann"))
    )
    assert d == EscalationDecision(
        "t1", "L1", "L2", "escalated: needs database access", "manual", "ann", "up"
    )


def test_manual_escalation_can_jump_to_a_named_tier_or_go_down():
    up = ManualEscalation().evaluate(ticket(), ctx(manual=ManualRequest("outage", to_tier="L3")))
    assert (up.from_tier, up.to_tier) == ("L1", "L3")
    down = ManualEscalation().evaluate(
        ticket(tier="L2"), ctx(manual=ManualRequest("simple question", down=True))
    )
    assert (down.to_tier, down.direction) == ("L1", "down")


def test_manual_escalation_needs_a_reason():
    with pytest.raises(ValidationError, match="needs a reason"):
        ManualRequest("  ")


def test_top_tier_refuses_a_manual_escalation_clearly():
    with pytest.raises(EscalationRefused, match="ticket t1 is at tier 'L3', the top"):
        ManualEscalation().evaluate(ticket(tier="L3"), ctx(manual=ManualRequest("help")))


def test_rules_send_vip_customers_straight_to_l2():
    policy = RuleEscalation([EscalationRule("L2", name="vip", segments={"vip"})])
    d = policy.evaluate(ticket(), ctx(segment="vip"))
    assert (d.to_tier, d.policy, d.reason) == ("L2", "rules", "rule (vip): vip customer")
    assert policy.evaluate(ticket(), ctx(segment="standard")) is None


def test_rules_match_priority_category_and_keywords_together():
    rule = EscalationRule(
        "L3", min_priority=Priority.URGENT, categories={"outage"}, keywords={"data loss"}
    )
    policy = RuleEscalation([rule])
    hit = ticket(priority=Priority.URGENT, category="outage")
    assert policy.evaluate(hit, ctx(text="We see DATA LOSS in prod")).to_tier == "L3"
    assert policy.evaluate(hit, ctx(text="slow pages")) is None
    assert policy.evaluate(attrs.evolve(hit, priority=Priority.HIGH), ctx(text="data loss")) is None


def test_rule_keywords_match_russian_text():
    policy = RuleEscalation([EscalationRule("L2", keywords={"не работает"})])
    assert policy.evaluate(ticket(), ctx(text="Сайт НЕ РАБОТАЕТ с утра")).to_tier == "L2"


def test_a_rule_never_moves_a_ticket_down():
    policy = RuleEscalation([EscalationRule("L2", segments={"vip"})])
    assert policy.evaluate(ticket(tier="L3"), ctx(segment="vip")) is None


def test_a_rule_without_condition_is_refused():
    with pytest.raises(ConfigurationError, match="no condition"):
        EscalationRule("L2")


def test_a_rule_to_an_unknown_tier_is_refused_when_the_chain_is_built():
    with pytest.raises(ConfigurationError, match="unknown escalation rule tier 'L9'"):
        EscalationChain([RuleEscalation([EscalationRule("L9", segments={"vip"})])], TierLadder())


def test_time_escalation_without_first_response_within_the_tier_target():
    policy = TimeEscalation(FixedTargets(first_response_by_tier={"L1": timedelta(hours=2)}))
    d = policy.evaluate(ticket(), ctx())
    assert (d.to_tier, d.reason) == ("L2", "no first response within 2h at L1")
    answered = ticket(first_response_at=NOW - timedelta(hours=2, minutes=30))
    assert policy.evaluate(answered, ctx()) is None


def test_time_escalation_counts_from_when_the_ticket_entered_its_tier():
    policy = TimeEscalation(FixedTargets(resolution_by_tier={"L2": timedelta(hours=8)}))
    t = ticket(tier="L2", first_response_at=NOW - timedelta(hours=2))
    assert policy.evaluate(t, ctx(tier_since=NOW - timedelta(hours=1))) is None
    d = policy.evaluate(t, ctx(tier_since=NOW - timedelta(hours=9)))
    assert (d.from_tier, d.to_tier, d.reason) == ("L2", "L3", "no resolution within 8h at L2")
    assert policy.due_at(t, ctx(tier_since=NOW)) == NOW + timedelta(hours=8)


def test_time_escalation_is_silent_at_the_top_tier_and_after_resolution():
    policy = TimeEscalation(FixedTargets(first_response_by_tier={"L3": timedelta(minutes=1)}))
    assert policy.evaluate(ticket(tier="L3"), ctx()) is None
    resolved = ticket(resolved_at=NOW)
    assert (
        TimeEscalation(FixedTargets({"L1": timedelta(minutes=1)})).evaluate(resolved, ctx()) is None
    )


def test_time_targets_must_be_positive():
    with pytest.raises(ConfigurationError, match="positive timedelta"):
        FixedTargets(first_response_by_tier={"L1": timedelta(0)})


def test_diagnosis_needs_l3():
    d = DiagnosisEscalation().evaluate(ticket(custom_fields={"needs_tier": "L3"}), ctx())
    assert (d.to_tier, d.policy, d.reason) == ("L3", "diagnosis", "diagnosed as needing L3")
    assert (
        DiagnosisEscalation().evaluate(ticket(tier="L3", custom_fields={"needs_tier": "L3"}), ctx())
        is None
    )


def test_de_escalation_back_to_a_lower_tier():
    d = DeEscalation().evaluate(ticket(tier="L2", custom_fields={"needs_tier": "L1"}), ctx())
    assert (d.from_tier, d.to_tier, d.direction) == ("L2", "L1", "down")
    assert DeEscalation().evaluate(ticket(custom_fields={"needs_tier": "L2"}), ctx()) is None


def test_repetition_climbs_a_tier_every_n_reopenings():
    policy = RepetitionEscalation(reopens=2)
    assert policy.evaluate(ticket(reopen_count=1), ctx()) is None
    assert policy.evaluate(ticket(reopen_count=2), ctx()).to_tier == "L2"
    assert policy.evaluate(ticket(reopen_count=4, tier="L2"), ctx()).to_tier == "L3"
    assert policy.evaluate(ticket(reopen_count=9, tier="L3"), ctx()) is None


def test_bot_hands_over_to_l1_when_it_cannot_answer():
    d = HandOffToHuman().evaluate(ticket(), ctx(bot_failed=True))
    assert (d.from_tier, d.to_tier, d.policy) == ("bot", "L1", "hand-off")


def test_bot_hands_over_when_the_customer_asks_for_a_human():
    d = HandOffToHuman().evaluate(ticket(), ctx(text="Соедините с оператором, пожалуйста"))
    assert d.reason == "the customer asked for a human ('оператор')"
    assert HandOffToHuman().evaluate(ticket(assignee_id="ann"), ctx(bot_failed=True)) is None


def test_hand_off_with_a_bot_tier_in_the_ladder():
    ladder = TierLadder(("bot", "L1", "L2"))
    d = HandOffToHuman().evaluate(ticket(tier="bot"), ctx(ladder=ladder, text="a human please"))
    assert (d.from_tier, d.to_tier) == ("bot", "L1")
    assert HandOffToHuman().evaluate(ticket(tier="L1"), ctx(ladder=ladder, bot_failed=True)) is None


def test_chain_evaluates_in_order_and_first_decision_wins():
    chain = EscalationChain.default(
        rules=[EscalationRule("L3", segments={"vip"})],
        targets=FixedTargets(first_response_by_tier={"L1": timedelta(hours=1)}),
    )
    t = ticket()
    assert chain.evaluate(t, ctx(segment="vip")).policy == "rules"
    assert chain.evaluate(t, ctx()).policy == "time"
    assert chain.evaluate(t, ctx(manual=ManualRequest("now"))).policy == "manual"
    assert chain.evaluate(ticket(first_response_at=NOW), ctx()) is None


@attrs.frozen
class AngryCustomer:
    """A host-written policy: three exclamation marks send the ticket to L2."""

    name = "angry-customer"

    def evaluate(self, ticket: Ticket, context: EscalationContext):
        if ticket.tier == "L1" and "!!!" in context.text:
            return EscalationDecision(ticket.id, ticket.tier, "L2", "customer is angry", self.name)
        return None


def test_a_host_written_policy_plugs_into_the_chain():
    chain = EscalationChain([ManualEscalation(), AngryCustomer()], TierLadder())
    d = chain.evaluate(ticket(), ctx(text="Still broken!!!"))
    assert (d.to_tier, d.policy) == ("L2", "angry-customer")


def test_a_policy_sending_a_ticket_to_an_unknown_tier_is_caught():
    @attrs.frozen
    class Broken:
        name = "broken"

        def evaluate(self, ticket, context):
            return EscalationDecision(ticket.id, ticket.tier, "L9", "?", self.name)

    with pytest.raises(ConfigurationError, match=r"broken.*unknown tier 'L9'"):
        EscalationChain([Broken()]).evaluate(ticket(), ctx())


def test_an_object_without_evaluate_is_not_a_policy():
    with pytest.raises(ConfigurationError, match="evaluate"):
        EscalationChain([object()])


tiers = st.sampled_from(["L1", "L2", "L3"])


@given(
    tier=tiers,
    reopens=st.integers(0, 10),
    priority=st.sampled_from(list(Priority)),
    segment=st.sampled_from(["vip", "standard"]),
    hours=st.integers(0, 48),
    needs=st.one_of(st.none(), tiers),
)
def test_every_decision_moves_along_the_ladder_from_the_tickets_tier(
    tier, reopens, priority, segment, hours, needs
):
    chain = EscalationChain.default(
        rules=[
            EscalationRule("L2", segments={"vip"}),
            EscalationRule("L3", min_priority=Priority.URGENT),
        ],
        targets=FixedTargets(
            first_response_by_tier={"L1": timedelta(hours=1)},
            resolution_by_tier={"L2": timedelta(hours=8)},
        ),
    )
    t = ticket(
        tier=tier,
        reopen_count=reopens,
        priority=priority,
        custom_fields={"needs_tier": needs} if needs else {},
        assignee_id="ann",
    )
    d = chain.evaluate(t, ctx(segment=segment, tier_since=NOW - timedelta(hours=hours)))
    if d is not None:
        ladder = TierLadder()
        assert d.from_tier == tier
        assert d.to_tier in ladder
        assert d.to_tier != tier
        assert (ladder.compare(d.to_tier, tier) > 0) == (d.direction == "up")
