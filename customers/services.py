"""Writes of the customers module: registration, profile changes and the address book."""

from uuid import UUID

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from c4ang import cache, emails, korea
from c4ang.db import save_fields
from c4ang.selectors import get_or_raise
from customers import errors, selectors
from customers.models import Customer, CustomerAddress, User


def normalize_email(email: str) -> str:
    """The address in its one normal form (c4ang.emails); EmailInvalid names the field otherwise."""
    try:
        return emails.normalize_email(email)
    except emails.EmailRejected as rejected:
        raise errors.EmailInvalid(rejected.message, field="email", reason=rejected.code) from None


def _validate_password(password: str, *, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise errors.PasswordRejected(" ".join(exc.messages), field="password") from None


@transaction.atomic
def customer_register(*, email: str, password: str, name: str, phone: str = "") -> Customer:
    """Create the login and the customer profile together."""
    email = normalize_email(email)
    user = User(email=email)
    _validate_password(password, user=user)
    if User.objects.filter(email=email).exists():
        raise errors.EmailAlreadyRegistered(field="email")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            return Customer.objects.create(user=user, email=email, name=name, phone=phone)
    except IntegrityError:
        # Lost a race with a concurrent registration of the same email.
        raise errors.EmailAlreadyRegistered(field="email") from None


@transaction.atomic
def customer_update(*, customer: Customer, **fields) -> Customer:
    """Update profile fields (name, phone); the cached profile is dropped after commit."""
    save_fields(customer, **fields)
    cache.delete_after_commit([selectors.profile_cache_key(user_id=customer.user_id)])
    return customer


@transaction.atomic
def customer_staff_update(*, customer_id: UUID, is_active: bool | None = None, **profile) -> Customer:
    """Staff: change a customer's profile, or deactivate (reactivate) the login. The customer row
    is never deleted: orders and payments keep referring to it."""
    customer = selectors.customer_get_for_staff(customer_id=customer_id)
    if is_active is not None:
        customer.user.is_active = is_active
        customer.user.save(update_fields=["is_active"])
    if profile:
        customer_update(customer=customer, **profile)
    cache.delete_after_commit([selectors.profile_cache_key(user_id=customer.user_id)])
    return customer


@transaction.atomic
def customer_email_follow_login(*, user: User) -> None:
    """A login's email was changed (the admin): its customer profile, if any, shows the same one."""
    if Customer.objects.filter(user=user).exclude(email=user.email).update(email=user.email, updated_at=timezone.now()):
        cache.delete_after_commit([selectors.profile_cache_key(user_id=user.pk)])


def staff_ensure(*, email: str, password: str, superuser: bool = False) -> tuple[User, bool]:
    """Create a staff login, or update an existing one (password, role); returns (user, created)."""
    email = normalize_email(email)
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User(email=email)
    _validate_password(password, user=user)
    user.is_staff = True
    user.is_superuser = user.is_superuser or superuser
    user.set_password(password)
    user.save()
    return user, created


@transaction.atomic
def customer_bulk_import(*, people: list[dict], password: str, batch_size: int = 2000) -> list[Customer]:
    """Create many customers (email, name, phone) sharing one password, hashed once: demo data and imports."""
    encoded = make_password(password)
    users = User.objects.bulk_create(
        [User(email=normalize_email(person["email"]), password=encoded) for person in people], batch_size=batch_size
    )
    return Customer.objects.bulk_create(
        [
            Customer(user=user, email=user.email, name=person["name"], phone=person.get("phone", ""))
            for user, person in zip(users, people, strict=True)
        ],
        batch_size=batch_size,
    )


# --- address book ----------------------------------------------------------------------------------

# What address_update may change; is_default=False only on an address that is not the default.
ADDRESS_FIELDS = frozenset(["label", "recipient", "phone", "postal_code", "road_address", "detail", "is_default"])


def _address_book_lock(*, customer_id: UUID) -> Customer:
    # Every change to a customer's address book holds the customer's row: concurrent creates,
    # deletes and set-defaults run one after the other, so that the count limit holds and the
    # book never ends with zero or two defaults (the partial unique index is the backstop).
    return get_or_raise(Customer.objects.select_for_update(), errors.CustomerNotFound, pk=customer_id)


def _clean_address_fields(fields: dict) -> dict:
    # The API's serializers already give canonical values; other callers (commands, demo data) get
    # the same normal forms, or a refusal naming the field.
    if "phone" in fields:
        phone = korea.phone_normalize(fields["phone"])
        if phone is None:
            raise errors.PhoneInvalid(field="phone")
        fields["phone"] = phone
    if "postal_code" in fields:
        postal_code = korea.postal_code_normalize(fields["postal_code"])
        if postal_code is None:
            raise errors.PostalCodeInvalid(field="postal_code")
        fields["postal_code"] = postal_code
    return fields


def _address_unset_default(*, customer_id: UUID) -> None:
    CustomerAddress.objects.filter(customer_id=customer_id, is_default=True).update(
        is_default=False, updated_at=timezone.now()
    )


@transaction.atomic
def address_create(
    *,
    customer_id: UUID,
    label: str,
    recipient: str,
    phone: str,
    postal_code: str,
    road_address: str,
    detail: str = "",
    is_default: bool = False,
) -> CustomerAddress:
    """Add an address to the customer's book; the first one, or one asked to be, becomes the default.
    At most CUSTOMER_MAX_ADDRESSES: AddressLimitReached (409) beyond."""
    _address_book_lock(customer_id=customer_id)
    fields = _clean_address_fields(
        {
            "label": label,
            "recipient": recipient,
            "phone": phone,
            "postal_code": postal_code,
            "road_address": road_address,
            "detail": detail,
        }
    )
    held = CustomerAddress.objects.filter(customer_id=customer_id).count()
    limit = settings.CUSTOMER_MAX_ADDRESSES
    if held >= limit:
        raise errors.AddressLimitReached(
            f"The address book is full ({limit} addresses): delete one before adding another.", limit=limit
        )
    if is_default and held:
        _address_unset_default(customer_id=customer_id)
    return CustomerAddress.objects.create(customer_id=customer_id, is_default=is_default or not held, **fields)


@transaction.atomic
def address_update(*, customer_id: UUID, address_id: UUID, **fields) -> CustomerAddress:
    """Change fields of one of the customer's addresses (ADDRESS_FIELDS). `is_default=True` makes it
    the default; the default cannot be unset (AddressDefaultRequired, 409): another is made the default
    instead. Orders placed with it keep their copy."""
    unknown = set(fields) - ADDRESS_FIELDS
    if unknown:
        raise TypeError(f"address_update() got unexpected fields: {', '.join(sorted(unknown))}")
    _address_book_lock(customer_id=customer_id)
    address = selectors.address_get_for_customer(customer_id=customer_id, address_id=address_id)
    make_default = fields.pop("is_default", None)
    if make_default is False and address.is_default:
        raise errors.AddressDefaultRequired(field="is_default")
    fields = _clean_address_fields(fields)
    if make_default and not address.is_default:
        _address_unset_default(customer_id=customer_id)
        fields["is_default"] = True
    if fields:
        save_fields(address, **fields)
    return address


@transaction.atomic
def address_delete(*, customer_id: UUID, address_id: UUID) -> None:
    """Delete one of the customer's addresses. When it was the default, the most recently created of
    the others becomes the default. Orders placed with it keep their copy."""
    _address_book_lock(customer_id=customer_id)
    address = selectors.address_get_for_customer(customer_id=customer_id, address_id=address_id)
    address.delete()
    if address.is_default:
        successor = selectors.address_list_for_customer(customer_id=customer_id).order_by("-created_at", "-id").first()
        if successor is not None:
            save_fields(successor, is_default=True)


def address_set_default(*, customer_id: UUID, address_id: UUID) -> CustomerAddress:
    """Make one of the customer's addresses the default (the previous default no longer is)."""
    return address_update(customer_id=customer_id, address_id=address_id, is_default=True)
