"""The shop's views: an order and its support ticket in one transaction."""

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from supportkit import NotFound, SupportKitError

from .models import Order, Stock
from .support import desk


class OutOfStock(Exception):
    pass


@csrf_exempt
@require_POST
def place_order(request: HttpRequest) -> JsonResponse:
    """Place an order; a question asked with it opens a support ticket in the same transaction.

    Stock is taken last: when it runs out, the order *and* the ticket roll back together.
    """
    body: dict[str, Any] = json.loads(request.body or b"{}")
    try:
        with transaction.atomic():
            order = Order.objects.create(
                email=body["email"], item=body["item"], quantity=int(body["quantity"])
            )
            if body.get("question"):
                ticket = desk().receive(
                    "web", order.email, body["question"], subject=f"Order #{order.pk}"
                )
                order.ticket_number = ticket.number
                order.save(update_fields=["ticket_number"])
            stock = Stock.objects.select_for_update().get(item=order.item)
            if stock.left < order.quantity:
                raise OutOfStock(order.item)
            stock.left -= order.quantity
            stock.save(update_fields=["left"])
    except OutOfStock as exc:
        return JsonResponse({"error": f"{exc} is out of stock"}, status=409)
    except SupportKitError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"order": order.pk, "ticket": order.ticket_number}, status=201)


@require_GET
def track(request: HttpRequest, number: int) -> JsonResponse:
    """The customer's view of a ticket (status and its label)."""
    try:
        tracking = desk().track(number, customer_address=request.GET.get("email", ""))
    except NotFound:
        return JsonResponse({"error": "no such request"}, status=404)
    return JsonResponse({"number": tracking.number, "status": tracking.status})
