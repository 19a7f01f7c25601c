"""The shop's support desk: supportkit on Django's own database connection.

:class:`~supportkit.storage.host.HostStorage` runs supportkit's statements on
Django's connection (the current thread's), each unit of work as a
``transaction.atomic`` block: inside a view's ``atomic()`` it is a savepoint
of the view's transaction, so the ticket commits or rolls back with the
shop's own rows. Events reach :data:`orders.signals.support_event` from
``transaction.on_commit``, i.e. only once the view's transaction committed.
"""

from functools import cache
from typing import Any

from django.db import connection

from supportkit import SupportDesk
from supportkit.storage.host import HostStorage

from .signals import support_event


@cache
def desk() -> SupportDesk:
    """The shop's desk, built on first use (the schema comes from the migration)."""
    built = SupportDesk(HostStorage(connection, install_schema=False))

    def forward(sender: Any, event: Any) -> None:
        support_event.send(sender=SupportDesk, event=event)

    built.signals.event.connect(forward, weak=False)
    return built
