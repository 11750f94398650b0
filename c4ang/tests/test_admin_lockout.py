"""Admin sign-in guessing is locked out (django-axes): real form posts with their CSRF token."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
STAFF_PASSWORD = "staff password 1234"


@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)


def admin_sign_in(client: Client, username: str, password: str):
    form = client.get(LOGIN)
    assert form.status_code == 200
    token = form.context["csrf_token"]
    return client.post(
        LOGIN, {"username": username, "password": password, "csrfmiddlewaretoken": str(token), "next": "/admin/"}
    )


def test_the_form_refuses_a_post_without_its_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)

    response = client.post(LOGIN, {"username": staff_user.email, "password": STAFF_PASSWORD})

    assert response.status_code == 403
    assert AccessAttempt.objects.count() == 0


def test_repeated_failures_lock_the_admin_sign_in(staff_user, lockout):
    browser = Client(enforce_csrf_checks=True)

    wrong = [admin_sign_in(browser, staff_user.email, "guess") for _ in range(2)]
    locked = admin_sign_in(browser, staff_user.email, "guess")
    right_password = admin_sign_in(browser, staff_user.email, STAFF_PASSWORD)

    assert [response.status_code for response in wrong] == [200, 200]  # the form again, with its error
    assert b"Please enter the correct email" in wrong[0].content
    for response in (locked, right_password):
        assert response.status_code == 429
        assert b'id="sign-in-locked"' in response.content
        assert b"3 failed sign-ins for staff@c4ang.com" in response.content
        assert b"0:30:00" in response.content
    assert "_auth_user_id" not in browser.session
    assert browser.get("/admin/").status_code == 302


def test_another_address_and_the_cool_off_are_not_locked(staff_user, lockout, settings):
    for _ in range(3):
        admin_sign_in(Client(enforce_csrf_checks=True), staff_user.email, "guess")

    elsewhere = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.4.4.4")
    signed_in = admin_sign_in(elsewhere, staff_user.email, STAFF_PASSWORD)
    assert signed_in.status_code == 302
    assert elsewhere.get("/admin/").status_code == 200

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)
    after_cool_off = Client(enforce_csrf_checks=True)
    assert admin_sign_in(after_cool_off, staff_user.email, STAFF_PASSWORD).status_code == 302
    assert after_cool_off.get("/admin/").status_code == 200
    assert AccessAttempt.objects.count() == 0  # the success cleared the count


def test_admin_and_api_failures_count_for_the_same_account(api_client, staff_user, lockout):
    for _ in range(2):
        admin_sign_in(Client(enforce_csrf_checks=True), staff_user.email.upper(), "guess")

    api = api_client.post("/api/v1/customers/token/", {"email": staff_user.email, "password": "guess"}, format="json")

    assert api.status_code == 429
    assert api.json()["code"] == "sign_in_locked"
    assert b'id="sign-in-locked"' in admin_sign_in(Client(), staff_user.email, STAFF_PASSWORD).content


def test_staff_can_unlock_an_account_by_deleting_its_attempt(staff_user, lockout):
    for _ in range(3):
        admin_sign_in(Client(enforce_csrf_checks=True), "customer@example.kr", "guess")
    staff_user.is_superuser = True
    staff_user.save()
    admin = Client(REMOTE_ADDR="10.5.5.5")
    admin.force_login(staff_user)
    attempt = AccessAttempt.objects.get()

    listed = admin.get("/admin/axes/accessattempt/")
    no_add = admin.get("/admin/axes/accessattempt/add/")
    admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert b"customer@example.kr" in listed.content
    assert no_add.status_code == 403
    assert AccessAttempt.objects.count() == 0
