"""Reads of the payments module."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncDate

from c4ang.money import CURRENCY
from c4ang.selectors import get_or_raise
from payments import gateways
from payments.constants import (
    PAID_STATUSES,
    Bank,
    Gateway,
    NextActionType,
    PaymentMethod,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from payments.errors import PaymentNotFound
from payments.models import Payment, PaymentEvent, Refund


def _with_refunds(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments with their refunds (one more query for a whole page), newest refund first."""
    return payments.prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("-created_at", "-id")))


def payment_list_for_customer(*, customer_id: UUID, updated_since: datetime | None = None) -> QuerySet[Payment]:
    """A customer's own payments; with `updated_since`, only those changed then or later (a refund
    of one changes it too)."""
    payments = Payment.objects.filter(customer_id=customer_id)
    if updated_since is not None:
        payments = payments.filter(updated_at__gte=updated_since)
    return _with_refunds(payments)


def payment_get_for_customer(*, customer_id: UUID, payment_id: UUID) -> Payment:
    """A customer's own payment; another customer's id is a 404, like an unknown one."""
    return get_or_raise(payment_list_for_customer(customer_id=customer_id), PaymentNotFound, pk=payment_id)


def payment_get(*, payment_id: UUID) -> Payment:
    return get_or_raise(Payment, PaymentNotFound, pk=payment_id)


def payment_list_all(*, order_id: UUID | None = None, status: str = "") -> QuerySet[Payment]:
    """Staff: payments, of one order and in one status when given."""
    payments = Payment.objects.all()
    if order_id is not None:
        payments = payments.filter(order_id=order_id)
    if status:
        payments = payments.filter(status=status)
    return _with_refunds(payments)


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


def payment_event_last_id(*, payment_id: UUID) -> int | None:
    """The id of the attempt's newest audit event: a call to the PG about it appends one."""
    return PaymentEvent.objects.filter(payment_id=payment_id).order_by("-id").values_list("id", flat=True).first()


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


# --- what an order shows of its payment, and what its app does next -------------------------------


def payment_summaries_for_orders(*, order_ids: Iterable[UUID]) -> dict[UUID, Payment | None]:
    """Each order's payment as the order shows it, in one query: the attempt that holds its money
    when there is one (APPROVED, PARTIALLY_REFUNDED), else its newest attempt (the one that paid it
    and was refunded: no attempt is made after an approval); None for an order without attempts."""
    order_ids = list(order_ids)
    summaries: dict[UUID, Payment | None] = dict.fromkeys(order_ids)
    if not order_ids:
        return summaries
    for payment in Payment.objects.filter(order_id__in=order_ids).order_by("created_at", "id"):
        shown = summaries[payment.order_id]
        if shown is None or shown.status not in PAID_STATUSES:
            summaries[payment.order_id] = payment
    return summaries


@dataclass(frozen=True)
class ConfirmPayment:
    """What an app opens the PG's payment widget with, and where it confirms the widget's paymentKey."""

    gateway: str
    client_key: str
    order_id: UUID
    amount: Decimal
    order_name: str
    customer_key: str
    confirm_url: str
    # The fake PG only: the paymentKeys of its outcomes (there is no widget); None at a real PG.
    sandbox_payment_keys: dict[str, str] | None


@dataclass(frozen=True)
class NextAction:
    type: NextActionType
    expires_at: datetime | None = None
    confirm_payment: ConfirmPayment | None = None
    # The order's virtual account waiting for the deposit (a Payment: bank, account_number, ...).
    virtual_account: Payment | None = None


# payments.urls mounts the confirm here (api/v1/payments/, c4ang.urls); a test keeps the two equal.
CONFIRM_URL = "/api/v1/payments/confirm/"


def next_action_for_order(
    *,
    order_id: UUID,
    awaiting_payment: bool,
    payment_method: str,
    amount: Decimal,
    product_names: list[str],
    customer_id: UUID,
    payment_due_at: datetime,
    payment: Payment | None,
) -> NextAction:
    """What the app does next for an order (`awaiting_payment`: the order is PENDING), from the
    order's facts (`product_names`: its lines', in order) and its payment as
    `payment_summaries_for_orders` gives it: deposit into its
    virtual account once one waits for the deposit; pay a card order in the active PG's widget
    and confirm it while no attempt paid it (none yet, declined, or unanswered: confirming the
    same paymentKey again settles that one); else nothing (paid, cancelled, or an account not
    issued yet). Both actions expire with the order at `payment_due_at`."""
    if not awaiting_payment:
        return NextAction(type=NextActionType.NONE)
    if payment is not None and payment.status == PaymentStatus.WAITING and payment.account_number:
        return NextAction(
            type=NextActionType.DEPOSIT_TO_VIRTUAL_ACCOUNT, expires_at=payment_due_at, virtual_account=payment
        )
    unpaid = payment is None or payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
    if payment_method == PaymentMethod.CARD and unpaid:
        sandbox = settings.PAYMENT_GATEWAY == Gateway.FAKE
        confirm = ConfirmPayment(
            gateway=settings.PAYMENT_GATEWAY,
            client_key=gateways.client_key(),
            order_id=order_id,
            amount=amount,
            order_name=gateways.order_name(product_names),
            customer_key=gateways.customer_key(customer_id),
            confirm_url=CONFIRM_URL,
            sandbox_payment_keys=dict(gateways.SANDBOX_PAYMENT_KEYS) if sandbox else None,
        )
        return NextAction(type=NextActionType.CONFIRM_PAYMENT, expires_at=payment_due_at, confirm_payment=confirm)
    return NextAction(type=NextActionType.NONE)


def payment_config() -> dict:
    """The active PG and what an app needs of it: its public client key, the methods on offer
    (virtual accounts with their banks), and how long an order waits for each kind of payment."""
    return {
        "gateway": settings.PAYMENT_GATEWAY,
        "client_key": gateways.client_key(),
        "currency": CURRENCY,
        "methods": [
            {"method": PaymentMethod.CARD, "name": PaymentMethod.CARD.label, "banks": []},
            {
                "method": PaymentMethod.VIRTUAL_ACCOUNT,
                "name": PaymentMethod.VIRTUAL_ACCOUNT.label,
                "banks": [{"code": bank.value, "name": bank.label} for bank in Bank],
            },
        ],
        "virtual_account_due_days": settings.ORDER_VIRTUAL_ACCOUNT_DAYS,
        "payment_timeout_minutes": settings.ORDER_PAYMENT_TIMEOUT_MINUTES,
    }


def order_name(*, product_names: list[str]) -> str:
    """The name the PG shows the customer for an order of these products (its lines' in order)."""
    return gateways.order_name(product_names)
