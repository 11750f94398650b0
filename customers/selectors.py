"""Reads of the customers module; other modules resolve the acting customer here."""

from uuid import UUID

from customers import errors
from customers.models import Customer


def customer_for_user(*, user) -> Customer:
    """The customer profile of a signed-in user; staff without a profile get CustomerNotFound."""
    try:
        return Customer.objects.get(user_id=user.pk)
    except Customer.DoesNotExist:
        raise errors.CustomerNotFound() from None


def customer_get(*, customer_id: UUID) -> Customer:
    try:
        return Customer.objects.get(pk=customer_id)
    except Customer.DoesNotExist:
        raise errors.CustomerNotFound() from None


def customer_count() -> int:
    return Customer.objects.count()
