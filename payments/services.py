"""Writes of the payments module: charging and refunding orders at the PG, and PG webhooks.

The module knows payments and PGs, not orders: the order saga (orders) calls `payment_take` and
`payment_void_for_order`, and what a confirm, a refund or a changed payment means for its order
is asked of the handlers orders registers (payments.hooks). Calls to the PG never happen inside
a database transaction: each payment row is written (and committed) before the call, with the
Idempotency-Key that every retry reuses, and the outcome is written after it.
"""

from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from c4ang.actors import Actor
from c4ang.db import save_fields
from payments import gateways, hooks, metrics, selectors
from payments.constants import PaymentStatus
from payments.errors import OrderNotPayable, PaymentDeclined, PaymentTimedOut, RefundFailed, WebhookInvalid
from payments.models import Payment, PaymentEvent, WebhookEvent


def _record(payment: Payment, kind: str, *, detail: dict | None = None, **fields) -> None:
    """Change a payment and append its audit event, together."""
    with transaction.atomic():
        if fields:
            save_fields(payment, **fields)
        PaymentEvent.objects.create(payment=payment, kind=kind, detail=detail or {})


def _declined(payment: Payment) -> PaymentDeclined:
    return PaymentDeclined(
        f"The payment was declined: {payment.failure_code}: {payment.failure_message}", pg_code=payment.failure_code
    )


def _payment_for_order(*, order_id: UUID, customer_id: UUID, amount: Decimal, payment_key: str) -> Payment:
    """The order's payment, created (with its idempotency key) and committed before the PG is called;
    a PENDING one from an earlier attempt is reused as it is, key included."""
    key = gateways.idempotency_key("c4ang", str(order_id), "confirm")
    payment = Payment.objects.filter(idempotency_key=key).first()
    if payment is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    idempotency_key=key,
                    order_id=order_id,
                    customer_id=customer_id,
                    amount=amount,
                    provider=settings.PAYMENT_GATEWAY,
                    payment_key=payment_key,
                )
                PaymentEvent.objects.create(payment=payment, kind=PaymentEvent.Kind.REQUESTED)
            return payment
        except IntegrityError:  # a concurrent first attempt created it
            payment = Payment.objects.get(idempotency_key=key)
    if payment.status == PaymentStatus.PENDING:
        _record(payment, PaymentEvent.Kind.REQUESTED, detail={"repeated": True})
    return payment


def payment_take(*, order_id: UUID, customer_id: UUID, amount: Decimal, payment_key: str) -> Payment:
    """Charge an order through the configured PG, exactly once.

    The first call creates the payment (PENDING, with its idempotency key) and commits it before
    calling the PG; a repeated call (a retry, recovery after a crash) reuses that row and key, so
    it returns the approval or the decline the PG gave, never a second charge. A decline raises
    PaymentDeclined; no answer raises PaymentTimedOut, leaving the payment PENDING (its outcome is
    settled by the saga's compensation, `payment_void_for_order`).
    """
    payment = _payment_for_order(order_id=order_id, customer_id=customer_id, amount=amount, payment_key=payment_key)
    if payment.status == PaymentStatus.APPROVED:
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise _declined(payment)
    pg = gateways.gateway(payment.provider)
    try:
        approved = pg.confirm(
            payment_key=payment.payment_key,
            order_id=str(order_id),
            amount=payment.amount,
            idempotency_key=payment.idempotency_key,
        )
    except gateways.GatewayDeclined as declined:
        _record(
            payment,
            PaymentEvent.Kind.DECLINED,
            detail={"code": declined.code, "message": declined.message},
            status=PaymentStatus.FAILED,
            failure_code=declined.code[:100],
            failure_message=declined.message[:500],
        )
        metrics.PAYMENT_DECLINES.labels(provider=payment.provider, code=declined.code).inc()
        raise _declined(payment) from None
    except gateways.GatewayOutcomeUnknown as unknown:
        _record(payment, PaymentEvent.Kind.TIMED_OUT, detail={"error": str(unknown)[:500]})
        metrics.PAYMENT_TIMEOUTS.labels(provider=payment.provider).inc()
        raise PaymentTimedOut() from None
    _record(
        payment,
        PaymentEvent.Kind.APPROVED,
        detail={"pg_status": approved.status},
        status=PaymentStatus.APPROVED,
        pg_transaction_id=approved.payment_key,
    )
    metrics.PAYMENT_APPROVALS.labels(provider=payment.provider).inc()
    return payment


def payment_confirm(*, customer_id: UUID, order_id: UUID, payment_key: str, amount: Decimal) -> Payment:
    """The two-step flow: the customer paid at the PG for their PENDING order; confirm it.

    The order's owner checks the amount against the order (a tampered amount is refused before the
    PG is called) and continues the order's placement, which takes the payment. Confirming again
    with the same paymentKey returns the same payment (or the same decline).
    """
    hooks.order_pay(customer_id=customer_id, order_id=order_id, payment_key=payment_key, amount=amount)
    payment = selectors.payment_latest_for_order(order_id=order_id)
    if payment is None or payment.payment_key != payment_key:
        raise OrderNotPayable(field="orderId")
    if payment.status == PaymentStatus.FAILED:
        raise _declined(payment) if payment.failure_code else PaymentTimedOut()
    return payment


def payment_refund(*, payment_id: UUID, by: Actor, note: str = "") -> Payment:
    """Staff: refund a payment by cancelling its order (the order's compensation refunds at the PG,
    puts the stock back and cancels the order)."""
    payment = selectors.payment_get(payment_id=payment_id)
    hooks.order_refund(order_id=payment.order_id, by=by, note=note)
    return selectors.payment_get(payment_id=payment_id)


def _was_approved(pg: gateways.PaymentGateway, payment: Payment) -> bool:
    """Whether a payment whose confirm got no answer was approved at the PG after all."""
    try:
        return pg.fetch(payment_key=payment.payment_key).status == "DONE"
    except gateways.GatewayDeclined as declined:
        if declined.code in gateways.NOT_APPROVED_CODES:
            return False
        raise RefundFailed(f"The PG could not tell the payment's state: {declined}") from None
    except gateways.GatewayOutcomeUnknown:
        raise RefundFailed() from None


def payment_void_for_order(*, order_id: UUID, reason: str) -> None:
    """Make sure no money stays taken for an order: refund approved payments, and settle those the
    PG never answered for (refunded if the PG approved them after all, FAILED otherwise).

    Idempotent (refunds carry their own stored-derived idempotency key). Raises RefundFailed when
    the PG does not complete it; the saga retries later.
    """
    for payment in Payment.objects.filter(
        order_id=order_id, status__in=[PaymentStatus.APPROVED, PaymentStatus.PENDING]
    ):
        pg = gateways.gateway(payment.provider)
        if payment.status == PaymentStatus.PENDING and not _was_approved(pg, payment):
            _record(payment, PaymentEvent.Kind.VOIDED, detail={"reason": reason}, status=PaymentStatus.FAILED)
            continue
        _record(payment, PaymentEvent.Kind.REFUND_REQUESTED, detail={"reason": reason})
        try:
            pg.cancel(
                payment_key=payment.payment_key,
                amount=payment.amount,
                reason=reason or "order cancelled",
                idempotency_key=gateways.idempotency_key(payment.idempotency_key, "cancel"),
            )
        except gateways.GatewayDeclined as declined:
            if declined.code != gateways.ALREADY_CANCELED:
                _record(payment, PaymentEvent.Kind.REFUND_FAILED, detail={"code": declined.code})
                raise RefundFailed(f"The PG refused the refund: {declined}") from None
        except gateways.GatewayOutcomeUnknown as unknown:
            _record(payment, PaymentEvent.Kind.REFUND_FAILED, detail={"error": str(unknown)[:500]})
            raise RefundFailed() from None
        _record(payment, PaymentEvent.Kind.REFUNDED, status=PaymentStatus.REFUNDED)
        metrics.PAYMENT_REFUNDS.labels(provider=payment.provider).inc()


# PG status -> (our status it may move from, our status it moves to)
_SYNC = {
    "DONE": (PaymentStatus.PENDING, PaymentStatus.APPROVED),
    "CANCELED": (PaymentStatus.APPROVED, PaymentStatus.REFUNDED),
    "ABORTED": (PaymentStatus.PENDING, PaymentStatus.FAILED),
    "EXPIRED": (PaymentStatus.PENDING, PaymentStatus.FAILED),
}


def webhook_process(*, provider: str, event_id: str, event_type: str, payload: dict) -> bool:
    """Handle a PG webhook once per PG event id; returns False for a delivery already processed.

    Toss signs no payment webhooks, so the body is only a hint: the payment's state is fetched
    from the PG itself before anything changes; then the payment's order hears of it.
    """
    try:
        with transaction.atomic():
            event, _ = WebhookEvent.objects.get_or_create(
                provider=provider,
                event_id=event_id,
                defaults={"event_type": event_type, "payload": payload},
            )
    except IntegrityError:  # the same delivery arrived twice at once
        event = WebhookEvent.objects.get(provider=provider, event_id=event_id)
    if event.processed_at is not None:
        return False
    payment_key = str((payload.get("data") or {}).get("paymentKey") or "")
    payment = Payment.objects.filter(provider=provider, payment_key=payment_key).order_by("-created_at").first()
    if payment is not None:
        try:
            verified = gateways.gateway(provider).fetch(payment_key=payment_key)
        except (gateways.GatewayDeclined, gateways.GatewayOutcomeUnknown) as error:
            raise WebhookInvalid(f"The PG did not confirm this payment: {error}") from None
        moves_from, moves_to = _SYNC.get(verified.status, (None, None))
        if payment.status == moves_from:
            _record(payment, PaymentEvent.Kind.SYNCED, detail={"pg_status": verified.status}, status=moves_to)
        hooks.order_payment_changed(order_id=payment.order_id, by=Actor.pg(provider))
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    return True
