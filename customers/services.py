"""Writes of the customers module: registration, profile changes, passwords and account deletion,
and the address book."""

from uuid import UUID

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset as axes_reset
from celery import current_app
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext
from kombu.exceptions import OperationalError as BrokerUnreachable
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from c4ang import cache, emails, korea
from c4ang.db import save_fields
from c4ang.selectors import get_or_raise
from customers import errors, hooks, selectors
from customers.models import Customer, CustomerAddress, User


def normalize_email(email: str) -> str:
    """The address in its one normal form (c4ang.emails); EmailInvalid names the field otherwise."""
    try:
        return emails.normalize_email(email)
    except emails.EmailRejected as rejected:
        raise errors.EmailInvalid(rejected.message, field="email", reason=rejected.code) from None


def _validate_password(password: str, *, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise errors.PasswordRejected(" ".join(exc.messages), field=field) from None


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
    if customer.deleted_at is not None and (profile or is_active):
        raise errors.CustomerDeleted()
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


# --- passwords, refresh tokens and account deletion --------------------------------------------------


def refresh_tokens_lock(*, user_id: UUID) -> None:
    """Hold the user's row until the transaction ends. A refresh token's rotation (customers.api)
    and the revocation of all the user's refresh tokens both hold it, so they run one after the
    other: a rotation racing a password change either finishes first (and its new token is revoked
    with the others) or finds its token revoked."""
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


@transaction.atomic
def refresh_tokens_revoke_all(*, user_id: UUID) -> int:
    """Blacklist every unexpired refresh token of the user, so that none can be exchanged any more;
    returns how many. Access tokens lapse within JWT_ACCESS_MINUTES (an inactive user's are refused
    at once)."""
    refresh_tokens_lock(user_id=user_id)
    outstanding = OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    ).values_list("pk", flat=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=token_id) for token_id in outstanding], ignore_conflicts=True
    )
    return len(revoked)


@transaction.atomic
def _password_store(*, user_id: UUID, encoded: str) -> None:
    # Under the user's row lock: a concurrent rotation cannot slip a new refresh token past the revocation.
    refresh_tokens_lock(user_id=user_id)
    User.objects.filter(pk=user_id).update(password=encoded)
    refresh_tokens_revoke_all(user_id=user_id)


def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """The signed-in user changes their password: the current one first (PasswordIncorrect naming
    `old_password`), the new one checked by AUTH_PASSWORD_VALIDATORS (PasswordRejected naming
    `new_password`). Every refresh token of the user is revoked: the caller hands out a new pair."""
    if not user.check_password(old_password):
        raise errors.PasswordIncorrect(field="old_password")
    _validate_password(new_password, user=user, field="new_password")
    user.password = make_password(new_password)
    _password_store(user_id=user.pk, encoded=user.password)


RESET_MAIL_TASK = "customers.tasks.password_reset_mail"


def password_reset_request(*, email: str) -> None:
    """Someone asks for a password reset link for `email` (in its normal form). What the caller sees
    is the same whether an account uses the address or not: the account is looked up and the mail
    sent by a worker (RESET_MAIL_TASK), so that not even the answer's time tells. Without a worker
    (CELERY_TASK_ALWAYS_EAGER, the embedded default) it happens here. The mail is written in the
    language of the request (c4ang.language). A broker that cannot be reached raises
    MailQueueUnavailable (503), whatever the address."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if settings.CELERY_TASK_ALWAYS_EAGER:
        password_reset_mail(email=email, language=language)
        return
    try:
        current_app.send_task(RESET_MAIL_TASK, kwargs={"email": email, "language": language})
    except BrokerUnreachable as error:  # after kombu's bounded publish retries
        raise errors.MailQueueUnavailable() from error


def _resettable(users):
    # Customers only (staff reset theirs in the admin), active, with a password to replace.
    return users.filter(is_active=True, customer__isnull=False).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)


def password_reset_mail(*, email: str, language: str | None = None) -> bool:
    """Mail the password reset link (PASSWORD_RESET_URL with the user's uid and a token that works
    once, for PASSWORD_RESET_TIMEOUT) to the customer whose login is `email`, in `language` (the
    default, LANGUAGE_CODE, without one); returns whether there was one to mail."""
    user = _resettable(User.objects.select_related("customer")).filter(email=email).first()
    if user is None:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    context = {
        "name": user.customer.name,
        "link": settings.PASSWORD_RESET_URL.format(uid=uid, token=default_token_generator.make_token(user)),
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string("customers/password_reset_subject.txt", context)
        body = render_to_string("customers/password_reset_email.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])
    return True


def _reset_user(uid: str) -> User | None:
    try:
        user_id = UUID(force_str(urlsafe_base64_decode(uid)))
    except ValueError:  # not base64, not UTF-8, not a UUID: not a link this shop sent
        return None
    return _resettable(User.objects).filter(pk=user_id).first()


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Set a new password with a mailed link's uid and token: ResetTokenInvalid (naming `token`)
    when the link is used, expired or not one this shop sent; the new password is checked as at
    registration (PasswordRejected naming `new_password`). Every refresh token of the user is
    revoked and the account's sign-in lockout lifted."""
    user = _reset_user(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise errors.ResetTokenInvalid(field="token")
    _validate_password(new_password, user=user, field="new_password")
    encoded = make_password(new_password)  # hashed before the lock: it takes a while
    with transaction.atomic():
        refresh_tokens_lock(user_id=user.pk)
        # Checked again under the lock: of two uses of one link racing, the second finds it used.
        current = _reset_user(uid)
        if current is None or not default_token_generator.check_token(current, token):
            raise errors.ResetTokenInvalid(field="token")
        _password_store(user_id=user.pk, encoded=encoded)
    axes_reset(username=user.email)


def _deleted_email(customer: Customer) -> str:
    # Unique, and no address: the reserved .invalid domain (RFC 6761) takes no mail, and no one can
    # register or sign in with it (c4ang.emails refuses it).
    return f"deleted-{customer.pk.hex}@deleted.invalid"


def customer_delete(*, user: User, password: str) -> None:
    """회원탈퇴: the signed-in customer deletes their account, confirming with their password
    (PasswordIncorrect naming `password`). Refused while an order is under way
    (AccountHasOpenOrders, 409; orders answers through customers.hooks).

    Erased at once: name, phone, email (replaced by a unique non-address), the address book, the
    cart (and what other modules registered), the sign-in records; the password becomes unusable,
    the login inactive, every refresh token revoked (the access tokens of an inactive login are
    refused). Kept: the customer row as an anonymised stub (deleted_at set) that the orders and
    payments kept for the legal retention period refer to (README, "Accounts and browser apps")."""
    customer_id = selectors.customer_for_user(user=user).pk  # staff have no customer account: CustomerNotFound
    if not user.check_password(password):
        raise errors.PasswordIncorrect(field="password")
    with transaction.atomic():
        customer = get_or_raise(Customer.objects.select_for_update(), errors.CustomerNotFound, pk=customer_id)
        if hooks.customer_has_open_orders(customer_id=customer.pk):
            raise errors.AccountHasOpenOrders()
        hooks.personal_data_erase(customer_id=customer.pk)
        CustomerAddress.objects.filter(customer=customer).delete()
        signed_in_as = user.email
        stub = _deleted_email(customer)
        save_fields(customer, email=stub, name="", phone="", deleted_at=timezone.now())
        refresh_tokens_lock(user_id=user.pk)
        user.email = stub
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "is_active", "password"])
        refresh_tokens_revoke_all(user_id=user.pk)
        for record in (AccessAttempt, AccessFailureLog, AccessLog):
            record.objects.filter(username=signed_in_as).delete()
        cache.delete_after_commit([selectors.profile_cache_key(user_id=user.pk)])


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
            gettext("The address book is full (%(limit)d addresses): delete one before adding another.")
            % {"limit": limit},
            limit=limit,
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
