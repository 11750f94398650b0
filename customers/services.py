"""Writes of the customers module: registration and profile changes."""

from uuid import UUID

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from c4ang import cache, emails
from c4ang.db import save_fields
from customers import errors, selectors
from customers.models import Customer, User


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
