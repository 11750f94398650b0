from c4ang.errors import Conflict, DomainError, NotFound


class EmailAlreadyRegistered(Conflict):
    code = "email_already_registered"
    message = "An account with this email already exists."


class EmailInvalid(DomainError):
    code = "email_invalid"
    message = "Not an email address an account may have."


class CustomerNotFound(NotFound):
    code = "customer_not_found"
    message = "Customer not found."


class PasswordRejected(DomainError):
    code = "password_invalid"
    message = "The password is not acceptable."


class CustomerInactive(DomainError):
    code = "customer_inactive"
    http_status = 403
    message = "This customer account is deactivated."


class AddressNotFound(NotFound):
    code = "address_not_found"
    message = "Address not found in your address book."


class AddressLimitReached(Conflict):
    code = "address_limit_reached"
    message = "The address book is full: delete an address before adding another."


class AddressDefaultRequired(Conflict):
    code = "address_default_required"
    message = "The default address stays the default until another address is made the default."


class PhoneInvalid(DomainError):
    code = "invalid_phone"
    message = "Not a Korean telephone number (e.g. 010-1234-5678, 02-123-4567, 1588-1234)."


class PostalCodeInvalid(DomainError):
    code = "invalid_postal_code"
    message = "Not a postal code: five digits, e.g. 06236."
