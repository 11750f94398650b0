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
