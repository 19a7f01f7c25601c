"""The shop's receiver: staff are notified of every new support ticket."""

from typing import Any

from django.dispatch import receiver

from .models import StaffNotification
from .signals import support_event


@receiver(support_event)
def notify_staff(sender: Any, event: Any, **kwargs: Any) -> None:
    if event.type_name == "ticket.received":
        StaffNotification.objects.create(ticket_id=event.ticket_id, event=event.type_name)
