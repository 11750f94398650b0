"""One account per mailbox: a login's email in its one normal form at every door (c4ang.emails).

Registration, sign-in (with its per-account request limit and the lockout), staff's customer
forms, the admin's sign-in and user forms, and `create_staff` store or look up the same normal
form; an address with invisible or look-alike characters is refused on its field."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from c4ang.api.throttling import SignInAccountThrottle
from c4ang.tests.test_admin_lockout import admin_sign_in
from customers.models import Customer, User
from customers.tests.factories import PASSWORD, STAFF_PASSWORD, CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/customers/register/"
TOKEN = "/api/v1/customers/token/"
ME = "/api/v1/customers/me/"
STAFF = "/api/v1/customers/staff/"


def fullwidth(text: str) -> str:
    """`text` in the fullwidth forms of its ASCII letters, digits and signs (U+FF01...)."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


FULLWIDTH = fullwidth("demo1@c4ang.com")
SAME_ACCOUNT = ["DEMO1@c4ang.com", "Demo1@C4ANG.COM", FULLWIDTH, "  demo1@c4ang.com\t"]
REFUSED = [
    ("demo1@c4ang.com\u200b", "invisible_character"),  # a zero-width space at the end
    ("demo\u200d1@c4ang.com", "invisible_character"),  # a zero-width joiner inside
    ("\u202edemo1@c4ang.com", "invisible_character"),  # a right-to-left override
    ("demo1@c4ang\ufe0f.com", "invisible_character"),  # a variation selector
    ("demo1@c4ang\u3164.com", "invisible_character"),  # a Hangul filler
    ("demo1@\u04414ang.com", "confusable_characters"),  # a Cyrillic es (U+0441) among Latin letters
    ("demo1@c4ang.\u0441om", "confusable_characters"),
    ("d\u0435mo1@c4ang.com", "invalid"),  # a Cyrillic ie (U+0435) in the local part, which must be ASCII
]


@pytest.fixture
def demo1():
    return CustomerFactory(email="demo1@c4ang.com")


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def register(client, email: str):
    return client.post(REGISTER, {"email": email, "password": PASSWORD, "name": "닮은꼴"}, format="json")


def assert_refused_on_email(response, code: str):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [("email", code)]


def logins() -> list[tuple[str, str | None]]:
    """Every login's email and its customer profile's (None for staff)."""
    return sorted(
        (user.email, getattr(getattr(user, "customer", None), "email", None))
        for user in User.objects.select_related("customer")
    )


# --- sign-in --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", SAME_ACCOUNT)
def test_sign_in_finds_the_account_whatever_the_case_or_width(api_client, demo1, typed):
    response = sign_in(api_client, typed)

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(demo1.user.pk)


@pytest.mark.parametrize(("typed", "code"), REFUSED)
def test_sign_in_with_an_address_no_account_can_have_is_a_400_on_the_email(api_client, demo1, typed, code):
    assert_refused_on_email(sign_in(api_client, typed), code)
    assert AccessAttempt.objects.count() == 0  # no password was checked


def test_an_idna_domain_signs_in_in_either_spelling(api_client):
    registered = register(api_client, "Kim@xn--3e0b707e.kr")

    assert registered.status_code == 201
    assert registered.json()["customer"]["email"] == "kim@한국.kr"
    assert sign_in(api_client, "KIM@한국.KR").status_code == 200
    assert sign_in(api_client, "kim@XN--3E0B707E.kr").status_code == 200


def test_the_per_account_sign_in_limit_counts_every_spelling_as_one_account(
    api_client, demo1, monkeypatch, throttle_clock
):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth_account": "3/min"}
    monkeypatch.setattr(SignInAccountThrottle, "THROTTLE_RATES", rates)

    statuses = [
        sign_in(api_client, typed, "guess", REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n, typed in enumerate(["demo1@c4ang.com", "DEMO1@c4ang.com", FULLWIDTH, "Demo1@C4ang.com"])
    ]

    assert statuses == [401, 401, 401, 429]


def test_the_lockout_counts_every_spelling_as_one_account(api_client, demo1, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)

    failures = [sign_in(api_client, typed, "guess").status_code for typed in ("DEMO1@c4ang.com", FULLWIDTH)]
    locked = sign_in(api_client, "demo1@C4ANG.com", "guess")
    right_password = sign_in(api_client, "demo1@c4ang.com")

    assert failures == [401, 401]
    assert (locked.status_code, locked.json()["code"]) == (429, "sign_in_locked")
    assert (right_password.status_code, right_password.json()["code"]) == (429, "sign_in_locked")
    # One account, one address: the try while locked out counted as well.
    assert list(AccessAttempt.objects.values_list("username", "failures_since_start")) == [("demo1@c4ang.com", 4)]


# --- registration and staff's customer forms -------------------------------------------------------


@pytest.mark.parametrize("look_alike", SAME_ACCOUNT)
def test_a_look_alike_of_a_registered_address_is_that_account(api_client, demo1, look_alike):
    response = register(api_client, look_alike)

    assert response.status_code == 409
    assert response.json()["code"] == "email_already_registered"
    assert logins() == [("demo1@c4ang.com", "demo1@c4ang.com")]


@pytest.mark.parametrize(("look_alike", "code"), REFUSED)
def test_an_address_with_invisible_or_look_alike_characters_is_refused(api_client, demo1, look_alike, code):
    assert_refused_on_email(register(api_client, look_alike), code)
    assert logins() == [("demo1@c4ang.com", "demo1@c4ang.com")]


def test_staff_create_normalises_and_refuses_as_registration_does(staff_client, demo1):
    body = {"password": PASSWORD, "name": "신규"}

    created = staff_client.post(STAFF, {**body, "email": fullwidth("New") + "@Example.KR"}, format="json")
    duplicate = staff_client.post(STAFF, {**body, "email": FULLWIDTH}, format="json")
    invisible = staff_client.post(STAFF, {**body, "email": "new2@example.kr\u200b"}, format="json")

    assert (created.status_code, created.json()["email"]) == (201, "new@example.kr")
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "email_already_registered")
    assert_refused_on_email(invisible, "invisible_character")
    assert logins() == [
        ("demo1@c4ang.com", "demo1@c4ang.com"),
        ("new@example.kr", "new@example.kr"),
        ("staff@c4ang.com", None),
    ]
    listed = staff_client.get(STAFF).json()["results"]
    assert sorted(customer["email"] for customer in listed) == ["demo1@c4ang.com", "new@example.kr"]


def test_profile_updates_never_change_the_email(customer_client, staff_client, customer):
    mine = customer_client.patch(ME, {"email": "other@example.kr", "name": "새 이름"}, format="json")
    staff = staff_client.patch(f"{STAFF}{customer.pk}/", {"email": "x@example.kr", "phone": "02-1"}, format="json")

    assert (mine.status_code, mine.json()["email"]) == (200, customer.email)
    assert (staff.status_code, staff.json()["email"]) == (200, customer.email)
    assert logins()[0] == (customer.email, customer.email)


# --- create_staff, the admin ------------------------------------------------------------------------


def test_create_staff_stores_the_normal_form(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a long staff passphrase")

    call_command("create_staff", fullwidth("Ops") + "@C4ang.COM", "--password-env", "NEW_STAFF_PASSWORD")
    call_command("create_staff", "OPS@c4ang.com", "--password-env", "NEW_STAFF_PASSWORD", "--superuser")

    assert list(User.objects.values_list("email", "is_staff", "is_superuser")) == [("ops@c4ang.com", True, True)]


def test_create_staff_refuses_an_invisible_character_and_creates_nothing(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a long staff passphrase")

    with pytest.raises(CommandError, match="email_invalid: The email address contains invisible characters: U\\+200B"):
        call_command("create_staff", "ops@c4ang.com\u200b", "--password-env", "NEW_STAFF_PASSWORD")

    assert User.objects.count() == 0


@pytest.mark.parametrize("typed", ["STAFF@C4ANG.COM", fullwidth("staff@c4ang.com")])
def test_the_admin_sign_in_finds_the_account_whatever_the_case_or_width(staff_user, typed):
    browser = Client(enforce_csrf_checks=True)

    response = admin_sign_in(browser, typed, STAFF_PASSWORD)

    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(staff_user.pk)


def test_the_admin_sign_in_refuses_an_invisible_character_on_its_field(staff_user):
    response = admin_sign_in(Client(enforce_csrf_checks=True), "staff@c4ang.com\u200b", STAFF_PASSWORD)

    assert response.status_code == 200  # the form again
    assert response.context["form"].errors["username"] == [
        "The email address contains invisible characters: U+200B ZERO WIDTH SPACE."
    ]
    assert AccessAttempt.objects.count() == 0


def test_the_admin_user_form_stores_the_normal_form_and_the_profile_follows(staff_user, customer):
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    browser = Client()
    browser.force_login(staff_user)
    url = f"/admin/customers/user/{customer.user.pk}/change/"
    form = browser.get(url).context["adminform"].form
    typed = fullwidth("Kim") + "@" + fullwidth("E") + "xample.KR"
    fields = {**form.initial, "email": typed, "groups": [], "user_permissions": []}
    fields = {name: value for name, value in fields.items() if value is not None and name != "password"}
    fields["date_joined_0"], fields["date_joined_1"] = "2026-11-01", "10:00:00"

    saved = browser.post(url, fields)
    look_alike = browser.post(f"/admin/customers/user/{staff_user.pk}/change/", {**fields, "email": "KIM@example.kr"})

    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert look_alike.context["adminform"].form.errors["email"] == ["User with this Email already exists."]
    assert logins() == [("kim@example.kr", "kim@example.kr"), ("staff@c4ang.com", None)]


# --- the data migration -------------------------------------------------------------------------------


def run_migration():
    # Its RunPython function, on this app registry and the test's connection (as migrate calls it).
    migration = importlib.import_module("customers.migrations.0002_emails_in_normal_form")
    migration.emails_to_normal_form(apps, SimpleNamespace(connection=connection))


def stored_as(customer: Customer, email: str) -> Customer:
    """Put `email` on the customer and its login as an earlier version stored it, unnormalised."""
    User.objects.filter(pk=customer.user_id).update(email=email)
    Customer.objects.filter(pk=customer.pk).update(email=email)
    return customer


def test_the_migration_puts_earlier_emails_in_their_normal_form():
    stored_as(CustomerFactory(), "Kim@" + fullwidth("E") + "xample.KR")
    stored_as(CustomerFactory(), "lee@xn--3e0b707e.kr")
    Customer.objects.filter(pk=CustomerFactory(email="park@example.kr").pk).update(email="Park@old.example.kr")
    StaffFactory(email="ops@c4ang.com")

    run_migration()

    assert logins() == [
        ("kim@example.kr", "kim@example.kr"),
        ("lee@한국.kr", "lee@한국.kr"),
        ("ops@c4ang.com", None),
        ("park@example.kr", "park@example.kr"),  # the profile follows its login
    ]


TWIN = "DEMO1@" + fullwidth("c4ang") + ".com"


def test_the_migration_stops_on_look_alikes_and_bad_addresses_and_changes_nothing():
    CustomerFactory(email="demo1@c4ang.com")
    twin = stored_as(CustomerFactory(), TWIN)
    hidden = stored_as(CustomerFactory(), "demo2@c4ang.com\u200b")
    stored_as(CustomerFactory(), "Lee@Example.kr")
    before = logins()

    with pytest.raises(RuntimeError) as refused:
        run_migration()

    real = User.objects.get(email="demo1@c4ang.com").pk
    both = ", ".join(f"{pk} {email!r}" for pk, email in sorted([(real, "demo1@c4ang.com"), (twin.user_id, TWIN)]))
    assert str(refused.value).splitlines() == [
        "2 login email(s) cannot be put in their normal form. Nothing was changed.",
        "Give each login its own valid address (admin: Users), then run migrate again:",
        f"  {hidden.user_id} 'demo2@c4ang.com\\u200b': The email address contains invisible characters: "
        "U+200B ZERO WIDTH SPACE.",
        f"  'demo1@c4ang.com' is the normal form of 2 logins: {both}",
    ]
    assert logins() == before
