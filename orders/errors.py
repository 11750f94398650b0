from django.utils.translation import gettext_lazy as _

from c4ang.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = _("Order not found.")


class OrderNotCancellable(Conflict):
    code = "order_not_cancellable"
    message = _("Only an order that has not shipped can be cancelled.")


class InvalidStatusTransition(Conflict):
    code = "invalid_status_transition"
    message = _("The order cannot move to this status.")


class OrderTooLarge(DomainError):
    code = "order_too_large"
    message = _("The order total exceeds the largest amount an order can have.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = _("This Idempotency-Key was used for a different order.")


class CartEmpty(Conflict):
    code = "cart_empty"
    message = _("The cart is empty: add items to it before checking out.")


class CartChanged(Conflict):
    code = "cart_changed"
    message = _(
        "The cart changed while it was being checked out (another checkout took it?): look at it and try again."
    )


class CartProductUnavailable(Conflict):
    code = "cart_product_unavailable"
    message = _("A product in the cart is no longer for sale: remove it from the cart first.")


class OrderProductUnavailable(Conflict):
    """Raised with an entry in `errors` for each line whose product is unknown or off sale."""

    code = "product_unavailable"
    message = _("A product of the order is not for sale: remove it from the order.")


class ShippingAddressRequired(DomainError):
    code = "shipping_address_required"
    message = _("Give the address to ship to: an address of your address book (address_id) or one inline (address).")


# --- cart ---


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"
    message = _("This product is not in the cart.")


class CartLineLimitReached(Conflict):
    code = "cart_line_limit_reached"
    message = _("The cart already holds as many products as an order may.")


class CartQuantityLimitReached(Conflict):
    code = "cart_quantity_limit_reached"
    message = _("A cart line cannot hold more units than an order line may.")


# --- returns ---


class ReturnNotFound(NotFound):
    code = "return_not_found"
    message = _("Return not found.")


class OrderNotDelivered(Conflict):
    code = "order_not_delivered"
    message = _("Only a delivered order can be returned.")


class ReturnWindowClosed(Conflict):
    code = "return_window_closed"
    message = _("The return window of this order has closed.")


class ReturnItemNotInOrder(DomainError):
    code = "return_item_not_in_order"
    message = _("This line is not an item of the order.")


class ReturnLineCancelled(Conflict):
    code = "return_line_cancelled"
    message = _("This line was cancelled before shipping: there is nothing of it to return.")


class ReturnQuantityExceeded(Conflict):
    code = "return_quantity_exceeded"
    message = _("More units than were delivered and are not returned (or being returned) already.")


class ReturnReasonTextRequired(DomainError):
    code = "return_reason_text_required"
    message = _("Say why in reason_text when the reason is `other`.")


class InvalidReturnTransition(Conflict):
    code = "invalid_return_transition"
    message = _("The return cannot move to this status.")


class ReturnLinesMismatch(DomainError):
    code = "return_lines_mismatch"
    message = _("Give a resellable decision for each line of the return, and for no other line.")


# --- fulfilment ---


class UnknownCarrier(DomainError):
    code = "unknown_carrier"
    message = _("No such carrier.")


class InvalidTrackingNumber(DomainError):
    code = "invalid_tracking_number"
    message = _("This is not a tracking number of the carrier.")


class TrackingNumberInUse(Conflict):
    code = "tracking_number_in_use"
    message = _("Another order already ships with this carrier's tracking number.")


class OrderNotShippable(Conflict):
    code = "order_not_shippable"
    message = _("Only a paid order that has not shipped can ship.")


class BulkShipTooLarge(DomainError):
    code = "bulk_ship_too_large"
    message = _("Too many rows in one bulk shipment.")


class OrderLinesNotCancellable(Conflict):
    code = "order_lines_not_cancellable"
    message = _("Lines can be cancelled only on a paid order that has not shipped.")


class OrderLineNotFound(DomainError):
    code = "order_line_not_found"
    message = _("This is not a line of the order.")


class CancelQuantityExceeded(Conflict):
    code = "cancel_quantity_exceeded"
    message = _("More units than the line has left to cancel.")
