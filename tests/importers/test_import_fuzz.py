"""Hostile django-helpdesk rows: the import reports them and loses or doubles nothing.

A django-helpdesk database can hold whatever its users, scripts and admin
edits put there, and SQLite stores any value in any column. Hypothesis writes
tickets and follow-ups with such values into a copy of a database built by
django-helpdesk's own models: text that is not UTF-8, NULs, numbers where
text goes and text where numbers go, dates in other formats or none,
unknown statuses, queues, users and merge targets, attachment sizes that are
not numbers. Whatever it writes:

- the import ends with a summary (no traceback); every source ticket is
  imported, reported with a reason, or was imported before;
- every imported ticket is whole (its messages are in), and a second run adds
  nothing.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from supportkit.importers import import_django_helpdesk
from supportkit.storage.sqlite import SQLiteStorage

from .test_django_helpdesk import build

NOT_UTF8 = object()  # marks a value stored as TEXT that is not UTF-8


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("helpdesk-fuzz")
    db = root / "helpdesk.sqlite3"
    return db, build("sqlite", str(db), root / "media")


texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8).map(lambda s: s + "\x00" + s),
    st.just(""),
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.binary(max_size=12),
    st.just(NOT_UTF8),
    st.just("x" * 300_000),
)
dates = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%d/%m/%Y %H:%M")),
    st.sampled_from(["", "now", "2025-02-30 10:00:00", "9999-12-31 23:59:59", "0001-01-01"]),
    st.none(),
    st.integers(-(2**40), 2**40),
    st.just(NOT_UTF8),
)
ids = st.one_of(st.none(), st.integers(-3, 40), st.text(max_size=4), st.just(NOT_UTF8))
emails = st.one_of(
    st.emails().map(str),
    st.sampled_from(["", " ", "no-at-sign", "a@", "@b", "a@b@c", "<x@y>", "x@y\r\nBcc: z@w"]),
    texts,
)


def mostly(
    valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Seven in eight values as django-helpdesk writes them, one hostile: so that hostile
    values also reach tickets that are otherwise importable."""
    return st.integers(0, 7).flatmap(lambda n: hostile if n == 0 else valid)


good_dates = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.isoformat(sep=" ")
)
followup_rows = st.fixed_dictionaries(
    {
        "date": mostly(good_dates, dates),
        "title": mostly(st.text(max_size=20), texts),
        "comment": mostly(st.text(max_size=60), texts),
        "public": mostly(st.booleans(), st.one_of(st.integers(-1, 3), st.text(max_size=3))),
        "user_id": mostly(st.sampled_from([None, 1, 2, 3]), ids),
        "new_status": mostly(st.sampled_from([None, 1, 2, 3, 4, 5]), ids),
        "message_id": mostly(st.none(), texts),
    }
)
ticket_rows = st.fixed_dictionaries(
    {
        "title": mostly(st.text(max_size=40), texts),
        "queue_id": mostly(st.sampled_from([1, 2]), ids),
        "created": mostly(good_dates, dates),
        "modified": mostly(good_dates, dates),
        "submitter_email": mostly(st.emails().map(str), emails),
        "assigned_to_id": mostly(st.sampled_from([None, 1, 2]), ids),
        "status": mostly(st.sampled_from([1, 2, 3, 4, 5]), ids),
        "description": mostly(st.text(max_size=200), texts),
        "resolution": mostly(st.text(max_size=20), texts),
        "priority": mostly(st.sampled_from([1, 2, 3, 4, 5]), ids),
        "merged_to_id": mostly(st.none(), ids),
        "followups": st.lists(followup_rows, max_size=4),
        "attachment_size": mostly(
            st.one_of(st.none(), st.integers(0, 10**6)),
            st.one_of(st.integers(-(2**63), 2**63 - 1), texts),
        ),
    }
)


def sql_value(value: Any) -> tuple[str, list[Any]]:
    """An SQL expression and its parameters that store *value* as it is."""
    if value is NOT_UTF8:
        return "CAST(X'C328FF' AS TEXT)", []
    return "?", [value]


def update(
    conn: sqlite3.Connection, table: str, row_id: int | None, column: str, value: Any
) -> None:
    """Store *value* in one column; a value the schema itself refuses (a NULL in a NOT NULL
    column) cannot be in a django-helpdesk database, so the column keeps its value."""
    expr, params = sql_value(value)
    with contextlib.suppress(sqlite3.IntegrityError):
        conn.execute(f"UPDATE {table} SET {column} = {expr} WHERE id = ?", [*params, row_id])


def write(db: Path, tickets: list[dict[str, Any]]) -> None:
    conn = sqlite3.connect(db)
    try:
        template = conn.execute("SELECT MIN(id) FROM helpdesk_ticket").fetchone()[0]
        fu_template = conn.execute("SELECT MIN(id) FROM helpdesk_followup").fetchone()[0]
        tcols = [r[1] for r in conn.execute("PRAGMA table_info(helpdesk_ticket)") if r[1] != "id"]
        fcols = [r[1] for r in conn.execute("PRAGMA table_info(helpdesk_followup)") if r[1] != "id"]
        for row in tickets:
            cur = conn.execute(
                f"INSERT INTO helpdesk_ticket ({', '.join(tcols)}) "
                f"SELECT {', '.join(tcols)} FROM helpdesk_ticket WHERE id = ?",
                (template,),
            )
            tid = cur.lastrowid
            for column, value in row.items():
                if column in ("followups", "attachment_size"):
                    continue
                update(conn, "helpdesk_ticket", tid, column, value)
            for fu in row["followups"]:
                cur = conn.execute(
                    f"INSERT INTO helpdesk_followup ({', '.join(fcols)}) "
                    f"SELECT {', '.join(fcols)} FROM helpdesk_followup WHERE id = ?",
                    (fu_template,),
                )
                fid = cur.lastrowid
                conn.execute("UPDATE helpdesk_followup SET ticket_id = ? WHERE id = ?", (tid, fid))
                for column, value in fu.items():
                    update(conn, "helpdesk_followup", fid, column, value)
                if row["attachment_size"] is not None:
                    expr, params = sql_value(row["attachment_size"])
                    with contextlib.suppress(sqlite3.IntegrityError):  # NaN is stored as NULL
                        conn.execute(
                            "INSERT INTO helpdesk_followupattachment "
                            "(followup_id, file, filename, mime_type, size) "
                            f"VALUES (?, 'helpdesk/attachments/x.bin', 'x.bin', '', {expr})",
                            [fid, *params],
                        )
        conn.commit()
    finally:
        conn.close()


def counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("sk_tickets", "sk_messages", "sk_history")
        )
    finally:
        conn.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tickets=st.lists(ticket_rows, min_size=1, max_size=5))
def test_hostile_rows_are_reported_and_the_rest_is_whole(
    tickets: list[dict[str, Any]],
    pristine: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("fuzz")
    source = work / "helpdesk.sqlite3"
    shutil.copy(pristine[0], source)
    write(source, tickets)
    target = work / "desk.sqlite3"

    storage = SQLiteStorage(str(target))
    try:
        first = import_django_helpdesk(str(source), storage, batch_size=3)
        after_first = counts(target)
        again = import_django_helpdesk(str(source), storage, batch_size=3)
    finally:
        storage.close()

    event(f"fuzzed tickets imported: {first.imported - 8}, reported: {len(first.problems) - 3}")
    for p in first.problems:
        event(f"reason: {p.reason.split(':')[0][:40]}")
    assert first.tickets_in_source == 11 + len(tickets)
    assert first.imported + len(first.problems) == first.tickets_in_source
    assert all(p.reason.strip() for p in first.problems)
    assert len({p.ticket_id for p in first.problems}) == len(first.problems)
    # a ticket reported is not in the desk; one imported is whole, so the second run adds nothing
    assert after_first[0] == first.imported
    assert (again.imported, again.already_imported) == (0, first.imported)
    assert sorted(p.ticket_id for p in again.problems) == sorted(
        p.ticket_id for p in first.problems
    )
    assert counts(target) == after_first
