from django.utils.translation import gettext_lazy as _

from c4ang.errors import Conflict, DomainError, NotFound


class EmailAlreadyRegistered(Conflict):
    code = "email_already_registered"
    message = _("An account with this email already exists.")


class EmailInvalid(DomainError):
    code = "email_invalid"
    message = _("Not an email address an account may have.")


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    message = _("Customer not found.")


class PasswordRejected(DomainError):
    code = "password_invalid"
    message = _("The password is not acceptable.")


class CustomerInactive(DomainError):
    code = "customer_inactive"
    http_status = 403
    message = _("This customer account is deactivated.")


class AddressNotFound(NotFound):
    code = "address_not_found"
    message = _("Address not found in your address book.")


class AddressLimitReached(Conflict):
    code = "address_limit_reached"
    message = _("The address book is full: delete an address before adding another.")


class AddressDefaultRequired(Conflict):
    code = "address_default_required"
    message = _("The default address stays the default until another address is made the default.")


class PhoneInvalid(DomainError):
    code = "invalid_phone"
    message = _("Not a Korean telephone number (e.g. 010-1234-5678, 02-123-4567, 1588-1234).")


class PostalCodeInvalid(DomainError):
    code = "invalid_postal_code"
    message = _("Not a postal code: five digits, e.g. 06236.")


# --- account self-service --------------------------------------------------------------------------


class PasswordIncorrect(DomainError):
    code = "password_incorrect"
    message = _("This is not the account's current password.")


class ResetTokenInvalid(DomainError):
    code = "reset_token_invalid"
    message = _("This password reset link is not valid (used, expired or altered): ask for a new one.")


class MailQueueUnavailable(DomainError):
    code = "mail_queue_unavailable"
    http_status = 503
    message = _("The mail queue cannot be reached: nothing was sent; try again later.")


class AccountHasOpenOrders(Conflict):
    code = "account_has_open_orders"
    message = _(
        "The account has orders under way (unpaid, paid and not yet delivered, or with a return in "
        "progress): it can be deleted once they are settled."
    )


class CustomerDeleted(Conflict):
    code = "customer_deleted"
    message = _("This customer deleted their account: what is left is an anonymised record, which stays as it is.")
