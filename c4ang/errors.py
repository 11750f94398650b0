"""The base of every app's domain errors: a stable machine-readable code, a message, a field."""


class DomainError(Exception):
    code = "domain_error"
    http_status = 400
    message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, field: str | None = None, **context):
        self.message = message or self.message
        self.field = field
        self.context = context
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    message = "The request conflicts with the current state."
