"""Reads of the payments module."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate

from c4ang.selectors import get_or_raise
from payments.constants import PAID_STATUSES, PaymentMethod, PaymentStatus, RefundReason, RefundStatus
from payments.errors import PaymentNotFound
from payments.models import Payment, Refund


def _with_refunds(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments with their refunds (one more query for a whole page), newest refund first."""
    return payments.prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("-created_at", "-id")))


def payment_list_for_customer(*, customer_id: UUID) -> QuerySet[Payment]:
    return _with_refunds(Payment.objects.filter(customer_id=customer_id))


def payment_get_for_customer(*, customer_id: UUID, payment_id: UUID) -> Payment:
    """A customer's own payment; another customer's id is a 404, like an unknown one."""
    return get_or_raise(payment_list_for_customer(customer_id=customer_id), PaymentNotFound, pk=payment_id)


def payment_get(*, payment_id: UUID) -> Payment:
    return get_or_raise(Payment, PaymentNotFound, pk=payment_id)


def payment_list_all() -> QuerySet[Payment]:
    return _with_refunds(Payment.objects.all())


def payment_attempt(*, order_id: UUID, payment_key: str) -> Payment | None:
    """The order's attempt with this paymentKey (one per order and key: its retries reuse it)."""
    return Payment.objects.filter(order_id=order_id, payment_key=payment_key).first()


def payment_approved_for_order(*, order_id: UUID) -> Payment | None:
    """The order's approved payment, maybe partly refunded (at most one: a unique constraint)."""
    return payment_paid_for_order(order_id=order_id)


def payment_paid_for_order(*, order_id: UUID) -> Payment | None:
    """The order's payment whose money the shop holds, some or all of it: APPROVED or PARTIALLY_REFUNDED."""
    return Payment.objects.filter(order_id=order_id, status__in=PAID_STATUSES).first()


def payment_refunded_exists(*, order_id: UUID) -> bool:
    """Whether one of the order's payments was refunded in full."""
    return Payment.objects.filter(order_id=order_id, status=PaymentStatus.REFUNDED).exists()


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


# --- refunds ---------------------------------------------------------------------------------------


def refunds_for_order(*, order_id: UUID) -> QuerySet[Refund]:
    """Every refund of the order's payments (every try, FAILED ones too), newest first."""
    return Refund.objects.filter(order_id=order_id).order_by("-created_at", "-id")


def refund_for_operation(*, operation: str) -> Refund | None:
    """The newest refund of a business operation (partial-cancel:<id>, return:<id>, ...), whatever its status."""
    return Refund.objects.filter(operation=operation).order_by("-created_at", "-id").first()


def refund_live_for_operation(*, operation: str) -> Refund | None:
    """The operation's refund that is PENDING or SUCCEEDED (at most one: a unique constraint)."""
    live = Refund.objects.filter(operation=operation, status__in=[RefundStatus.PENDING, RefundStatus.SUCCEEDED])
    return live.select_related("payment").first()


def refunds_for_operation(*, operation: str) -> QuerySet[Refund]:
    return Refund.objects.filter(operation=operation)


def refunds_pending_for_payment(*, payment_id: UUID) -> QuerySet[Refund]:
    """The payment's refunds the PG has not answered yet, oldest first."""
    pending = Refund.objects.filter(payment_id=payment_id, status=RefundStatus.PENDING)
    return pending.select_related("payment").order_by("created_at")


def refund_transaction_keys(*, payment_id: UUID) -> list[str]:
    """The PG's transaction keys of the payment's refunds (the cancels our rows know)."""
    return list(
        Refund.objects.filter(payment_id=payment_id)
        .exclude(pg_transaction_key="")
        .values_list("pg_transaction_key", flat=True)
    )


def refunded_total_for_payment(*, payment_id: UUID) -> Decimal:
    total = Refund.objects.filter(payment_id=payment_id, status=RefundStatus.SUCCEEDED).aggregate(total=Sum("amount"))
    return total["total"] or Decimal(0)


def refunded_total_for_order(*, order_id: UUID) -> Decimal:
    """What the order's succeeded refunds gave back of what it was paid (refunds asked for and
    unanswered are not in it, nor money given back of an attempt the order did not use)."""
    refunds = Refund.objects.filter(order_id=order_id, status=RefundStatus.SUCCEEDED)
    total = refunds.exclude(reason=RefundReason.LATE_PAYMENT).aggregate(total=Sum("amount"))
    return total["total"] or Decimal(0)


def refund_list_all(*, order_id: UUID | None = None, reason: str = "", status: str = "") -> QuerySet[Refund]:
    """Staff: refunds, newest first, filtered by order, reason and status when given."""
    refunds = Refund.objects.order_by("-created_at", "-id")
    if order_id is not None:
        refunds = refunds.filter(order_id=order_id)
    if reason:
        refunds = refunds.filter(reason=reason)
    if status:
        refunds = refunds.filter(status=status)
    return refunds


def refund_daily_totals(*, since: datetime) -> dict[date, dict]:
    """Succeeded refunds since `since` by shop day: {day: {"count": n, "amount": Decimal}}, oldest day first."""
    days = (
        Refund.objects.filter(status=RefundStatus.SUCCEEDED, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values("day")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("day")
    )
    return {row["day"]: {"count": row["count"], "amount": row["amount"]} for row in days}
