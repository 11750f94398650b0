"""The Toss sandbox itself (payments/tests/toss_sandbox.py) keeps Toss's contract, called over
HTTP as any client would: what every Toss test relies on."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from payments.tests.toss_sandbox import VIRTUAL_ACCOUNT, TossSandbox

ORDER_ID = "5a1f8c2e-2f9b-4c8e-9d3a-7b6e1c0d4f21"


class Client:
    def __init__(self, toss: TossSandbox, secret_key: str | None = None):
        self.toss = toss
        self.auth = httpx.BasicAuth(secret_key or toss.secret_key, "")

    def post(self, path: str, body: dict, key: str | None = None, timeout: float = 5) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return httpx.post(f"{self.toss.url}{path}", json=body, headers=headers, auth=self.auth, timeout=timeout)

    def confirm(self, payment_key: str, amount=90000, order_id: str = ORDER_ID, key: str | None = None, **kw):
        body = {"paymentKey": payment_key, "orderId": order_id, "amount": amount}
        return self.post("/v1/payments/confirm", body, key, **kw)

    def cancel(self, payment_key: str, amount: int | None = None, key: str | None = None) -> httpx.Response:
        body = {"cancelReason": "고객 변심"} | ({} if amount is None else {"cancelAmount": amount})
        return self.post(f"/v1/payments/{payment_key}/cancel", body, key)

    def lookup(self, payment_key: str) -> httpx.Response:
        return httpx.get(f"{self.toss.url}/v1/payments/{payment_key}", auth=self.auth)


@pytest.fixture
def client(toss_sandbox) -> Client:
    return Client(toss_sandbox)


def error_of(response: httpx.Response) -> tuple[int, str]:
    assert set(response.json()) == {"code", "message"}
    return response.status_code, response.json()["code"]


def test_basic_auth_with_the_secret_key_is_required(toss_sandbox):
    key = toss_sandbox.widget_pay(ORDER_ID, 90000)
    body = {"paymentKey": key, "orderId": ORDER_ID, "amount": 90000}

    anonymous = httpx.post(f"{toss_sandbox.url}/v1/payments/confirm", json=body)
    wrong_key = Client(toss_sandbox, secret_key="test_sk_someone_else").confirm(key)
    without_colon = httpx.post(
        f"{toss_sandbox.url}/v1/payments/confirm",
        json=body,
        headers={"Authorization": "Basic " + base64.b64encode(toss_sandbox.secret_key.encode()).decode()},
    )

    assert [error_of(r) for r in (anonymous, wrong_key, without_colon)] == [(401, "UNAUTHORIZED_KEY")] * 3
    assert toss_sandbox.charges == []
    assert toss_sandbox.payment(key)["status"] == "IN_PROGRESS"


def test_confirm_is_checked_against_what_the_widget_paid(toss_sandbox, client):
    key = toss_sandbox.widget_pay(ORDER_ID, 90000)

    assert error_of(client.confirm("tgen_never_issued")) == (404, "NOT_FOUND_PAYMENT_SESSION")
    assert error_of(client.confirm(key, order_id="6b2e9d3f-0000-4000-8000-000000000000")) == (400, "INVALID_REQUEST")
    assert error_of(client.confirm(key, amount=9000)) == (400, "INVALID_REQUEST")
    assert error_of(client.confirm(key, amount=90000.5)) == (400, "INVALID_REQUEST")
    assert error_of(client.confirm(key, amount="90000")) == (400, "INVALID_REQUEST")
    assert toss_sandbox.charges == []

    approved = client.confirm(key)

    assert approved.status_code == 200
    payment = approved.json()
    assert (payment["paymentKey"], payment["orderId"], payment["status"]) == (key, ORDER_ID, "DONE")
    assert (payment["totalAmount"], payment["balanceAmount"], payment["method"]) == (90000, 90000, "카드")
    assert error_of(client.confirm(key)) == (400, "ALREADY_PROCESSED_PAYMENT")
    assert client.lookup(key).json() == payment
    assert error_of(client.lookup("tgen_never_issued")) == (404, "NOT_FOUND_PAYMENT")
    assert toss_sandbox.charges == [key]


def test_an_expired_session_and_a_declined_card_charge_nothing(toss_sandbox, client):
    expired = toss_sandbox.widget_pay(ORDER_ID, 90000)
    declined = toss_sandbox.widget_pay(ORDER_ID, 90000, decline="REJECT_CARD_PAYMENT")
    toss_sandbox.expire(expired)

    assert error_of(client.confirm(expired)) == (404, "NOT_FOUND_PAYMENT_SESSION")
    refused = client.confirm(declined)

    assert error_of(refused) == (403, "REJECT_CARD_PAYMENT")
    assert refused.json()["message"] == "한도초과 혹은 잔액부족으로 결제에 실패했습니다."
    assert toss_sandbox.payment(declined)["status"] == "ABORTED"
    assert toss_sandbox.payment(declined)["failure"]["code"] == "REJECT_CARD_PAYMENT"
    assert toss_sandbox.charges == []


def test_payment_keys_are_unique(toss_sandbox):
    keys = {toss_sandbox.widget_pay(ORDER_ID, 1000) for _ in range(50)}
    toss_sandbox.widget_pay(None, 1000, payment_key="tgen_chosen")

    assert len(keys) == 50
    with pytest.raises(ValueError, match="issued before"):
        toss_sandbox.widget_pay(ORDER_ID, 1000, payment_key="tgen_chosen")


def test_an_idempotency_key_replays_its_first_answer_and_refuses_another_body(toss_sandbox, client):
    key = toss_sandbox.widget_pay(ORDER_ID, 90000)
    declined = toss_sandbox.widget_pay(ORDER_ID, 90000, decline="INVALID_STOPPED_CARD")

    first = client.confirm(key, key="attempt-1")
    replayed = client.confirm(key, key="attempt-1")
    reused = client.confirm(key, amount=1000, key="attempt-1")
    decline = client.confirm(declined, key="attempt-2")
    decline_again = client.confirm(declined, key="attempt-2")
    # Scoped to the path: the same key on the cancel endpoint is another request.
    cancelled = client.cancel(key, key="attempt-1")

    assert (first.status_code, replayed.status_code) == (200, 200)
    assert replayed.json() == first.json()
    assert error_of(reused) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert decline_again.json() == decline.json()
    assert error_of(decline_again) == (400, "INVALID_STOPPED_CARD")
    assert cancelled.json()["status"] == "CANCELED"
    assert [call.replayed for call in toss_sandbox.calls()] == [False, True, False, False, True, False]
    assert (toss_sandbox.charges, toss_sandbox.refunds) == ([key], [key])


def test_cancels_keep_the_balance(toss_sandbox, client):
    key = toss_sandbox.widget_pay(ORDER_ID, 90000)
    never_confirmed = toss_sandbox.widget_pay(ORDER_ID, 90000)
    client.confirm(key)

    partial = client.cancel(key, 30000, key="cancel-1")
    too_much = client.cancel(key, 60001, key="cancel-2")
    rest = client.cancel(key, 60000, key="cancel-3")
    again = client.cancel(key, 1, key="cancel-4")

    assert (partial.json()["status"], partial.json()["balanceAmount"]) == ("PARTIAL_CANCELED", 60000)
    assert error_of(too_much) == (400, "NOT_CANCELABLE_AMOUNT")
    assert (rest.json()["status"], rest.json()["balanceAmount"]) == ("CANCELED", 0)
    assert [(c["cancelAmount"], c["refundableAmount"]) for c in rest.json()["cancels"]] == [(30000, 60000), (60000, 0)]
    assert error_of(again) == (400, "ALREADY_CANCELED_PAYMENT")
    assert error_of(client.cancel(never_confirmed)) == (400, "NOT_CANCELABLE_PAYMENT")
    assert error_of(client.cancel("tgen_never_issued")) == (404, "NOT_FOUND_PAYMENT")
    assert error_of(client.post(f"/v1/payments/{key}/cancel", {"cancelAmount": 1})) == (400, "INVALID_REQUEST")
    assert toss_sandbox.refunds == [key, key]


def test_faults_answer_as_told_and_only_as_often_as_told(toss_sandbox, client):
    unanswered = toss_sandbox.widget_pay(ORDER_ID, 90000)
    lost = toss_sandbox.widget_pay(ORDER_ID, 90000)
    toss_sandbox.fault("confirm", "503", payment_key=unanswered)
    toss_sandbox.fault("confirm", "timeout", payment_key=unanswered)
    toss_sandbox.fault("confirm", "lost_answer", payment_key=lost)

    assert error_of(client.confirm(unanswered, key="a")) == (503, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    with pytest.raises(httpx.ReadTimeout):
        client.confirm(unanswered, key="a", timeout=0.2)
    assert toss_sandbox.payment(unanswered)["status"] == "IN_PROGRESS"  # a timeout did nothing
    with pytest.raises(httpx.ReadTimeout):
        client.confirm(lost, key="b", timeout=0.2)
    assert toss_sandbox.charges == [lost]  # a lost answer: done, the answer never came

    assert client.confirm(lost, key="b").json()["status"] == "DONE"  # the retry gets the first answer
    assert client.confirm(unanswered, key="a").json()["status"] == "DONE"
    assert toss_sandbox.charges == [lost, unanswered]


class Receiver(ThreadingHTTPServer):
    """Where Toss sends its webhooks: records each body, answers 200."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.bodies: list[dict] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()
    server.server_close()


def test_a_virtual_account_waits_for_the_deposit_and_its_callback_is_sent(toss_sandbox, client, receiver):
    key = toss_sandbox.widget_pay(ORDER_ID, 90000, method=VIRTUAL_ACCOUNT)

    issued = client.confirm(key).json()

    assert (issued["status"], issued["method"], issued["approvedAt"]) == ("WAITING_FOR_DEPOSIT", "가상계좌", None)
    assert issued["secret"].startswith("ps_")
    assert issued["virtualAccount"]["accountNumber"]
    assert toss_sandbox.charges == []

    callback = toss_sandbox.deposit(key, callback_url=receiver.url)

    assert receiver.bodies == [callback]
    assert set(callback) == {"createdAt", "secret", "status", "transactionKey", "orderId"}
    assert (callback["secret"], callback["status"], callback["orderId"]) == (issued["secret"], "DONE", ORDER_ID)
    assert client.lookup(key).json()["status"] == "DONE"
    assert toss_sandbox.charges == [key]

    status, _ = toss_sandbox.notify(receiver.url, key)

    assert status == 200
    assert receiver.bodies[1]["eventType"] == "PAYMENT_STATUS_CHANGED"
    assert receiver.bodies[1]["data"] == client.lookup(key).json()
