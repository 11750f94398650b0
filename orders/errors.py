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


class CartEmpty(Conflict):
    code = "cart_empty"
    message = "The cart is empty: add items to it before checking out."


class CartChanged(Conflict):
    code = "cart_changed"
    message = "The cart changed while it was being checked out (another checkout took it?): look at it and try again."


class CartProductUnavailable(Conflict):
    code = "cart_product_unavailable"
    message = "A product in the cart is no longer for sale: remove it from the cart first."


class ShippingAddressRequired(DomainError):
    code = "shipping_address_required"
    message = "Give the address to ship to: an address of your address book (address_id) or one inline (address)."


# --- cart ---


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"
    message = "This product is not in the cart."


class CartLineLimitReached(Conflict):
    code = "cart_line_limit_reached"
    message = "The cart already holds as many products as an order may."


class CartQuantityLimitReached(Conflict):
    code = "cart_quantity_limit_reached"
    message = "A cart line cannot hold more units than an order line may."
