"""``make demo``: a realistic stretch of a support desk on the embedded default (SQLite).

Customers write through email, chat, a web form and the phone. Triage rules
classify each request, routing assigns it to an agent of the right tier,
SLA clocks run on business calendars, the first-line bot answers a chat
question from the knowledge base and hands another over to a person, a hard
problem climbs from L1 to L3, an unanswered ticket breaches its SLA and is
escalated, one ticket is reopened by the customer's reply, replies go out
through the channels, and the day ends with the metrics that judge the
service. Everything runs against a SQLite file in the working directory
(``supportkit-demo.sqlite3``, recreated on each run) with a fake clock, so the
output is the same every time.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ._demo_service import complaint_summary, service_day, service_night, topics_summary
from .channels import ChannelRegistry, MemoryChannel, OutboundDispatcher
from .cli import DEMO_DB
from .desk import SupportDesk
from .domain._events import DomainEvent, TicketAssigned, TicketEscalated, TicketQueued
from .domain._model import Agent, Priority, Team
from .extensions import DeskRouting, SlaBreachRecorded, SlaExtension, SlaWarningRecorded
from .knowledge import (
    KNOWLEDGE_SCHEMA,
    BotOnInbound,
    ComplaintIntake,
    ComplaintPolicy,
    FeedbackCollector,
    FeedbackRequested,
    FirstLineBot,
    KnowledgeBase,
    RetrievalAnswerer,
    TriageOnRegistration,
    complaint_lifecycle,
)
from .metrics import compute_metrics, iter_ticket_facts, render_table, stored_feedback
from .policies import (
    EscalationChain,
    EscalationRule,
    FeedbackTokenError,
    FeedbackTokenSigner,
    LeastLoaded,
    Router,
    SlaPolicy,
    SlaRule,
    Triage,
    TriageRule,
    always_open,
    office_hours,
    service_hours,
)
from .ports._clock import FakeClock
from .storage.sqlite import SQLiteStorage

__all__ = ["main", "run_demo"]

BERLIN = ZoneInfo("Europe/Berlin")
CHANNELS = ("email", "chat", "web", "phone")


class _Printer:
    def __init__(self, out: TextIO, clock: FakeClock) -> None:
        self.out = out
        self.clock = clock

    def scene(self, title: str) -> None:
        print(f"\n== {title} ==", file=self.out)

    def say(self, text: str) -> None:
        local = self.clock.now().astimezone(BERLIN)
        print(f"  {local:%a %H:%M}  {text}", file=self.out)


def _fresh_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def _knowledge_base(storage: SQLiteStorage, now: datetime) -> KnowledgeBase:
    kb = KnowledgeBase.on(storage)  # articles, versions and votes in the desk's SQLite file
    articles = [
        (
            "Reset a forgotten password",
            "account",
            "Open the sign-in page, choose 'Forgot password' and follow the link we email you. "
            "The reset link works for one hour.",
        ),
        (
            "Export your data to CSV",
            "data",
            "Go to Settings, then Data, and choose Export as CSV. The file contains every record.",
        ),
        (
            "Request a refund",
            "billing",
            "Purchases can be refunded within 14 days from the order page: choose Request refund.",
        ),
        (
            "Change the delivery address",
            "orders",
            "Until an order ships you can change its delivery address on the order page.",
        ),
    ]
    for title, category, body in articles:
        kb.create(title=title, body=body, locale="en", category=category, at=now, publish=True)
    return kb


def _build_desk(
    path: Path, clock: FakeClock
) -> tuple[SupportDesk, dict[str, MemoryChannel], FeedbackCollector, SlaExtension]:
    teams = [
        Team("frontline", "Front line", tier="L1"),
        Team("engineering", "Engineering", tier="L2"),
        Team("experts", "Developers", tier="L3"),
    ]
    agents = [
        Agent(
            "olga",
            "Olga",
            tier="L1",
            teams=("frontline",),
            languages=frozenset({"en", "ru"}),
            capacity=4,
        ),
        Agent(
            "sam", "Sam", tier="L1", teams=("frontline",), skills=frozenset({"billing"}), capacity=4
        ),
        Agent("ivan", "Ivan", tier="L2", teams=("engineering",), skills=frozenset({"api"})),
        Agent("dana", "Dana", tier="L3", teams=("experts",), skills=frozenset({"database"})),
    ]
    routing = DeskRouting(
        teams=teams,
        agents=agents,
        router=Router(strategy=LeastLoaded()),
        escalation=EscalationChain.default(
            rules=[EscalationRule("L2", name="api problems go to engineering", categories={"api"})],
        ),
    )
    office = office_hours("Europe/Berlin", country="DE")
    sla = SlaExtension(
        SlaPolicy(
            [
                SlaRule(
                    first_response=timedelta(hours=2),
                    next_response=timedelta(hours=4),
                    resolution=timedelta(hours=16),
                    calendar="office",
                ),
                SlaRule(first_response=timedelta(minutes=10), channel="chat", calendar="office"),
                SlaRule(
                    first_response=timedelta(hours=1), priority=Priority.URGENT, calendar="always"
                ),
            ],
            calendars={"office": office, "always": always_open()},
        ),
        escalate_on_breach={"first_response": "L2"},
    )
    triage = TriageOnRegistration(
        Triage(
            [
                TriageRule(
                    "billing",
                    keywords=("invoice", "charge", "refund"),
                    category="billing",
                    tags={"billing"},
                    kind="customer",
                ),
                TriageRule(
                    "outage",
                    keywords=("500", "down", "outage"),
                    category="api",
                    priority=Priority.URGENT,
                    tags={"outage"},
                    kind="technical",
                ),
                TriageRule("how-to", keywords=("how do i", "how can i"), kind="training"),
            ]
        )
    )
    storage = SQLiteStorage(path, components=[KNOWLEDGE_SCHEMA])
    kb = _knowledge_base(storage, clock.now())
    bot = BotOnInbound(FirstLineBot(RetrievalAnswerer(kb), min_confidence=0.3, max_turns=2))
    nonces = (f"demo-nonce-{i}" for i in itertools.count(1))
    feedback = FeedbackCollector(
        FeedbackTokenSigner(
            b"demo secret: use 32+ random bytes in production",
            nonce_source=lambda: next(nonces),
            ttl=timedelta(days=14),
        ),
        url_template="https://help.example.com/feedback?t={token}",
        reminder_after=timedelta(days=2),
        complaints=ComplaintPolicy(action="reopen", threshold=2),
    )
    outboxes = {name: MemoryChannel(name, clock=clock) for name in CHANNELS}
    registry = ChannelRegistry()
    for ch in outboxes.values():
        registry.add(ch)
    desk = SupportDesk(
        storage,
        clock=clock,
        channel_hours=service_hours("Europe/Berlin", country="DE"),  # the seed's table
        lifecycles=[complaint_lifecycle()],
        extensions=[
            triage,
            routing,
            sla,
            bot,
            feedback,
            ComplaintIntake(supervisor_tier="L2"),
            OutboundDispatcher(registry),
        ],
    )
    return desk, outboxes, feedback, sla


def run_demo(
    db_path: str | os.PathLike[str] = DEMO_DB,
    out: TextIO = sys.stdout,
    extra_scenes: list[Callable[[SupportDesk, Any], None]] | None = None,
) -> SupportDesk:
    """Play the demo; returns the desk so tests can inspect what it left behind."""
    path = Path(db_path)
    _fresh_db(path)
    clock = FakeClock(datetime(2026, 3, 2, 7, 55, tzinfo=UTC))  # Monday 08:55 in Berlin
    desk, outboxes, feedback, sla = _build_desk(path, clock)
    p = _Printer(out, clock)

    def on_event(_sender: Any, event: DomainEvent) -> None:
        if isinstance(event, TicketEscalated):
            p.say(
                f"   ↑ escalated {event.from_tier} → {event.to_tier} ({event.policy}): "
                f"{event.reason}"
            )
        elif isinstance(event, TicketAssigned) and event.agent_id:
            p.say(f"   → routed to {event.agent_id} ({event.strategy})")
        elif isinstance(event, TicketQueued):
            p.say(f"   … queued: {event.reason}")
        elif isinstance(event, SlaWarningRecorded):
            due = f" (due {event.due_at.astimezone(BERLIN):%H:%M})" if event.due_at else ""
            p.say(f"   ⚠ SLA warning: {event.kind}{due}")
        elif isinstance(event, SlaBreachRecorded):
            p.say(f"   ✗ SLA breached: {event.kind}")

    desk.signals.event.connect(on_event, weak=False)

    print(f"supportkit demo — SQLite storage at {path.resolve()}", file=out)
    p.scene("Staff on duty")
    for a in sorted(desk.agents(), key=lambda a: a.tier):
        p.say(
            f"{a.name:<5} {a.tier}  teams {', '.join(a.teams)}; "
            f"skills {', '.join(sorted(a.skills)) or '-'}; capacity {a.capacity}"
        )

    p.scene("Customers write in (triage classifies, routing assigns)")
    clock.advance(minutes=5)
    invoice = desk.receive(
        "email",
        "ann@example.com",
        "Hello, my March invoice charges me twice for the Pro plan.",
        subject="Double charge on invoice",
        sender_name="Ann Lee",
        external_id="<a1@mail.example.com>",
    )
    t = desk.get_ticket(invoice.id)
    p.say(f"email from Ann → #{t.number} '{t.subject}' [{t.category}, {t.priority.name}]")
    clock.advance(minutes=3)
    api = desk.receive(
        "web",
        "boris@shop.example",
        "The API returns 500 on POST /orders!",
        subject="API down",
        sender_name="Boris",
    )
    t = desk.get_ticket(api.id)
    p.say(f"web form from Boris → #{t.number} '{t.subject}' [{t.category}, {t.priority.name}]")
    clock.advance(minutes=4)
    form = desk.receive(
        "web",
        "carol@example.org",
        "How do I get all my records out?",
        subject="Export question",
        sender_name="Carol",
    )
    p.say(f"web form from Carol → #{form.number} '{form.subject}'")
    clock.advance(minutes=2)
    spam = desk.receive(
        "email", "promo@spam.example", "Buy cheap followers now!!!", subject="WIN $$$"
    )
    p.say(f"email from promo@spam.example → #{spam.number} '{spam.subject}'")

    p.scene("The first-line bot takes the chat")
    clock.advance(minutes=1)
    chat = desk.receive(
        "chat", "visitor-4711", "How can I reset a forgotten password?", sender_name="Dmitri"
    )
    bot_answer = [m for m in desk.messages(chat.id) if m.author == "bot"]
    first_line = bot_answer[-1].text.splitlines()[0] if bot_answer else "(no answer)"
    p.say(f"chat #{chat.number}: the bot answers from the knowledge base: '{first_line}'")
    clock.advance(minutes=2)
    desk.receive("chat", "visitor-4711", "Thanks, that worked!", ticket_id=chat.id)
    desk.reply(chat.id, "bot", "Glad I could help!", meta={"bot": True})
    desk.resolve(chat.id, actor="bot", resolution="Answered by the bot from the knowledge base")
    p.say(f"chat #{chat.number}: Dmitri confirms; resolved without an agent")
    clock.advance(minutes=1)
    human = desk.receive(
        "chat",
        "visitor-9000",
        "My parcel never arrived, I want to talk to a human",
        sender_name="Eve",
    )
    p.say(
        f"chat #{human.number}: Eve asks for a person → handed over to L1, "
        f"tags {sorted(desk.get_ticket(human.id).tags)}"
    )

    p.scene("Agents answer")
    clock.advance(minutes=6)
    t = desk.get_ticket(invoice.id)
    desk.start_diagnosis(t.id, actor=t.assignee_id or "sam")
    desk.reply(
        t.id, t.assignee_id or "sam", "Hi Ann, I see the duplicate charge and I'm refunding it now."
    )
    t = desk.get_ticket(invoice.id)
    p.say(f"{t.assignee_id} answers #{t.number} (first response after {t.response_time()})")
    desk.close_as_spam(spam.id, actor="olga", reason="advertising")
    p.say(f"#{spam.number} closed as spam")
    clock.advance(minutes=3)
    t = desk.get_ticket(form.id)
    desk.reply(
        t.id,
        t.assignee_id or "olga",
        "Settings → Data → Export as CSV gives you every record. Does that help?",
    )
    desk.wait_on_customer(t.id, actor=t.assignee_id or "olga", reason="asked if it helps")
    p.say(f"#{t.number} answered; waiting for Carol (its SLA clocks pause)")

    p.scene("A hard problem climbs the tiers")
    clock.advance(minutes=5)
    t = desk.get_ticket(api.id)
    p.say(f"#{t.number} is at {t.tier} with {t.assignee_id}")
    desk.add_note(api.id, "ivan", "A migration dropped an index; the query times out.")
    desk.escalate(api.id, "L3", actor="ivan", reason="database schema problem")
    desk.reply(api.id, "dana", "We found the cause and are deploying a fix.")
    clock.advance(minutes=25)
    desk.resolve(api.id, actor="dana", resolution="Restored the missing index on orders.created_at")
    p.say(f"#{api.number} resolved by dana")

    t = desk.get_ticket(human.id)
    desk.reply(
        t.id,
        t.assignee_id or "sam",
        "Hi Eve, your parcel is with the courier; it arrives tomorrow.",
    )
    desk.resolve(t.id, actor=t.assignee_id or "sam", resolution="Parcel located")
    p.say(f"{t.assignee_id} answers Eve on #{t.number} and resolves it")

    p.scene("Nobody answers Frank: the SLA clock runs out")
    clock.advance(minutes=10)
    crash = desk.receive(
        "email",
        "frank@example.net",
        "The app crashes right after start.",
        subject="App crashes on start",
        sender_name="Frank",
    )
    p.say(f"email from Frank → #{crash.number} (first response due within 2 business hours)")
    for minutes in (100, 25):
        clock.advance(minutes=minutes)
        desk.tick()
    t = desk.get_ticket(crash.id)
    p.say(f"#{t.number} is now at {t.tier} with {t.assignee_id}")
    desk.reply(t.id, t.assignee_id or "ivan", "Sorry for the wait, Frank! A fix ships today.")
    desk.resolve(t.id, actor=t.assignee_id or "ivan", resolution="Crash fixed in 4.2.1")

    p.scene("Resolution, a reopen, and closing")
    clock.advance(minutes=10)
    desk.resolve(invoice.id, actor="olga", resolution="Refunded the duplicate charge")
    p.say(f"#{invoice.number} resolved")
    clock.advance(hours=1)
    back = desk.receive(
        "email",
        "ann@example.com",
        "Thanks, but the refund shows only half the amount.",
        subject=f"Re: Double charge on invoice [#{invoice.number}]",
        external_id="<a2@mail.example.com>",
    )
    p.say(f"Ann replies → #{back.number} reopened ({back.status}, reopened {back.reopen_count}x)")
    clock.advance(minutes=15)
    desk.reply(invoice.id, "olga", "Sorry! The second half of the refund is on its way.")
    desk.resolve(invoice.id, actor="olga", resolution="Refunded the remaining half")
    clock.advance(minutes=30)
    carol = desk.receive(
        "web",
        "carol@example.org",
        "Yes, that worked, thank you!",
        subject=f"Re: Export question [#{form.number}]",
    )
    p.say(f"Carol confirms on #{carol.number} → {carol.status}")
    desk.reply(form.id, "olga", "Glad it helped, Carol!")
    desk.resolve(form.id, actor="olga", resolution="Explained CSV export")

    p.scene("Phone")
    clock.advance(minutes=5)
    phone = desk.receive(
        "phone",
        "+49 30 1234567",
        "Caller cannot log in after a password reset.",
        subject="Login after password reset",
        sender_name="Dieter",
    )
    desk.log_call(
        phone.id,
        "olga",
        direction="inbound",
        duration_seconds=240,
        notes="Walked Dieter through clearing the old session; works now.",
    )
    desk.reply(phone.id, "olga", "As discussed on the phone: clear the old session and sign in.")
    desk.resolve(phone.id, actor="olga", resolution="Cleared stale session")
    p.say(f"call logged on #{phone.number}, resolved on first contact")

    service_day(desk, p, clock)
    for scene in extra_scenes or ():
        scene(desk, p)

    p.scene("Customers rate the help they got")
    clock.advance(minutes=30)
    scores = {
        invoice.id: (5, "Refund arrived, thanks Olga!"),
        api.id: (4, "Fixed fast."),
        phone.id: (2, "Took two calls to sort out."),
    }
    for ticket_id, (csat, comment) in scores.items():
        link = [e for e in desk.events(ticket_id) if isinstance(e, FeedbackRequested)][-1].url
        token = link.split("t=", 1)[1]
        feedback.submit(token, csat=csat, comment=comment)
        tk = desk.get_ticket(ticket_id)
        p.say(f"#{tk.number}: CSAT {csat}/5 '{comment}' → {tk.status}")
    try:
        feedback.submit(token, csat=5, comment="second try")
    except FeedbackTokenError as exc:
        p.say(f"the same link used twice is refused: {exc}")
    tk = desk.get_ticket(phone.id)
    desk.reply(tk.id, "olga", "Sorry it took two calls, Dieter; we have fixed the reset flow.")
    desk.resolve(tk.id, actor="olga", resolution="Apologised; reset flow fixed")

    clock.advance(hours=8)
    for tk in desk.find_tickets(status="resolved", limit=50):
        desk.close(tk.id, actor="system", reason="resolved for the rest of the day")
    p.say("resolved tickets closed at the end of the day")
    service_night(desk, p, clock)

    p.scene("Where every ticket stands")
    for tk in desk.find_tickets(limit=50, oldest_first=True):
        track = desk.track(tk.number)
        print(
            f"  #{tk.number:<3} {tk.channel:<6} {tk.tier:<3} {tk.status:<20} "
            f"{(tk.assignee_id or '-'):<6} {tk.subject[:38]!r:<42} customer sees: "
            f"{track.status_label}",
            file=out,
        )
    print(f"\n  history of #{invoice.number}:", file=out)
    for h in desk.history(invoice.id):
        print(
            f"    {h.at.astimezone(BERLIN):%a %H:%M} {h.actor:<16} {h.event:<16} {h.from_status} → {h.to_status}"
            f"{'  (' + h.reason + ')' if h.reason else ''}",
            file=out,
        )
    delivered = {name: len(ch.sent) for name, ch in outboxes.items()}
    print(f"\n  replies delivered through the channels: {delivered}", file=out)

    p.scene("The day's metrics")
    outcomes = sla.outcomes(desk)
    with desk.storage.unit_of_work() as uow:
        report = compute_metrics(
            iter_ticket_facts(uow),
            at=clock.now(),
            group_by="channel",
            feedback=stored_feedback(uow),
            sla_outcomes=outcomes,
        )
    print("  " + render_table(report).replace("\n", "\n  ").rstrip(), file=out)
    print(f"\n  {complaint_summary(desk)}", file=out)
    p.scene("Topics over time: what customers ask about")
    print("  " + topics_summary(desk, clock.now()).replace("\n", "\n  "), file=out)
    desk.flush_outbox()
    return desk


def main(argv: list[str] | None = None) -> int:
    run_demo()
    return 0
