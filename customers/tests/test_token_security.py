"""The JWTs: expiry, one-use refresh tokens (rotation with a blacklist), sign-out, tampering; the auth
endpoints' request limits; the sign-in lockout shared with the admin (django-axes)."""

import base64
import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from c4ang.api.throttling import AuthRateThrottle
from conftest import client_for
from customers.models import User
from customers.tasks import flush_expired_tokens

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/customers/register/"
TOKEN = "/api/v1/customers/token/"
REFRESH = "/api/v1/customers/token/refresh/"
LOGOUT = "/api/v1/customers/logout/"
ME = "/api/v1/customers/me/"
PASSWORD = "correct horse battery staple"


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == code
    assert body["message"]
    if status != 400:  # about the request as a whole (the token, the account), not one of its fields
        assert body["errors"] == [], body


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def bearer(client, access: str):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# --- access tokens -------------------------------------------------------------------------------


def test_an_expired_access_token_is_refused(api_client, customer):
    token = AccessToken.for_user(customer.user)
    token.set_exp(lifetime=timedelta(seconds=-1))

    assert_error(bearer(api_client, str(token)).get(ME), 401, "token_not_valid")
    token.set_exp()  # the same token, valid again: the refusal was the expiry
    assert bearer(api_client, str(token)).get(ME).status_code == 200


def test_a_tampered_access_token_is_refused(api_client, customer_factory):
    owner, other = customer_factory(), customer_factory()
    header, payload, signature = str(AccessToken.for_user(owner.user)).split(".")
    claims = unb64(payload)

    as_other = b64({**claims, "user_id": str(other.user.pk)})
    unsigned = b64({**unb64(header), "alg": "none"})

    assert_error(bearer(api_client, f"{header}.{as_other}.{signature}").get(ME), 401, "token_not_valid")
    assert_error(bearer(api_client, f"{unsigned}.{payload}.").get(ME), 401, "token_not_valid")
    assert_error(bearer(api_client, f"{header}.{payload}.{signature[:-4]}AAAA").get(ME), 401, "token_not_valid")
    assert bearer(api_client, f"{header}.{payload}.{signature}").get(ME).json()["id"] == str(owner.id)


def test_a_deactivated_customers_token_is_refused_with_its_code(api_client, customer):
    access = str(AccessToken.for_user(customer.user))
    User.objects.filter(pk=customer.user.pk).update(is_active=False)

    assert_error(bearer(api_client, access).get(ME), 401, "user_inactive")


def test_a_refresh_token_is_not_an_access_token(api_client, customer):
    tokens = sign_in(api_client, customer.email).json()

    assert_error(bearer(api_client, tokens["refresh"]).get(ME), 401, "token_not_valid")


NOT_A_USER_ID = ["not-a-uuid", "", ["list"], {"id": 1}, 2**200, -1, 1.5]


def signed_with_user_id(token, user_id) -> str:
    """The token correctly signed (with the platform's key) but carrying `user_id` as its user id claim."""
    token["user_id"] = user_id
    return str(token)


@pytest.mark.parametrize("user_id", NOT_A_USER_ID)
def test_a_signed_access_token_whose_user_id_is_not_a_uuid_is_refused(api_client, customer, user_id):
    access = signed_with_user_id(AccessToken.for_user(customer.user), user_id)

    assert_error(bearer(api_client, access).get(ME), 401, "token_not_valid")


@pytest.mark.parametrize("user_id", NOT_A_USER_ID)
def test_a_signed_refresh_token_whose_user_id_is_not_a_uuid_is_refused(api_client, customer, user_id):
    refresh = signed_with_user_id(RefreshToken.for_user(customer.user), user_id)

    refreshed = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    logged_out = api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert_error(refreshed, 401, "token_not_valid")
    assert_error(logged_out, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0
    assert OutstandingToken.objects.count() == 1  # the one for_user issued; nothing rotated


def test_a_signed_refresh_token_of_an_unknown_user_is_refused(api_client, customer):
    refresh = signed_with_user_id(RefreshToken.for_user(customer.user), "6f1c2a9e-0000-4000-8000-000000000000")

    refreshed = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert_error(refreshed, 401, "no_active_account")
    assert BlacklistedToken.objects.count() == 0
    assert OutstandingToken.objects.count() == 1


# --- refresh rotation and sign-out ----------------------------------------------------------------


def test_a_rotated_refresh_token_cannot_be_replayed(api_client, customer):
    first = sign_in(api_client, customer.email).json()["refresh"]

    rotated = api_client.post(REFRESH, {"refresh": first}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": first}, format="json")
    second = api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert_error(replayed, 401, "token_not_valid")
    assert second.status_code == 200
    assert bearer(api_client, second.json()["access"]).get(ME).status_code == 200
    assert BlacklistedToken.objects.count() == 2  # the first and the rotated one


def test_a_tampered_refresh_token_is_refused(api_client, customer_factory):
    owner, other = customer_factory(), customer_factory()
    header, payload, signature = sign_in(api_client, owner.email).json()["refresh"].split(".")
    forged = b64({**unb64(payload), "user_id": str(other.user.pk)})

    response = api_client.post(REFRESH, {"refresh": f"{header}.{forged}.{signature}"}, format="json")

    assert_error(response, 401, "token_not_valid")


def test_logout_revokes_the_refresh_token(api_client, customer):
    tokens = sign_in(api_client, customer.email).json()

    logged_out = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    refreshed = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    again = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert logged_out.status_code == 204
    assert logged_out.content == b""
    assert_error(refreshed, 401, "token_not_valid")
    assert_error(again, 401, "token_not_valid")
    # Signing in again starts a new session.
    assert (
        api_client.post(REFRESH, {"refresh": sign_in(api_client, customer.email).json()["refresh"]}).status_code == 200
    )


@pytest.mark.parametrize(
    ("body", "status", "code"), [({}, 400, "validation_error"), ({"refresh": "x.y.z"}, 401, "token_not_valid")]
)
def test_logout_with_bad_input_gets_the_error_shape(api_client, customer, body, status, code):
    assert_error(api_client.post(LOGOUT, body, format="json"), status, code)
    assert BlacklistedToken.objects.count() == 0


def test_logout_is_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = schema["paths"]["/api/v1/customers/logout/"]["post"]
    assert operation["operationId"] == "customers_logout"
    assert set(operation["responses"]) == {"204", "400", "401", "429", "503"}
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "refresh" in json.dumps(schema["components"]["schemas"][body])


# --- request limits of the auth endpoints -----------------------------------------------------------


@pytest.fixture
def auth_rate(monkeypatch, throttle_clock):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "2/min"})


def assert_throttled(response):
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_register_is_limited_per_ip(api_client, auth_rate):
    def register(n, **extra):
        body = {"email": f"new{n}@example.kr", "password": PASSWORD, "name": "신규"}
        return api_client.post(REGISTER, body, format="json", **extra)

    statuses = [register(n).status_code for n in range(2)]
    throttled = register(2)
    other_ip = register(3, REMOTE_ADDR="10.1.2.3")

    assert statuses == [201, 201]
    assert_throttled(throttled)
    assert other_ip.status_code == 201
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "new0@example.kr",
        "new1@example.kr",
        "new3@example.kr",
    ]


def test_refresh_and_logout_are_limited_per_ip(api_client, customer, auth_rate):
    refresh = sign_in(api_client, customer.email, REMOTE_ADDR="10.9.9.9").json()["refresh"]

    refreshed = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    replay = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    throttled_refresh = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    throttled_logout = api_client.post(LOGOUT, {"refresh": refreshed.json()["refresh"]}, format="json")

    assert (refreshed.status_code, replay.status_code) == (200, 401)
    assert_throttled(throttled_refresh)
    assert_throttled(throttled_logout)
    assert BlacklistedToken.objects.count() == 1  # the throttled logout revoked nothing


def test_a_forged_x_forwarded_for_does_not_dodge_the_per_ip_limit(api_client, auth_rate):
    statuses = [
        sign_in(api_client, "x@example.kr", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)
    ]

    assert statuses == [401, 401, 429]


def test_behind_the_gateway_the_address_it_appended_is_the_client(api_client, auth_rate, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}  # TRUSTED_PROXY_COUNT=1

    forged = [
        sign_in(api_client, "x@example.kr", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7").status_code
        for n in range(3)
    ]
    another_client = sign_in(api_client, "x@example.kr", HTTP_X_FORWARDED_FOR="198.51.100.8")

    assert forged == [401, 401, 429]
    assert another_client.status_code == 401
    # The sign-in lockout counts the same address.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7", "198.51.100.8"}


# --- the sign-in lockout (django-axes) --------------------------------------------------------------


def test_repeated_failures_lock_the_account_from_that_address(api_client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)

    failures = [sign_in(api_client, customer.email.upper(), "guess").status_code for _ in range(2)]
    locked = sign_in(api_client, customer.email, "guess")
    right_password = sign_in(api_client, customer.email)
    elsewhere = sign_in(api_client, customer.email, REMOTE_ADDR="10.7.7.7")

    assert failures == [401, 401]
    assert_error(locked, 429, "sign_in_locked")
    assert locked["Retry-After"] == "1800"
    assert_error(right_password, 429, "sign_in_locked")
    assert elsewhere.status_code == 200
    assert AccessAttempt.objects.get(ip_address="127.0.0.1").username == customer.email


def test_the_lockout_lifts_after_the_cool_off(api_client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        sign_in(api_client, customer.email, "guess")
    assert sign_in(api_client, customer.email).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)

    assert sign_in(api_client, customer.email).status_code == 200
    assert AccessAttempt.objects.count() == 0  # a success resets the count


def test_the_lockout_does_not_touch_signed_in_requests(api_client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 1
    sign_in(api_client, customer.email, "guess")

    assert client_for(customer.user).get(ME).status_code == 200


def test_expired_refresh_tokens_are_purged_by_a_daily_job(customer):
    live, expired = RefreshToken.for_user(customer.user), RefreshToken.for_user(customer.user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    BlacklistedToken.objects.create(token=OutstandingToken.objects.get(jti=expired["jti"]))

    flush_expired_tokens()

    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
    assert BlacklistedToken.objects.count() == 0
    job = PeriodicTask.objects.get(name="flush-expired-tokens")
    assert (job.task, job.crontab.minute, job.crontab.hour) == (flush_expired_tokens.name, "30", "4")
