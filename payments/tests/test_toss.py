"""The Toss Payments adapter against a local HTTP server that follows Toss's v1 contract:
confirm, cancel, lookup, Basic auth with the secret key, the stored Idempotency-Key reused on
every retry, {code, message} errors mapped to declines, timeouts, and unsigned webhooks verified
by a lookup."""

import base64
import json
import time
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from conftest import order_line, place_order
from orders.models import Order
from payments.models import Payment, WebhookEvent
from products.models import Product

pytestmark = pytest.mark.django_db

SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
AUTHORIZATION = "Basic " + base64.b64encode(f"{SECRET_KEY}:".encode()).decode()
PAYMENT_KEY = "tgen_20261128150000abCD1"
ORDERS = "/api/v1/orders/"
CONFIRM = "/api/v1/payments/confirm/"
WEBHOOK = "/api/v1/payments/webhooks/toss/"


@pytest.fixture(scope="module")
def toss_server():
    # Threaded: a lookup must be answered while a hanging confirm still holds its handler.
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def toss(toss_server, settings):
    httpserver = toss_server
    settings.PAYMENT_GATEWAY = "toss"
    settings.TOSS_API_BASE_URL = httpserver.url_for("/")
    settings.TOSS_SECRET_KEY = SECRET_KEY
    settings.TOSS_TIMEOUT_SECONDS = 0.3
    settings.TOSS_MAX_RETRIES = 2
    yield httpserver
    httpserver.clear()


def toss_payment(order_id: str, amount: int, status: str = "DONE", payment_key: str = PAYMENT_KEY) -> dict:
    """Toss's Payment object, with the fields a real answer has around the ones we read."""
    return {
        "mId": "tvivarepublica",
        "version": "2022-11-16",
        "paymentKey": payment_key,
        "lastTransactionKey": "txrd_a01jf1hm9yvq1xa3d2bkz5qsq2w",
        "orderId": order_id,
        "orderName": "무선 이어폰 외 1건",
        "status": status,
        "requestedAt": "2026-11-28T15:00:00+09:00",
        "approvedAt": "2026-11-28T15:00:05+09:00",
        "method": "카드",
        "currency": "KRW",
        "totalAmount": amount,
        "balanceAmount": amount if status == "DONE" else 0,
    }


class Recorder:
    """Answers a Toss endpoint from a script of responses and records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, request):
        self.requests.append(
            {"headers": dict(request.headers), "json": request.get_json(silent=True), "path": request.path}
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "hang":
            time.sleep(0.6)  # longer than TOSS_TIMEOUT_SECONDS: the client gives up
            answer = (500, {})
        status, body = answer
        return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def pending_order(customer_client, product_factory):
    product = product_factory(price=Decimal("45000"), stock=3)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()
    return order, product


def confirm(client, order):
    return client.post(
        CONFIRM, {"paymentKey": PAYMENT_KEY, "orderId": order["id"], "amount": order["total_amount"]}, format="json"
    )


def test_confirm_speaks_the_documented_contract(toss, customer_client, pending_order):
    order, _ = pending_order
    recorder = Recorder((200, toss_payment(order["id"], 90000)))
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(recorder)

    response = confirm(customer_client, order)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "APPROVED"
    [request] = recorder.requests
    assert request["headers"]["Authorization"] == AUTHORIZATION
    assert request["json"] == {"paymentKey": PAYMENT_KEY, "orderId": order["id"], "amount": 90000}
    payment = Payment.objects.get()
    assert request["headers"]["Idempotency-Key"] == payment.idempotency_key
    assert len(payment.idempotency_key) <= 300
    assert (payment.provider, payment.pg_transaction_id, payment.payment_key) == ("toss", PAYMENT_KEY, PAYMENT_KEY)
    assert Order.objects.get().status == "PAID"


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "REJECT_CARD_PAYMENT", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
        (400, "INVALID_CARD_EXPIRATION", "카드 정보를 다시 확인해주세요. (유효기간)"),
        (404, "NOT_FOUND_PAYMENT_SESSION", "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다."),
        (401, "UNAUTHORIZED_KEY", "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."),
    ],
)
def test_toss_errors_are_clear_declines_without_retry(toss, customer_client, pending_order, status, code, message):
    order, product = pending_order
    recorder = Recorder((status, {"code": code, "message": message}))
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(recorder)
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_json(
        {"code": "NOT_FOUND_PAYMENT", "message": "존재하지 않는 결제 정보 입니다."}, status=404
    )

    response = confirm(customer_client, order)

    assert response.status_code == 402
    assert response.json()["code"] == "payment_declined"
    assert code in response.json()["message"]
    assert len(recorder.requests) == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code, payment.failure_message) == ("FAILED", code, message)
    assert Order.objects.get().status == "CANCELLED"
    assert Product.objects.get(pk=product.pk).stock == 3


def test_toss_5xx_is_retried_with_the_same_idempotency_key(toss, customer_client, pending_order):
    order, _ = pending_order
    failure = (500, {"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "내부 시스템 처리 작업이 실패했습니다."})
    recorder = Recorder(failure, (409, {"code": "IDEMPOTENT_REQUEST_PROCESSING", "message": "처리 중"}))
    recorder.answers.append((200, toss_payment(order["id"], 90000)))
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(recorder)

    response = confirm(customer_client, order)

    assert response.json()["status"] == "APPROVED"
    keys = {request["headers"]["Idempotency-Key"] for request in recorder.requests}
    assert len(recorder.requests) == 3
    assert keys == {Payment.objects.get().idempotency_key}


def test_no_answer_is_retried_a_bounded_number_of_times_then_settled(toss, customer_client, pending_order):
    order, product = pending_order
    recorder = Recorder("hang")
    lookup = Recorder((404, {"code": "NOT_FOUND_PAYMENT", "message": "존재하지 않는 결제 정보 입니다."}))
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(recorder)
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_handler(lookup)

    response = confirm(customer_client, order)

    assert response.status_code == 504
    assert len(recorder.requests) == 3  # the first try and TOSS_MAX_RETRIES retries
    assert len({request["headers"]["Idempotency-Key"] for request in recorder.requests}) == 1
    # The compensation asked Toss whether the payment went through after all: it did not.
    assert len(lookup.requests) == 1
    assert Payment.objects.get().status == "FAILED"
    assert Order.objects.get().status == "CANCELLED"
    assert Product.objects.get(pk=product.pk).stock == 3


def test_a_payment_approved_despite_the_timeout_is_refunded(toss, customer_client, pending_order):
    order, _ = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_handler(Recorder("hang"))
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_json(toss_payment(order["id"], 90000))
    cancel = Recorder((200, toss_payment(order["id"], 90000, status="CANCELED")))
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}/cancel", method="POST").respond_with_handler(cancel)

    confirm(customer_client, order)

    [request] = cancel.requests
    assert request["json"]["cancelAmount"] == 90000
    assert request["json"]["cancelReason"].startswith("payment_timeout")
    assert Payment.objects.get().status == "REFUNDED"
    assert Order.objects.get().status == "CANCELLED"


def test_already_processed_confirm_is_read_back_from_toss(toss, customer_client, pending_order):
    order, _ = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_json(
        {"code": "ALREADY_PROCESSED_PAYMENT", "message": "이미 처리된 결제 입니다."}, status=400
    )
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_json(toss_payment(order["id"], 90000))

    response = confirm(customer_client, order)

    assert response.json()["status"] == "APPROVED"


def test_cancelling_a_paid_order_cancels_at_toss_with_its_own_key(toss, customer_client, pending_order):
    order, product = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_json(toss_payment(order["id"], 90000))
    cancel = Recorder((200, toss_payment(order["id"], 90000, status="CANCELED")))
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}/cancel", method="POST").respond_with_handler(cancel)
    confirm(customer_client, order)

    response = customer_client.post(f"{ORDERS}{order['id']}/cancel/", {"reason": "단순 변심"}, format="json")

    assert response.json()["status"] == "CANCELLED"
    [request] = cancel.requests
    payment = Payment.objects.get()
    assert request["headers"]["Authorization"] == AUTHORIZATION
    assert request["headers"]["Idempotency-Key"] == f"{payment.idempotency_key}:cancel"
    assert request["json"] == {"cancelReason": "customer_cancelled: 단순 변심", "cancelAmount": 90000}
    assert payment.status == "REFUNDED"
    assert Product.objects.get(pk=product.pk).stock == 3


def webhook(client, order_id: str, status: str, created_at: str = "2026-11-28T15:10:00.000"):
    body = {
        "eventType": "PAYMENT_STATUS_CHANGED",
        "createdAt": created_at,
        "data": {"paymentKey": PAYMENT_KEY, "orderId": order_id, "status": status},
    }
    return client.post(WEBHOOK, body, format="json")


def test_webhook_is_verified_with_toss_and_processed_once(toss, customer_client, api_client, pending_order):
    order, product = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_json(toss_payment(order["id"], 90000))
    confirm(customer_client, order)
    # Cancelled in Toss's console: Toss now reports it CANCELED.
    lookup = Recorder((200, toss_payment(order["id"], 90000, status="CANCELED")))
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_handler(lookup)
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}/cancel", method="POST").respond_with_json(
        {"code": "ALREADY_CANCELED_PAYMENT", "message": "이미 취소된 결제 입니다."}, status=400
    )

    first = webhook(api_client, order["id"], "CANCELED")
    resent = webhook(api_client, order["id"], "CANCELED")

    assert (first.status_code, resent.status_code) == (200, 200)
    assert (first.json(), resent.json()) == ({"processed": True}, {"processed": False})
    assert len(lookup.requests) == 1
    assert WebhookEvent.objects.count() == 1
    assert Payment.objects.get().status == "REFUNDED"
    assert Order.objects.get().status == "CANCELLED"
    assert Product.objects.get(pk=product.pk).stock == 3


def test_a_forged_webhook_changes_nothing(toss, customer_client, api_client, pending_order):
    order, _ = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_json(toss_payment(order["id"], 90000))
    confirm(customer_client, order)
    # Toss says the payment is still DONE: the "CANCELED" body was not from Toss.
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_json(toss_payment(order["id"], 90000))

    response = webhook(api_client, order["id"], "CANCELED")

    assert response.status_code == 200
    assert Payment.objects.get().status == "APPROVED"
    assert Order.objects.get().status == "PAID"


def test_a_webhook_toss_cannot_confirm_is_refused_and_processed_on_resend(
    toss, customer_client, api_client, pending_order
):
    order, _ = pending_order
    toss.expect_request("/v1/payments/confirm", method="POST").respond_with_json(toss_payment(order["id"], 90000))
    confirm(customer_client, order)
    lookup = Recorder((503, {"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": "잠시 후 다시 시도해주세요."}))
    toss.expect_request(f"/v1/payments/{PAYMENT_KEY}", method="GET").respond_with_handler(lookup)

    refused = webhook(api_client, order["id"], "DONE")
    lookup.answers = [(200, toss_payment(order["id"], 90000))]
    resent = webhook(api_client, order["id"], "DONE")

    assert refused.status_code == 400
    assert refused.json()["code"] == "webhook_invalid"
    assert resent.json() == {"processed": True}
    assert WebhookEvent.objects.get().processed_at is not None


@pytest.mark.parametrize(
    "body",
    [{}, {"eventType": "PAYMENT_STATUS_CHANGED"}, {"eventType": "X", "createdAt": "t", "data": "nope"}, []],
)
def test_malformed_webhooks_are_400(api_client, body):
    response = api_client.post(WEBHOOK, body, format="json")

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_webhook_for_an_unknown_payment_is_acknowledged(toss, api_client):
    response = webhook(api_client, "00000000-0000-0000-0000-000000000000", "DONE")

    assert response.json() == {"processed": True}
    assert len(toss.log) == 0
