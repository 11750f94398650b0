"""Values of the payments module that other modules may name."""

from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class PaymentStatus(models.TextChoices):
    # The PG's outcome is not known (a call unanswered): settled by asking the PG.
    PENDING = "PENDING", pgettext_lazy("payment status", "Pending")
    # A virtual account issued and open for its deposit: cancelled at the PG when the order is
    # cancelled, so that no deposit can land afterwards.
    WAITING = "WAITING", pgettext_lazy("payment status", "Waiting for deposit")
    APPROVED = "APPROVED", pgettext_lazy("payment status", "Approved")
    # Approved, and part of it refunded (refunds rows): the rest can still be refunded.
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED", pgettext_lazy("payment status", "Partially refunded")
    FAILED = "FAILED", pgettext_lazy("payment status", "Failed")
    REFUNDED = "REFUNDED", pgettext_lazy("payment status", "Refunded")


# A payment whose money the shop holds (some or all of it): what a refund is taken from.
PAID_STATUSES = (PaymentStatus.APPROVED, PaymentStatus.PARTIALLY_REFUNDED)


class RefundReason(models.TextChoices):
    """Why money went back (a refund row's reason code)."""

    PARTIAL_CANCEL = "partial_cancel", _("Partial cancellation (부분취소)")
    RETURN = "return", _("Return (반품)")
    CANCELLATION = "cancellation", _("Order cancelled (전체취소)")
    GOODWILL = "goodwill", _("Staff goodwill refund")
    # Money the PG took for an attempt the order did not use (approved after all, deposited too late).
    LATE_PAYMENT = "late_payment", _("Late payment of an unused attempt")
    # A cancel made at the PG (its dashboard) that no refund of ours asked for, learnt from its webhook.
    PG_DASHBOARD = "pg_dashboard", _("Cancelled at the PG")


class RefundStatus(models.TextChoices):
    # Asked at the PG (or about to be), its answer not known: recovery asks again with the same key.
    PENDING = "PENDING", pgettext_lazy("refund status", "Pending")
    SUCCEEDED = "SUCCEEDED", pgettext_lazy("refund status", "Succeeded")
    # The PG refused it: nothing moved, its amount is no longer reserved.
    FAILED = "FAILED", pgettext_lazy("refund status", "Failed")


# The failure codes of a virtual account closed without a deposit: by us (its order was cancelled,
# or another payment attempt replaced it) or by the PG at its due date.
VIRTUAL_ACCOUNT_CANCELLED = "VIRTUAL_ACCOUNT_CANCELLED"
VIRTUAL_ACCOUNT_EXPIRED = "VIRTUAL_ACCOUNT_EXPIRED"
# An account the PG issued in a state that takes no deposit: VIRTUAL_ACCOUNT_<the PG's status>.
VIRTUAL_ACCOUNT_ISSUED_AS = "VIRTUAL_ACCOUNT_"
AMOUNT_NOT_WHOLE_WON = "AMOUNT_NOT_WHOLE_WON"

# Our own failure codes in words for a person, in the reader's language; the PG's codes come with
# its own words (failure_message, Korean at Toss).
OWN_FAILURE_MESSAGES = {
    AMOUNT_NOT_WHOLE_WON: _("The amount has a fraction of a won: it was not sent to the payment gateway."),
    VIRTUAL_ACCOUNT_CANCELLED: _("The virtual account was closed before any deposit."),
    VIRTUAL_ACCOUNT_EXPIRED: _("No deposit arrived by the virtual account's due date."),
}


def own_failure_message(code: str) -> str:
    """Our words for one of our failure codes ("" for the PG's)."""
    if code in OWN_FAILURE_MESSAGES:
        return str(OWN_FAILURE_MESSAGES[code])
    if code.startswith(VIRTUAL_ACCOUNT_ISSUED_AS):
        status = code.removeprefix(VIRTUAL_ACCOUNT_ISSUED_AS)
        return gettext("The payment gateway issued the virtual account as %(status)s: it takes no deposit.") % {
            "status": status
        }
    return ""


class PaymentMethod(models.TextChoices):
    """How the customer pays: in the PG's widget (card, easy pay), or by deposit into a virtual account."""

    CARD = "card", _("Card")
    VIRTUAL_ACCOUNT = "virtual_account", _("Virtual account (가상계좌)")


class Bank(models.TextChoices):
    """The banks Toss issues virtual accounts at, by Toss's bank code (the `bank` it takes and answers);
    each labelled with its English name, translated to the Korean name customers know (신한은행)."""

    KYONGNAM = "39", _("Kyongnam Bank")
    GWANGJU = "34", _("Kwangju Bank")
    KOOKMIN = "06", _("KB Kookmin Bank")
    IBK = "03", _("IBK Industrial Bank of Korea")
    NONGHYEOP = "11", _("NH NongHyup Bank")
    DAEGU = "31", _("iM Bank (Daegu Bank)")
    BUSAN = "32", _("Busan Bank")
    SAEMAUL = "45", _("MG Saemaul Geumgo")
    SUHYEOP = "07", _("Sh Suhyup Bank")
    SHINHAN = "88", _("Shinhan Bank")
    WOORI = "20", _("Woori Bank")
    POST = "71", _("Korea Post")
    JEONBUK = "37", _("Jeonbuk Bank")
    KBANK = "89", _("K bank")
    HANA = "81", _("Hana Bank")


class Gateway(models.TextChoices):
    """The payment gateway (PG) the shop runs with (PAYMENT_GATEWAY), and the one an attempt was made at."""

    FAKE = "fake", _("Sandbox without network (tokens decide the outcome)")
    TOSS = "toss", _("Toss Payments")


class NextActionType(models.TextChoices):
    """What an app does next for an order (an order's `next_action.type`)."""

    CONFIRM_PAYMENT = "confirm_payment", _("Pay in the PG's widget, then confirm the paymentKey")
    DEPOSIT_TO_VIRTUAL_ACCOUNT = "deposit_to_virtual_account", _("Deposit the total into the virtual account")
    NONE = "none", _("Nothing to do")


class PgPaymentStatus(models.TextChoices):
    """A payment's status as Toss reports it (its Payment object, and its webhooks' `status`)."""

    READY = "READY", pgettext_lazy("PG payment status", "Ready")
    IN_PROGRESS = "IN_PROGRESS", pgettext_lazy("PG payment status", "In progress")
    WAITING_FOR_DEPOSIT = "WAITING_FOR_DEPOSIT", pgettext_lazy("PG payment status", "Waiting for deposit")
    DONE = "DONE", pgettext_lazy("PG payment status", "Done")
    CANCELED = "CANCELED", pgettext_lazy("PG payment status", "Cancelled")
    PARTIAL_CANCELED = "PARTIAL_CANCELED", pgettext_lazy("PG payment status", "Partially cancelled")
    ABORTED = "ABORTED", pgettext_lazy("PG payment status", "Aborted")
    EXPIRED = "EXPIRED", pgettext_lazy("PG payment status", "Expired")


# The failure codes a payment (or a refund) may carry: the PG's own, passed on as it gave them (an
# open set: the PG adds codes), and ours. The known ones, for the API's documentation.
KNOWN_FAILURE_CODES = {
    "REJECT_CARD_PAYMENT": "Toss: over the card's limit or not enough balance",
    "REJECT_CARD_COMPANY": "Toss: the card company refused the payment",
    "INVALID_CARD_EXPIRATION": "Toss: the card's expiry date is wrong",
    "INVALID_STOPPED_CARD": "Toss: the card is suspended",
    "EXCEED_MAX_DAILY_PAYMENT_COUNT": "Toss: more payments today than the card allows",
    "NOT_FOUND_PAYMENT_SESSION": "Toss: the widget's payment session expired (or an unknown sandbox token)",
    "ALREADY_PROCESSED_PAYMENT": "Toss: the paymentKey was confirmed before, for another order or amount",
    "INVALID_REQUEST": "Toss: the request was refused as malformed",
    AMOUNT_NOT_WHOLE_WON: "ours: an amount with a fraction of a won, refused before the PG was called",
    VIRTUAL_ACCOUNT_CANCELLED: "ours: the virtual account was closed before any deposit",
    VIRTUAL_ACCOUNT_EXPIRED: "ours: the virtual account's due date passed without a deposit",
}
FAILURE_CODE_HELP = (
    "Why the PG refused the attempt, or closed its virtual account; empty otherwise. The PG's own code, "
    "passed on as given (an open set: the PG adds codes; HTTP_<status> when it answered none). Known: "
    + "; ".join(f"`{code}` ({meaning})" for code, meaning in KNOWN_FAILURE_CODES.items())
    + "; VIRTUAL_ACCOUNT_<Toss status> (ours: an account issued in that state)."
)
