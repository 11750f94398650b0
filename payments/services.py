"""Writes of the payments module: charging and refunding orders at the PG, and PG webhooks.

The module knows payments and PGs, not orders: the order saga (orders) calls `payment_take` (a
card, or whatever the customer paid with in the PG's widget), `payment_take_virtual_account` (a
virtual account the PG issues for a deposit) and `payment_void_for_order`, and what a confirm, a
refund, a deposit or a changed payment means for its order is asked of the handlers orders
registers (payments.hooks). Calls to the PG never happen inside a database transaction: each
payment row is written (and committed) before the call, with the Idempotency-Key that every retry
reuses, and the outcome is written after it.
"""

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from c4ang.actors import Actor
from c4ang.admin_display import krw
from c4ang.db import save_fields
from payments import gateways, hooks, metrics, selectors
from payments.constants import (
    PAID_STATUSES,
    VIRTUAL_ACCOUNT_CANCELLED,
    VIRTUAL_ACCOUNT_EXPIRED,
    VIRTUAL_ACCOUNT_ISSUED_AS,
    PaymentMethod,
    PaymentStatus,
    RefundReason,
    RefundStatus,
)
from payments.errors import (
    DepositRefused,
    OrderNotPayable,
    PaymentAttemptUnsettled,
    PaymentDeclined,
    PaymentNotRefundable,
    PaymentTimedOut,
    RefundAmountInvalid,
    RefundDeclined,
    RefundExceedsPaid,
    RefundFailed,
    RefundOperationReused,
    VirtualAccountNotFound,
    VirtualAccountNotWaiting,
    WebhookDeferred,
    WebhookInvalid,
)
from payments.models import Payment, PaymentEvent, Refund, WebhookEvent

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


def _move(payment: Payment, kind: str, *, from_status: str, detail: dict | None = None, **fields) -> bool:
    """Change a payment that is still `from_status`, and append its audit event, together; False
    (the payment re-read) when a concurrent change moved it first, which then stands."""
    with transaction.atomic():
        moved = Payment.objects.filter(pk=payment.pk, status=from_status).update(**fields, updated_at=timezone.now())
        if moved:
            PaymentEvent.objects.create(payment=payment, kind=kind, detail=detail or {})
    if not moved:
        payment.refresh_from_db()
        return False
    for name, value in fields.items():
        setattr(payment, name, value)
    return True


def _declined(payment: Payment) -> PaymentDeclined:
    """The 402 of a refused attempt; its `errors` entry carries the PG's own code and message."""
    return PaymentDeclined(
        gettext("The payment was declined: %(code)s: %(message)s")
        % {"code": payment.failure_code, "message": payment.failure_text},
        pg_code=payment.failure_code,
        errors=[{"field": None, "code": payment.failure_code, "message": payment.failure_text}],
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
    `payment_void_for_order`, or before the order's next attempt). A virtual account chosen in the
    PG's widget (Toss answers WAITING_FOR_DEPOSIT) is returned WAITING, with its account, never
    APPROVED: the order waits for its deposit, as for `payment_take_virtual_account`.

    Never two approved payments for one order: an order already paid returns its payment, and an
    earlier attempt whose outcome is unknown is asked again with its own key before a new attempt
    is made. Approved after all, it is the order's payment and no new attempt is made; still
    unanswered, the new attempt is refused (PaymentAttemptUnsettled) and nothing is charged. An
    account still waiting for its deposit is closed at the PG first (paid into, it is the payment).
    """
    approved = selectors.payment_approved_for_order(order_id=order_id)
    if approved is not None:
        return approved
    waiting = selectors.payment_waiting_for_order(order_id=order_id)
    if waiting is not None and waiting.payment_key != payment_key:
        # The customer chose a virtual account in the widget before and pays otherwise now: that
        # account is closed first (paid into meanwhile, it is the order's payment).
        try:
            if _settle(waiting, reason="another payment attempt", keep_deposit=True):
                return waiting
        except RefundFailed:
            raise PaymentAttemptUnsettled() from None
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
    if payment.status in (PaymentStatus.APPROVED, PaymentStatus.WAITING):
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise _declined(payment)
    pg = gateways.gateway(payment.provider)
    approved = _answer_of_pg(
        payment,
        lambda: pg.confirm(
            payment_key=payment.payment_key,
            order_id=str(payment.order_id),
            amount=payment.amount,
            idempotency_key=payment.idempotency_key,
        ),
    )
    if approved.status == gateways.WAITING_FOR_DEPOSIT:
        # A virtual account chosen in the widget: issued, not paid. The order waits for its deposit.
        _record(
            payment,
            PaymentEvent.Kind.ISSUED,
            detail={"pg_status": approved.status},
            status=PaymentStatus.WAITING,
            method=PaymentMethod.VIRTUAL_ACCOUNT,
            **_account_fields(approved),
        )
        return payment
    _record(
        payment,
        PaymentEvent.Kind.APPROVED,
        detail={"pg_status": approved.status},
        status=PaymentStatus.APPROVED,
        pg_transaction_id=approved.payment_key,
    )
    metrics.PAYMENT_APPROVALS.labels(provider=payment.provider).inc()
    return payment


def _answer_of_pg(payment: Payment, call: Callable[[], gateways.PgPayment]) -> gateways.PgPayment:
    """The PG's answer to one attempt's call (a confirm, an account's issue). A refusal makes the
    attempt FAILED with the PG's code (PaymentDeclined); no answer leaves it PENDING, to be asked
    again with its own key (PaymentTimedOut)."""
    try:
        return call()
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


def _account_fields(issued: gateways.PgPayment) -> dict:
    """What a payment keeps of the virtual account the PG issued."""
    fields = {"payment_key": issued.payment_key, "pg_transaction_id": issued.payment_key, "secret": issued.secret[:200]}
    if account := issued.virtual_account:
        fields.update(
            bank=account.bank[:3],
            account_number=account.account_number[:30],
            holder_name=account.holder_name[:100],
            due_at=account.due_at,
        )
    return fields


# --- virtual accounts ------------------------------------------------------------------------------


def payment_take_virtual_account(
    *,
    order_id: UUID,
    customer_id: UUID,
    amount: Decimal,
    order_name: str,
    customer_name: str,
    bank: str,
    due_at: datetime,
    sandbox_token: str | None = None,
) -> Payment:
    """Have the PG issue a virtual account (가상계좌) for the order, to be paid into by `due_at`.

    Returns the order's APPROVED payment if it has one; else its virtual account, issued once:
    the order has one issue attempt, a payment row with its own idempotency key created (PENDING)
    and committed before the PG is called, and every repeat (the saga's retries and recovery) is
    answered from that row, or asks the PG again with the same key. The result is WAITING (the
    order waits for the deposit, which the PG's deposit callback reports) or APPROVED (the fake's
    `tok_va_deposit_now`). A PG refusal raises PaymentDeclined; no answer raises PaymentTimedOut
    and leaves the attempt PENDING (asked again on a repeat; `payment_void_for_order` settles it).
    `bank` is a Toss bank code (payments.constants.Bank); `sandbox_token` picks the fake PG's
    scenario (gateways), and is ignored by Toss.
    """
    approved = selectors.payment_approved_for_order(order_id=order_id)
    if approved is not None:
        return approved
    request = {
        "order_name": order_name,
        "customer_name": customer_name,
        "bank": bank,
        "due_at": due_at.isoformat(),
        "sandbox_token": sandbox_token,
    }
    payment = _virtual_account_attempt(order_id=order_id, customer_id=customer_id, amount=amount, request=request)
    return _issue_at_pg(payment)


def _virtual_account_attempt(*, order_id: UUID, customer_id: UUID, amount: Decimal, request: dict) -> Payment:
    """The order's one virtual account attempt, created with the issue request (replayed as it was
    on every repeat) and committed before the PG is called."""
    key = gateways.idempotency_key("c4ang", str(order_id), "virtual-account")
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
                    method=PaymentMethod.VIRTUAL_ACCOUNT,
                    bank=request["bank"],
                    holder_name=request["customer_name"][:100],
                )
                PaymentEvent.objects.create(
                    payment=payment, kind=PaymentEvent.Kind.REQUESTED, detail={"request": request}
                )
            return payment
        except IntegrityError:  # a concurrent first try of this attempt created it
            payment = Payment.objects.get(idempotency_key=key)
    if payment.status == PaymentStatus.PENDING:
        _record(payment, PaymentEvent.Kind.REQUESTED, detail={"repeated": True})
    return payment


def _issue(pg: gateways.PaymentGateway, payment: Payment) -> gateways.PgPayment:
    """Ask the PG to issue the attempt's account, with the attempt's stored request and key: a
    repeat is answered with the account issued the first time, never a second account."""
    requested = payment.events.filter(kind=PaymentEvent.Kind.REQUESTED).order_by("id").first()
    request = requested.detail["request"]
    return pg.issue_virtual_account(
        order_id=str(payment.order_id),
        amount=payment.amount,
        order_name=request["order_name"],
        customer_name=request["customer_name"],
        bank=request["bank"],
        due_at=datetime.fromisoformat(request["due_at"]),
        idempotency_key=payment.idempotency_key,
        sandbox_token=request["sandbox_token"],
    )


def _issue_at_pg(payment: Payment) -> Payment:
    """Issue one attempt's account at its PG (a settled attempt answers as it was settled)."""
    if payment.status in (PaymentStatus.APPROVED, PaymentStatus.WAITING):
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise _declined(payment)
    issued = _answer_of_pg(payment, lambda: _issue(gateways.gateway(payment.provider), payment))
    if issued.status == gateways.WAITING_FOR_DEPOSIT:
        _record(
            payment,
            PaymentEvent.Kind.ISSUED,
            detail={"pg_status": issued.status},
            status=PaymentStatus.WAITING,
            **_account_fields(issued),
        )
    elif issued.status == "DONE":  # deposited at once (the fake's tok_va_deposit_now)
        _record(
            payment,
            PaymentEvent.Kind.DEPOSITED,
            detail={"pg_status": issued.status},
            status=PaymentStatus.APPROVED,
            **_account_fields(issued),
        )
        metrics.PAYMENT_APPROVALS.labels(provider=payment.provider).inc()
    else:
        # No account open for a deposit (an issue answered EXPIRED, say): nothing to wait for.
        code = f"{VIRTUAL_ACCOUNT_ISSUED_AS}{issued.status}"[:100]
        _record(
            payment,
            PaymentEvent.Kind.DECLINED,
            detail={"pg_status": issued.status},
            status=PaymentStatus.FAILED,
            failure_code=code,
            **_account_fields(issued),
        )
        raise _declined(payment)
    return payment


def payment_fake_deposit(*, order: str) -> Payment:
    """The fake PG only, outside production: the customer pays into the order's virtual account
    (`order`: its order number or id), and the fake's deposit callback is processed as Toss's is
    (the order then goes on to PAID, or the deposit is refunded if the order was cancelled).
    Raises VirtualAccountNotFound, VirtualAccountNotWaiting or DepositRefused (`tok_va_never`)."""
    if settings.PRODUCTION:
        raise DepositRefused(gettext("Fake deposits are for development and tests; never with C4ANG_ENV=production."))
    order_id = _order_id(order)
    payment = selectors.virtual_account_latest(order_id=order_id) if order_id else None
    if payment is None or payment.provider != gateways.FakeGateway.name:
        raise VirtualAccountNotFound(gettext("The order has no virtual account of the fake PG."), field="order")
    if payment.status != PaymentStatus.WAITING:
        raise VirtualAccountNotWaiting(
            gettext("The order's virtual account is %(status)s.") % {"status": payment.status}, field="order"
        )
    fake = gateways.FakeGateway()
    # A deposit the fake took before, whose callback was not processed through, is delivered again.
    if fake.fetch(payment_key=payment.payment_key).status != "DONE":
        try:
            fake.deposit(payment_key=payment.payment_key)
        except gateways.GatewayDeclined as refused:
            raise DepositRefused(refused.message, field="order") from None
    webhook_deposit_process(
        provider=fake.name,
        payload={
            "createdAt": timezone.localtime().replace(tzinfo=None).isoformat(timespec="microseconds"),
            "secret": fake.secret_of(payment.payment_key),
            "status": "DONE",
            "transactionKey": f"fake_tx_{payment.pk.hex}",
            "orderId": str(payment.order_id),
        },
    )
    return selectors.payment_get(payment_id=payment.pk)


def _order_id(reference: str) -> UUID | None:
    try:
        return UUID(reference)
    except ValueError:
        pass
    try:
        return hooks.order_id_for_number(order_number=reference)
    except LookupError as unavailable:
        raise VirtualAccountNotFound(str(unavailable), field="order") from None


def payment_confirm(*, customer_id: UUID, order_id: UUID, payment_key: str, amount: Decimal) -> Payment:
    """The two-step flow: the customer paid at the PG for their PENDING order; confirm it.

    The order's owner checks the amount against the order (a tampered amount is refused before the
    PG is called) and continues the order's placement, which takes the payment as an attempt of its
    own. A declined or unanswered attempt leaves the order PENDING, its stock held, for another
    attempt (another card) until it is paid or expires. Confirming again with the same paymentKey
    returns the same payment (or the same decline).

    Confirming again after no answer (PaymentTimedOut) answers what became of the attempt: while the
    order waits, its placement asks the PG again with the attempt's own key (approved: the payment;
    refused: the decline; still no answer: PaymentTimedOut). Once the order no longer waits for it
    (cancelled or expired, or paid otherwise) nobody else asks now: the attempt is settled here by
    what the PG reports, as the order's cancellation settles it (money taken is refunded), never
    confirmed. An attempt settled as never approved is OrderNotPayable: nothing was charged.
    """
    attempt = selectors.payment_attempt(order_id=order_id, payment_key=payment_key)
    last_event = selectors.payment_event_last_id(payment_id=attempt.pk) if attempt else None
    hooks.order_pay(customer_id=customer_id, order_id=order_id, payment_key=payment_key, amount=amount)
    payment = selectors.payment_attempt(order_id=order_id, payment_key=payment_key)
    if payment is None:  # this paymentKey was not tried: why not
        if selectors.payment_approved_for_order(order_id=order_id) is not None:
            raise OrderNotPayable(gettext("The order was paid by an earlier payment attempt."), field="orderId")
        if selectors.payment_attempts_unsettled(order_id=order_id).exists():
            raise PaymentAttemptUnsettled()
        raise OrderNotPayable(field="orderId")
    asked = selectors.payment_event_last_id(payment_id=payment.pk) != last_event
    if payment.status == PaymentStatus.PENDING and not asked:
        try:
            _settle(payment, reason="the order no longer waits for this payment", keep_deposit=False)
        except RefundFailed:  # the PG could not tell, or its refund is under way: still not known
            raise PaymentTimedOut() from None
        payment.refresh_from_db()
    if payment.status == PaymentStatus.FAILED and not payment.failure_code:
        raise OrderNotPayable(
            gettext("This payment attempt was never approved (nothing was charged): the order is not waiting for it."),
            field="paymentKey",
        )
    if payment.status == PaymentStatus.FAILED:
        raise _declined(payment)
    if payment.status == PaymentStatus.PENDING:
        raise PaymentTimedOut()
    return payment


def payment_refund(*, payment_id: UUID, by: Actor, note: str = "") -> Payment:
    """Staff: refund a payment by cancelling its order (the order's compensation refunds at the PG,
    puts the stock back and cancels the order)."""
    payment = selectors.payment_get(payment_id=payment_id)
    hooks.order_refund(order_id=payment.order_id, by=by, note=note)
    return selectors.payment_get(payment_id=payment_id)


def payment_void_for_order(*, order_id: UUID, reason: str) -> None:
    """Make sure no money stays taken for an order: refund what is left of approved payments (a
    refund row each, reason cancellation: after partial refunds, exactly the balance), close virtual
    accounts still open for a deposit (so that none can land afterwards; one paid into meanwhile
    is refunded), and settle attempts the PG never answered for (refunded if the PG took the money
    after all, an account it issued after all is closed, FAILED otherwise).

    Idempotent (the PG calls carry their own stored-derived idempotency keys). Raises RefundFailed
    when the PG does not complete it; the saga retries later.
    """
    for payment in Payment.objects.filter(
        order_id=order_id, status__in=[*PAID_STATUSES, PaymentStatus.PENDING, PaymentStatus.WAITING]
    ):
        if payment.status in PAID_STATUSES:
            _refund(gateways.gateway(payment.provider), payment, reason=reason or "order cancelled")
        else:
            _settle(payment, reason=reason or "order cancelled", keep_deposit=False)


def _reported(pg: gateways.PaymentGateway, payment: Payment) -> gateways.PgPayment | None:
    """The attempt as the PG reports it now, or None where the PG took nothing for this order and
    amount (unknown to it, or its paymentKey DONE for another order: someone else's payment, whose
    key this attempt carried, never ours to refund). Raises RefundFailed when the PG cannot tell."""
    # A virtual account whose issue went unanswered has no paymentKey yet: its issue is asked again,
    # with its own key, and the PG answers with the account it issued (a refusal: it issued none).
    try:
        reported = pg.fetch(payment_key=payment.payment_key) if payment.payment_key else _issue(pg, payment)
    except gateways.GatewayDeclined as declined:
        if not payment.payment_key or declined.code in gateways.NOT_APPROVED_CODES:
            return None
        raise RefundFailed(
            gettext("The PG could not tell the payment's state: %(error)s") % {"error": declined}
        ) from None
    except gateways.GatewayOutcomeUnknown:
        raise RefundFailed() from None
    if reported.order_id != str(payment.order_id) or reported.amount != payment.amount:
        return None
    if not payment.payment_key:
        save_fields(payment, **_account_fields(reported))
    return reported


def _settle(payment: Payment, *, reason: str, keep_deposit: bool) -> bool:
    """Settle an attempt whose money is not final (PENDING: unanswered; WAITING: an account open
    for its deposit) by what the PG reports: taken -> refunded, or kept as the order's payment
    when `keep_deposit` (True is returned); an account still open -> closed; else FAILED."""
    pg = gateways.gateway(payment.provider)
    reported = _reported(pg, payment)
    status = reported.status if reported is not None else None
    if status == "DONE":
        if keep_deposit:
            return _move(
                payment,
                PaymentEvent.Kind.DEPOSITED,
                from_status=payment.status,
                detail={"pg_status": status},
                status=PaymentStatus.APPROVED,
            )
        _record(payment, PaymentEvent.Kind.SYNCED, detail={"pg_status": status, "late": True})
        _refund(pg, payment, reason=reason)
    elif status == gateways.WAITING_FOR_DEPOSIT:
        _close_account(pg, payment, reason=reason)
    else:
        expired = status == "EXPIRED" and payment.method == PaymentMethod.VIRTUAL_ACCOUNT
        _move(
            payment,
            PaymentEvent.Kind.VOIDED,
            from_status=payment.status,
            detail={"reason": reason, "pg_status": status},
            status=PaymentStatus.FAILED,
            **({"failure_code": VIRTUAL_ACCOUNT_EXPIRED} if expired else {}),
        )
    return False


def _close_account(pg: gateways.PaymentGateway, payment: Payment, *, reason: str) -> None:
    """Cancel a virtual account nobody paid into at the PG, so that no deposit can land: FAILED.
    (A deposit landing just before is given back by the same cancel.)"""
    try:
        pg.cancel(
            payment_key=payment.payment_key,
            amount=payment.amount,
            reason=reason,
            idempotency_key=gateways.idempotency_key(payment.idempotency_key, "close"),
        )
    except gateways.GatewayDeclined as declined:
        if declined.code != gateways.ALREADY_CANCELED:
            _record(payment, PaymentEvent.Kind.REFUND_FAILED, detail={"code": declined.code, "closing": True})
            raise RefundFailed(
                gettext("The PG refused to close the virtual account: %(error)s") % {"error": declined}
            ) from None
    except gateways.GatewayOutcomeUnknown as unknown:
        _record(payment, PaymentEvent.Kind.REFUND_FAILED, detail={"error": str(unknown)[:500], "closing": True})
        raise RefundFailed() from None
    _move(
        payment,
        PaymentEvent.Kind.VOIDED,
        from_status=payment.status,
        detail={"reason": reason, "pg_status": "CANCELED"},
        status=PaymentStatus.FAILED,
        failure_code=VIRTUAL_ACCOUNT_CANCELLED,
    )


def _refund(pg: gateways.PaymentGateway, payment: Payment, *, reason: str) -> None:
    """The payment's cancellation: what is left of it (its amount less its refunds) refunded as
    one refund row, with its own stored Idempotency-Key (`<payment key>:cancel`): REFUNDED.

    Refunds still unanswered are settled first (asked again), so that the cancellation refunds
    exactly what is left; raises RefundFailed while one stays unanswered, or the cancellation's own
    call goes unanswered (the saga retries), RefundDeclined when the PG refuses it."""
    for pending in selectors.refunds_pending_for_payment(payment_id=payment.pk):
        if pending.operation != _cancellation(payment) and _ask_again(pending).status == RefundStatus.PENDING:
            raise RefundFailed(
                gettext("An earlier refund of this payment has no answer from the PG yet; it is asked again.")
            )
    refund = selectors.refund_live_for_operation(operation=_cancellation(payment))
    if refund is None:
        try:
            refund = _reserve(
                payment,
                amount=None,
                reason=RefundReason.CANCELLATION if payment.status in PAID_STATUSES else RefundReason.LATE_PAYMENT,
                note=reason,
                operation=_cancellation(payment),
                by=Actor.system("order_cancellation"),
            )
        except IntegrityError:  # a concurrent cancellation (the compensation, a webhook) made it first
            raise RefundFailed(gettext("The payment's cancellation is under way; it is asked again.")) from None
        if refund is None:  # refunds took all of it back already
            return
        refund = _raise_if_failed(_ask(pg, refund))
    elif refund.status == RefundStatus.PENDING:
        refund = _raise_if_failed(_ask_again(refund))
    if refund.status == RefundStatus.PENDING:
        raise RefundFailed()


def _cancellation(payment: Payment) -> str:
    return f"cancellation:{payment.pk}"


# --- refunds --------------------------------------------------------------------------------------


def payment_refund_amount(
    *,
    order_id: UUID,
    amount: Decimal,
    reason: str,
    by: Actor,
    operation: str,
    note: str = "",
    refund_account: gateways.RefundAccount | None = None,
) -> Refund:
    """Give `amount` won of the order's paid payment back through the PG's partial cancel, as a
    refund row (`reason`: a RefundReason; `operation`: the business operation it refunds, e.g.
    `partial-cancel:<uuid>` or `return:<id>`).

    The never-exceed rule: the amount is reserved on the payment by one conditional UPDATE
    (refunded_amount + amount <= amount, the payment APPROVED or PARTIALLY_REFUNDED) in the
    transaction that creates the PENDING row and its Idempotency-Key, committed before the PG is
    called; nothing left for it raises RefundExceedsPaid (409) and changes nothing.

    Returns the row: SUCCEEDED (the payment PARTIALLY_REFUNDED, or REFUNDED once nothing is left;
    the order hears of it through the `refunded` hook), or PENDING when the PG did not answer:
    recovery (`refund_recover`) asks again with the same key. The PG refusing it raises
    RefundDeclined (409, its code): the row is FAILED and the amount free again.

    The same operation again returns its row (asked again at the PG if still PENDING and no one
    asked within REFUND_RETRY_SECONDS), never a second refund; with another amount it raises
    RefundOperationReused. After a refusal (FAILED) the operation may be asked again: a new row
    with a key of its own. `refund_account`: where a deposited virtual account's money goes
    (Toss's refundReceiveAccount); without it the cancel is sent without one.

    Other refusals, before anything changes: a non-positive or fractional amount
    (RefundAmountInvalid, 400), an order never paid (PaymentNotRefundable, 409; refunded in full:
    RefundExceedsPaid).
    """
    amount = _refundable_amount(amount)
    reason = RefundReason(reason)
    refund = selectors.refund_live_for_operation(operation=operation)
    if refund is None:
        payment = _payment_to_refund(order_id=order_id)
        try:
            refund = _reserve(
                payment,
                amount=amount,
                reason=reason,
                note=note,
                operation=operation,
                by=by,
                refund_account=refund_account,
            )
        except IntegrityError:  # the same operation, asked concurrently, took it first
            refund = selectors.refund_live_for_operation(operation=operation)
            if refund is None:
                raise
        else:
            return _raise_if_failed(_ask(gateways.gateway(payment.provider), refund))
    if refund.order_id != order_id or refund.amount != amount:
        raise RefundOperationReused(
            gettext("The operation %(operation)s refunded %(amount)s of another order or amount.")
            % {"operation": operation, "amount": krw(refund.amount)},
            field="operation",
        )
    if refund.status == RefundStatus.PENDING:
        refund = _ask_again(refund)
    return refund


def payment_refund_reserve(
    *, order_id: UUID, amount: Decimal, reason: str, by: Actor, operation: str, note: str = ""
) -> Refund:
    """Reserve a refund in the caller's transaction, to be sent after it commits: the PENDING row
    (and the amount held on the payment) commits together with the caller's change, or not at all.

    The row is due at once: `payment_refund_amount` with the same operation sends it after the
    commit, and if the caller dies first, recovery (`refund_recover`) sends it. Refusals as
    `payment_refund_amount`'s, raised inside the caller's transaction (which then changes nothing).
    """
    payment = _payment_to_refund(order_id=order_id)
    return _reserve(
        payment,
        amount=_refundable_amount(amount),
        reason=RefundReason(reason),
        note=note,
        operation=operation,
        by=by,
        asks_now=False,
    )


def _refundable_amount(amount: Decimal) -> Decimal:
    amount = Decimal(amount)
    if not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
        raise RefundAmountInvalid(field="amount")
    return amount


def _payment_to_refund(*, order_id: UUID) -> Payment:
    payment = selectors.payment_paid_for_order(order_id=order_id)
    if payment is None and selectors.payment_refunded_exists(order_id=order_id):
        raise RefundExceedsPaid(gettext("The order's payment was refunded in full: nothing is left."), field="amount")
    if payment is None:
        raise PaymentNotRefundable(gettext("The order has no approved payment to refund."), field="order_id")
    return payment


def _raise_if_failed(refund: Refund) -> Refund:
    if refund.status == RefundStatus.FAILED:
        raise RefundDeclined(
            gettext("The PG refused the refund: %(code)s: %(message)s")
            % {"code": refund.failure_code, "message": refund.failure_message},
            pg_code=refund.failure_code,
            errors=[{"field": None, "code": refund.failure_code, "message": refund.failure_message}],
        )
    return refund


def _refund_key(payment: Payment, operation: str) -> str:
    """The refund's Idempotency-Key: one per try of the operation (a refused try moved nothing)."""
    tries = selectors.refunds_for_operation(operation=operation).count()
    base = (
        gateways.idempotency_key(payment.idempotency_key, "cancel")
        if operation == _cancellation(payment)
        else gateways.idempotency_key("c4ang", "refund", operation)
    )
    return base if tries == 0 else gateways.idempotency_key(base, str(tries + 1))


def _reserve(
    payment: Payment,
    *,
    amount: Decimal | None,
    reason: str,
    note: str,
    operation: str,
    by: Actor,
    refund_account: gateways.RefundAccount | None = None,
    asks_now: bool = True,
) -> Refund | None:
    """Reserve `amount` (None: all that is left, for the cancellation) on the payment and create its
    PENDING refund row with its Idempotency-Key, in one transaction committed before the PG is
    called. RefundExceedsPaid when not that much is left (nothing changed); None when nothing is
    left for a cancellation. `asks_now`: the caller asks the PG next (it holds the lease); else
    the row is due at once, for whoever sends it first."""
    now = timezone.now()
    # The cancellation takes back money of an attempt the PG took after all (PENDING, WAITING,
    # FAILED): the PG holds it, whatever our status says.
    statuses = PAID_STATUSES if amount is not None else (payment.status, *PAID_STATUSES)
    with transaction.atomic():
        if amount is None:
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            amount = locked.amount - locked.refunded_amount
            if amount <= 0 or locked.status not in statuses:
                return None
        reserved = Payment.objects.filter(
            pk=payment.pk, status__in=statuses, refunded_amount__lte=F("amount") - amount
        ).update(refunded_amount=F("refunded_amount") + amount, updated_at=now)
        if not reserved:
            left = Payment.objects.filter(pk=payment.pk).values_list("amount", "refunded_amount").get()
            raise RefundExceedsPaid(
                gettext("%(amount)s is more than the %(left)s left to refund of this payment.")
                % {"amount": krw(amount), "left": krw(left[0] - left[1])},
                field="amount",
            )
        refund = Refund.objects.create(
            payment=payment,
            order_id=payment.order_id,
            amount=amount,
            reason=reason,
            note=note[:200],
            operation=operation,
            idempotency_key=_refund_key(payment, operation),
            requested_by=str(by)[:200],
            refund_bank=refund_account.bank if refund_account else "",
            refund_account_number=refund_account.account_number if refund_account else "",
            refund_holder_name=refund_account.holder_name if refund_account else "",
            attempts=1 if asks_now else 0,
            # This caller asks now; recovery asks again only after the delay (the lease of one asker).
            retry_at=now + timedelta(seconds=settings.REFUND_RETRY_SECONDS) if asks_now else now,
        )
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEvent.Kind.REFUND_REQUESTED,
            detail={"refund_id": str(refund.pk), "amount": str(amount), "reason": note or reason},
        )
    refund.payment = payment
    return refund


def _pg_reason(refund: Refund) -> str:
    """The cancelReason the PG keeps: derived from the row, so that every retry sends the same body."""
    if refund.reason in (RefundReason.CANCELLATION, RefundReason.LATE_PAYMENT):
        return refund.note or refund.reason
    return f"{refund.reason}: {refund.note}" if refund.note else refund.reason


def _ask(pg: gateways.PaymentGateway, refund: Refund) -> Refund:
    """Call the PG for a PENDING refund (this caller holds its lease) and record what it answered."""
    payment = refund.payment
    account = (
        gateways.RefundAccount(
            bank=refund.refund_bank, account_number=refund.refund_account_number, holder_name=refund.refund_holder_name
        )
        if refund.refund_account_number
        else None
    )
    try:
        answer = pg.cancel(
            payment_key=payment.payment_key,
            amount=refund.amount,
            reason=_pg_reason(refund),
            idempotency_key=refund.idempotency_key,
            refund_account=account,
        )
    except gateways.GatewayDeclined as declined:
        if declined.code == gateways.ALREADY_CANCELED:
            # Nothing is left at the PG to take back: the money is back with the customer.
            return _refund_succeeded(refund, transaction_key="", detail={"pg_code": declined.code})
        return _refund_failed(refund, code=declined.code, message=declined.message)
    except gateways.GatewayOutcomeUnknown as unknown:
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEvent.Kind.REFUND_FAILED,
            detail={"refund_id": str(refund.pk), "error": str(unknown)[:500]},
        )
        metrics.REFUNDS.labels(reason=refund.reason, outcome="pending").inc()
        return refund
    return _refund_succeeded(refund, transaction_key=_transaction_key_of(answer, refund))


def _transaction_key_of(answer: gateways.PgPayment, refund: Refund) -> str:
    """This refund's cancel in the PG's answer: the newest (a repeat gets the first answer again)."""
    cancels = [cancel for cancel in answer.cancels if cancel.amount == refund.amount] or list(answer.cancels)
    return cancels[-1].transaction_key[:200] if cancels else ""


def _ask_again(refund: Refund) -> Refund:
    """Ask the PG again about a PENDING refund, with its own key, when no one asked within
    REFUND_RETRY_SECONDS (taking that lease with a conditional update); else leave it as it is."""
    now = timezone.now()
    claimed = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING, retry_at__lte=now).update(
        retry_at=now + timedelta(seconds=settings.REFUND_RETRY_SECONDS), attempts=F("attempts") + 1, updated_at=now
    )
    refund = Refund.objects.select_related("payment").get(pk=refund.pk)
    if not claimed:
        return refund
    return _ask(gateways.gateway(refund.payment.provider), refund)


def _refund_succeeded(refund: Refund, *, transaction_key: str, detail: dict | None = None) -> Refund:
    """SUCCEEDED, and the payment's status from its refunds: REFUNDED once nothing is left."""
    with transaction.atomic():
        # The payment's row first, as every refund write takes them (a reservation, then its row).
        Payment.objects.select_for_update().filter(pk=refund.payment_id).first()
        moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.SUCCEEDED, pg_transaction_key=transaction_key, retry_at=None, updated_at=timezone.now()
        )
        if moved:
            _payment_status_from_refunds(refund.payment_id)
            PaymentEvent.objects.create(
                payment_id=refund.payment_id,
                kind=PaymentEvent.Kind.REFUNDED,
                detail={"refund_id": str(refund.pk), "amount": str(refund.amount), **(detail or {})},
            )
    refund = Refund.objects.select_related("payment").get(pk=refund.pk)
    if moved:
        _refunded(refund)
    return refund


def _refunded(refund: Refund) -> None:
    """After a refund succeeded (committed): counted, and its order told."""
    metrics.REFUNDS.labels(reason=refund.reason, outcome="succeeded").inc()
    metrics.REFUNDED_WON.labels(reason=refund.reason, outcome="succeeded").inc(float(refund.amount))
    if refund.payment.status == PaymentStatus.REFUNDED:
        metrics.PAYMENT_REFUNDS.labels(provider=refund.payment.provider).inc()
    hooks.order_refunded(order_id=refund.order_id)


def _payment_status_from_refunds(payment_id: UUID) -> None:
    """Under the payment's row lock, after a refund settled: REFUNDED when its succeeded refunds add
    up to its amount, PARTIALLY_REFUNDED while some is left of a paid payment. Saved in one update
    with `updated_at` even when the status stays: the payment shows its refunds, and a poller
    (?updated_since=) sees this one settle. (A second update of the row in the transaction made
    PostgreSQL check its order's foreign key at commit, under this lock: a deadlock with a partial
    cancel holding the order's.)"""
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    refunded = selectors.refunded_total_for_payment(payment_id=payment_id)
    status = payment.status
    if refunded >= payment.amount:
        status = PaymentStatus.REFUNDED
    elif refunded > 0 and payment.status in PAID_STATUSES:
        status = PaymentStatus.PARTIALLY_REFUNDED
    save_fields(payment, status=status)


def _refund_failed(refund: Refund, *, code: str, message: str) -> Refund:
    """The PG refused: FAILED, and its amount is no longer reserved on the payment."""
    with transaction.atomic():
        Payment.objects.select_for_update().filter(pk=refund.payment_id).first()  # the payment's row first
        moved = Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED,
            failure_code=code[:100],
            failure_message=message[:500],
            retry_at=None,
            updated_at=timezone.now(),
        )
        if moved:
            Payment.objects.filter(pk=refund.payment_id).update(
                refunded_amount=F("refunded_amount") - refund.amount, updated_at=timezone.now()
            )
            PaymentEvent.objects.create(
                payment_id=refund.payment_id,
                kind=PaymentEvent.Kind.REFUND_FAILED,
                detail={"refund_id": str(refund.pk), "code": code},
            )
    if moved:
        metrics.REFUNDS.labels(reason=refund.reason, outcome="failed").inc()
    return Refund.objects.select_related("payment").get(pk=refund.pk)


def refund_recover(*, now: datetime | None = None, limit: int = 100) -> int:
    """Ask the PG again about refunds it did not answer (PENDING past their retry time), each with
    its own Idempotency-Key, taking each one's lease first (so that concurrent runs, and a caller
    repeating the operation, ask once). A repeat that finds the cancel made (Toss replays its
    first answer; ALREADY_CANCELED) settles it SUCCEEDED; a refusal FAILED. Returns how many were settled."""
    now = now or timezone.now()
    due = list(
        Refund.objects.filter(status=RefundStatus.PENDING, retry_at__lte=now)
        .order_by("retry_at")
        .values_list("pk", flat=True)[:limit]
    )
    settled = 0
    for refund_id in due:
        claimed = Refund.objects.filter(pk=refund_id, status=RefundStatus.PENDING, retry_at__lte=now).update(
            retry_at=timezone.now() + timedelta(seconds=settings.REFUND_RETRY_SECONDS),
            attempts=F("attempts") + 1,
            updated_at=timezone.now(),
        )
        if not claimed:
            continue  # another run (or the operation's caller) is asking
        refund = Refund.objects.select_related("payment").get(pk=refund_id)
        if _ask(gateways.gateway(refund.payment.provider), refund).status != RefundStatus.PENDING:
            settled += 1
    return settled


def payment_goodwill_refund(
    *,
    payment_id: UUID,
    amount: Decimal,
    by: Actor,
    idempotency_key: str,
    note: str = "",
    refund_account: gateways.RefundAccount | None = None,
) -> Refund:
    """Staff give part of a payment back (goodwill), whatever its order's state; the request's
    Idempotency-Key names the operation (a repeat returns its refund). See payment_refund_amount."""
    payment = selectors.payment_get(payment_id=payment_id)
    if payment.status not in PAID_STATUSES:
        raise PaymentNotRefundable(
            gettext("The payment is %(status)s: nothing was paid to refund.") % {"status": payment.status},
            field="payment_id",
        )
    return payment_refund_amount(
        order_id=payment.order_id,
        amount=amount,
        reason=RefundReason.GOODWILL,
        by=by,
        operation=f"goodwill:{payment.pk}:{idempotency_key}",
        note=note,
        refund_account=refund_account,
    )


def _record_pg_balance_cancelled(payment: Payment) -> None:
    """The PG reports the payment CANCELED without its cancels: what is left is recorded refunded."""
    payment.refresh_from_db()
    balance = payment.amount - payment.refunded_amount
    if balance > 0 and not selectors.refunds_pending_for_payment(payment_id=payment.pk).exists():
        _record_pg_cancels(
            payment,
            gateways.PgPayment(
                payment_key=payment.payment_key,
                order_id=str(payment.order_id),
                status="CANCELED",
                amount=payment.amount,
                cancels=(gateways.PgCancel(transaction_key=f"{payment.payment_key}:balance", amount=balance),),
            ),
        )


def _record_pg_cancels(payment: Payment, verified: gateways.PgPayment) -> None:
    """Cancels the PG reports of a payment that no refund of ours made (its dashboard) become
    SUCCEEDED refund rows (reason pg_dashboard), by their transactionKey, once each. A cancel that
    may be our own refund still unanswered is not told apart from one made elsewhere: the delivery is
    deferred (Toss resends it), by when recovery has settled ours."""
    known = set(selectors.refund_transaction_keys(payment_id=payment.pk))
    unknown = [cancel for cancel in verified.cancels if cancel.transaction_key not in known]
    if not unknown:
        return
    if selectors.refunds_pending_for_payment(payment_id=payment.pk).exists():
        raise WebhookDeferred(
            gettext("A refund of this payment is still unanswered; this delivery is processed when resent.")
        )
    for cancel in unknown:
        operation = f"pg:{cancel.transaction_key}"
        try:
            refund = _record_pg_cancel(payment, cancel, operation=operation)
        except IntegrityError:  # the same delivery, processed concurrently, recorded it
            continue
        if refund is not None:
            _refunded(refund)


def _record_pg_cancel(payment: Payment, cancel: gateways.PgCancel, *, operation: str) -> Refund | None:
    """One cancel made at the PG, recorded SUCCEEDED with what it took back reserved, together."""
    with transaction.atomic():
        reserved = Payment.objects.filter(pk=payment.pk, refunded_amount__lte=F("amount") - cancel.amount).update(
            refunded_amount=F("refunded_amount") + cancel.amount, updated_at=timezone.now()
        )
        if not reserved:
            return None  # more than our books leave: never recorded past the amount
        refund = Refund.objects.create(
            payment=payment,
            order_id=payment.order_id,
            amount=cancel.amount,
            reason=RefundReason.PG_DASHBOARD,
            note=cancel.reason[:200],
            operation=operation,
            idempotency_key=gateways.idempotency_key("pg", payment.provider, cancel.transaction_key),
            pg_transaction_key=cancel.transaction_key[:200],
            status=RefundStatus.SUCCEEDED,
            requested_by=str(Actor.pg(payment.provider)),
        )
        _payment_status_from_refunds(payment.pk)
        PaymentEvent.objects.create(
            payment=payment,
            kind=PaymentEvent.Kind.SYNCED,
            detail={"refund_id": str(refund.pk), "amount": str(cancel.amount), "pg_status": "CANCELED"},
        )
    return Refund.objects.select_related("payment").get(pk=refund.pk)


# (PG status, our status) -> (the event, our new status, the failure code of a closed account)
_SYNC = {
    ("DONE", PaymentStatus.PENDING): (PaymentEvent.Kind.SYNCED, PaymentStatus.APPROVED, ""),
    ("DONE", PaymentStatus.WAITING): (PaymentEvent.Kind.DEPOSITED, PaymentStatus.APPROVED, ""),
    ("CANCELED", PaymentStatus.WAITING): (PaymentEvent.Kind.SYNCED, PaymentStatus.FAILED, VIRTUAL_ACCOUNT_CANCELLED),
    ("ABORTED", PaymentStatus.PENDING): (PaymentEvent.Kind.SYNCED, PaymentStatus.FAILED, ""),
    ("EXPIRED", PaymentStatus.PENDING): (PaymentEvent.Kind.SYNCED, PaymentStatus.FAILED, ""),
    ("EXPIRED", PaymentStatus.WAITING): (PaymentEvent.Kind.SYNCED, PaymentStatus.FAILED, VIRTUAL_ACCOUNT_EXPIRED),
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
            raise WebhookInvalid(gettext("The PG did not confirm this payment: %(error)s") % {"error": error}) from None
        answer = {
            "order_id": verified.order_id,
            "status": verified.status,
            "amount": str(verified.amount),
            "cancels": [[cancel.transaction_key, str(cancel.amount), cancel.reason] for cancel in verified.cancels],
        }
        cache.set(key, answer, timeout=2 * WEBHOOK_VERIFY_WINDOW_S)
        return verified
    answer = cache.get(key)
    if not answer or answer["status"] != claimed_status:
        raise WebhookDeferred()
    return gateways.PgPayment(
        payment_key=payment_key,
        order_id=answer["order_id"],
        status=answer["status"],
        amount=Decimal(answer["amount"]),
        cancels=tuple(
            gateways.PgCancel(transaction_key=key, amount=Decimal(amount), reason=reason)
            for key, amount, reason in answer.get("cancels", ())
        ),
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
    event = _webhook_event(provider=provider, event_id=event_id, event_type=event_type, payload=payload)
    if event.processed_at is not None:
        return False
    verified = _verified(provider=provider, payment_key=payment_key, claimed_status=str(data.get("status") or ""))
    payment = selectors.payment_for_pg_payment(provider=provider, payment_key=payment_key, order_id=verified.order_id)
    if payment is not None:
        _sync(provider=provider, payment=payment, verified=verified)
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    return True


def webhook_deposit_process(*, provider: str, payload: dict) -> bool:
    """Handle a PG's deposit callback for a virtual account (Toss's DEPOSIT_CALLBACK:
    `{createdAt, secret, status, transactionKey, orderId}`) once per delivery; returns False for a
    delivery already processed, and for an orderId with no virtual account of ours (nothing is
    stored, the PG is not asked).

    The callback carries the account's secret, which the PG gave us when it issued the account and
    nobody else has seen: compared in constant time, a mismatch is refused (WebhookInvalid) and
    nothing is stored or changed. Then, as for the other webhooks, the payment is fetched from the
    PG (`_verified`) and only what the PG reports is acted on: DONE for the account's order and
    amount makes it APPROVED, and the order hears of it (it goes on to PAID, or, cancelled
    meanwhile, has the deposit refunded).
    """
    secret = str(payload.get("secret") or "").encode()
    accounts = selectors.virtual_accounts_issued(provider=provider, order_id=str(payload.get("orderId") or ""))
    if not accounts:
        return False
    matching = [account for account in accounts if hmac.compare_digest(account.secret.encode(), secret)]
    if not matching:
        raise WebhookInvalid(gettext("The deposit callback's secret is not the virtual account's."))
    payment = matching[-1]
    identity = "|".join(str(payload.get(name) or "") for name in ("createdAt", "orderId", "status", "transactionKey"))
    event = _webhook_event(
        provider=provider,
        event_id=hashlib.sha256(f"DEPOSIT_CALLBACK|{identity}".encode()).hexdigest(),
        event_type="DEPOSIT_CALLBACK",
        payload=payload,
    )
    if event.processed_at is not None:
        return False
    verified = _verified(
        provider=provider, payment_key=payment.payment_key, claimed_status=str(payload.get("status") or "")
    )
    if verified.order_id == str(payment.order_id):
        _sync(provider=provider, payment=payment, verified=verified)
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now())
    return True


def _webhook_event(*, provider: str, event_id: str, event_type: str, payload: dict) -> WebhookEvent:
    """The delivery's record, stored once per PG event id."""
    try:
        with transaction.atomic():
            event, _ = WebhookEvent.objects.get_or_create(
                provider=provider,
                event_id=event_id,
                defaults={"event_type": event_type, "payload": payload},
            )
    except IntegrityError:  # the same delivery arrived twice at once
        event = WebhookEvent.objects.get(provider=provider, event_id=event_id)
    return event


def _sync(*, provider: str, payment: Payment, verified: gateways.PgPayment) -> None:
    """Bring a payment to what the PG verifiably reports of it (for its amount), then tell its order."""
    if payment.amount != verified.amount:
        return
    move = _SYNC.get((verified.status, payment.status))
    if verified.status in ("CANCELED", "PARTIAL_CANCELED") and payment.status in PAID_STATUSES:
        # Cancelled (in part) at the PG: the cancels no refund of ours made are recorded as refunds.
        _record_pg_cancels(payment, verified)
        if verified.status == "CANCELED" and not verified.cancels:
            _record_pg_balance_cancelled(payment)
    elif move is not None:
        kind, to_status, failure_code = move
        moved = _move(
            payment,
            kind,
            from_status=payment.status,
            detail={"pg_status": verified.status},
            status=to_status,
            **({"failure_code": failure_code} if failure_code else {}),
        )
        if moved and to_status == PaymentStatus.APPROVED:
            metrics.PAYMENT_APPROVALS.labels(provider=provider).inc()
    elif (
        verified.status == "DONE"
        and payment.status == PaymentStatus.FAILED
        and (not payment.failure_code or payment.method == PaymentMethod.VIRTUAL_ACCOUNT)
    ):
        # An attempt settled as never approved (its confirm unanswered, the PG then knew of no
        # approval), or an account closed, that the PG took money for after all: the order does
        # not use it.
        _record(payment, PaymentEvent.Kind.SYNCED, detail={"pg_status": verified.status, "late": True})
        _refund(gateways.gateway(provider), payment, reason="late approval of a settled payment attempt")
    hooks.order_payment_changed(order_id=payment.order_id, by=Actor.pg(provider))
