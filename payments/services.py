"""Writes of the payments module: charging and refunding orders at the PG, and PG webhooks.

The module knows payments and PGs, not orders: the order saga (orders) calls `payment_take` and
`payment_void_for_order`, and what a confirm, a refund or a changed payment means for its order
is asked of the handlers orders registers (payments.hooks). Calls to the PG never happen inside
a database transaction: each payment row is written (and committed) before the call, with the
Idempotency-Key that every retry reuses, and the outcome is written after it.
"""

import hashlib
import time
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from c4ang.actors import Actor
from c4ang.db import save_fields
from payments import gateways, hooks, metrics, selectors
from payments.constants import PaymentStatus
from payments.errors import (
    OrderNotPayable,
    PaymentAttemptUnsettled,
    PaymentDeclined,
    PaymentTimedOut,
    RefundFailed,
    WebhookDeferred,
    WebhookInvalid,
)
from payments.models import Payment, PaymentEvent, WebhookEvent

# A webhook makes at most one verification call (GET the payment from the PG) per payment in each
# window of this many seconds; shorter than Toss's first resend (1 minute), so that a delivery
# deferred in one window is verified in the next.
WEBHOOK_VERIFY_WINDOW_S = 30


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


def _attempt(*, order_id: UUID, customer_id: UUID, amount: Decimal, payment_key: str) -> Payment:
    """The order's attempt with this paymentKey, created (with an idempotency key of its own) and
    committed before the PG is called; a repeat of the attempt reuses it as it is, key included."""
    payment = selectors.payment_attempt(order_id=order_id, payment_key=payment_key)
    if payment is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    idempotency_key=gateways.idempotency_key("c4ang", str(order_id), "confirm", payment_key),
                    order_id=order_id,
                    customer_id=customer_id,
                    amount=amount,
                    provider=settings.PAYMENT_GATEWAY,
                    payment_key=payment_key,
                )
                PaymentEvent.objects.create(payment=payment, kind=PaymentEvent.Kind.REQUESTED)
            return payment
        except IntegrityError:  # a concurrent first try of this attempt created it
            payment = Payment.objects.get(order_id=order_id, payment_key=payment_key)
    if payment.status == PaymentStatus.PENDING:
        _record(payment, PaymentEvent.Kind.REQUESTED, detail={"repeated": True})
    return payment


def payment_take(*, order_id: UUID, customer_id: UUID, amount: Decimal, payment_key: str) -> Payment:
    """Charge an order through the configured PG, exactly once.

    Each paymentKey the order is paid with is one attempt: a payment row with its own idempotency
    key, created (PENDING) and committed before the PG is called. Repeating an attempt (a retry,
    recovery after a crash) reuses its row and key, so it returns the approval or the decline the
    PG gave, never a second charge. A decline raises PaymentDeclined; no answer raises
    PaymentTimedOut and leaves the attempt PENDING (settled by the saga's compensation,
    `payment_void_for_order`, or before the order's next attempt).

    Never two approved payments for one order: an order already paid returns its payment, and an
    earlier attempt whose outcome is unknown is asked again with its own key before a new attempt
    is made. Approved after all, it is the order's payment and no new attempt is made; still
    unanswered, the new attempt is refused (PaymentAttemptUnsettled) and nothing is charged.
    """
    approved = selectors.payment_approved_for_order(order_id=order_id)
    if approved is not None:
        return approved
    for earlier in selectors.payment_attempts_unsettled(order_id=order_id).exclude(payment_key=payment_key):
        _record(earlier, PaymentEvent.Kind.REQUESTED, detail={"repeated": True, "settling": True})
        try:
            return _confirm_at_pg(earlier)
        except PaymentDeclined:
            continue
        except PaymentTimedOut:
            raise PaymentAttemptUnsettled() from None
    payment = _attempt(order_id=order_id, customer_id=customer_id, amount=amount, payment_key=payment_key)
    return _confirm_at_pg(payment)


def _confirm_at_pg(payment: Payment) -> Payment:
    """Confirm one attempt at its PG (a settled attempt answers as it was settled)."""
    if payment.status == PaymentStatus.APPROVED:
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise _declined(payment)
    pg = gateways.gateway(payment.provider)
    try:
        approved = pg.confirm(
            payment_key=payment.payment_key,
            order_id=str(payment.order_id),
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
    PG is called) and continues the order's placement, which takes the payment as an attempt of its
    own. A declined or unanswered attempt leaves the order PENDING, its stock held, for another
    attempt (another card) until it is paid or expires. Confirming again with the same paymentKey
    returns the same payment (or the same decline).
    """
    hooks.order_pay(customer_id=customer_id, order_id=order_id, payment_key=payment_key, amount=amount)
    payment = selectors.payment_attempt(order_id=order_id, payment_key=payment_key)
    if payment is None:  # this paymentKey was not tried: why not
        if selectors.payment_approved_for_order(order_id=order_id) is not None:
            raise OrderNotPayable("The order was paid by an earlier payment attempt.", field="orderId")
        if selectors.payment_attempts_unsettled(order_id=order_id).exists():
            raise PaymentAttemptUnsettled()
        raise OrderNotPayable(field="orderId")
    if payment.status == PaymentStatus.FAILED:
        raise _declined(payment) if payment.failure_code else PaymentTimedOut()
    if payment.status == PaymentStatus.PENDING:
        raise PaymentTimedOut()
    return payment


def payment_refund(*, payment_id: UUID, by: Actor, note: str = "") -> Payment:
    """Staff: refund a payment by cancelling its order (the order's compensation refunds at the PG,
    puts the stock back and cancels the order)."""
    payment = selectors.payment_get(payment_id=payment_id)
    hooks.order_refund(order_id=payment.order_id, by=by, note=note)
    return selectors.payment_get(payment_id=payment_id)


def _was_approved(pg: gateways.PaymentGateway, payment: Payment) -> bool:
    """Whether an attempt whose confirm got no answer was approved at the PG after all: the PG
    reports the paymentKey DONE for this order and amount. (DONE for another order is someone
    else's payment, whose key this attempt carried: it was never ours to refund.)"""
    try:
        reported = pg.fetch(payment_key=payment.payment_key)
        return (
            reported.status == "DONE"
            and reported.order_id == str(payment.order_id)
            and reported.amount == payment.amount
        )
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
        _refund(pg, payment, reason=reason or "order cancelled")


def _refund(pg: gateways.PaymentGateway, payment: Payment, *, reason: str) -> None:
    """Cancel the whole payment at the PG, with its own stored-derived idempotency key: REFUNDED."""
    _record(payment, PaymentEvent.Kind.REFUND_REQUESTED, detail={"reason": reason})
    try:
        pg.cancel(
            payment_key=payment.payment_key,
            amount=payment.amount,
            reason=reason,
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


def _clock() -> float:
    return time.time()


def _verified(*, provider: str, payment_key: str, claimed_status: str) -> gateways.PgPayment:
    """The payment as the PG reports it, asked at most once per payment in each fixed window of
    WEBHOOK_VERIFY_WINDOW_S seconds (the first delivery of the window asks).

    A later delivery in the window that claims the status the PG reported is processed from that
    answer. One that claims another status (a change the answer may predate), or arrives while the
    answer is awaited or after the PG did not give it, is deferred (WebhookDeferred): Toss resends
    it after a minute, in another window, where it is verified. An unreachable cache defers too:
    nothing is lost while Toss resends (for about four days), and the PG is not asked unbounded.
    """
    window = int(_clock() // WEBHOOK_VERIFY_WINDOW_S)
    digest = hashlib.sha256(payment_key.encode()).hexdigest()
    key = f"payments:webhook-verified:{provider}:{digest}:{window}"
    if cache.add(key, {}, timeout=2 * WEBHOOK_VERIFY_WINDOW_S):
        try:
            verified = gateways.gateway(provider).fetch(payment_key=payment_key)
        except (gateways.GatewayDeclined, gateways.GatewayOutcomeUnknown) as error:
            raise WebhookInvalid(f"The PG did not confirm this payment: {error}") from None
        answer = {"order_id": verified.order_id, "status": verified.status, "amount": str(verified.amount)}
        cache.set(key, answer, timeout=2 * WEBHOOK_VERIFY_WINDOW_S)
        return verified
    answer = cache.get(key)
    if not answer or answer["status"] != claimed_status:
        raise WebhookDeferred()
    return gateways.PgPayment(
        payment_key=payment_key, order_id=answer["order_id"], status=answer["status"], amount=Decimal(answer["amount"])
    )


def webhook_process(*, provider: str, event_id: str, event_type: str, payload: dict) -> bool:
    """Handle a PG webhook once per PG event id; returns False for a delivery already processed,
    and for a paymentKey that no attempt of ours carried (nothing is stored, the PG is not asked).

    Toss signs no payment webhooks, so the body is only a hint: the payment's state is fetched from
    the PG itself (at most once per payment in a short window: `_verified`) before anything
    changes. The paymentKey belongs to the attempt of the order the PG reports it paid, for the
    amount the PG reports: an attempt of another order that carried the same key (a refused confirm
    with someone else's paymentKey) is never taken for it. Then that order hears of it.
    """
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    payment_key = str(data.get("paymentKey") or "")
    if not selectors.payment_key_known(provider=provider, payment_key=payment_key):
        return False
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
    verified = _verified(provider=provider, payment_key=payment_key, claimed_status=str(data.get("status") or ""))
    payment = selectors.payment_for_pg_payment(provider=provider, payment_key=payment_key, order_id=verified.order_id)
    if payment is not None and payment.amount == verified.amount:
        moves_from, moves_to = _SYNC.get(verified.status, (None, None))
        if payment.status == moves_from:
            _record(payment, PaymentEvent.Kind.SYNCED, detail={"pg_status": verified.status}, status=moves_to)
        elif verified.status == "DONE" and payment.status == PaymentStatus.FAILED and not payment.failure_code:
            # An attempt settled as never approved (its confirm unanswered, the PG then knew of no
            # approval) that the PG approved later after all: the order does not use it.
            _record(payment, PaymentEvent.Kind.SYNCED, detail={"pg_status": verified.status, "late": True})
            _refund(gateways.gateway(provider), payment, reason="late approval of a settled payment attempt")
        hooks.order_payment_changed(order_id=payment.order_id, by=Actor.pg(provider))
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    return True
