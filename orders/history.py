"""What the customer reads about an order's way: the messages of its history (OrderEvent.message) and
of its cancellation (Order.cancel_message).

They are stored in English, the same whatever language the request that wrote them spoke (the
audit trail never changes with the reader), and read in the reader's language: `readable` turns a
stored message back into the text of its kind (a status's, a cancel reason's label with what
failed, a shipment's, a partial cancellation's) in the active language.
"""

import re

from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy

from c4ang.admin_display import krw
from orders.constants import CancelReason, OrderStatus

# The message of each status an order reaches (a cancellation says its reason instead).
STATUS_MESSAGES = {
    OrderStatus.PENDING: pgettext_lazy("order history", "Order placed"),
    OrderStatus.PAID: pgettext_lazy("order history", "Paid"),
    OrderStatus.SHIPPED: pgettext_lazy("order history", "Shipped"),
    OrderStatus.DELIVERED: pgettext_lazy("order history", "Delivered"),
}

_SHIPPED = re.compile(r"^Shipped: (?P<shipment>.+)$", re.DOTALL)
_LINES_CANCELLED = re.compile(
    r"^(?P<units>\d+) unit\(s\) of (?P<lines>\d+) line\(s\) cancelled, (?P<refund>\d+) won refunded$"
)


def status_message(status: OrderStatus | str) -> str:
    """The stored message of an order reaching `status` (not a cancellation)."""
    with translation.override(None):
        return str(STATUS_MESSAGES[OrderStatus(status)])


def cancel_message(reason: CancelReason | str, detail: str = "") -> str:
    """The stored message of a cancellation: the reason's label and, when the placement failed, the
    failing error's message (`detail`)."""
    with translation.override(None):
        label = str(CancelReason(reason).label)
        return f"{label}: {detail}" if detail else label


def shipped_message(shipment: str) -> str:
    """The stored message of an order handed to its carrier: `shipment` is the carrier and number."""
    return f"Shipped: {shipment}"


def lines_cancelled_message(*, units: int, lines: int, refund) -> str:
    """The stored message of a partial cancellation: the units and lines cancelled, the won refunded."""
    return f"{units} unit(s) of {lines} line(s) cancelled, {refund:.0f} won refunded"


def _cancel_reason_of(message: str) -> tuple[CancelReason, str] | None:
    """The cancel reason a stored message starts with (its English label), and what follows it."""
    with translation.override(None):
        labels = {reason: str(reason.label) for reason in CancelReason}
    for reason, label in labels.items():
        if message == label:
            return reason, ""
        if message.startswith(f"{label}: "):
            return reason, message[len(label) + 2 :]
    return None


def readable(message: str) -> str:
    """A stored history or cancellation message in the active language. What the platform did not
    write itself (a PG's words after a cancel reason, a product's name) stays as it was written."""
    if not message:
        return message
    if (translated := pgettext("order history", message)) != message:
        return translated
    if shipped := _SHIPPED.match(message):
        return gettext("Shipped: %(shipment)s") % {"shipment": shipped["shipment"]}
    if cancelled := _LINES_CANCELLED.match(message):
        return gettext("%(units)s unit(s) of %(lines)s line(s) cancelled, %(refund)s refunded") % {
            "units": cancelled["units"],
            "lines": cancelled["lines"],
            "refund": krw(cancelled["refund"]),
        }
    if found := _cancel_reason_of(message):
        reason, detail = found
        if not detail:
            return str(reason.label)
        return f"{reason.label}: {gettext(detail)}"
    return message
