"""Reads of the payments module."""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.db.models import Count, QuerySet

from c4ang.selectors import get_or_raise
from payments.constants import PaymentMethod, PaymentStatus
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


def payment_attempt(*, order_id: UUID, payment_key: str) -> Payment | None:
    """The order's attempt with this paymentKey (one per order and key: its retries reuse it)."""
    return Payment.objects.filter(order_id=order_id, payment_key=payment_key).first()


def payment_approved_for_order(*, order_id: UUID) -> Payment | None:
    """The order's approved payment (at most one: a unique constraint)."""
    return Payment.objects.filter(order_id=order_id, status=PaymentStatus.APPROVED).first()


def payment_attempts_unsettled(*, order_id: UUID) -> QuerySet[Payment]:
    """The order's attempts whose outcome at the PG is not known (PENDING), oldest first."""
    return Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING).order_by("created_at")


def payment_key_known(*, provider: str, payment_key: str) -> bool:
    """Whether any attempt of ours carried this paymentKey at this PG."""
    return bool(payment_key) and Payment.objects.filter(provider=provider, payment_key=payment_key).exists()


def payment_for_pg_payment(*, provider: str, payment_key: str, order_id: str) -> Payment | None:
    """The attempt a PG payment belongs to: its paymentKey on the order the PG says it paid for.
    Attempts of other orders that carried the same key (refused confirms) are not it."""
    try:
        order_uuid = UUID(order_id)
    except ValueError:  # not an order id of ours
        return None
    return Payment.objects.filter(provider=provider, payment_key=payment_key, order_id=order_uuid).first()


def payment_waiting_for_order(*, order_id: UUID) -> Payment | None:
    """The order's virtual account open for its deposit (at most one: a unique constraint)."""
    return Payment.objects.filter(order_id=order_id, status=PaymentStatus.WAITING).first()


def virtual_accounts_for_orders(*, order_ids: Iterable[UUID]) -> dict[UUID, Payment]:
    """Each order's current virtual account, waiting for its deposit or paid into (one query; orders
    without one are absent): its bank, bank_name, account_number, holder_name and due_at."""
    order_ids = list(order_ids)
    if not order_ids:
        return {}
    accounts = Payment.objects.filter(
        order_id__in=order_ids,
        method=PaymentMethod.VIRTUAL_ACCOUNT,
        status__in=[PaymentStatus.WAITING, PaymentStatus.APPROVED],
    ).order_by("created_at")
    return {account.order_id: account for account in accounts}  # the newest of an order wins


def virtual_accounts_issued(*, provider: str, order_id: str) -> list[Payment]:
    """The virtual accounts the PG issued for an order id it names (those with the PG's secret)."""
    try:
        order_uuid = UUID(order_id)
    except ValueError:  # not an order id of ours
        return []
    return list(
        Payment.objects.filter(provider=provider, order_id=order_uuid, method=PaymentMethod.VIRTUAL_ACCOUNT)
        .exclude(secret="")
        .order_by("created_at")
    )


def virtual_account_latest(*, order_id: UUID) -> Payment | None:
    """The order's newest virtual account, whatever became of it."""
    return (
        Payment.objects.filter(order_id=order_id, method=PaymentMethod.VIRTUAL_ACCOUNT).order_by("-created_at").first()
    )


def payment_decline_counts(*, since: datetime) -> list[dict]:
    """Failed payment attempts since `since` by PG failure code, most frequent first."""
    return list(
        Payment.objects.filter(status=PaymentStatus.FAILED, created_at__gte=since)
        .values("failure_code")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_code")
    )
