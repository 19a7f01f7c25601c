"""The service description's story in ``make demo``: channel hours, one customer across
channels, a written complaint, a logged call with its recording, training as an answer.

Played by :func:`supportkit.demo.run_demo` on the same desk as the rest of the day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .desk import SupportDesk
from .knowledge import KnowledgeBase, TrainingOffers
from .metrics import stored_complaint_metrics, stored_topics
from .ports._clock import FakeClock

__all__ = ["complaint_summary", "service_day", "service_night", "topics_summary"]


class _Say(Protocol):
    def scene(self, title: str) -> None: ...

    def say(self, text: str) -> None: ...


def service_day(desk: SupportDesk, p: _Say, clock: FakeClock) -> None:
    """Daytime: Ann recognised across email and chat, a complaint, a training request."""
    p.scene("One customer across channels")
    clock.advance(minutes=5)
    chat = desk.receive(
        "chat",
        "visitor-2024",
        "Hi again, is the rest of my refund on its way?",
        sender_name="Ann",
        contacts={"email": "ann@example.com"},  # typed into the chat's start form
    )
    ann = desk.get_customer(chat.customer_id)
    history = desk.customer_history(ann.id)
    p.say(
        f"chat #{chat.number} from a visitor who gave ann@example.com → recognised as "
        f"{ann.name} ({history.ticket_count} tickets: "
        f"{', '.join(sorted({t.channel for t in history.tickets}))})"
    )
    p.say(f"   why: {ann.attributes['merge_history'][-1]['reason']}")
    t = desk.get_ticket(chat.id)
    desk.reply(t.id, t.assignee_id or "olga", "Yes Ann, the second half arrives tomorrow.")
    desk.resolve(t.id, actor=t.assignee_id or "olga", resolution="Refund status given")

    p.scene("A written complaint takes the complaint path")
    clock.advance(minutes=5)
    complaint = desk.receive(
        "email",
        "gina@example.com",
        "I want to complain: the courier was rude and left my parcel in the rain.",
        subject="Complaint about delivery",
        sender_name="Gina",
    )
    c = desk.get_ticket(complaint.id)
    p.say(
        f"email from Gina → #{c.number} on the {c.lifecycle} lifecycle ({c.status}), "
        f"{c.priority.name}, handed to {c.tier} ({c.assignee_id})"
    )
    desk.transition(c.id, "investigate", actor=c.assignee_id or "ivan")
    clock.advance(minutes=40)
    desk.reply(
        c.id,
        c.assignee_id or "ivan",
        "We are sorry, Gina: the courier is briefed and we refund the delivery.",
    )
    desk.transition(
        c.id, "answer", actor=c.assignee_id or "ivan", reason="apology and delivery refund"
    )
    desk.close(c.id, actor=c.assignee_id or "ivan", reason="answered")
    p.say(f"#{c.number} investigated, answered and closed after 40 minutes")

    p.scene("A training request answered with a guide")
    clock.advance(minutes=5)
    how = desk.receive(
        "email",
        "hana@example.com",
        "How do I export my data to CSV? I need it for our accountant.",
        subject="Export to CSV",
        sender_name="Hana",
    )
    h = desk.get_ticket(how.id)
    kb = KnowledgeBase.on(desk.storage)
    guide = kb.search("export data csv")[0].article
    offers = TrainingOffers(desk, secret="demo training secret", knowledge_base=kb)
    answer = offers.offer_guide(h.id, guide.id, actor=h.assignee_id or "olga")
    p.say(f"#{h.number} is a {h.kind} request → answered with the guide '{guide.title}'")
    p.say(f"   {answer.text.splitlines()[-1]}")
    desk.resolve(h.id, actor=h.assignee_id or "olga", resolution="Sent the export guide")


def service_night(desk: SupportDesk, p: _Say, clock: FakeClock) -> None:
    """After hours: closed channels answer honestly; a night call becomes a callback."""
    p.scene("After hours: closed channels answer honestly")
    chat = desk.channel_status("chat")
    p.say(f"chat open? {chat.open}; next opening {_local(chat.next_open)}")
    p.say(f"   the customer reads: {chat.notice('en')}")
    email = desk.channel_status("email")
    p.say(f"email open? {email.open} (around the clock)")
    clock.advance(minutes=10)
    call = desk.receive(
        "phone",
        "+49 30 7654321",
        "Voicemail: please call me back about my contract.",
        subject="Callback about contract",
        sender_name="Ida",
        meta={"call": {"direction": "inbound", "duration_seconds": 35, "outcome": "voicemail",
                       "recording_url": "https://pbx.example.com/rec/vm-0311.mp3"}},
    )  # fmt: skip
    [task] = [cb for cb in desk.callbacks() if cb.ticket_id == call.id]
    p.say(f"night voicemail → #{call.number}; callback to {task.number} due {_local(task.due_at)}")
    next_morning = task.due_at
    clock.set(next_morning)
    desk.tick()
    t = desk.get_ticket(call.id)
    p.say(
        f"{_local(next_morning)}: the line opens; the callback is {desk.callback_for(t.id).status}, #{t.number} routed to {t.assignee_id}"
    )
    clock.advance(minutes=12)
    desk.log_call(
        t.id,
        t.assignee_id or "olga",
        direction="outbound",
        duration_seconds=310,
        notes="Called Ida back: explained the contract renewal.",
        caller="+49 30 7654321",
        recording_url="https://pbx.example.com/rec/cb-0312.mp3",
        transcript="Olga: Good morning Ida, you asked us to call back about your contract...",
    )
    for c in desk.calls(t.id):
        p.say(
            f"   call {c.direction:<8} {c.outcome.value:<9} {c.duration_seconds:>4}s "
            f"recording {c.recording_url}"
        )
    p.say(f"   callback {desk.callback_for(t.id).status}")
    desk.resolve(t.id, actor=t.assignee_id or "olga", resolution="Contract renewal explained")
    desk.close(t.id, actor="system", reason="resolved")


def complaint_summary(desk: SupportDesk, since: datetime | None = None) -> str:
    """The day's complaint figures, as the report prints them."""
    with desk.storage.unit_of_work() as uow:
        return stored_complaint_metrics(uow, since=since).describe()


def topics_summary(desk: SupportDesk, at: datetime) -> str:
    """The topics view (category, tag and kind per week) the report ends with."""
    with desk.storage.unit_of_work() as uow:
        return stored_topics(uow, at=at, weeks=2).render()


def _local(at: Any) -> str:
    from zoneinfo import ZoneInfo

    if at is None:
        return "-"
    return f"{at.astimezone(ZoneInfo('Europe/Berlin')):%a %H:%M}"
