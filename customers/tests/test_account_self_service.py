"""Account self-service through the API: sign-up answers a token pair, every token answer says how
long it lasts, changing the password and resetting it by mail revoke the account's refresh tokens,
and the reset tells nobody whether an address has an account."""

import itertools
import re
import threading
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from celery import current_app
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from c4ang.api.throttling import AuthRateThrottle
from conftest import client_for, in_threads
from customers import api, services
from customers.models import User
from customers.tests.factories import PASSWORD, CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/customers/register/"
TOKEN = "/api/v1/customers/token/"
REFRESH = "/api/v1/customers/token/refresh/"
ME = "/api/v1/customers/me/"
CHANGE = "/api/v1/customers/me/password/"
RESET = "/api/v1/customers/password-reset/"
CONFIRM = "/api/v1/customers/password-reset/confirm/"
NEW_PASSWORD = "jeju winter sunrise 7"
TOKEN_KEYS = {"access", "refresh", "token_type", "expires_in", "refresh_expires_in"}


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert [error["field"] for error in body["errors"]] == [field], body


def sign_in(email: str, password: str):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


def assert_lifetimes(body: dict):
    """The pair's stated lifetimes are the ones its tokens carry."""
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() == 900
    assert body["refresh_expires_in"] == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds() == 604800
    for token, lifetime in ((body["access"], body["expires_in"]), (body["refresh"], body["refresh_expires_in"])):
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == lifetime


# --- sign-up, sign-in and refresh answer a token pair with its lifetimes ----------------------------


def test_sign_up_answers_the_profile_and_a_token_pair_that_works(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "Kim.Minji@Example.kr", "password": PASSWORD, "name": "김민지", "phone": "010-1234-5678"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"customer", *TOKEN_KEYS}
    assert body["customer"]["email"] == "kim.minji@example.kr"
    assert body["customer"]["name"] == "김민지"
    assert_lifetimes(body)
    user = User.objects.get(email="kim.minji@example.kr")
    assert OutstandingToken.objects.filter(user=user).count() == 1
    signed_in = APIClient()
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert signed_in.get(ME).json()["id"] == body["customer"]["id"]
    assert refresh(body["refresh"]).status_code == 200


def test_sign_in_and_refresh_say_how_long_their_tokens_last(customer):
    signed_in = sign_in(customer.email, PASSWORD)
    refreshed = refresh(signed_in.json()["refresh"])

    assert signed_in.status_code == refreshed.status_code == 200
    assert set(signed_in.json()) == set(refreshed.json()) == TOKEN_KEYS
    assert_lifetimes(signed_in.json())
    assert_lifetimes(refreshed.json())


# --- change password --------------------------------------------------------------------------------


def test_changing_the_password_revokes_every_refresh_token_and_answers_a_new_pair(customer):
    # Given the customer signed in on two devices
    phone, laptop = sign_in(customer.email, PASSWORD).json(), sign_in(customer.email, PASSWORD).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {phone['access']}")

    # When they change the password on the phone
    response = client.post(CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")

    # Then the answer is a new pair, and only the new password signs in
    assert response.status_code == 200, response.content
    assert set(response.json()) == TOKEN_KEYS
    assert_lifetimes(response.json())
    assert_error(sign_in(customer.email, PASSWORD), 401, "no_active_account")
    assert sign_in(customer.email, NEW_PASSWORD).status_code == 200
    # Neither device's refresh token is exchanged any more; the new pair's is
    assert_error(refresh(phone["refresh"]), 401, "token_not_valid")
    assert_error(refresh(laptop["refresh"]), 401, "token_not_valid")
    assert refresh(response.json()["refresh"]).status_code == 200
    # The access token it was changed with lapses on its own (JWT_ACCESS_MINUTES)
    assert client.get(ME).status_code == 200


def test_a_wrong_current_password_is_refused_and_changes_nothing(customer):
    earlier = sign_in(customer.email, PASSWORD).json()
    before = customer.user.password

    response = client_for(customer.user).post(
        CHANGE, {"old_password": "not my password", "new_password": NEW_PASSWORD}, format="json"
    )

    assert_error(response, 400, "password_incorrect", "old_password")
    customer.user.refresh_from_db()
    assert customer.user.password == before
    assert BlacklistedToken.objects.count() == 0
    assert refresh(earlier["refresh"]).status_code == 200


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [("12345678901", "entirely numeric"), ("short1", "too short"), ("password123", "too common")],
    ids=["digits", "short", "common"],
)
def test_a_new_password_breaking_a_rule_is_refused_naming_the_field(customer, new_password, rule):
    response = client_for(customer.user).post(
        CHANGE, {"old_password": PASSWORD, "new_password": new_password}, format="json"
    )

    assert_error(response, 400, "password_invalid", "new_password")
    assert rule in response.json()["message"]
    assert sign_in(customer.email, PASSWORD).status_code == 200


def test_the_documented_password_rules_are_the_configured_validators(api_client):
    # A change to AUTH_PASSWORD_VALIDATORS must change PASSWORD_RULES (the schema's description) too.
    assert [validator["NAME"].rsplit(".", 1)[-1] for validator in settings.AUTH_PASSWORD_VALIDATORS] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert all("OPTIONS" not in validator for validator in settings.AUTH_PASSWORD_VALIDATORS)  # 8 characters
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    assert api.PASSWORD_RULES in components["RegisterInputRequest"]["properties"]["password"]["description"]
    assert api.PASSWORD_RULES in components["PasswordChangeInputRequest"]["properties"]["new_password"]["description"]
    assert (
        api.PASSWORD_RULES
        in components["PasswordResetConfirmInputRequest"]["properties"]["new_password"]["description"]
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_password_change_leaves_no_refresh_token_but_the_new_pair(customer):
    # Given a refresh token (a stolen copy) exchanged at the moment its owner changes the password,
    # a few times over: which of the two goes first varies from round to round
    passwords = [PASSWORD, *(f"{NEW_PASSWORD} round {n}" for n in range(5))]
    for old, new in itertools.pairwise(passwords):
        start = threading.Barrier(2)
        stolen = sign_in(customer.email, old).json()["refresh"]
        owner = client_for(customer.user)

        def exchange(stolen=stolen, start=start):
            start.wait(timeout=30)
            return refresh(stolen)

        def change(owner=owner, start=start, old=old, new=new):
            start.wait(timeout=30)
            return owner.post(CHANGE, {"old_password": old, "new_password": new}, format="json")

        exchanged, changed = in_threads([exchange, change])

        # Then whichever ran first, the thief holds no refresh token that still works
        assert changed.status_code == 200, changed.content
        assert exchanged.status_code in (200, 401)
        if exchanged.status_code == 200:
            assert_error(refresh(exchanged.json()["refresh"]), 401, "token_not_valid")
        kept = OutstandingToken.objects.filter(user=customer.user, blacklistedtoken__isnull=True)
        assert list(kept.values_list("token", flat=True)) == [changed.json()["refresh"]]
        customer.user.refresh_from_db()


# --- password reset by mail -------------------------------------------------------------------------


@pytest.fixture
def mail_in_process(settings):
    """The reset mail is sent in the request, as in the embedded default (no Celery worker)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PASSWORD_RESET_URL = "https://shop.example/reset?uid={uid}&token={token}"


def ask_reset(email: str, ip: str = "203.0.113.7", language: str = "en"):
    return APIClient().post(RESET, {"email": email}, format="json", REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)


def mailed_link(message) -> dict:
    link = re.search(r"https://shop\.example/reset\?\S+", message.body).group(0)
    query = parse_qs(urlsplit(link).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def test_a_reset_link_is_mailed_in_korean_and_sets_a_new_password_once(mail_in_process, customer):
    earlier = sign_in(customer.email, PASSWORD).json()

    asked = ask_reset(customer.email.upper(), language="ko-KR,ko;q=0.9")

    assert asked.status_code == 202
    assert asked.content == b""
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "[C4ang] 비밀번호 재설정 안내"
    assert f"{customer.name}님, 안녕하세요." in message.body
    assert "60분 동안 한 번만 사용하실 수 있습니다" in message.body
    link = mailed_link(message)

    confirmed = APIClient().post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")

    assert confirmed.status_code == 204, confirmed.content
    assert sign_in(customer.email, NEW_PASSWORD).status_code == 200
    assert_error(sign_in(customer.email, PASSWORD), 401, "no_active_account")
    assert_error(refresh(earlier["refresh"]), 401, "token_not_valid")
    used_again = APIClient().post(CONFIRM, {**link, "new_password": "another fine password 9"}, format="json")
    assert_error(used_again, 400, "reset_token_invalid", "token")
    assert sign_in(customer.email, NEW_PASSWORD).status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail_in_process, customer):
    known, unknown = ask_reset(customer.email), ask_reset("nobody@example.kr")

    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, b"")
    assert [message.to for message in mail.outbox] == [[customer.email]]


@pytest.mark.parametrize("who", ["staff", "deactivated", "deleted"])
def test_no_reset_mail_goes_to_staff_or_to_a_login_that_cannot_sign_in(mail_in_process, who):
    if who == "staff":
        email = StaffFactory().email
    else:
        customer = CustomerFactory()
        if who == "deactivated":
            services.customer_staff_update(customer_id=customer.pk, is_active=False)
        else:
            services.customer_delete(user=customer.user, password=PASSWORD)
        email = customer.email

    assert ask_reset(email).status_code == 202
    assert mail.outbox == []


@pytest.fixture
def reset_link(mail_in_process, customer) -> dict:
    ask_reset(customer.email)
    return mailed_link(mail.outbox[0])


def test_an_expired_reset_link_is_refused(reset_link, customer, monkeypatch):
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)

    response = APIClient().post(CONFIRM, {**reset_link, "new_password": NEW_PASSWORD}, format="json")

    assert_error(response, 400, "reset_token_invalid", "token")
    assert sign_in(customer.email, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "altered",
    [
        {"token": "cd8k2p-0000000000000000000000000000"},
        {"uid": "bm90LWEtdXVpZA"},  # base64 of "not-a-uuid"
        {"uid": "%%%"},
        {"uid": "MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"},  # an id no login has
    ],
    ids=["token", "uid-not-uuid", "uid-not-base64", "uid-unknown"],
)
def test_an_altered_reset_link_is_refused(reset_link, customer, altered):
    response = APIClient().post(CONFIRM, {**reset_link, **altered, "new_password": NEW_PASSWORD}, format="json")

    assert_error(response, 400, "reset_token_invalid", "token")
    assert sign_in(customer.email, PASSWORD).status_code == 200


def test_a_weak_new_password_keeps_the_link_usable(reset_link, customer):
    weak = APIClient().post(CONFIRM, {**reset_link, "new_password": "12345678901"}, format="json")
    strong = APIClient().post(CONFIRM, {**reset_link, "new_password": NEW_PASSWORD}, format="json")

    assert_error(weak, 400, "password_invalid", "new_password")
    assert strong.status_code == 204


def test_resets_are_limited_per_address_whoever_asks(mail_in_process, customer, monkeypatch, throttle_clock):
    # Given a limit of 2 reset mails an hour for one address (THROTTLE_PASSWORD_RESET)
    rates = {**api.PasswordResetAccountThrottle.THROTTLE_RATES, "password_reset": "2/hour"}
    monkeypatch.setattr(api.PasswordResetAccountThrottle, "THROTTLE_RATES", rates)

    # When three addresses ask for the customer's address, and for an unknown one
    answers = [ask_reset(customer.email, ip=f"198.51.100.{n}").status_code for n in range(3)]
    unknown = [ask_reset("nobody@example.kr", ip=f"192.0.2.{n}").status_code for n in range(3)]
    other = ask_reset(CustomerFactory().email, ip="198.51.100.9")

    # Then the third is refused for both alike, and another address is not held back
    assert answers == unknown == [202, 202, 429]
    assert other.status_code == 202
    assert len(mail.outbox) == 3  # two for the customer, one for the other address
    throttle_clock.advance(3600)
    assert ask_reset(customer.email, ip="198.51.100.1").status_code == 202


def test_resets_share_the_per_ip_limit_of_the_auth_endpoints(mail_in_process, monkeypatch, throttle_clock):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {**AuthRateThrottle.THROTTLE_RATES, "auth": "2/min"})

    answers = [ask_reset(f"someone{n}@example.kr").status_code for n in range(3)]

    assert answers == [202, 202, 429]


def test_with_a_worker_the_request_only_queues_the_mail(settings, customer, monkeypatch):
    # Given a Celery worker's broker (not the embedded default)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queued = []
    monkeypatch.setattr(current_app, "send_task", lambda name, kwargs: queued.append((name, kwargs)))

    response = ask_reset(customer.email, language="ko")

    # Then the answer comes before any look-up or mail: the task does both, in the request's language
    assert response.status_code == 202
    assert queued == [(services.RESET_MAIL_TASK, {"email": customer.email, "language": "ko"})]
    assert mail.outbox == []
    current_app.loader.import_default_modules()  # the task modules a worker loads at start
    current_app.tasks[services.RESET_MAIL_TASK].apply(kwargs=queued[0][1]).get()
    assert [(message.to, message.subject) for message in mail.outbox] == [
        ([customer.email], "[C4ang] 비밀번호 재설정 안내")
    ]


def test_a_broker_that_cannot_be_reached_is_a_503_whatever_the_address(settings, customer, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def unreachable(name, kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(current_app, "send_task", unreachable)

    for email in (customer.email, "nobody@example.kr"):
        assert_error(ask_reset(email), 503, "mail_queue_unavailable")
    assert mail.outbox == []


def test_the_embedded_default_writes_mail_under_var_and_production_sends_by_smtp(tmp_path):
    from c4ang.tests.test_settings import PRODUCTION_KEY, manage

    show = "from django.conf import settings; print(settings.EMAIL_BACKEND); print(settings.EMAIL_FILE_PATH)"
    embedded = manage("shell", "--no-imports", "-c", show, C4ANG_VAR_DIR=str(tmp_path))
    production = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        C4ANG_ENV="production",
        ALLOWED_HOSTS="api.c4ang.com",
        SECRET_KEY=PRODUCTION_KEY,
    )

    assert embedded.stdout.split() == ["django.core.mail.backends.filebased.EmailBackend", str(tmp_path / "mail")]
    assert production.stdout.split()[0] == "django.core.mail.backends.smtp.EmailBackend", production.stderr


def test_a_reset_url_without_its_placeholders_is_refused_at_start():
    from c4ang.tests.test_settings import manage

    result = manage("check", PASSWORD_RESET_URL="https://shop.example/reset")

    assert result.returncode != 0
    assert "PASSWORD_RESET_URL must hold {uid} and {token}" in result.stderr


def test_refresh_tokens_revoke_all_skips_expired_and_revoked_ones(customer):
    live, revoked = RefreshToken.for_user(customer.user), RefreshToken.for_user(customer.user)
    revoked.blacklist()
    expired = OutstandingToken.objects.get(jti=RefreshToken.for_user(customer.user)["jti"])
    expired.expires_at = expired.created_at - timedelta(seconds=1)
    expired.save()

    assert services.refresh_tokens_revoke_all(user_id=customer.user.pk) == 1
    assert set(BlacklistedToken.objects.values_list("token__jti", flat=True)) == {live["jti"], revoked["jti"]}
