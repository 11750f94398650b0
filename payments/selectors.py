"""Reads of the payments module."""

from datetime import datetime
from uuid import UUID

from django.db.models import Count, QuerySet

from c4ang.selectors import get_or_raise
from payments.constants import PaymentStatus
from payments.errors import PaymentNotFound
from payments.models import Payment


def payment_list_for_customer(*, customer_id: UUID) -> QuerySet[Payment]:
    return Payment.objects.filter(customer_id=customer_id)


def payment_get_for_customer(*, customer_id: UUID, payment_id: UUID) -> Payment:
    """A customer's own payment; another customer's id is a 404, like an unknown one."""
    return get_or_raise(payment_list_for_customer(customer_id=customer_id), PaymentNotFound, pk=payment_id)


def payment_get(*, payment_id: UUID) -> Payment:
    return get_or_raise(Payment, PaymentNotFound, pk=payment_id)


def payment_list_all() -> QuerySet[Payment]:
    return Payment.objects.all()


def payment_latest_for_order(*, order_id: UUID) -> Payment | None:
    return Payment.objects.filter(order_id=order_id).order_by("-created_at").first()


def payment_decline_counts(*, since: datetime) -> list[dict]:
    """Failed payment attempts since `since` by PG failure code, most frequent first."""
    return list(
        Payment.objects.filter(status=PaymentStatus.FAILED, created_at__gte=since)
        .values("failure_code")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_code")
    )
