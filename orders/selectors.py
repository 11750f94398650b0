"""Reads of the orders module."""

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderItem


def order_list_for_customer(*, customer_id) -> QuerySet[Order]:
    return Order.objects.filter(customer_id=customer_id).prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("created_at"))
    )


def order_none() -> QuerySet[Order]:
    return Order.objects.none()
