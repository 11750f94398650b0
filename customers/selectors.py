"""Reads of the customers module; other modules resolve the acting customer here."""

from uuid import UUID

from django.conf import settings
from django.db.models import Q, QuerySet

from c4ang import cache
from c4ang.selectors import get_or_raise
from customers import errors
from customers.models import Customer, CustomerAddress


def customer_for_user(*, user) -> Customer:
    """The customer profile of a signed-in user; staff without a profile get CustomerNotFound."""
    return get_or_raise(Customer, errors.CustomerNotFound, user_id=user.pk)


def customer_get(*, customer_id: UUID) -> Customer:
    return get_or_raise(Customer, errors.CustomerNotFound, pk=customer_id)


def customer_count() -> int:
    return Customer.objects.count()


def customer_get_active(*, customer_id: UUID) -> Customer:
    """A customer who may place orders: exists and the login is not deactivated."""
    customer = get_or_raise(Customer.objects.select_related("user"), errors.CustomerNotFound, pk=customer_id)
    if not customer.user.is_active:
        raise errors.CustomerInactive()
    return customer


def profile_cache_key(*, user_id: UUID) -> str:
    return f"customers:profile:{user_id}"


def customer_profile_cached(*, user, build) -> dict:
    """The signed-in customer's profile as `build(customer)` renders it, from the cache when fresh."""
    return cache.cached(
        profile_cache_key(user_id=user.pk),
        lambda: build(customer_for_user(user=user)),
        timeout=settings.PROFILE_CACHE_SECONDS,
        area="profile",
    )


def customer_list(*, search: str = "") -> QuerySet[Customer]:
    """Staff: every customer, optionally those whose name, email or phone contains `search`."""
    customers = Customer.objects.select_related("user")
    if search:
        customers = customers.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(phone__icontains=search)
        )
    return customers


def customer_get_for_staff(*, customer_id: UUID) -> Customer:
    return get_or_raise(customer_list(), errors.CustomerNotFound, pk=customer_id)


# --- address book ----------------------------------------------------------------------------------


def address_list_for_customer(*, customer_id: UUID) -> QuerySet[CustomerAddress]:
    """The customer's address book: the default first, then the newest. Bounded by
    CUSTOMER_MAX_ADDRESSES, so it is never paginated."""
    return CustomerAddress.objects.filter(customer_id=customer_id).order_by("-is_default", "-created_at", "-id")


def address_get_for_customer(*, customer_id: UUID, address_id: UUID) -> CustomerAddress:
    """One address of the customer's book; AddressNotFound (404) when there is none, another
    customer's included."""
    return get_or_raise(CustomerAddress, errors.AddressNotFound, pk=address_id, customer_id=customer_id)
