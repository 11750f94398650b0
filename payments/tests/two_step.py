"""The two-step (Toss) flow as the payments tests drive it: an order placed unpaid, then confirmed."""

from datetime import timedelta

from django.utils import timezone

from orders import services as order_services
from orders.models import Order
from products.models import Product

CONFIRM = "/api/v1/payments/confirm/"
TOTAL = 90000  # the pending order's: two of 45,000 won


def confirm(client, order, payment_key: str):
    body = {"paymentKey": payment_key, "orderId": order["id"], "amount": order["total_amount"]}
    return client.post(CONFIRM, body, format="json")


def stock_of(product) -> int:
    return Product.objects.get(pk=product.pk).stock


def order_status(order) -> str:
    return Order.objects.get(pk=order["id"]).status


def expire_unpaid_orders() -> int:
    return order_services.order_expire_unpaid(now=timezone.now() + timedelta(minutes=31))
