"""Crash recovery with real processes: orders placed concurrently over HTTP on a real gunicorn, whose
workers are SIGKILLed mid-saga (SAGA_FAULT_INJECTION, or from outside while the PG call is in
flight), then recovered by the recover_sagas task through a real Celery worker on the Redis broker.
The PG is the stateful Toss sandbox (payments/tests/toss_sandbox.py: Toss's v1 contract, its
Idempotency-Keys, what the widget paid), so the test can tell what money was really taken. After
recovery: stock is conserved, every saga ended, every charge the PG made is on a paid order or
refunded, and no cancelled order keeps a payment."""

import os
import signal
import threading
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import access_token_for, order_body, order_line, shared_database_url
from deploy.local.net import call_json
from orders.models import Order, OrderItem
from payments.models import Payment
from payments.tests.toss_sandbox import TossSandbox
from products.models import Product
from saga.models import SagaInstance
from saga.tasks import recover_sagas

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

PRICE = 50000  # one item of it ships free: an order's total is PRICE


@pytest.fixture
def toss(toss_sandbox) -> TossSandbox:
    return toss_sandbox


def paid_in_widget(toss: TossSandbox, *keys: str, decline: str | None = None) -> list[str]:
    """The customers paid PRICE in the widget before placing their orders (one-step: no order id yet)."""
    return [toss.widget_pay(None, PRICE, payment_key=key, decline=decline) for key in keys]


@pytest.fixture
def platform(toss, gunicorn_server, celery_worker):
    """A gunicorn (2 workers) and a Celery worker on the test database and the stand-in PG, with
    leases of 2 s; `start(fault)` starts them with SAGA_FAULT_INJECTION set on gunicorn only."""

    def start(fault: str = ""):
        env = {
            "DATABASE_URL": shared_database_url(),
            "PAYMENT_GATEWAY": "toss",
            "TOSS_API_BASE_URL": toss.url,
            "TOSS_SECRET_KEY": toss.secret_key,
            "TOSS_TIMEOUT_SECONDS": "10",
            "SAGA_LEASE_SECONDS": "2",
        }
        server = gunicorn_server({**env, "SAGA_FAULT_INJECTION": fault}, workers=2)
        queue, worker = celery_worker(env)
        return server, queue, worker

    return start


def post(url: str, token: str, body: dict | None = None) -> tuple[int, dict] | str:
    """A POST; one whose worker was killed while answering it is "dropped"."""
    try:
        status, answer, _ = call_json(url, "POST", body or {}, token=token, timeout_s=60)
    except (ConnectionError, urllib.error.URLError):  # RemoteDisconnected is a ConnectionError
        return "dropped"
    return status, answer


def concurrently(calls):
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def tokens_for(customer_factory, count: int) -> list[str]:
    return [access_token_for(customer_factory().user) for _ in range(count)]


def place_orders(server, product, tokens: list[str], payment_keys: list[str]) -> list:
    def order(index: int):
        body = order_body([order_line(product)], payment_keys[index])
        return lambda: post(f"{server.url}/api/v1/orders/", tokens[index % len(tokens)], body)

    return concurrently([order(index) for index in range(len(payment_keys))])


def recover_all(queue: str, worker, deadline_s: float = 60) -> None:
    """Send recover_sagas to the worker until no saga is left running (leases expire after 2 s)."""
    deadline = time.monotonic() + deadline_s
    while SagaInstance.objects.filter(status__in=["STARTED", "COMPENSATING"]).exists():
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.output()}")
        if time.monotonic() > deadline:
            stuck = list(SagaInstance.objects.values_list("status", "current_step", "last_error"))
            raise AssertionError(f"sagas still running after {deadline_s}s: {stuck}")
        time.sleep(2.1)
        recover_sagas.apply_async(queue=queue)


def assert_consistent(product, initial_stock: int, toss: TossSandbox) -> None:
    sold = sum(
        OrderItem.objects.filter(product=product, order__status__in=["PAID", "SHIPPED", "DELIVERED"]).values_list(
            "quantity", flat=True
        )
    )
    assert Product.objects.get(pk=product.pk).stock + sold == initial_stock
    assert set(SagaInstance.objects.values_list("status", flat=True)) <= {"COMPLETED", "COMPENSATED"}
    assert set(Order.objects.values_list("status", flat=True)) <= {"PAID", "CANCELLED"}
    assert not Order.objects.filter(status="CANCELLED", stock_reserved=True).exists()
    cancelled = Order.objects.filter(status="CANCELLED").values_list("pk", flat=True)
    assert not Payment.objects.filter(order_id__in=cancelled, status="APPROVED").exists()
    # The PG's side: each paymentKey charged at most once; what stays charged belongs to a paid order.
    assert len(toss.charges) == len(set(toss.charges))
    kept = {key: payment["orderId"] for key, payment in toss.payments().items() if payment["status"] == "DONE"}
    paid = {str(pk) for pk in Order.objects.filter(status="PAID").values_list("pk", flat=True)}
    assert set(kept.values()) == paid
    assert len(kept) == len(paid)
    for key in toss.refunds:
        assert toss.payment(key)["orderId"] not in paid


@pytest.mark.parametrize(
    "fault",
    [
        "take_payment:before",  # stock reserved (committed), the PG not called yet
        "take_payment:after",  # the PG approved and the payment is recorded; the saga never heard of it
    ],
)
def test_orders_killed_mid_saga_are_finished_by_recovery(platform, toss, product_factory, customer_factory, fault):
    product = product_factory(price=Decimal(PRICE), stock=4)
    server, queue, worker = platform(fault)
    keys = paid_in_widget(toss, *(f"tgen_{fault.replace(':', '_')}_{number}" for number in range(6)))

    answers = place_orders(server, product, tokens_for(customer_factory, 3), keys)

    # Four orders took a unit and died with their worker; two found no stock and were refused: at
    # checkout when the units were gone by then (409, no order), else by the saga's reservation.
    assert answers.count("dropped") == 4, answers
    refused = [answer for answer in answers if answer != "dropped"]
    assert len(refused) == 2
    assert all(
        (status, body["code"]) == (409, "insufficient_stock")
        or (status, body["status"], body["cancel_code"]) == (201, "CANCELLED", "insufficient_stock")
        for status, body in refused
    ), refused
    assert Product.objects.get(pk=product.pk).stock == 0
    assert SagaInstance.objects.filter(status="STARTED").count() == 4
    assert len(toss.charges) == (4 if fault == "take_payment:after" else 0)

    recover_all(queue, worker)

    assert Order.objects.filter(status="PAID").count() == 4
    assert len(toss.charges) == 4
    assert toss.refunds == []
    assert_consistent(product, 4, toss)


def test_an_answer_lost_with_its_worker_is_not_charged_twice(platform, toss, product_factory, customer_factory):
    """The nasty case: the PG charged, and the worker died before it read the answer, so the
    payment is still PENDING; recovery asks again with the same Idempotency-Key."""
    product = product_factory(price=Decimal(PRICE), stock=2)
    server, queue, worker = platform()
    tokens = tokens_for(customer_factory, 2)
    paid_in_widget(toss, "hang_1", "hang_2")
    for key in ("hang_1", "hang_2"):  # Toss charges, then its answer is held until released
        toss.fault("confirm", "hold", payment_key=key)
    placing = threading.Thread(
        target=lambda: answers.extend(place_orders(server, product, tokens, ["hang_1", "hang_2"])), daemon=True
    )
    answers: list = []
    placing.start()
    toss.wait_held(2, timeout_s=60)  # both workers wait for the PG's answer, the charges made
    for worker_pid in gunicorn_workers(server.process.pid):
        os.kill(worker_pid, signal.SIGKILL)
    toss.release()
    placing.join(timeout=60)

    assert answers == ["dropped", "dropped"]
    assert sorted(toss.charges) == ["hang_1", "hang_2"]
    assert set(Payment.objects.values_list("status", flat=True)) == {"PENDING"}

    recover_all(queue, worker)

    assert sorted(toss.charges) == ["hang_1", "hang_2"]  # asked again, charged once
    assert Order.objects.filter(status="PAID").count() == 2
    assert set(Payment.objects.values_list("status", flat=True)) == {"APPROVED"}
    assert_consistent(product, 2, toss)


def test_a_worker_killed_while_compensating_is_compensated_by_recovery(
    platform, toss, product_factory, customer_factory
):
    """A declined order dies while undoing its payment step; paid orders cancelled by their
    customers die right after the PG refunded them, before the saga recorded it."""
    product = product_factory(price=Decimal(PRICE), stock=6)
    server, queue, worker = platform("take_payment.compensation:after")
    tokens = tokens_for(customer_factory, 4)
    keys = [*paid_in_widget(toss, "tgen_keep", "tgen_cancel_1", "tgen_cancel_2")]
    keys += paid_in_widget(toss, "decline_1", decline="REJECT_CARD_PAYMENT")

    answers = place_orders(server, product, tokens, keys)

    assert answers[3] == "dropped"
    assert [(status, body["status"]) for status, body in answers[:3]] == [(201, "PAID")] * 3
    cancels = concurrently(
        [
            lambda index=index: post(f"{server.url}/api/v1/orders/{answers[index][1]['id']}/cancel/", tokens[index])
            for index in (1, 2)
        ]
    )

    assert cancels == ["dropped", "dropped"]
    assert sorted(toss.refunds) == ["tgen_cancel_1", "tgen_cancel_2"]
    assert SagaInstance.objects.filter(status="COMPENSATING").count() == 3

    recover_all(queue, worker)

    assert Order.objects.get(pk=answers[0][1]["id"]).status == "PAID"
    assert Order.objects.filter(status="CANCELLED").count() == 3
    assert sorted(toss.refunds) == ["tgen_cancel_1", "tgen_cancel_2"]  # refunded once each
    assert Product.objects.get(pk=product.pk).stock == 5
    assert_consistent(product, 6, toss)


def gunicorn_workers(master_pid: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
