"""The shop's URLs: placing an order (with an optional question for support)."""

from django.urls import path
from orders import views

urlpatterns = [
    path("orders/", views.place_order, name="place-order"),
    path("tickets/<int:number>/", views.track, name="track"),
]
