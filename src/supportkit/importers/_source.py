"""Reading a django-helpdesk database with plain SQL (no Django at run time).

SQLite, PostgreSQL (psycopg) or MySQL/MariaDB (PyMySQL), the three databases
Django sites run django-helpdesk on.

The tables and columns are django-helpdesk's (``helpdesk/models.py``, 2.x):
``helpdesk_queue``, ``helpdesk_ticket``, ``helpdesk_followup``,
``helpdesk_ticketchange``, ``helpdesk_followupattachment`` and Django's
``auth_user``. Tickets are read in pages by id (keyset), each page with its
follow-ups, owner changes and attachments, so memory stays flat however large
the database is.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from ..domain._errors import SupportKitError
from ..storage.sql import qmark_to_format

__all__ = [
    "HelpdeskAttachment",
    "HelpdeskFollowUp",
    "HelpdeskQueue",
    "HelpdeskSource",
    "HelpdeskTicket",
    "HelpdeskUser",
    "ImportSourceError",
    "open_source",
    "parse_when",
]


class ImportSourceError(SupportKitError):
    """The source database cannot be opened or is not a django-helpdesk database."""


@attrs.frozen
class HelpdeskQueue:
    id: int
    title: str
    slug: str


@attrs.frozen
class HelpdeskUser:
    id: int
    username: str
    email: str
    full_name: str
    is_staff: bool
    is_active: bool


@attrs.frozen
class HelpdeskAttachment:
    filename: str
    mime_type: str
    size: int
    path: str


@attrs.frozen
class HelpdeskFollowUp:
    id: int
    date: Any  # as stored: a datetime, or Django's text form on SQLite
    title: str
    comment: str
    public: bool
    user_id: int | None
    new_status: int | None
    message_id: str | None
    owner_changed: bool = False
    attachments: tuple[HelpdeskAttachment, ...] = ()


@attrs.frozen
class HelpdeskTicket:
    id: int
    title: str
    queue_id: int
    created: Any
    modified: Any
    submitter_email: str | None
    assigned_to_id: int | None
    status: int
    description: str
    resolution: str
    priority: int
    merged_to_id: int | None
    followups: tuple[HelpdeskFollowUp, ...] = ()


def parse_when(value: Any) -> datetime:
    """A stored timestamp as an aware UTC datetime.

    PostgreSQL gives aware datetimes; Django stores SQLite timestamps as text
    in UTC (``USE_TZ=True``), which is how a naive value is read.
    """
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, str):
        at = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _text(value: Any) -> str:
    """A text column as a string, whatever the database holds in it (SQLite keeps any value
    in any column): ``None`` is empty, bytes are read as UTF-8 with U+FFFD for what is not."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _id(value: Any) -> int | None:
    """A foreign key as an int, or ``None`` when the column holds something else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value)
    return None


_INT = re.compile(r"-?[0-9]{1,18}")


def _decode_text(data: bytes) -> str:
    """SQLite TEXT that is not UTF-8 (written by something other than Django) is read
    with U+FFFD in place of the bytes that are not, instead of failing the whole page."""
    return data.decode("utf-8", "replace")


_TABLES = (
    "helpdesk_queue",
    "helpdesk_ticket",
    "helpdesk_followup",
    "helpdesk_ticketchange",
    "helpdesk_followupattachment",
    "auth_user",
)


class HelpdeskSource:
    """A read-only view of one django-helpdesk database."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect
        self._check_tables()

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.cursor()
        try:
            cur.execute(sql if self.dialect == "sqlite" else qmark_to_format(sql), tuple(params))
            return list(cur.fetchall())
        except Exception as exc:
            raise ImportSourceError(
                f"reading the django-helpdesk database failed ({type(exc).__name__}: {exc}); "
                "is it a django-helpdesk 2.x database with all its migrations applied?"
            ) from exc
        finally:
            cur.close()

    def _check_tables(self) -> None:
        if self.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        elif self.dialect == "mysql":
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
        else:
            sql = (
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ANY (current_schemas(false))"
            )
        present = {str(r[0]).lower() for r in self._rows(sql)}
        missing = [t for t in _TABLES if t not in present]
        if missing:
            raise ImportSourceError(
                f"not a django-helpdesk database: tables {missing} are missing; point the "
                "import at the database django-helpdesk's `manage.py migrate` created"
            )

    def queues(self) -> list[HelpdeskQueue]:
        return [
            HelpdeskQueue(int(r[0]), _text(r[1]), _text(r[2]) or f"queue-{r[0]}")
            for r in self._rows("SELECT id, title, slug FROM helpdesk_queue ORDER BY id")
        ]

    def users(self) -> list[HelpdeskUser]:
        rows = self._rows(
            "SELECT id, username, email, first_name, last_name, is_staff, is_active "
            "FROM auth_user ORDER BY id"
        )
        return [
            HelpdeskUser(
                int(r[0]),
                _text(r[1]),
                _text(r[2]),
                " ".join(_text(p) for p in (r[3], r[4]) if p).strip(),
                bool(r[5]),
                bool(r[6]),
            )
            for r in rows
        ]

    def assignee_ids(self) -> set[int]:
        rows = self._rows(
            "SELECT DISTINCT assigned_to_id FROM helpdesk_ticket WHERE assigned_to_id IS NOT NULL"
        )
        return {i for r in rows if (i := _id(r[0])) is not None}

    def count_tickets(self) -> int:
        return int(self._rows("SELECT COUNT(*) FROM helpdesk_ticket")[0][0])

    def tickets(self, page: int, *, after: int = 0) -> Iterator[list[HelpdeskTicket]]:
        """Pages of at most *page* tickets by id, each with its follow-ups in order."""
        last = after
        while True:
            rows = self._rows(
                "SELECT id, title, queue_id, created, modified, submitter_email, "
                "assigned_to_id, status, description, resolution, priority, merged_to_id "
                "FROM helpdesk_ticket WHERE id > ? ORDER BY id LIMIT ?",
                (last, page),
            )
            if not rows:
                return
            lo, hi = int(rows[0][0]), int(rows[-1][0])
            followups = self._followups(lo, hi)
            yield [
                HelpdeskTicket(
                    id=int(r[0]),
                    title=_text(r[1]),
                    queue_id=r[2],
                    created=r[3],
                    modified=r[4],
                    submitter_email=_text(r[5]).strip() or None,
                    assigned_to_id=r[6],
                    status=r[7],
                    description=_text(r[8]),
                    resolution=_text(r[9]),
                    priority=r[10],
                    merged_to_id=r[11],
                    followups=tuple(followups.get(int(r[0]), ())),
                )
                for r in rows
            ]
            last = hi

    def _followups(self, lo: int, hi: int) -> dict[int, list[HelpdeskFollowUp]]:
        owners = {
            int(r[0])
            for r in self._rows(
                "SELECT DISTINCT c.followup_id FROM helpdesk_ticketchange c "
                "JOIN helpdesk_followup f ON f.id = c.followup_id "
                "WHERE f.ticket_id BETWEEN ? AND ? AND c.field = 'Owner'",
                (lo, hi),
            )
        }
        files: dict[int, list[HelpdeskAttachment]] = defaultdict(list)
        for r in self._rows(
            "SELECT a.followup_id, a.filename, a.mime_type, a.size, a.file "
            "FROM helpdesk_followupattachment a "
            "JOIN helpdesk_followup f ON f.id = a.followup_id "
            "WHERE f.ticket_id BETWEEN ? AND ? ORDER BY a.id",
            (lo, hi),
        ):
            fid = _id(r[0])
            if fid is None:
                continue
            path = _text(r[4])
            files[fid].append(
                HelpdeskAttachment(
                    _text(r[1]) or Path(path or "file").name,
                    _text(r[2]) or "application/octet-stream",
                    max(_id(r[3]) or 0, 0),
                    path,
                )
            )
        out: dict[int, list[HelpdeskFollowUp]] = defaultdict(list)
        for r in self._rows(
            "SELECT ticket_id, id, date, title, comment, public, user_id, new_status, "
            "message_id FROM helpdesk_followup WHERE ticket_id BETWEEN ? AND ? "
            "ORDER BY ticket_id, date, id",
            (lo, hi),
        ):
            fid, tid = int(r[1]), _id(r[0])
            if tid is None:
                continue
            out[tid].append(
                HelpdeskFollowUp(
                    id=fid,
                    date=r[2],
                    title=_text(r[3]),
                    comment=_text(r[4]),
                    public=bool(r[5]),
                    user_id=r[6],
                    new_status=r[7],
                    message_id=_text(r[8]) or None,
                    owner_changed=fid in owners,
                    attachments=tuple(files.get(fid, ())),
                )
            )
        return out


def open_source(url: str) -> HelpdeskSource:
    """Open a django-helpdesk database: a SQLite file (path or ``sqlite:///path``) or a
    ``postgresql://`` URL. Read-only: nothing is written to it."""
    if url.startswith(("postgresql://", "postgres://")):
        try:
            import psycopg
        except ImportError:
            raise ImportSourceError(
                "reading a PostgreSQL database needs psycopg: pip install 'supportkit[postgres]'"
            ) from None
        try:
            conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1))
        except psycopg.Error as exc:
            where = urlsplit(url)
            raise ImportSourceError(
                f"cannot connect to the django-helpdesk database at {where.hostname}:"
                f"{where.port or 5432}{where.path}: {type(exc).__name__}"
            ) from exc
        conn.read_only = True
        return HelpdeskSource(conn, "postgresql")
    if url.startswith(("mysql://", "mariadb://")):
        return HelpdeskSource(_mysql(url), "mysql")
    if url.startswith("sqlite:///"):  # as open_storage: three slashes relative, four absolute
        path = unquote(url[len("sqlite:///") :].split("?", 1)[0])
    elif "://" in url:
        raise ImportSourceError(
            f"unknown database URL {url.split('://')[0]}://...: give a SQLite file path, "
            "sqlite:///path, postgresql://user@host/db or mysql://user@host/db"
        )
    else:
        path = url
    if not Path(path).is_file():
        raise ImportSourceError(
            f"no SQLite database at {path!r}: give the django-helpdesk database's path "
            "(settings.DATABASES['default']['NAME']) or a postgresql:// URL"
        )
    lite = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    lite.text_factory = _decode_text
    return HelpdeskSource(lite, "sqlite")


def _mysql(url: str) -> Any:
    """A PyMySQL connection from ``mysql://user:password@host:port/database`` (or mariadb://)."""
    try:
        import pymysql
    except ImportError:
        raise ImportSourceError(
            "reading a MySQL/MariaDB database needs PyMySQL: pip install 'supportkit[mysql]'"
        ) from None
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ImportSourceError(
            f"no database named in the URL: write {parts.scheme}://user@host/db"
        )
    try:
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=database,
            charset="utf8mb4",
        )
    except pymysql.MySQLError as exc:
        raise ImportSourceError(
            f"cannot connect to the django-helpdesk database at {parts.hostname}:"
            f"{parts.port or 3306}/{database}: {type(exc).__name__}"
        ) from exc
