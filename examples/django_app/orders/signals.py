"""A Django signal carrying supportkit's events to the shop's receivers.

The desk publishes an event only once the transaction that stored it has
committed (through ``transaction.on_commit``); :mod:`orders.support` re-sends
each one here, so receivers are plain Django receivers.
"""

from django.dispatch import Signal

#: sent with ``event`` (a supportkit domain event) after the commit that stored it
support_event = Signal()
