"""The shop's tests, run by Django's test runner with the shop's settings.

``TransactionTestCase``: every view runs its real ``transaction.atomic()``
and commits (a ``TestCase`` would wrap each test in a transaction that never
commits, so no ``on_commit`` would fire).
"""

import json
from typing import Any

from django.db import connection, transaction
from django.test import TransactionTestCase

from .models import Order, StaffNotification, Stock
from .signals import support_event
from .support import desk


def _tickets() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM sk_tickets")
        return int(cur.fetchone()[0])


class OrderWithQuestionTests(TransactionTestCase):
    def setUp(self) -> None:
        Stock.objects.create(item="lamp", left=1)
        self.tickets_before = _tickets()
        self.seen: list[Any] = []

        def record(sender: Any, event: Any, **kwargs: Any) -> None:
            # published only after the commit: no transaction is open any more
            self.seen.append((event, connection.in_atomic_block))

        support_event.connect(record, weak=False, dispatch_uid="test-record")
        self.addCleanup(support_event.disconnect, dispatch_uid="test-record")

    def order(self, quantity: int, question: str = "Does it come with a bulb?") -> Any:
        body = {"email": "ann@example.com", "item": "lamp", "quantity": quantity}
        body["question"] = question
        return self.client.post("/orders/", json.dumps(body), content_type="application/json")

    def test_the_order_and_its_ticket_commit_together_and_the_events_follow(self) -> None:
        response = self.order(1)
        self.assertEqual(response.status_code, 201, response.content)
        number = response.json()["ticket"]
        order = Order.objects.get(pk=response.json()["order"])
        ticket = desk().get_ticket_by_number(number)
        self.assertEqual(order.ticket_number, ticket.number)
        self.assertEqual(ticket.subject, f"Order #{order.pk}")
        self.assertEqual(_tickets(), self.tickets_before + 1)
        self.assertIn("ticket.received", {e.type_name for e, _ in self.seen})
        self.assertEqual({e.ticket_id for e, _ in self.seen}, {ticket.id})
        self.assertFalse(any(in_atomic for _, in_atomic in self.seen))
        notes = StaffNotification.objects.filter(ticket_id=ticket.id)
        self.assertEqual([n.event for n in notes], ["ticket.received"])
        tracked = self.client.get(f"/tickets/{number}/", {"email": "ann@example.com"})
        self.assertEqual(tracked.json()["number"], number)

    def test_out_of_stock_rolls_back_the_order_and_the_ticket_and_publishes_nothing(self) -> None:
        response = self.order(5)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(Order.objects.count(), 0)
        self.assertEqual(_tickets(), self.tickets_before)
        self.assertEqual(self.seen, [])
        self.assertEqual(StaffNotification.objects.count(), 0)
        self.assertEqual(Stock.objects.get(item="lamp").left, 1)

    def test_a_ticket_in_the_hosts_rolled_back_transaction_is_never_announced(self) -> None:
        with transaction.atomic():
            created = desk().receive("web", "bob@example.com", "Changed my mind")
            self.assertEqual(desk().get_ticket(created.id).id, created.id)
            transaction.set_rollback(True)
        self.assertEqual(_tickets(), self.tickets_before)
        self.assertEqual(self.seen, [])

    def test_a_ticket_outside_any_atomic_block_commits_at_once_as_django_writes_do(self) -> None:
        created = desk().receive("web", "cy@example.com", "Hello")
        self.assertEqual(_tickets(), self.tickets_before + 1)
        self.assertEqual({e.ticket_id for e, _ in self.seen}, {created.id})
