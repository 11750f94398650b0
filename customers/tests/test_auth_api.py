"""Register, sign in, refresh and `me` through the API; bad input gets the error shape, never a 500."""

import pytest

from customers.models import Customer, User

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/customers/register/"
TOKEN = "/api/v1/customers/token/"
REFRESH = "/api/v1/customers/token/refresh/"
ME = "/api/v1/customers/me/"
PASSWORD = "correct horse battery staple"


def register(client, **overrides):
    body = {"email": "Kim.Minji@Example.kr", "password": PASSWORD, "name": "김민지", "phone": "010-1234-5678"}
    body.update(overrides)
    return client.post(REGISTER, body, format="json")


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == code
    assert body["message"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body


def test_register_sign_in_and_read_me(api_client):
    registered = register(api_client)
    assert registered.status_code == 201
    assert registered.json()["customer"]["email"] == "kim.minji@example.kr"

    tokens = api_client.post(TOKEN, {"email": "kim.minji@example.kr", "password": PASSWORD}, format="json")
    assert tokens.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")

    me = api_client.get(ME)
    assert me.status_code == 200
    assert me.json()["name"] == "김민지"
    assert me.json()["phone"] == "010-1234-5678"
    assert me.json()["id"] == str(Customer.objects.get().id)


def test_me_update_changes_only_own_profile(customer_client, customer_factory):
    other = customer_factory(name="다른 고객")

    response = customer_client.patch(ME, {"name": "새 이름", "phone": "02-123-4567"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "새 이름"
    other.refresh_from_db()
    assert other.name == "다른 고객"


def test_refresh_rotates_the_refresh_token(api_client, customer):
    tokens = api_client.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json").json()

    refreshed = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access", "refresh", "token_type", "expires_in", "refresh_expires_in"}
    assert refreshed.json()["refresh"] != tokens["refresh"]


def test_duplicate_email_is_a_conflict_and_creates_nothing(api_client):
    register(api_client)

    response = register(api_client, email="KIM.MINJI@example.kr", name="다른 사람")

    assert_error(response, 409, "email_already_registered", "email")
    assert User.objects.count() == 1
    assert Customer.objects.count() == 1


def test_weak_password_is_refused_with_the_field(api_client):
    response = register(api_client, password="1234")

    assert_error(response, 400, "password_invalid", "password")
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "김"}, "email", "invalid"),
        ({"password": PASSWORD, "name": "김"}, "email", "required"),
        ({"email": "a@b.kr", "password": PASSWORD, "name": ["list"]}, "name", "invalid"),
        ({"email": "a@b.kr", "password": PASSWORD, "name": "김", "phone": "call me"}, "phone", "invalid"),
        ({"email": "a@b.kr", "password": PASSWORD, "name": "x" * 101}, "name", "max_length"),
    ],
)
def test_invalid_registration_names_the_field(api_client, body, field, code):
    response = api_client.post(REGISTER, body, format="json")

    assert_error(response, 400, "validation_error", field)
    assert code in [error["code"] for error in response.json()["errors"] if error["field"] == field]
    assert User.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"null", b'"text"'])
def test_malformed_body_is_a_400(api_client, raw):
    response = api_client.post(REGISTER, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "validation_error"}


def test_wrong_password_is_401_with_code(api_client, customer):
    response = api_client.post(TOKEN, {"email": customer.email, "password": "wrong password"}, format="json")

    assert_error(response, 401, "no_active_account")


def test_token_request_without_fields_is_400(api_client):
    response = api_client.post(TOKEN, {"email": 5}, format="json")

    assert_error(response, 400, "validation_error", "password")


def test_me_without_token_is_401(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_me_with_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    assert_error(api_client.get(ME), 401, "token_not_valid")


def test_staff_without_profile_gets_404_on_me(staff_client):
    assert_error(staff_client.get(ME), 404, "customer_not_found")


def test_auth_endpoints_are_throttled(api_client, monkeypatch, throttle_clock):
    from rest_framework.settings import api_settings

    from c4ang.api.throttling import AuthRateThrottle

    # monkeypatch restores the class attribute: a limit set here must not leak into later tests.
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "3/min"})

    statuses = [
        api_client.post(TOKEN, {"email": "x@y.kr", "password": "nope"}, format="json").status_code for _ in range(4)
    ]

    assert statuses == [401, 401, 401, 429]


def test_sign_in_is_throttled_per_account_across_ips(api_client, customer, monkeypatch, throttle_clock):
    from rest_framework.settings import api_settings

    from c4ang.api.throttling import SignInAccountThrottle

    monkeypatch.setattr(
        SignInAccountThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "auth_account": "3/min"}
    )

    statuses = [
        api_client.post(
            TOKEN, {"email": customer.email.upper(), "password": "guess"}, format="json", REMOTE_ADDR=f"10.0.0.{n}"
        ).status_code
        for n in range(4)
    ]
    other_account = api_client.post(TOKEN, {"email": "other@example.kr", "password": "guess"}, format="json")

    assert statuses == [401, 401, 401, 429]
    assert other_account.status_code == 401
