"""``make demo``: a realistic stretch of a support desk on the embedded default (SQLite).

Customers write through email, chat, a web form and the phone; tickets are
registered, diagnosed, answered, escalated, resolved, closed, and one is
reopened. The demo prints what happened and where each ticket stands.
Everything runs against a SQLite file in the working directory
(``supportkit-demo.sqlite3``, recreated on each run) with a fake clock, so
the output is the same every time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .desk import SupportDesk
from .domain._events import DomainEvent, TicketAssigned, TicketEscalated
from .domain._model import Agent, Team
from .ports._clock import FakeClock
from .storage.sqlite import SQLiteStorage

__all__ = ["main", "run_demo"]

DEMO_DB = "supportkit-demo.sqlite3"


class _Printer:
    def __init__(self, out: TextIO, clock: FakeClock) -> None:
        self.out = out
        self.clock = clock

    def scene(self, title: str) -> None:
        print(f"\n== {title} ==", file=self.out)

    def say(self, text: str) -> None:
        print(f"  {self.clock.now():%a %H:%M}  {text}", file=self.out)


def _fresh_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def run_demo(
    db_path: str | os.PathLike[str] = DEMO_DB,
    out: TextIO = sys.stdout,
    extra_scenes: list[Callable[[SupportDesk, Any], None]] | None = None,
) -> SupportDesk:
    """Play the demo; returns the desk so tests can inspect what it left behind."""
    path = Path(db_path)
    _fresh_db(path)
    clock = FakeClock(datetime(2026, 3, 2, 8, 55, tzinfo=UTC))  # a Monday morning
    storage = SQLiteStorage(path)
    desk = SupportDesk(storage, clock=clock)
    p = _Printer(out, clock)

    def on_event(_sender: Any, event: DomainEvent) -> None:
        if isinstance(event, TicketEscalated):
            p.say(
                f"   ↑ escalated {event.from_tier} → {event.to_tier} ({event.policy}): {event.reason}"
            )
        elif isinstance(event, TicketAssigned) and event.agent_id:
            p.say(f"   → assigned to {event.agent_id} by {event.strategy}")

    desk.signals.event.connect(on_event, weak=False)

    print(f"supportkit demo — SQLite storage at {path.resolve()}", file=out)
    p.scene("Staff")
    for team in (
        Team("frontline", "Front line", tier="L1"),
        Team("engineering", "Engineering", tier="L2"),
        Team("experts", "Developers", tier="L3"),
    ):
        desk.add_team(team)
    agents = [
        Agent(
            "olga", "Olga (L1)", tier="L1", teams=("frontline",), languages=frozenset({"en", "ru"})
        ),
        Agent("sam", "Sam (L1)", tier="L1", teams=("frontline",), skills=frozenset({"billing"})),
        Agent("ivan", "Ivan (L2)", tier="L2", teams=("engineering",), skills=frozenset({"api"})),
        Agent(
            "dana",
            "Dana (L3)",
            tier="L3",
            teams=("experts",),
            skills=frozenset({"api", "database"}),
        ),
    ]
    for a in agents:
        desk.add_agent(a)
        p.say(f"{a.name}: teams {', '.join(a.teams)}, skills {', '.join(sorted(a.skills)) or '-'}")

    p.scene("Customers write in")
    clock.advance(minutes=5)
    invoice = desk.receive(
        "email",
        "ann@example.com",
        "Hello, my March invoice charges me twice for the Pro plan.",
        subject="Double charge on invoice",
        sender_name="Ann Lee",
        external_id="<a1@mail.example.com>",
    )
    p.say(f"email from Ann → ticket #{invoice.number} '{invoice.subject}' ({invoice.status})")
    clock.advance(minutes=3)
    api = desk.receive(
        "chat",
        "visitor-4711",
        "The API returns 500 on POST /orders since this morning!",
        sender_name="Boris",
        priority=None,
    )
    p.say(f"chat from Boris → ticket #{api.number} '{api.subject}' ({api.status})")
    clock.advance(minutes=4)
    form = desk.receive(
        "web",
        "carol@example.org",
        "How do I export my data to CSV?",
        subject="Export question",
        sender_name="Carol",
    )
    p.say(f"web form from Carol → ticket #{form.number} '{form.subject}'")
    clock.advance(minutes=2)
    spam = desk.receive(
        "email", "promo@spam.example", "Buy cheap followers now!!!", subject="WIN $$$"
    )
    p.say(f"email from promo@spam.example → ticket #{spam.number} '{spam.subject}'")

    p.scene("Agents pick up and answer")
    clock.advance(minutes=6)
    desk.assign(invoice.id, "sam", actor="olga")
    desk.start_diagnosis(invoice.id, actor="sam")
    desk.reply(
        invoice.id,
        "sam",
        "Hi Ann, I see the duplicate charge and I'm refunding it now.",
        external_id="<r1@support.example.com>",
    )
    answered = desk.get_ticket(invoice.id)
    p.say(f"Sam answers #{invoice.number} (first response after {answered.response_time()})")
    desk.close_as_spam(spam.id, actor="olga", reason="advertising")
    p.say(f"Olga closes #{spam.number} as spam")
    clock.advance(minutes=3)
    desk.assign(form.id, "olga", actor="olga")
    desk.reply(form.id, "olga", "Settings → Data → Export as CSV. Does that help?")
    desk.wait_on_customer(form.id, actor="olga", reason="asked whether the answer helps")
    p.say(f"Olga answers #{form.number} and waits for Carol")

    p.scene("A hard problem climbs the tiers")
    clock.advance(minutes=5)
    desk.assign(api.id, "olga", actor="olga")
    desk.start_diagnosis(api.id, actor="olga")
    desk.add_note(api.id, "olga", "Reproduced: 500 on every POST /orders. Needs engineering.")
    desk.escalate(api.id, "L2", actor="olga", reason="server error, needs engineering")
    desk.assign(api.id, "ivan", actor="olga")
    clock.advance(minutes=20)
    desk.add_note(api.id, "ivan", "A migration dropped an index; the query times out.")
    desk.escalate(api.id, "L3", actor="ivan", reason="database schema problem")
    desk.assign(api.id, "dana", actor="ivan")
    desk.reply(api.id, "dana", "We found the cause and are deploying a fix.")
    clock.advance(minutes=25)
    desk.resolve(api.id, actor="dana", resolution="Restored the missing index on orders.created_at")
    p.say(f"Dana resolves #{api.number}")

    p.scene("Resolution, a reopen, and closing")
    clock.advance(minutes=10)
    desk.resolve(invoice.id, actor="sam", resolution="Refunded the duplicate charge")
    p.say(f"Sam resolves #{invoice.number}")
    clock.advance(hours=1)
    back = desk.receive(
        "email",
        "ann@example.com",
        "Thanks, but the refund shows only half the amount.",
        subject="Re: Double charge on invoice",
        in_reply_to="<r1@support.example.com>",
        external_id="<a2@mail.example.com>",
    )
    p.say(f"Ann replies → #{back.number} reopened ({back.status}, reopened {back.reopen_count}x)")
    clock.advance(minutes=15)
    desk.reply(invoice.id, "sam", "Sorry! The second half of the refund is on its way.")
    desk.resolve(invoice.id, actor="sam", resolution="Refunded the remaining half")
    clock.advance(minutes=30)
    carol = desk.receive(
        "web",
        "carol@example.org",
        "Yes, that worked, thank you!",
        subject=f"Re: Export question [#{form.number}]",
    )
    p.say(f"Carol confirms on #{carol.number} → {carol.status}")
    desk.resolve(form.id, actor="olga", resolution="Explained CSV export")
    clock.advance(days=1)
    for t in (invoice, api, form):
        desk.close(t.id, actor="system", reason="resolved for a day")
    p.say("resolved tickets closed after a day")

    p.scene("Phone")
    clock.advance(minutes=5)
    phone = desk.receive(
        "phone",
        "+49 30 1234567",
        "Caller cannot log in after password reset.",
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
    desk.resolve(phone.id, actor="olga", resolution="Cleared stale session")
    p.say(f"call logged on #{phone.number}, resolved on first contact")

    for scene in extra_scenes or ():
        scene(desk, p)

    p.scene("Where every ticket stands")
    for t in desk.find_tickets(limit=50, oldest_first=True):
        track = desk.track(t.number)
        print(
            f"  #{t.number:<3} {t.channel:<6} {t.tier:<3} {t.status:<20} "
            f"{(t.assignee_id or '-'):<6} {t.subject[:40]!r}  (customer sees: {track.status_label})",
            file=out,
        )
    hist = desk.history(invoice.id)
    print(f"\n  history of #{invoice.number}:", file=out)
    for h in hist:
        print(
            f"    {h.at:%a %H:%M} {h.actor:<8} {h.event:<16} {h.from_status} → {h.to_status}"
            f"{'  (' + h.reason + ')' if h.reason else ''}",
            file=out,
        )
    desk.flush_outbox()
    return desk


def main(argv: list[str] | None = None) -> int:
    run_demo()
    return 0
