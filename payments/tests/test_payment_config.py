"""GET /api/v1/payments/config/: the active PG, its public client key and the methods on offer, for
anyone (an app shows them at checkout); and the configuration check of Toss's client key."""

import pytest
from django.core.checks import run_checks
from django.urls import reverse

from payments import selectors
from payments.constants import Bank

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/payments/config/"
BANKS = [{"code": bank.value, "name": bank.label} for bank in Bank]


def test_the_sandbox_has_no_client_key_and_offers_cards_and_virtual_accounts(api_client, settings):
    settings.ORDER_VIRTUAL_ACCOUNT_DAYS, settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 5, 20

    response = api_client.get(CONFIG)

    assert response.status_code == 200
    assert response.json() == {
        "gateway": "fake",
        "client_key": "",
        "currency": "KRW",
        "methods": [
            {"method": "card", "name": "Card", "banks": []},
            {"method": "virtual_account", "name": "Virtual account (가상계좌)", "banks": BANKS},
        ],
        "virtual_account_due_days": 5,
        "payment_timeout_minutes": 20,
    }
    assert {"code": "88", "name": "Shinhan Bank"} in response.json()["methods"][1]["banks"]
    # In Korean (the platform's default) the banks and methods go by the names customers know.
    korean = api_client.get(CONFIG, HTTP_ACCEPT_LANGUAGE="ko").json()["methods"]
    assert [method["name"] for method in korean] == ["카드", "가상계좌"]
    assert {"code": "88", "name": "신한은행"} in korean[1]["banks"]
    assert len(BANKS) == 15


def test_toss_hands_out_its_public_client_key(api_client, customer_client, settings):
    settings.PAYMENT_GATEWAY, settings.TOSS_SECRET_KEY = "toss", "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
    settings.TOSS_CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"

    anonymous, signed_in = api_client.get(CONFIG).json(), customer_client.get(CONFIG).json()

    assert (anonymous["gateway"], anonymous["client_key"]) == ("toss", "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq")
    assert signed_in == anonymous
    assert "test_sk_" not in str(anonymous)  # the secret key never leaves the server


def test_the_configuration_reads_nothing_from_the_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert api_client.get(CONFIG).status_code == 200


def test_the_confirm_url_handed_to_apps_is_where_the_confirm_is_mounted():
    assert selectors.CONFIRM_URL == reverse("payments-confirm") == "/api/v1/payments/confirm/"


@pytest.mark.parametrize(
    ("gateway", "client_key", "warned"),
    [("toss", "", True), ("toss", "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq", False), ("fake", "", False)],
)
def test_toss_without_its_client_key_is_a_configuration_warning(settings, gateway, client_key, warned):
    settings.PAYMENT_GATEWAY, settings.TOSS_SECRET_KEY, settings.TOSS_CLIENT_KEY = gateway, "test_sk_x", client_key

    ids = [message.id for message in run_checks()]

    assert ("payments.W001" in ids) is warned
