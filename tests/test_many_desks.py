"""Many desks in one database: each SaaS organisation gets a desk of its own.

Two desks share one SQLite file (and one PostgreSQL database): the same
customer address, agent id and team id live in both, and neither desk can
read, find, count, route to, track or report on the other's tickets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from supportkit import ConfigurationError, FakeClock, NotFound, SupportDesk, TicketNotFound
from supportkit.cli import main
from supportkit.domain._model import Agent, Team
from supportkit.extensions import DeskRouting
from supportkit.metrics import sql_metrics
from supportkit.ports import Storage
from supportkit.storage.memory import MemoryStorage
from supportkit.storage.postgres import PostgresStorage
from supportkit.storage.sqlite import SQLiteStorage

from .pg import pg_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def acme(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        with SQLiteStorage(tmp_path / "saas.sqlite3", desk="acme") as s:
            yield s
    else:
        with pg_schema() as url, PostgresStorage(url, desk="acme") as s:
            yield s


def _desk(storage: Storage, clock: FakeClock) -> SupportDesk:
    routing = DeskRouting(teams=[Team("support", "Support", "L1")])
    desk = SupportDesk(storage, clock=clock, extensions=[routing])
    desk.add_team(Team("support", "Support", "L1"))
    return desk


def test_two_desks_in_one_database_never_see_each_other(acme: Storage) -> None:
    clock = FakeClock()
    a = _desk(acme, clock)
    b = _desk(acme.for_desk("globex"), clock)
    a.add_agent(Agent("ann", "Ann of Acme", teams=("support",)))
    b.add_agent(Agent("ann", "Ann of Globex", teams=("support",), capacity=0))

    ta = a.receive("email", "same@example.com", "Acme's printer jams", subject="Printer")
    a.update(ta.id, actor="triage", team_id="support")
    tb = b.receive("email", "same@example.com", "Globex's invoice is wrong", subject="Invoice")
    b.update(tb.id, actor="triage", team_id="support")

    # routed only to the desk's own agent: Globex's Ann has no capacity, Acme's Ann is not Globex's
    assert a.get_ticket(ta.id).assignee_id == "ann"
    assert b.get_ticket(tb.id).assignee_id is None
    # the same address is a different customer in each desk
    assert a.get_ticket(ta.id).customer_id != b.get_ticket(tb.id).customer_id
    # find, count, read, track: only the desk's own
    assert [t.id for t in a.find_tickets()] == [ta.id]
    assert [t.id for t in b.find_tickets()] == [tb.id]
    assert [t.id for t in b.find_tickets(text="printer")] == []
    with pytest.raises(TicketNotFound):
        b.get_ticket(ta.id)
    with pytest.raises(TicketNotFound):
        b.reply(ta.id, "ann", "Not yours to answer")
    with pytest.raises(NotFound):
        b.track(ta.number)
    with pytest.raises(TicketNotFound):
        b.messages(ta.id)
    with acme.unit_of_work() as uow:
        assert [agent.name for agent in uow.list_agents()] == ["Ann of Acme"]


def test_metrics_are_reported_per_desk(acme: Storage) -> None:
    clock = FakeClock()
    a = SupportDesk(acme, clock=clock)
    b = SupportDesk(acme.for_desk("globex"), clock=clock)
    for n in range(3):
        a.receive("email", f"a{n}@example.com", f"Acme question {n}")
    t = b.receive("email", "b@example.com", "Globex question")
    clock.advance(timedelta(hours=1))
    b.reply(t.id, "bob", "Answered")
    b.resolve(t.id, actor="bob", resolution="Fixed")
    with acme.unit_of_work() as uow:
        conn = uow.raw_connection()
        dialect = "sqlite" if isinstance(acme, SQLiteStorage) else "postgresql"
        at = clock.now()
        ra = sql_metrics(conn, dialect=dialect, at=at, desk="acme")
        rb = sql_metrics(conn, dialect=dialect, at=at, desk="globex")
    assert ra.total.tickets == 3
    assert ra.total.backlog == 3
    assert rb.total.tickets == 1
    assert rb.total.backlog == 0
    assert rb.total.resolved == 1


def test_the_report_command_reports_one_desk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "saas.sqlite3"
    with SQLiteStorage(path, desk="acme") as acme:
        a = SupportDesk(acme, clock=FakeClock())
        b = SupportDesk(acme.for_desk("globex"), clock=FakeClock())
        a.receive("email", "a@example.com", "one")
        a.receive("email", "a@example.com", "two")
        b.receive("email", "b@example.com", "three")
    outs = {}
    for desk in ("acme", "globex"):
        assert main(["report", "--db", str(path), "--desk", desk, "--format", "json"]) == 0
        outs[desk] = capsys.readouterr().out
    assert json.loads(outs["acme"])["total"]["tickets"] == 2
    assert json.loads(outs["globex"])["total"]["tickets"] == 1


def test_memory_desks_share_one_store_and_stay_apart() -> None:
    acme = MemoryStorage(desk="acme")
    a = SupportDesk(acme, clock=FakeClock())
    b = SupportDesk(acme.for_desk("globex"), clock=FakeClock())
    ta = a.receive("email", "same@example.com", "hello")
    assert b.find_tickets() == []
    with pytest.raises(TicketNotFound):
        b.get_ticket(ta.id)
    with acme.for_desk("acme").unit_of_work() as uow:
        assert uow.get_ticket(ta.id).id == ta.id


def test_a_bad_desk_key_is_refused_with_what_a_key_may_be(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="desk key"):
        SQLiteStorage(tmp_path / "x.sqlite3", desk="acme corp")
    with pytest.raises(ConfigurationError, match="desk key"):
        MemoryStorage(desk="")


def test_knowledge_base_articles_are_per_desk(tmp_path: Path) -> None:
    from supportkit.knowledge import KNOWLEDGE_SCHEMA, KnowledgeBase

    at = FakeClock().now()
    with SQLiteStorage(tmp_path / "kb.sqlite3", components=[KNOWLEDGE_SCHEMA]) as main_desk:
        kb_main = KnowledgeBase.on(main_desk)
        kb_acme = KnowledgeBase.on(main_desk.for_desk("acme"))
        kb_globex = KnowledgeBase.on(main_desk.for_desk("globex"))
        mine = kb_acme.create(
            title="Resetting the printer",
            body="Hold the power button",
            locale="en",
            at=at,
            publish=True,
        )
        kb_main.create(
            title="Printer warranty",
            body="Two years on printers",
            locale="en",
            at=at,
            publish=True,
        )
        assert [m.article.id for m in kb_acme.search("printer")] == [mine.id]
        assert kb_globex.search("printer") == []
        assert [m.article.title for m in kb_main.search("printer")] == ["Printer warranty"]
        with pytest.raises(NotFound):
            kb_globex.get(mine.id)
        theirs = kb_globex.create(
            title="Globex printers",
            body="Call the printer hotline",
            locale="en",
            at=at,
            publish=True,
        )
        assert [m.article.id for m in kb_globex.search("printer")] == [theirs.id]
        assert [m.article.id for m in kb_acme.search("printer")] == [mine.id]
