from c4ang.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "Order not found."


class OrderNotCancellable(Conflict):
    code = "order_not_cancellable"
    message = "Only an order that has not shipped can be cancelled."


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"
    message = "The order cannot move to this status."


class OrderTooLarge(DomainError):
    code = "order_too_large"
    message = "The order total exceeds the largest amount an order can have."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different order."
