"""The staff-only saga tracker: list and filter, the event timeline, retry and compensate."""

import pytest

from conftest import order_line, place_order
from orders.models import Order
from saga.models import SagaInstance

pytestmark = pytest.mark.django_db

SAGAS = "/api/v1/saga/"


def test_staff_list_filter_and_read_a_timeline(
    staff_client, customer_client, product_factory, django_assert_num_queries
):
    product = product_factory(stock=5)
    place_order(customer_client, [order_line(product)])
    place_order(customer_client, [order_line(product)], pay_with="tok_decline")

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
    order = place_order(customer_client, [order_line(product)], pay_with=None).json()
    saga = SagaInstance.objects.get()

    response = staff_client.post(f"{SAGAS}{saga.pk}/compensate/", {"reason": "stuck"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "COMPENSATED"
    assert Product.objects.get(pk=product.pk).stock == 5
    assert customer_client.get(f"/api/v1/orders/{order['id']}/").json()["status"] == "CANCELLED"
    saga.refresh_from_db()
    assert (saga.payload["compensation_reason"], saga.payload["compensation_note"]) == ("staff_request", "stuck")
    assert (Order.objects.get().cancel_reason, Order.objects.get().cancel_note) == ("staff_cancelled", "stuck")


def test_the_admin_action_compensates_as_a_staff_request(client, staff_user, customer_client, product_factory):
    from django.urls import reverse

    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    place_order(customer_client, [order_line(product_factory(stock=5))], pay_with=None)
    saga = SagaInstance.objects.get()

    client.post(
        reverse("admin:saga_sagainstance_changelist"),
        {"action": "compensate", "_selected_action": [str(saga.pk)]},
    )

    saga.refresh_from_db()
    assert saga.status == "COMPENSATED"
    assert (saga.payload["compensation_reason"], saga.payload["compensation_note"]) == ("staff_request", "")
    assert saga.payload["compensation_by"] == {"kind": "staff", "identity": staff_user.email}
    # The order's audit row says who cancelled it, and why.
    event = Order.objects.get().events.last()
    assert (event.actor, event.reason) == (f"staff:{staff_user.email}", "staff_cancelled")


def test_finished_sagas_are_neither_retried_nor_compensated(staff_client, customer_client, product_factory):
    place_order(customer_client, [order_line(product_factory(stock=5))])
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
