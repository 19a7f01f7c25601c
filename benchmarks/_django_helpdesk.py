"""django-helpdesk doing supportkit's ticket lifecycle, for the lifecycle benchmark.

Runs only inside the benchmark environment (``benchmarks/bootstrap.sh`` creates
``.venv-bench`` with django-helpdesk from PyPI); django-helpdesk is not a
dependency of supportkit.

What one lifecycle is here, step by step, through django-helpdesk's own code:

- receive: what ``AbstractTicketForm.save`` does for a new ticket, minus the
  form validation and the notification e-mails: ``Ticket`` saved (status
  Open, queue, submitter e-mail, description), then a public ``FollowUp``
  "Ticket Opened" carrying the customer's text (``FollowUp.save`` saves the
  ticket again, as in django-helpdesk).
- reply: ``helpdesk.update_ticket.update_ticket`` with a public comment by
  the staff user (the function django-helpdesk's ticket view calls).
- diagnose: django-helpdesk has no "diagnosing" status; the nearest change
  is the agent taking the ticket: ``update_ticket(owner=agent)``, which
  writes a follow-up and a ``TicketChange`` for the owner.
- resolve: ``update_ticket(new_status=RESOLVED, comment=resolution)``.
- close: ``update_ticket(new_status=CLOSED)``.

E-mail notifications are switched off (``Ticket.send`` replaced by a stub
that sends nothing), because supportkit's lifecycle renders and sends no
mail either; everything else ``update_ticket`` does (template-neutralising
the comment, follow-ups, ticket changes, back-links, signals, staff
auto-subscription) runs as shipped. The database is a SQLite file with
exactly supportkit's PRAGMAs (``_pragmas.apply`` on every connection through
``connection_created``: 2 KiB pages, WAL, synchronous FULL or NORMAL), and
each step runs in one ``transaction.atomic()``, as a view under
``ATOMIC_REQUESTS`` does: one commit per step, like supportkit's one commit
per use case.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

STEPS = ("receive", "reply", "diagnose", "resolve", "close")


def configure(db_path: Path, synchronous: str = "FULL") -> None:
    """Configure a minimal Django project around django-helpdesk on *db_path*."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="supportkit-benchmark-only",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path),
            }
        },
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sites",
            "django.contrib.humanize",
            "rest_framework",
            "helpdesk",
        ],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {},
            }
        ],
        SITE_ID=1,
        ROOT_URLCONF=__name__,  # urlpatterns below: ticket URLs go into templates
        HELPDESK_TEAMS_MODE_ENABLED=False,
        LOGGING_CONFIG=None,
    )

    from _pragmas import apply
    from django.db.backends.signals import connection_created

    def _pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                apply(cursor, synchronous)

    connection_created.connect(_pragmas, weak=False)
    django.setup()


def __getattr__(name: str) -> Any:
    # ROOT_URLCONF is this module; its urlpatterns can only be built once Django is set up.
    if name == "urlpatterns":
        from django.urls import include, path

        return [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
    raise AttributeError(name)


def migrate() -> None:
    """Create django-helpdesk's schema (all its migrations) in the configured DB."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def prepare_template(template: Path) -> None:
    """Build a migrated database once; each measured size starts from a copy."""
    configure(template)
    migrate()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def copy_template(template: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, target)


class HelpdeskLifecycle:
    """Holds the queue and the staff user; runs lifecycles and prefills."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model
        from helpdesk.models import Queue, Ticket

        # No notification e-mails (see the module docstring).
        Ticket.send = lambda self, *args, **kwargs: set()  # type: ignore[method-assign]

        user_model = get_user_model()
        self.agent = user_model.objects.create_user(
            "agent-1", "agent-1@example.com", "x", is_staff=True
        )
        self.queue = Queue.objects.create(
            title="Support", slug="support", email_address="support@example.com"
        )

    def prefill(self, n: int) -> None:
        """*n* live (Open) tickets, each with its opening follow-up, via bulk_create."""
        from django.db import transaction
        from django.utils import timezone
        from helpdesk.models import FollowUp, Ticket

        batch = 5000
        now = timezone.now()
        with transaction.atomic():
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                tickets = Ticket.objects.bulk_create(
                    Ticket(
                        title=f"Live request {i}",
                        queue=self.queue,
                        submitter_email=f"live{i}@example.com",
                        status=Ticket.OPEN_STATUS,
                        description=f"Live ticket {i}: the printer is offline again.",
                        created=now,
                        modified=now,
                    )
                    for i in range(start, stop)
                )
                FollowUp.objects.bulk_create(
                    FollowUp(
                        ticket=t,
                        title="Ticket Opened",
                        date=now,
                        public=True,
                        comment=t.description,
                    )
                    for t in tickets
                )

    def lifecycles(self, count: int, offset: int = 0) -> dict[str, float]:
        """Run *count* full lifecycles; return the seconds spent in each step."""
        from django.db.transaction import atomic
        from django.utils import timezone
        from helpdesk.models import FollowUp, Ticket
        from helpdesk.update_ticket import update_ticket

        totals = dict.fromkeys(STEPS, 0.0)
        clock = time.perf_counter
        agent = self.agent
        queue = self.queue
        for i in range(offset, offset + count):
            t0 = clock()
            with atomic():  # one transaction per step
                ticket = Ticket(
                    title=f"Printer offline #{i}",
                    submitter_email=f"c{i}@example.com",
                    created=timezone.now(),
                    status=Ticket.OPEN_STATUS,
                    queue=queue,
                    description="Hello, my printer says it is offline since this morning.",
                    priority=3,
                )
                ticket.save()
                FollowUp(
                    ticket=ticket,
                    title="Ticket Opened",
                    date=timezone.now(),
                    public=True,
                    comment=ticket.description,
                ).save()
            t1 = clock()
            with atomic():  # one transaction per step
                update_ticket(
                    agent,
                    ticket,
                    comment="Could you try switching it off and on again?",
                    public=True,
                )
            t2 = clock()
            with atomic():  # one transaction per step
                update_ticket(agent, ticket, owner=agent.id)
            t3 = clock()
            with atomic():  # one transaction per step
                update_ticket(
                    agent,
                    ticket,
                    comment="Power-cycled the print server; the queue drains again.",
                    public=True,
                    new_status=Ticket.RESOLVED_STATUS,
                )
            t4 = clock()
            with atomic():  # one transaction per step
                update_ticket(agent, ticket, new_status=Ticket.CLOSED_STATUS)
            t5 = clock()
            totals["receive"] += t1 - t0
            totals["reply"] += t2 - t1
            totals["diagnose"] += t3 - t2
            totals["resolve"] += t4 - t3
            totals["close"] += t5 - t4
        return totals

    def lifecycles_orm(self, count: int, offset: int = 0) -> dict[str, float]:
        """The same lifecycle written straight through the models.

        The rows ``update_ticket`` writes, without its extras (comment template
        rendering, template contexts, status-flow checks, back-links, signals,
        auto-subscription): per step one ``FollowUp`` (whose ``save`` saves the
        ticket), a ``TicketChange`` where a field changed, and the final
        ``ticket.save()``. A lower bound for django-helpdesk on its own schema.
        """
        from django.db.transaction import atomic
        from django.utils import timezone
        from helpdesk.models import FollowUp, Ticket, TicketChange

        totals = dict.fromkeys(STEPS, 0.0)
        clock = time.perf_counter
        agent = self.agent
        queue = self.queue
        now = timezone.now
        for i in range(offset, offset + count):
            t0 = clock()
            with atomic():  # one transaction per step
                ticket = Ticket(
                    title=f"Printer offline #{i}",
                    submitter_email=f"c{i}@example.com",
                    created=now(),
                    status=Ticket.OPEN_STATUS,
                    queue=queue,
                    description="Hello, my printer says it is offline since this morning.",
                    priority=3,
                )
                ticket.save()
                FollowUp(
                    ticket=ticket,
                    title="Ticket Opened",
                    date=now(),
                    public=True,
                    comment=ticket.description,
                ).save()
            t1 = clock()
            with atomic():  # one transaction per step
                FollowUp(
                    ticket=ticket,
                    title="Comment",
                    date=now(),
                    public=True,
                    user=agent,
                    comment="Could you try switching it off and on again?",
                ).save()
                ticket.save()
            t2 = clock()
            with atomic():  # one transaction per step
                ticket.assigned_to = agent
                f = FollowUp(ticket=ticket, title="Assigned to agent-1", date=now(), user=agent)
                f.save()
                TicketChange(followup=f, field="Owner", old_value=None, new_value="agent-1").save()
                ticket.save()
            t3 = clock()
            with atomic():  # one transaction per step
                resolution = "Power-cycled the print server; the queue drains again."
                ticket.status = Ticket.RESOLVED_STATUS
                ticket.resolution = resolution
                f = FollowUp(
                    ticket=ticket,
                    title="Resolved",
                    date=now(),
                    public=True,
                    user=agent,
                    comment=resolution,
                    new_status=Ticket.RESOLVED_STATUS,
                )
                f.save()
                TicketChange(
                    followup=f, field="Status", old_value="Open", new_value="Resolved"
                ).save()
                ticket.save()
            t4 = clock()
            with atomic():  # one transaction per step
                ticket.status = Ticket.CLOSED_STATUS
                f = FollowUp(
                    ticket=ticket,
                    title="Closed",
                    date=now(),
                    user=agent,
                    new_status=Ticket.CLOSED_STATUS,
                )
                f.save()
                TicketChange(
                    followup=f, field="Status", old_value="Resolved", new_value="Closed"
                ).save()
                ticket.save()
            t5 = clock()
            totals["receive"] += t1 - t0
            totals["reply"] += t2 - t1
            totals["diagnose"] += t3 - t2
            totals["resolve"] += t4 - t3
            totals["close"] += t5 - t4
        return totals

    def check(self, offset: int, count: int) -> None:
        """Sanity check: the measured tickets ended Closed with their follow-ups."""
        from helpdesk.models import FollowUp, Ticket

        closed = Ticket.objects.filter(
            title__startswith="Printer offline #", status=Ticket.CLOSED_STATUS
        ).count()
        if closed < count:
            raise AssertionError(f"django-helpdesk: {closed} closed tickets, expected {count}")
        followups = FollowUp.objects.filter(ticket__title__startswith="Printer offline #").count()
        if followups < 5 * count:
            raise AssertionError(f"django-helpdesk: {followups} follow-ups for {count} tickets")
