"""The base of every app's domain errors: a stable machine-readable code, a message, a field.

The message is translated (lazily: in the language of the request that meets it, c4ang.language);
the code and field never are.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    http_status = 400
    message = _("The request cannot be carried out.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        field: str | None = None,
        errors: list[dict] | None = None,
        **context,
    ):
        self.message = message or self.message
        self.field = field
        # What the API answers in `errors` (c4ang.api.errors): by default one entry naming the field.
        # An error about several things, or one that carries more (a product's name and what is in
        # stock, the PG's own code and message) gives its entries: each a dict with `field`, `code`,
        # `message` and, where documented, more (c4ang.api.schema.ErrorDetailSerializer).
        self.errors = errors
        self.context = context
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    message = _("The request conflicts with the current state.")
