"""The shop's own tables, in the same database as supportkit's."""

from django.db import models


class Stock(models.Model):
    item = models.CharField(max_length=100, primary_key=True)
    left = models.PositiveIntegerField()


class Order(models.Model):
    email = models.EmailField()
    item = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField()
    #: the support ticket opened with the order, when the customer asked something
    ticket_number = models.BigIntegerField(null=True)


class StaffNotification(models.Model):
    """What the shop's receiver of supportkit's events writes (after the commit)."""

    ticket_id = models.CharField(max_length=64)
    event = models.CharField(max_length=64)
