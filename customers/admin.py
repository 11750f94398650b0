from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from c4ang import emails
from customers import services
from customers.models import Customer, CustomerAddress, User


def normal_email(value: str) -> str:
    try:
        return emails.normalize_email(value)
    except emails.EmailRejected as rejected:
        raise forms.ValidationError(rejected.message, code=rejected.code) from None


class LoginEmailFormField(forms.EmailField):
    """A login's email in the admin's forms: in its normal form (c4ang.emails), or refused on its field."""

    default_validators = []  # email-validator's checks, in normal_email

    def to_python(self, value) -> str:
        value = super().to_python(value)
        return normal_email(value) if value else value


class AdminSignInForm(AdminAuthenticationForm):
    """The admin's sign-in: the email in its normal form, as the API's sign-in looks it up (so the
    lockout counts both doors as one account); an address no account can have is refused on its field."""

    def clean_username(self) -> str:
        return normal_email(self.cleaned_data["username"])


admin.site.login_form = AdminSignInForm


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]
        field_classes = {"email": LoginEmailFormField}


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"email": LoginEmailFormField}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def save_model(self, request, obj, form, change):
        # The forms store the email in its normal form (User.clean); the customer profile follows it.
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            services.customer_email_follow_login(user=obj)


class CustomerAddressInline(admin.TabularInline):
    """The customer's address book, to read: the customer keeps it (the API), which keeps exactly one
    default; placed orders show their own copy."""

    model = CustomerAddress
    extra = 0
    can_delete = False
    fields = ["is_default", "label", "recipient", "phone", "postal_code", "road_address", "detail", "created_at"]
    readonly_fields = fields
    ordering = ["-is_default", "-created_at"]
    verbose_name = _("address")
    verbose_name_plural = _("address book (default first)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    # A deleted account (회원탈퇴) shows as what it is: blank name and phone, a deleted-…@deleted.invalid
    # email and its deleted_at; the filter lists them apart.
    list_display = ["name", "email", "phone", "created_at", "deleted_at"]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "phone"]
    # The email is the login's: changed on its user, which the profile follows.
    readonly_fields = ["id", "user", "email", "created_at", "updated_at", "deleted_at"]

    def get_readonly_fields(self, request, obj=None):
        # The anonymised record of a deleted account stays as it is (the staff API refuses it too).
        if obj is not None and obj.deleted_at is not None:
            return [*self.readonly_fields, "name", "phone"]
        return self.readonly_fields

    date_hierarchy = "created_at"
    inlines = [CustomerAddressInline]
