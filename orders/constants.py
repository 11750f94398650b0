"""Values of the orders module that other modules may name."""

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING = "PENDING"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# An order in one of these has been paid (and not cancelled since): its items are purchases.
PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
# The statuses staff move a paid order to, one after the other: shipped, then delivered.
FULFILMENT_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


class CancelReason(models.TextChoices):
    """Why an order was cancelled: asked for, expired, refused by the PG, or its placement failed.

    A failed placement keeps the code of the error that failed it when it is one of these;
    any other error is PLACEMENT_FAILED, with the error's code and message in the note.
    """

    CUSTOMER_CANCELLED = "customer_cancelled", "Cancelled by the customer"
    STAFF_CANCELLED = "staff_cancelled", "Cancelled by staff"
    STAFF_REFUND = "staff_refund", "Refunded by staff"
    PAYMENT_EXPIRED = "payment_expired", "Not paid in time"
    PAYMENT_CANCELLED = "payment_cancelled", "Payment cancelled at the PG"  # a verified webhook said so
    INSUFFICIENT_STOCK = "insufficient_stock", "Not enough stock"
    PRODUCT_UNAVAILABLE = "product_unavailable", "Product no longer for sale"
    CUSTOMER_INACTIVE = "customer_inactive", "Customer account inactive"
    PAYMENT_DECLINED = "payment_declined", "Payment declined"
    PAYMENT_TIMEOUT = "payment_timeout", "The PG did not answer"
    ORDER_NOT_PAYABLE = "order_not_payable", "Paid after it could no longer be paid"
    RECOVERY_GAVE_UP = "recovery_gave_up", "Recovery gave up after too many attempts"
    PLACEMENT_FAILED = "placement_failed", "Placement failed"


class Carrier(models.TextChoices):
    """The Korean parcel carriers (택배사) orders ship with, by the codes Korea's tracking services use."""

    CJ = "kr.cjlogistics", "CJ대한통운"
    LOTTE = "kr.lotte", "롯데택배"
    HANJIN = "kr.hanjin", "한진택배"
    EPOST = "kr.epost", "우체국택배"
    LOGEN = "kr.logen", "로젠택배"
    KDEXP = "kr.kdexp", "경동택배"
    DAESIN = "kr.daesin", "대신택배"
    ILYANG = "kr.ilyanglogis", "일양로지스"
    CVSNET = "kr.cvsnet", "GS Postbox 택배"
    CUPOST = "kr.cupost", "CU 편의점택배"


class ReturnStatus(models.TextChoices):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"


class ReturnReason(models.TextChoices):
    CHANGED_MIND = "changed_mind", "Changed my mind"
    DEFECTIVE = "defective", "Defective"
    WRONG_ITEM = "wrong_item", "Wrong item delivered"
    DAMAGED_IN_DELIVERY = "damaged_in_delivery", "Damaged in delivery"
    OTHER = "other", "Other"


# Reasons that are the customer's, not the shop's: the return shipping fee is kept from the refund.
CUSTOMER_RETURN_REASONS = (ReturnReason.CHANGED_MIND, ReturnReason.OTHER)
