"""Shipments: staff ship a paid order with a carrier and its tracking number (checked by the carrier's
format), mark it delivered; customers see the carrier, the number and the tracking page; bulk ship
from a CSV in the admin, a result a row."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from c4ang.actors import Actor, ActorKind
from conftest import ORDERS, client_for, in_threads, order_line, place_order
from orders import carriers, services
from orders.constants import Carrier
from orders.errors import InvalidTrackingNumber, UnknownCarrier
from orders.models import Order, OrderEvent, Shipment
from orders.tests.factories import OrderFactory, ShipmentFactory
from payments.models import Payment

pytestmark = pytest.mark.django_db

STAFF = Actor(ActorKind.STAFF, "staff@c4ang.com")
CJ_NUMBER = "123456789012"


def ship_body(carrier: str = "kr.cjlogistics", tracking_number: str = CJ_NUMBER) -> dict:
    return {"status": "SHIPPED", "carrier": carrier, "tracking_number": tracking_number}


def status_url(order_id) -> str:
    return f"{ORDERS}staff/{order_id}/status/"


@pytest.fixture
def paid_order(customer_client, product_factory) -> dict:
    response = place_order(customer_client, [order_line(product_factory(stock=5), 2)])
    assert response.json()["status"] == "PAID"
    return response.json()


def nothing_shipped(order_id) -> None:
    assert Order.objects.get(pk=order_id).status == "PAID"
    assert Shipment.objects.count() == 0
    assert list(OrderEvent.objects.filter(order_id=order_id).values_list("to_status", flat=True)) == ["PENDING", "PAID"]


# --- carriers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "valid", "invalid"),
    [
        (Carrier.CJ, ["1234567890", "123456789012"], ["123456789", "1234567890123"]),
        (Carrier.LOTTE, ["123456789012", "1234567890123"], ["12345678901", "12345678901234"]),
        (Carrier.HANJIN, ["1234567890", "12345678901234"], ["123456789", "123456789012345"]),
        (Carrier.EPOST, ["1234567890123"], ["123456789012", "12345678901234"]),
        (Carrier.LOGEN, ["12345678901"], ["1234567890", "123456789012"]),
        (Carrier.KDEXP, ["123456789", "1234567890123456"], ["12345678", "12345678901234567"]),
    ],
)
def test_each_carrier_takes_the_lengths_of_its_tracking_numbers(carrier, valid, invalid):
    assert [carriers.tracking_number_clean(carrier=carrier, tracking_number=number) for number in valid] == valid
    for number in invalid:
        with pytest.raises(InvalidTrackingNumber) as refused:
            carriers.tracking_number_clean(carrier=carrier, tracking_number=number)
        assert refused.value.field == "tracking_number"


def test_a_tracking_number_loses_its_hyphens_and_spaces_and_must_be_ascii_digits():
    assert carriers.tracking_number_clean(carrier=Carrier.CJ, tracking_number=" 6012-3456 7890 ") == "601234567890"
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in "601234567890")  # Unicode digits, not ASCII
    for number in ("60123456789A", fullwidth, "", "601234567890; DROP TABLE", "601234.567890"):
        with pytest.raises(InvalidTrackingNumber):
            carriers.tracking_number_clean(carrier=Carrier.CJ, tracking_number=number)


def test_a_carrier_is_named_by_its_code_or_its_korean_name():
    names = ["kr.cjlogistics", "CJ대한통운", "cj 대한통운", "대한통운", "KR.CJLOGISTICS"]
    assert {carriers.carrier_from(name) for name in names} == {Carrier.CJ}
    assert carriers.carrier_from("롯데택배") == Carrier.LOTTE
    assert carriers.carrier_from("우체국") == Carrier.EPOST
    for name in ("DHL", "", "kr."):
        with pytest.raises(UnknownCarrier) as refused:
            carriers.carrier_from(name)
        assert refused.value.field == "carrier"


def test_every_carrier_has_a_format_and_a_tracking_page():
    assert set(carriers.CARRIERS) == set(Carrier)
    assert carriers.tracking_url(carrier="kr.cjlogistics", tracking_number=CJ_NUMBER) == (
        "https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012"
    )
    for carrier in Carrier:
        assert carriers.tracking_url(carrier=carrier, tracking_number="42").startswith("https://")
        assert carriers.tracking_url(carrier=carrier, tracking_number="42").endswith("42")


# --- shipping through the API ---------------------------------------------------------------------


def test_staff_ship_then_deliver_and_the_customer_follows_the_parcel(customer_client, staff_client, paid_order):
    shipped = staff_client.post(
        status_url(paid_order["id"]), ship_body(tracking_number="6012-3456-7890"), format="json"
    )
    seen_shipped = customer_client.get(f"{ORDERS}{paid_order['id']}/").json()
    delivered = staff_client.post(status_url(paid_order["id"]), {"status": "DELIVERED"}, format="json")
    seen_delivered = customer_client.get(f"{ORDERS}{paid_order['id']}/").json()

    assert shipped.status_code == 200
    assert shipped.json()["status"] == "SHIPPED"
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number, shipment.shipped_by) == (
        "kr.cjlogistics",
        "601234567890",
        "staff:staff@c4ang.com",
    )
    assert seen_shipped["shipment"] == {
        "carrier": "kr.cjlogistics",
        "carrier_name": "CJ Logistics",  # CJ대한통운 in Korean
        "tracking_number": "601234567890",
        "tracking_url": "https://trace.cjlogistics.com/next/tracking.html?wblNo=601234567890",
        "shipped_at": seen_shipped["shipment"]["shipped_at"],
        "delivered_at": None,
    }
    assert seen_shipped["shipment"]["shipped_at"] is not None
    assert delivered.status_code == 200
    assert seen_delivered["status"] == "DELIVERED"
    shipment.refresh_from_db()
    assert shipment.delivered_at is not None
    assert seen_delivered["shipment"]["delivered_at"] is not None
    events = delivered.json()["events"]
    assert [(event["from_status"], event["to_status"]) for event in events][2:] == [
        ("PAID", "SHIPPED"),
        ("SHIPPED", "DELIVERED"),
    ]
    assert events[2]["note"] == "CJ대한통운 601234567890"
    assert {event["actor"] for event in events[2:]} == {"staff:staff@c4ang.com"}


def test_an_unshipped_order_shows_no_shipment(customer_client, paid_order):
    assert customer_client.get(f"{ORDERS}{paid_order['id']}/").json()["shipment"] is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (ship_body(tracking_number="12345"), "tracking_number", "invalid_tracking_number"),
        (ship_body(tracking_number="CJ1234567890"), "tracking_number", "invalid_tracking_number"),
        (ship_body(carrier="kr.epost"), "tracking_number", "invalid_tracking_number"),  # 우체국: 13 digits
        (ship_body(carrier="dhl"), "carrier", "invalid_choice"),
        ({"status": "SHIPPED", "tracking_number": CJ_NUMBER}, "carrier", "required"),
        ({"status": "SHIPPED", "carrier": "kr.cjlogistics"}, "tracking_number", "required"),
        ({**ship_body(), "status": "DELIVERED"}, "carrier", "not_applicable"),
    ],
)
def test_bad_shipping_input_is_a_400_naming_the_field_and_ships_nothing(staff_client, paid_order, body, field, code):
    response = staff_client.post(status_url(paid_order["id"]), body, format="json")

    assert response.status_code == 400
    assert {(error["field"], error["code"]) for error in response.json()["errors"]} >= {(field, code)}
    nothing_shipped(paid_order["id"])


def test_shipping_a_cancelled_order_is_refused_and_changes_nothing(customer_client, staff_client, paid_order):
    customer_client.post(f"{ORDERS}{paid_order['id']}/cancel/", {}, format="json")

    response = staff_client.post(status_url(paid_order["id"]), ship_body(), format="json")

    assert (response.status_code, response.json()["code"]) == (409, "order_not_shippable")
    assert response.json()["errors"][0]["field"] == "status"
    assert Order.objects.get().status == "CANCELLED"
    assert Shipment.objects.count() == 0
    assert Payment.objects.get().status == "REFUNDED"


def test_a_tracking_number_ships_one_order(customer_client, staff_client, product_factory, paid_order):
    other = place_order(customer_client, [order_line(product_factory())]).json()
    staff_client.post(status_url(paid_order["id"]), ship_body(), format="json")

    taken = staff_client.post(status_url(other["id"]), ship_body(tracking_number="1234-5678-9012"), format="json")
    other_carrier = staff_client.post(status_url(other["id"]), ship_body(carrier="kr.hanjin"), format="json")

    assert (taken.status_code, taken.json()["code"]) == (409, "tracking_number_in_use")
    assert taken.json()["errors"][0]["field"] == "tracking_number"
    assert other_carrier.status_code == 200  # the number is the carrier's: 한진's 123456789012 is another parcel
    assert Shipment.objects.count() == 2


def test_delivering_an_order_that_has_not_shipped_is_refused(staff_client, paid_order):
    response = staff_client.post(status_url(paid_order["id"]), {"status": "DELIVERED"}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_status_transition")
    nothing_shipped(paid_order["id"])


def test_shipping_an_unknown_order_is_a_404(staff_client):
    response = staff_client.post(status_url("00000000-0000-0000-0000-000000000000"), ship_body(), format="json")

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


def test_customers_cannot_ship(customer_client, paid_order):
    response = customer_client.post(status_url(paid_order["id"]), ship_body(), format="json")

    assert response.status_code == 403
    nothing_shipped(paid_order["id"])


@pytest.mark.parametrize("size", [2, 6])
def test_order_lists_with_shipments_keep_their_query_budget(
    customer, customer_client, staff_client, product_factory, django_assert_num_queries, size
):
    product = product_factory(stock=50)
    for n in range(size):
        order = place_order(customer_client, [order_line(product)]).json()
        if n % 2:
            services.order_ship(order_id=order["id"], carrier="kr.lotte", tracking_number=f"60000000000{n}", by=STAFF)

    # auth user, customer, orders page (with their shipments), their items, their payments
    with django_assert_num_queries(5):
        listed = customer_client.get(ORDERS).json()["results"]
    # staff user, orders page (with their shipments), their items, their payments
    with django_assert_num_queries(4):
        staff_listed = staff_client.get(f"{ORDERS}staff/").json()["results"]
    # auth user, customer, the order (with its shipment), its items, its history, its payments
    with django_assert_num_queries(6):
        customer_client.get(f"{ORDERS}{listed[0]['id']}/")

    assert len(listed) == len(staff_listed) == size
    assert sum(order["shipment"] is not None for order in listed) == size // 2
    carrier_names = {order["shipment"]["carrier_name"] for order in staff_listed if order["shipment"]}
    assert carrier_names == {"Lotte Global Logistics"}  # 롯데택배 in Korean


# Two orders shipped at once with one tracking number: exactly one takes it (caught on PostgreSQL).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_one_tracking_number_raced_by_two_orders_ships_one(customer, staff_user, product_factory, attempt):
    as_customer, as_staff = client_for(customer.user), client_for(staff_user)
    product = product_factory(stock=5)
    orders = [place_order(as_customer, [order_line(product)]).json() for _ in range(2)]

    responses = in_threads(
        [lambda order=order: as_staff.post(status_url(order["id"]), ship_body(), format="json") for order in orders]
    )

    assert sorted(response.status_code for response in responses) == [200, 409]
    assert {response.json().get("code") for response in responses if response.status_code == 409} == {
        "tracking_number_in_use"
    }
    assert Shipment.objects.count() == 1
    assert sorted(Order.objects.values_list("status", flat=True)) == ["PAID", "SHIPPED"]


# --- bulk ship ------------------------------------------------------------------------------------


def test_bulk_ship_gives_a_result_a_row_and_one_refusal_stops_no_other(customer_client, product_factory):
    product = product_factory(stock=20)
    first, second, third = (place_order(customer_client, [order_line(product)]).json() for _ in range(3))
    cancelled = place_order(customer_client, [order_line(product)]).json()
    customer_client.post(f"{ORDERS}{cancelled['id']}/cancel/", {}, format="json")
    rows = [
        ["order_number", "carrier", "tracking_number"],
        [first["order_number"], "CJ대한통운", "6012-3456-7890"],
        [],
        [second["order_number"], "kr.epost", "1234567890123"],
        ["20990101-000001", "kr.cjlogistics", "601234567891"],
        [third["order_number"], "DHL", "601234567892"],
        [third["order_number"], "롯데택배", "12"],
        [cancelled["order_number"], "kr.cjlogistics", "601234567893"],
        [third["order_number"], "kr.cjlogistics", "601234567890"],
        [third["order_number"], "kr.cjlogistics"],
        [first["order_number"], "kr.hanjin", "1234567890"],
        [third["order_number"], " 한진택배 ", " 9876543210 "],
    ]

    results = services.order_ship_bulk(rows=rows, by=STAFF)

    assert [(result.line, result.order_number, result.code) for result in results] == [
        (2, first["order_number"], ""),
        (4, second["order_number"], ""),
        (5, "20990101-000001", "order_not_found"),
        (6, third["order_number"], "unknown_carrier"),
        (7, third["order_number"], "invalid_tracking_number"),
        (8, cancelled["order_number"], "order_not_shippable"),
        (9, third["order_number"], "tracking_number_in_use"),
        (10, third["order_number"], "malformed_row"),
        (11, first["order_number"], "order_not_shippable"),
        (12, third["order_number"], ""),
    ]
    assert [result.ok for result in results].count(True) == 3
    assert all(result.message for result in results if not result.ok)
    shipped = dict(Shipment.objects.values_list("order__order_number", "tracking_number"))
    assert shipped == {
        first["order_number"]: "601234567890",
        second["order_number"]: "1234567890123",
        third["order_number"]: "9876543210",
    }
    assert Order.objects.get(pk=cancelled["id"]).status == "CANCELLED"


def test_bulk_ship_of_too_many_rows_ships_nothing(paid_order):
    rows = [[paid_order["order_number"], "kr.cjlogistics", f"{600000000000 + n}"] for n in range(1001)]

    with pytest.raises(services.errors.BulkShipTooLarge):
        services.order_ship_bulk(rows=rows, by=STAFF)

    nothing_shipped(paid_order["id"])


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_the_admin_bulk_ships_an_uploaded_excel_csv_with_a_result_table(
    customer_client, product_factory, staff_browser
):
    product = product_factory(stock=5)
    good, bad = (place_order(customer_client, [order_line(product)]).json() for _ in range(2))
    rows = [
        "주문번호,택배사,송장번호",
        f"{good['order_number']},CJ대한통운,601234567890",
        f"{bad['order_number']},로젠택배,1",
    ]
    csv_text = "\r\n".join(rows) + "\r\n"  # as Excel saves it
    upload = SimpleUploadedFile("송장.csv", csv_text.encode("cp949"), content_type="text/csv")

    response = staff_browser.post(reverse("admin:orders_order_ship"), {"rows": "", "file": upload})

    html = response.content.decode()
    start = html.index('id="bulk-ship-results"')
    table = html[start : html.index("</table>", start)]
    assert table.count('<tr class="shipped">') == 1
    assert table.count('<tr class="refused">') == 1
    assert "invalid_tracking_number" in table
    assert "Shipped 1 of 2 rows." in html
    assert Order.objects.get(pk=good["id"]).status == "SHIPPED"
    assert Order.objects.get(pk=bad["id"]).status == "PAID"
    assert Shipment.objects.get().shipped_by == "staff:staff@c4ang.com"


def test_the_admin_bulk_ship_page_asks_for_rows(staff_browser):
    empty = staff_browser.post(reverse("admin:orders_order_ship"), {"rows": "  "})

    assert "Paste the rows or choose a CSV file." in empty.content.decode()
    assert Shipment.objects.count() == 0


def test_the_admin_delivers_shipped_orders_and_shows_the_tracking_link(staff_browser):
    shipment = ShipmentFactory(order=OrderFactory(status="SHIPPED", items_amount=Decimal(10000)))
    paid = OrderFactory(status="PAID")
    url = reverse("admin:orders_order_changelist")

    staff_browser.post(url, {"action": "mark_delivered", "_selected_action": [str(shipment.order_id), str(paid.pk)]})
    page = staff_browser.get(reverse("admin:orders_order_change", args=[shipment.order_id])).content.decode()

    shipment.refresh_from_db()
    assert shipment.delivered_at is not None
    assert Order.objects.get(pk=shipment.order_id).status == "DELIVERED"
    assert Order.objects.get(pk=paid.pk).status == "PAID"
    assert f"https://trace.cjlogistics.com/next/tracking.html?wblNo={shipment.tracking_number}" in page
    assert "CJ Logistics" in page
