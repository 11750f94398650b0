"""Values of the orders module that other modules may name."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrderStatus(models.TextChoices):
    # A context of their own: "Paid" or "Cancelled" of another app may read differently in Korean.
    PENDING = "PENDING", pgettext_lazy("order status", "Pending payment")
    PAID = "PAID", pgettext_lazy("order status", "Paid")
    SHIPPED = "SHIPPED", pgettext_lazy("order status", "Shipped")
    DELIVERED = "DELIVERED", pgettext_lazy("order status", "Delivered")
    CANCELLED = "CANCELLED", pgettext_lazy("order status", "Cancelled")


# An order in one of these has been paid (and not cancelled since): its items are purchases.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
# The statuses staff move a paid order to, one after the other: shipped, then delivered.
FULFILMENT_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


class CancelReason(models.TextChoices):
    """Why an order was cancelled: asked for, expired, refused by the PG, or its placement failed.

    A failed placement keeps the code of the error that failed it when it is one of these;
    any other error is PLACEMENT_FAILED, with the error's code and message in the note.
    """

    CUSTOMER_CANCELLED = "customer_cancelled", _("Cancelled by the customer")
    STAFF_CANCELLED = "staff_cancelled", _("Cancelled by staff")
    STAFF_REFUND = "staff_refund", _("Refunded by staff")
    PAYMENT_EXPIRED = "payment_expired", _("Not paid in time")
    PAYMENT_CANCELLED = "payment_cancelled", _("Payment cancelled at the PG")  # a verified webhook said so
    INSUFFICIENT_STOCK = "insufficient_stock", _("Not enough stock")
    PRODUCT_UNAVAILABLE = "product_unavailable", _("Product no longer for sale")
    CUSTOMER_INACTIVE = "customer_inactive", _("Customer account inactive")
    PAYMENT_DECLINED = "payment_declined", _("Payment declined")
    PAYMENT_TIMEOUT = "payment_timeout", _("The PG did not answer")
    ORDER_NOT_PAYABLE = "order_not_payable", _("Paid after it could no longer be paid")
    RECOVERY_GAVE_UP = "recovery_gave_up", _("Recovery gave up after too many attempts")
    PLACEMENT_FAILED = "placement_failed", _("Placement failed")


class Carrier(models.TextChoices):
    """The Korean parcel carriers (택배사) orders ship with, by the codes Korea's tracking services use."""

    # English names, in a context of their own (Korea Post is a bank too); the Korean catalogue has
    # their trade names (CJ대한통운 …), which orders.carriers keeps untranslated for the audit trail
    # and for reading a bulk-ship file.
    CJ = "kr.cjlogistics", pgettext_lazy("carrier", "CJ Logistics")
    LOTTE = "kr.lotte", pgettext_lazy("carrier", "Lotte Global Logistics")
    HANJIN = "kr.hanjin", pgettext_lazy("carrier", "Hanjin Express")
    EPOST = "kr.epost", pgettext_lazy("carrier", "Korea Post")
    LOGEN = "kr.logen", pgettext_lazy("carrier", "Logen")
    KDEXP = "kr.kdexp", pgettext_lazy("carrier", "Kyungdong Express")
    DAESIN = "kr.daesin", pgettext_lazy("carrier", "Daesin Logistics")
    ILYANG = "kr.ilyanglogis", pgettext_lazy("carrier", "Ilyang Logis")
    CVSNET = "kr.cvsnet", pgettext_lazy("carrier", "GS Postbox")
    CUPOST = "kr.cupost", pgettext_lazy("carrier", "CU Post")


class ReturnStatus(models.TextChoices):
    REQUESTED = "REQUESTED", pgettext_lazy("return status", "Requested")
    APPROVED = "APPROVED", pgettext_lazy("return status", "Approved")
    REJECTED = "REJECTED", pgettext_lazy("return status", "Rejected")
    RECEIVED = "RECEIVED", pgettext_lazy("return status", "Received")
    REFUNDED = "REFUNDED", pgettext_lazy("return status", "Refunded")


class ReturnReason(models.TextChoices):
    CHANGED_MIND = "changed_mind", _("Changed my mind")
    DEFECTIVE = "defective", _("Defective")
    WRONG_ITEM = "wrong_item", _("Wrong item delivered")
    DAMAGED_IN_DELIVERY = "damaged_in_delivery", _("Damaged in delivery")
    OTHER = "other", _("Other")


# Reasons that are the customer's, not the shop's: the return shipping fee is kept from the refund.
CUSTOMER_RETURN_REASONS = (ReturnReason.CHANGED_MIND, ReturnReason.OTHER)
