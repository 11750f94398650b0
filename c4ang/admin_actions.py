"""Admin actions run services, one object at a time, and tell staff what happened to each."""

from collections.abc import Callable

from django.contrib import messages
from django.utils.functional import Promise

from c4ang.errors import DomainError


def run_for_each(modeladmin, request, objects, action: Callable, done: str | Promise | Callable[[int], str]) -> None:
    """Call `action(obj)` for every selected object; a domain error skips that object with its code.

    `done` says what happened to those that succeeded: a label shown with their count ("Shipped: 3"),
    or a function of the count that words the whole message, e.g.
    `lambda count: ngettext("%(count)d order shipped.", "%(count)d orders shipped.", count) % {"count": count}`.
    """
    succeeded = 0
    for obj in objects:
        try:
            action(obj)
        except DomainError as error:
            modeladmin.message_user(request, f"{obj}: {error.code}: {error.message}", messages.WARNING)
        else:
            succeeded += 1
    if succeeded:
        message = done(succeeded) if callable(done) else f"{done}: {succeeded}"
        modeladmin.message_user(request, message, messages.SUCCESS)


class NoDeleteMixin:
    """For money and audit tables (orders, payments, events, sagas, stock adjustments, job runs): no
    "delete selected" action, no delete page, no inline delete box. Rows end through their services
    (cancel and refund, compensate), which release stock and refunds; a deleted row would not."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
