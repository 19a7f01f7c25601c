"""Inbound mail over IMAP: poll a mailbox, hand over raw bytes, remember where we were.

The poller keeps no state of its own. :class:`ImapCursor` (UIDVALIDITY and
the last UID handed over) goes in and comes out; the caller persists it
after it has stored each raw message, so a restart neither re-imports nor
skips. When the server's UIDVALIDITY changes (the mailbox was recreated),
UIDs mean nothing any more: the poller starts again from UID 1 and the
desk's Message-ID deduplication absorbs what it had already seen.

Raw bytes go to the caller *before* any parsing (store the raw message
first: a message that later fails to parse is kept and can be re-processed).
Messages are fetched with ``BODY.PEEK[]`` so their \\Seen flag is untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import attrs

from ._errors import PermanentChannelError, TransientChannelError

__all__ = ["FetchedMail", "ImapCursor", "ImapPoller"]


@attrs.frozen
class ImapCursor:
    """Where a mailbox was read up to: persist it with the messages you stored."""

    uidvalidity: int | None = None
    last_uid: int = 0


@attrs.frozen
class FetchedMail:
    """One raw message and the cursor to persist once it is stored."""

    uid: int
    raw: bytes = attrs.field(repr=False)
    internal_date: datetime | None
    cursor: ImapCursor


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@attrs.frozen
class ImapPoller:
    """Reads new messages from one IMAP folder (imapclient).

    >>> poller = ImapPoller("imap.example.com", 993, "desk", "secret", ssl=True)
    >>> # for mail in poller.fetch_new(cursor): store(mail.raw); save(mail.cursor)
    """

    host: str
    port: int = 143
    username: str = ""
    password: str = attrs.field(default="", repr=False)
    folder: str = "INBOX"
    ssl: bool = False
    timeout: float = 30.0
    batch_size: int = 50
    client_factory: Callable[..., Any] | None = attrs.field(default=None, repr=False, eq=False)

    def _connect(self) -> Any:
        from imapclient import IMAPClient

        factory = self.client_factory or IMAPClient
        client = factory(self.host, port=self.port, ssl=self.ssl, timeout=self.timeout)
        client.normalise_times = False  # keep INTERNALDATE's zone: aware datetimes
        try:
            client.login(self.username, self.password)
        except Exception:
            client.shutdown()
            raise
        return client

    def fetch_new(self, cursor: ImapCursor) -> Iterator[FetchedMail]:
        """Yield each message newer than *cursor*, oldest first.

        Persist ``mail.cursor`` after storing ``mail.raw``; stopping half-way is
        safe, the next poll resumes after the last cursor you persisted.
        """
        where = f"IMAP {self.host}:{self.port} folder {self.folder!r}"
        try:
            from imapclient import exceptions as imap_exc
        except ImportError as exc:  # pragma: no cover - optional extra
            raise PermanentChannelError(
                "the email channel needs imapclient: pip install 'supportkit[email]'"
            ) from exc
        try:
            client = self._connect()
        except imap_exc.LoginError as exc:
            raise PermanentChannelError(
                f"{where}: login as {self.username!r} refused; check the credentials"
            ) from exc
        except (TimeoutError, OSError, imap_exc.IMAPClientError) as exc:
            raise TransientChannelError(
                f"{where}: cannot connect ({type(exc).__name__}: {exc}); retry later"
            ) from exc
        try:
            yield from self._fetch(client, cursor, where)
        except (PermanentChannelError, TransientChannelError):
            raise
        except (OSError, imap_exc.IMAPClientError) as exc:
            raise TransientChannelError(
                f"{where}: the server failed while reading ({type(exc).__name__}: {exc}); "
                "retry later, the cursor you persisted is still right"
            ) from exc
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    def _fetch(self, client: Any, cursor: ImapCursor, where: str) -> Iterator[FetchedMail]:
        try:
            info = client.select_folder(self.folder, readonly=True)
        except Exception as exc:
            raise PermanentChannelError(
                f"{where}: cannot select the folder ({exc}); check that it exists"
            ) from exc
        uidvalidity = int(info[b"UIDVALIDITY"])
        last = cursor.last_uid if cursor.uidvalidity == uidvalidity else 0
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start : start + self.batch_size]
            fetched = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in batch:
                data = fetched.get(uid)
                if data is None:  # expunged meanwhile
                    continue
                raw = data.get(b"BODY[]") or b""
                yield FetchedMail(
                    uid=uid,
                    raw=bytes(raw),
                    internal_date=_aware(data.get(b"INTERNALDATE")),
                    cursor=ImapCursor(uidvalidity, uid),
                )

    def poll(self, cursor: ImapCursor, handle: Callable[[FetchedMail], None]) -> ImapCursor:
        """Call *handle* for each new message; return the cursor after the last one.

        If *handle* raises, the exception propagates and the messages handled
        before it stay handled: persist cursors from inside *handle* if you
        need progress to survive a failure half-way.
        """
        current = cursor
        for mail in self.fetch_new(cursor):
            handle(mail)
            current = mail.cursor
        return current
