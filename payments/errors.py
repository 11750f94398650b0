from django.utils.translation import gettext_lazy as _

from c4ang.errors import Conflict, DomainError, NotFound


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = _("Payment not found.")


class PaymentDeclined(DomainError):
    code = "payment_declined"
    http_status = 402
    message = _("The payment was declined.")


class PaymentTimedOut(DomainError):
    code = "payment_timeout"
    http_status = 504
    message = _("The payment gateway did not answer in time.")


class RefundFailed(Conflict):
    code = "refund_failed"
    message = _("The payment gateway did not complete the refund; it will be retried.")


class RefundDeclined(RefundFailed):
    """The PG answered and refused the refund: nothing moved (a repeat of the operation tries again)."""

    code = "refund_declined"
    message = _("The payment gateway refused the refund.")


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    message = _("The refunds of a payment never add up to more than was paid: this amount is more than is left.")


class RefundAmountInvalid(DomainError):
    code = "refund_amount_invalid"
    message = _("A refund is a positive whole number of won.")


class RefundOperationReused(Conflict):
    code = "idempotency_key_reused"
    message = _("This operation (Idempotency-Key) already refunded another amount.")


class WebhookInvalid(DomainError):
    code = "webhook_invalid"
    message = _("The webhook could not be verified with the payment gateway.")


class PaymentAmountMismatch(DomainError):
    code = "amount_mismatch"
    message = _("The amount does not equal the order total.")


class OrderNotPayable(Conflict):
    code = "order_not_payable"
    message = _("The order is not waiting for this payment.")


class PaymentNotRefundable(Conflict):
    code = "payment_not_refundable"
    message = _("Only the payment of an order that has not shipped can be refunded.")


class PaymentAttemptUnsettled(Conflict):
    code = "payment_attempt_unsettled"
    message = _(
        "An earlier payment attempt of this order has no known outcome yet; it is asked again at the PG "
        "before another attempt is made. Try again shortly."
    )


class WebhookDeferred(Conflict):
    code = "webhook_deferred"
    message = _("The payment was verified with the PG moments ago; this delivery is verified when the PG resends it.")


class WebhookTooLarge(DomainError):
    code = "request_too_large"
    http_status = 413
    message = _("A PG webhook is a few KB; this body is larger than the endpoint accepts.")


class VirtualAccountNotFound(NotFound):
    code = "virtual_account_not_found"
    message = _("The order has no virtual account.")


class VirtualAccountNotWaiting(Conflict):
    code = "virtual_account_not_waiting"
    message = _("The order's virtual account is not waiting for a deposit.")


class DepositRefused(Conflict):
    code = "deposit_refused"
    message = _("The sandbox refused the deposit.")
