"""What every app's selectors share."""

from typing import TypeVar

from django.db.models import Manager, Model, QuerySet

from c4ang.errors import NotFound

M = TypeVar("M", bound=Model)


def get_or_raise(rows: type[M] | QuerySet[M] | Manager[M], error: type[NotFound] | NotFound, **lookup) -> M:
    """The one row of `rows` (a model, manager or queryset) that matches `lookup`; none is `error`,
    a class (raised bare) or an instance (raised as it is)."""
    source = rows._default_manager if isinstance(rows, type) else rows
    try:
        return source.get(**lookup)
    except source.model.DoesNotExist:
        raise (error() if isinstance(error, type) else error) from None
