"""The staff-only saga tracker: list and filter, the event timeline, retry and compensate."""

import pytest

from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

SAGAS = "/api/v1/saga/"


def place(client, product, token):
    body = {"items": [{"product_id": str(product.pk), "quantity": 1}]}
    if token:
        body["payment_token"] = token
    return client.post("/api/v1/orders/", body, format="json").json()


def test_staff_list_filter_and_read_a_timeline(
    staff_client, customer_client, product_factory, django_assert_num_queries
):
    product = product_factory(stock=5)
    place(customer_client, product, "tok_approve")
    place(customer_client, product, "tok_decline")

    with django_assert_num_queries(2):  # staff user, page
        everything = staff_client.get(SAGAS)
    compensated = staff_client.get(SAGAS, {"status": "COMPENSATED", "saga_type": "place_order"})
    saga_id = compensated.json()["results"][0]["id"]
    with django_assert_num_queries(3):  # staff user, saga, events
        detail = staff_client.get(f"{SAGAS}{saga_id}/")

    assert len(everything.json()["results"]) == 2
    assert len(compensated.json()["results"]) == 1
    assert [(e["step"], e["event_type"]) for e in detail.json()["events"]][4:7] == [
        ("take_payment", "STEP_STARTED"),
        ("take_payment", "STEP_FAILED"),
        ("take_payment", "COMPENSATION_STARTED"),
    ]
    assert detail.json()["events"][5]["payload"]["code"] == "payment_declined"
    assert staff_client.get(SAGAS, {"status": "LOST"}).status_code == 400


def test_staff_compensate_a_waiting_saga(staff_client, customer_client, product_factory):
    from products.models import Product

    product = product_factory(stock=5)
    order = place(customer_client, product, None)
    saga = SagaInstance.objects.get()

    response = staff_client.post(f"{SAGAS}{saga.pk}/compensate/", {"reason": "stuck"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "COMPENSATED"
    assert Product.objects.get(pk=product.pk).stock == 5
    assert customer_client.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "CANCELLED"


def test_finished_sagas_are_neither_retried_nor_compensated(staff_client, customer_client, product_factory):
    place(customer_client, product_factory(stock=5), "tok_approve")
    saga = SagaInstance.objects.get()

    retried = staff_client.post(f"{SAGAS}{saga.pk}/retry/", format="json")
    compensated = staff_client.post(f"{SAGAS}{saga.pk}/compensate/", {}, format="json")

    assert (retried.status_code, retried.json()["code"]) == (409, "saga_not_retryable")
    assert (compensated.status_code, compensated.json()["code"]) == (409, "saga_not_compensable")
    assert SagaInstance.objects.get().status == "COMPLETED"


def test_the_tracker_is_staff_only(customer_client, api_client):
    assert customer_client.get(SAGAS).status_code == 403
    assert api_client.get(SAGAS).status_code == 401
    assert customer_client.post(f"{SAGAS}00000000-0000-0000-0000-000000000000/retry/").status_code == 403


def test_unknown_saga_is_404(staff_client):
    response = staff_client.post(f"{SAGAS}00000000-0000-0000-0000-000000000000/retry/")

    assert response.status_code == 404
    assert response.json()["code"] == "saga_not_found"
