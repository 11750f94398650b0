import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from c4ang import emails


class UserManager(BaseUserManager):
    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=emails.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        # Every authenticate() (the API's sign-in, the admin's) looks the account up here: by the
        # normal form the accounts store. An address no account can have matches none.
        try:
            email = emails.normalize_email(username)
        except emails.EmailRejected:
            raise self.model.DoesNotExist from None
        return self.get(email=email)


class User(AbstractBaseUser, PermissionsMixin):
    """The login identity of customers and staff; email is the username."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email"), unique=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        db_table = "auth_users"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        # The admin's user forms: the address is stored in its normal form, or refused on its field.
        super().clean()
        try:
            self.email = emails.normalize_email(self.email)
        except emails.EmailRejected as rejected:
            raise ValidationError({"email": ValidationError(rejected.message, code=rejected.code)}) from None


class Customer(models.Model):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="customer_id")
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="customer", verbose_name=_("user"))
    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Set when the customer deleted their account (회원탈퇴): the row stays, anonymised, because the
    # orders and payments kept for the legal retention period refer to it (customers.services).
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "customers"
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], name="customers_created_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class CustomerAddress(models.Model):
    """An address in a customer's address book. While a customer has any address, exactly one is the
    default (kept by customers.services under a lock of the customer's row; the constraint is the
    backstop). Placed orders keep a copy: editing or deleting an address never changes them."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False, db_column="address_id")
    # The (customer, -created_at) index below serves every lookup by customer.
    customer = models.ForeignKey(
        "Customer", on_delete=models.CASCADE, related_name="addresses", db_index=False, verbose_name=_("customer")
    )
    label = models.CharField(_("label"), max_length=30, blank=True)
    recipient = models.CharField(_("recipient"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    postal_code = models.CharField(_("postal code"), max_length=5)
    road_address = models.CharField(_("road address"), max_length=200)
    detail = models.CharField(_("address detail"), max_length=100, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "customer_addresses"
        verbose_name = _("customer address")
        verbose_name_plural = _("customer addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(is_default=True), name="customer_addresses_one_default"
            ),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="customer_addresses_recent_idx")]

    def __str__(self) -> str:
        return f"{self.label or self.recipient}: {self.road_address} {self.detail}".strip()
