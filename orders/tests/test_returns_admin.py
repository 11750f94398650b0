"""Returns in the admin: the queue by status with actions through the return services, returns
inline on the order page, and the dashboard's refunds per day and open returns."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from c4ang.actors import Actor, ActorKind
from conftest import client_for, order_line, place_order
from orders import services
from orders.models import Order, OrderItem, Return
from orders.tests.factories import OrderFactory, OrderItemFactory, ShipmentFactory
from payments.models import Refund
from products.models import Product, StockAdjustment

pytestmark = pytest.mark.django_db

CUSTOMER = Actor(ActorKind.CUSTOMER, "customer@example.kr")
STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")
QUEUE = reverse("admin:orders_return_changelist")


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def requested_return(customer, product, *, quantity: int = 1) -> Return:
    """A return of `quantity` units of the customer's delivered order of 2 units of the product."""
    order = OrderFactory(customer=customer, status="DELIVERED", items_amount=product.price * 2)
    line = OrderItemFactory(order=order, product=product, quantity=2)
    ShipmentFactory(order=order, delivered_at=timezone.now())
    return services.return_request(
        order_id=order.pk, customer_id=customer.pk, lines={line.pk: quantity}, reason="defective", by=CUSTOMER
    )


def paid_and_delivered(customer, product) -> Order:
    response = place_order(client_for(customer.user), [order_line(product, 2)])
    assert response.json()["status"] == "PAID", response.content
    order_id = response.json()["id"]
    services.order_ship(
        order_id=order_id, carrier="kr.hanjin", tracking_number=f"{customer.pk.int % 10**12:012d}", by=STAFF
    )
    return services.order_mark_delivered(order_id=order_id, by=STAFF)


def act(browser, action: str, returns: list[Return], **fields):
    body = {"action": action, "_selected_action": [str(found.pk) for found in returns], **fields}
    return browser.post(QUEUE, body, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def queries_for(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_the_queue_filters_by_status_and_does_not_grow_with_its_rows(staff_browser, customer, product_factory):
    product = product_factory()
    approved = requested_return(customer, product)
    services.return_approve(return_id=approved.pk, by=STAFF)
    waiting = requested_return(customer, product)
    queries_for(staff_browser, QUEUE)  # warm the per-process caches (content types, permissions)
    small = queries_for(staff_browser, QUEUE)

    for _ in range(4):
        requested_return(customer, product)
    large = queries_for(staff_browser, QUEUE)
    html = staff_browser.get(QUEUE, {"status__exact": "APPROVED"}).content.decode()

    assert large == small
    assert str(approved.pk) in html
    assert str(waiting.pk) not in html


def test_staff_approve_from_the_queue_and_see_why_one_was_refused(staff_browser, customer, product_factory):
    product = product_factory()
    fresh, approved_already = requested_return(customer, product), requested_return(customer, product)
    services.return_approve(return_id=approved_already.pk, by=STAFF)

    response = act(staff_browser, "approve", [fresh, approved_already])

    assert Return.objects.get(pk=fresh.pk).status == "APPROVED"
    assert list(Return.objects.get(pk=fresh.pk).events.values_list("to_status", "actor")) == [
        ("REQUESTED", "customer:customer@example.kr"),
        ("APPROVED", "staff:staff@c4ang.com"),
    ]
    shown = messages_of(response)
    assert any("invalid_return_transition" in message and str(approved_already.pk) in message for message in shown)
    assert "Approved: 1" in shown


def test_staff_reject_with_a_note_asked_for_first(staff_browser, customer, product_factory):
    found = requested_return(customer, product_factory())

    asked = act(staff_browser, "reject", [found])
    empty = act(staff_browser, "reject", [found], apply="Reject", note="")
    rejected = act(staff_browser, "reject", [found], apply="Reject", note="사용 흔적이 있습니다")

    assert 'name="note"' in asked.content.decode()
    assert 'name="note"' in empty.content.decode()
    assert "Rejected: 1" in messages_of(rejected)
    found.refresh_from_db()
    assert (found.status, found.staff_note) == ("REJECTED", "사용 흔적이 있습니다")


def test_staff_receive_and_refund_from_the_queue(staff_browser, customer, product_factory):
    product = product_factory(price=Decimal("12000"), stock=10)
    order = paid_and_delivered(customer, product)
    line = OrderItem.objects.get(order=order)
    found = services.return_request(
        order_id=order.pk, customer_id=customer.pk, lines={line.pk: 2}, reason="wrong_item", by=CUSTOMER
    )
    services.return_approve(return_id=found.pk, by=STAFF)

    received = act(staff_browser, "receive_resellable", [found])
    refunded = act(staff_browser, "refund_return", [found])

    assert "Received, back in stock: 1" in messages_of(received)
    assert Product.objects.get(pk=product.pk).stock == 10
    assert StockAdjustment.objects.get().actor == "staff:staff@c4ang.com"
    assert "Refund asked for: 1" in messages_of(refunded)
    assert Return.objects.get(pk=found.pk).status == "REFUNDED"
    assert list(Refund.objects.values_list("amount", "reason")) == [(Decimal("24000"), "return")]


def test_receiving_as_written_off_puts_nothing_back(staff_browser, customer, product_factory):
    product = product_factory(stock=10)
    found = requested_return(customer, product, quantity=2)
    services.return_approve(return_id=found.pk, by=STAFF)

    act(staff_browser, "receive_not_resellable", [found])

    assert Return.objects.get(pk=found.pk).status == "RECEIVED"
    assert list(found.items.values_list("resellable", flat=True)) == [False]
    assert Product.objects.get(pk=product.pk).stock == 10
    assert StockAdjustment.objects.count() == 0


def test_the_return_page_shows_its_lines_and_audit_trail_and_cannot_delete(staff_browser, customer, product_factory):
    product = product_factory(name="무선 이어폰")
    found = requested_return(customer, product)
    services.return_approve(return_id=found.pk, by=STAFF)

    html = staff_browser.get(reverse("admin:orders_return_change", args=[found.pk])).content.decode()
    delete = staff_browser.get(reverse("admin:orders_return_delete", args=[found.pk]))

    assert "무선 이어폰" in html
    assert "staff:staff@c4ang.com" in html
    assert delete.status_code == 403


def test_the_order_page_lists_its_returns(staff_browser, customer, product_factory):
    found = requested_return(customer, product_factory())

    html = staff_browser.get(reverse("admin:orders_order_change", args=[found.order_id])).content.decode()

    assert reverse("admin:orders_return_change", args=[found.pk]) in html
    assert "REQUESTED" in html


def test_the_dashboard_shows_refunds_per_day_and_open_returns(staff_browser, customer, product_factory):
    product = product_factory(price=Decimal("12000"), stock=10)
    order = paid_and_delivered(customer, product)
    line = OrderItem.objects.get(order=order)
    refunded = services.return_request(
        order_id=order.pk, customer_id=customer.pk, lines={line.pk: 1}, reason="changed_mind", by=CUSTOMER
    )
    services.return_approve(return_id=refunded.pk, by=STAFF)
    services.return_receive(return_id=refunded.pk, resellable={line.pk: True}, by=STAFF)
    services.return_refund(return_id=refunded.pk, by=STAFF)
    for _ in range(2):
        requested_return(customer, product)
    services.return_approve(return_id=requested_return(customer, product).pk, by=STAFF)

    html = staff_browser.get(reverse("admin-dashboard")).content.decode()

    refunds = html[html.index('id="refunds-per-day"') : html.index('id="open-returns"')]
    # One refund today: ₩12,000 less the ₩3,000 return shipping fee, the last of 30 bars.
    assert "1 refund, ₩9,000" in refunds
    assert refunds.count('class="c4ang-bar"') == 30
    assert "₩9,000 (1 refund)" in refunds
    returns = html[html.index('id="open-returns"') :]
    returns = returns[: returns.index("</table>")]
    rows = re.findall(r'<tr><td><a href="([^"]*)">(\w+)</a></td><td>(\d+)</td></tr>', returns)
    assert [(status, count) for _, status, count in rows] == [("Requested", "2"), ("Approved", "1"), ("Received", "0")]
    assert rows[0][0] == f"{QUEUE}?status__exact=REQUESTED"
