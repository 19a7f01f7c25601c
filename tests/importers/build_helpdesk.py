"""Build a django-helpdesk database with django-helpdesk's own models (run as a script).

    python build_helpdesk.py sqlite /tmp/helpdesk.sqlite3 MEDIA_DIR
    python build_helpdesk.py postgresql postgresql://user@host/db?options=... MEDIA_DIR
    python build_helpdesk.py mysql mysql://root@host:3306/db MEDIA_DIR
    python build_helpdesk.py sqlite /tmp/helpdesk.sqlite3 MEDIA_DIR 600   # + 600 bulk tickets

Runs in its own process so that configuring Django here never touches the
test process (examples/django_app configures Django its own way). Applies all
of django-helpdesk's migrations, then writes queues, users, tickets,
follow-ups, owner changes and an attachment through the ORM, back-dating them
with queryset updates where Django stamps "now" (``auto_now``). Prints what
it built as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
urlpatterns: list[Any] = []


def configure(kind: str, where: str, media: str) -> None:
    import django
    from django.conf import settings

    if kind == "sqlite":
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": where}
    else:  # a postgresql:// or mysql:// URL, as the tests' servers are given
        parts = urlsplit(where)
        db = {
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or "root"),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or ""),
        }
        if kind == "mysql":  # MariaDB through PyMySQL standing in for mysqlclient
            import pymysql

            pymysql.install_as_MySQLdb()
            db.update(ENGINE="django.db.backends.mysql", OPTIONS={"charset": "utf8mb4"})
        else:
            options = dict(parse_qsl(parts.query)).get("options", "")
            db.update(ENGINE="django.db.backends.postgresql", OPTIONS={"options": options})
    settings.configure(
        DEBUG=False,
        SECRET_KEY="supportkit-tests-only",
        USE_TZ=True,
        TIME_ZONE="UTC",
        DATABASES={"default": db},
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
        MEDIA_ROOT=media,
        SITE_ID=1,
        ROOT_URLCONF=__name__,
        HELPDESK_TEAMS_MODE_ENABLED=False,
        LOGGING_CONFIG=None,
    )
    django.setup()


def build() -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket, TicketChange

    call_command("migrate", verbosity=0, interactive=False)
    users = get_user_model()
    alice = users.objects.create_user(
        "alice", "alice@example.com", "x", is_staff=True, first_name="Alice", last_name="Agent"
    )
    bob = users.objects.create_user("bob", "bob@example.com", "x", is_staff=True)
    users.objects.create_user("carol", "carol@example.com", "x")  # a customer with an account
    support = Queue.objects.create(title="Support", slug="support")
    billing = Queue.objects.create(title="Billing", slug="billing")

    def at(hours: float) -> datetime:
        return T0 + timedelta(hours=hours)

    def ticket(title: str, email: str | None, queue: Any, start: float, **kw: Any) -> Ticket:
        t = Ticket.objects.create(
            title=title,
            queue=queue,
            submitter_email=email,
            description=kw.pop("description", f"{title}: please help."),
            **kw,
        )
        return t

    def follow(t: Ticket, hours: float, comment: str = "", **kw: Any) -> FollowUp:
        f = FollowUp(ticket=t, date=at(hours), comment=comment, **kw)
        f.save()
        if "new_status" in kw and kw["new_status"] is not None:
            Ticket.objects.filter(pk=t.pk).update(status=kw["new_status"])
            t.status = kw["new_status"]
        return f

    def dates(t: Ticket, created: float, modified: float) -> None:
        Ticket.objects.filter(pk=t.pk).update(created=at(created), modified=at(modified))

    out: dict[str, Any] = {"t0": T0.isoformat()}

    # 1: the full path, by e-mail: reply, customer answer with a file, note, owner, resolve, close
    t1 = ticket("Printer offline", "dan@example.com", support, 0, priority=2)
    follow(t1, 0, t1.description, public=True, title="Ticket Opened", message_id="<a1@mail>")
    owner = follow(t1, 0.5, "", title="Assigned to alice", user=alice)
    TicketChange.objects.create(followup=owner, field="Owner", old_value="", new_value="alice")
    t1.assigned_to = alice
    Ticket.objects.filter(pk=t1.pk).update(assigned_to=alice)
    follow(t1, 1, "Could you switch it off and on again?", public=True, user=alice)
    answer = follow(t1, 2, "Still offline, log attached.", public=True)
    FollowUpAttachment.objects.create(
        followup=answer,
        file=ContentFile(b"paper jam\n", name="printer.log"),
        filename="printer.log",
        mime_type="text/plain",
        size=10,
    )
    follow(t1, 3, "Print server queue is stuck.", public=False, user=alice)
    follow(t1, 5, "Power-cycled the print server.", public=True, user=alice, new_status=3)
    follow(t1, 24, "", public=False, user=alice, new_status=4)
    dates(t1, 0, 24)
    out["t1"] = t1.pk

    # 2: closed straight from open, by bob, through the web form (no Message-ID)
    t2 = ticket("Password reset", "erin@example.com", support, 10)
    follow(t2, 10, t2.description, public=True, title="Ticket Opened")
    follow(t2, 12, "Reset link sent.", public=True, user=bob, new_status=4)
    dates(t2, 10, 12)
    out["t2"] = t2.pk

    # 3: resolved, the customer (with an account) writes again, reopened, resolved again
    t3 = ticket("Invoice wrong", "carol@example.com", billing, 20)
    follow(t3, 20, t3.description, public=True, title="Ticket Opened")
    follow(t3, 21, "Corrected the invoice.", public=True, user=bob, new_status=3)
    carol = users.objects.get(username="carol")
    follow(t3, 30, "The total is still wrong.", public=True, user=carol, new_status=2)
    follow(t3, 32, "Credited the difference.", public=True, user=bob, new_status=3)
    dates(t3, 20, 32)
    out["t3"] = t3.pk

    # 4: closed, reopened by mail, closed again
    t4 = ticket("VPN drops", "finn@example.com", support, 40)
    follow(t4, 40, t4.description, public=True, title="Ticket Opened")
    follow(t4, 41, "Updated your profile.", public=True, user=alice, new_status=4)
    follow(t4, 50, "It drops again.", public=True, new_status=2)
    follow(t4, 52, "", public=False, user=alice, new_status=4)
    dates(t4, 40, 52)
    out["t4"] = t4.pk

    # 5: a duplicate of ticket 1
    t5 = ticket("Printer still offline", "dan@example.com", support, 1.5)
    follow(t5, 1.5, t5.description, public=True, title="Ticket Opened")
    follow(t5, 4, "", public=False, user=alice, new_status=5)
    Ticket.objects.filter(pk=t5.pk).update(merged_to=t1)
    dates(t5, 1.5, 4)
    out["t5"] = t5.pk

    # 6: no submitter address: not importable without --anonymous-sender
    t6 = ticket("Phone call", None, support, 60)
    dates(t6, 60, 60)
    out["t6"] = t6.pk

    # 7: closed by a bulk edit, no follow-up says so
    t7 = ticket("Old request", "gina@example.com", billing, 70)
    Ticket.objects.filter(pk=t7.pk).update(status=4)
    dates(t7, 70, 75)
    out["t7"] = t7.pk

    # 8: open, untouched, lowest priority, assigned to bob without an owner change
    t8 = ticket("Feature idea", "hal@example.com", billing, 80, priority=5, assigned_to=bob)
    dates(t8, 80, 80)
    out["t8"] = t8.pk

    # 9: the customer thanks after the closing
    t9 = ticket("Login slow", "ivy@example.com", support, 90)
    follow(t9, 90, t9.description, public=True, title="Ticket Opened")
    follow(t9, 91, "Cleared the cache.", public=True, user=alice, new_status=4)
    follow(t9, 95, "Thanks, works now!", public=True)
    dates(t9, 90, 95)
    out["t9"] = t9.pk

    # 10: a custom status this import does not know
    t10 = ticket("Odd status", "jo@example.com", support, 100)
    Ticket.objects.filter(pk=t10.pk).update(status=9)
    dates(t10, 100, 100)
    out["t10"] = t10.pk

    # 11: a follow-up above supportkit's default text limit (1,000,000 characters)
    t11 = ticket("Log dump", "kim@example.com", support, 110)
    follow(t11, 110, t11.description, public=True, title="Ticket Opened")
    follow(t11, 111, "x" * 1_000_001, public=True)
    dates(t11, 110, 111)
    out["t11"] = t11.pk
    return out


def build_bulk(count: int) -> list[int]:
    """*count* more tickets of a few shapes (for imports long enough to be killed midway).

    Ticket ``i`` is opened by one of 40 customers, answered by alice an hour later;
    every third is then resolved, every third closed, the rest stay open; every
    fifth has a second customer message. Follow-ups go in with ``bulk_create``.
    """
    from django.contrib.auth import get_user_model
    from helpdesk.models import FollowUp, Queue, Ticket

    alice = get_user_model().objects.get(username="alice")
    queues = list(Queue.objects.order_by("id"))
    ids: list[int] = []
    follow_ups: list[Any] = []
    for i in range(count):
        start = 200 + i * 0.25
        t = Ticket.objects.create(
            title=f"Bulk request {i}",
            queue=queues[i % len(queues)],
            submitter_email=f"customer{i % 40}@example.com",
            description=f"Request {i}: the export to CSV fails with error {i * 7 % 13}.",
            priority=1 + i % 5,
        )

        def at(h: float, start: float = start) -> datetime:
            return T0 + timedelta(hours=start + h)

        status = (3, 4, 1)[i % 3]
        follow_ups.append(FollowUp(ticket=t, date=at(0), comment=t.description, public=True))
        follow_ups.append(
            FollowUp(ticket=t, date=at(1), comment=f"Looking at {i}.", public=True, user=alice)
        )
        if i % 5 == 0:
            follow_ups.append(FollowUp(ticket=t, date=at(1.5), comment="Any news?", public=True))
        if status != 1:
            follow_ups.append(
                FollowUp(
                    ticket=t,
                    date=at(2),
                    comment="Fixed.",
                    public=True,
                    user=alice,
                    new_status=status,
                )
            )
        Ticket.objects.filter(pk=t.pk).update(status=status, created=at(0), modified=at(2))
        ids.append(t.pk)
    FollowUp.objects.bulk_create(follow_ups)
    return ids


def main() -> None:
    kind, where, media = sys.argv[1:4]
    configure(kind, where, media)
    out = build()
    if len(sys.argv) > 4:
        out["bulk"] = build_bulk(int(sys.argv[4]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
