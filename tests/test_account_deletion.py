"""회원탈퇴: a customer deletes their account with their password. Personal data goes at once; the
orders and payments stay (the law's retention period), pointing at an anonymised stub; the login
and its tokens stop working. Refused while an order is under way."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from c4ang.actors import Actor, ActorKind
from conftest import SHIPPING_ADDRESS, client_for, order_line, place_order
from customers.models import Customer, CustomerAddress, User
from customers.tests.factories import PASSWORD, CustomerAddressFactory
from orders import services as order_services
from orders.constants import OrderStatus
from orders.models import CartItem, Order
from orders.tests.factories import OrderFactory, OrderItemFactory, ShipmentFactory
from payments.models import Payment

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/customers/token/"
REFRESH = "/api/v1/customers/token/refresh/"
ME = "/api/v1/customers/me/"
DELETE = "/api/v1/customers/me/delete/"


def sign_in(email: str, password: str = PASSWORD):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def signed_in(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def deliver(order: Order) -> Order:
    staff = Actor(ActorKind.STAFF, "staff@c4ang.com")
    order_services.order_ship(order_id=order.pk, carrier="kr.cjlogistics", tracking_number="612345678901", by=staff)
    return order_services.order_mark_delivered(order_id=order.pk, by=staff)


def personal_data(customer: Customer) -> tuple:
    """What a refused deletion must leave as it was."""
    customer.refresh_from_db()
    customer.user.refresh_from_db()
    return (
        customer.email,
        customer.name,
        customer.phone,
        customer.deleted_at,
        customer.user.email,
        customer.user.is_active,
        customer.user.password,
        CustomerAddress.objects.filter(customer=customer).count(),
        CartItem.objects.filter(cart__customer=customer).count(),
        OutstandingToken.objects.filter(user=customer.user, blacklistedtoken__isnull=True).count(),
    )


def test_deleting_the_account_erases_personal_data_and_keeps_the_orders(customer_factory, product_factory):
    # Given a customer with a delivered (paid) order, an address book, a cart, a failed sign-in and two sessions
    customer = customer_factory(name="김민지", phone="010-1234-5678", email="kim.minji@example.kr")
    CustomerAddressFactory(customer=customer, is_default=True)
    CustomerAddressFactory(customer=customer)
    product = product_factory(stock=10)
    as_customer = client_for(customer.user)
    placed = place_order(as_customer, [order_line(product)])
    assert placed.status_code == 201, placed.content
    order = deliver(Order.objects.get(pk=placed.json()["id"]))
    assert as_customer.post("/api/v1/orders/cart/items/", order_line(product), format="json").status_code == 201
    assert sign_in(customer.email, "a wrong password").status_code == 401
    phone, laptop = sign_in(customer.email).json(), sign_in(customer.email).json()
    payment_before = Payment.objects.filter(order=order).values_list("pk", "status", "amount").get()

    # When the customer deletes the account, confirming with the password
    response = signed_in(phone["access"]).post(DELETE, {"password": PASSWORD}, format="json")

    # Then the personal data is gone at once
    assert response.status_code == 204, response.content
    customer.refresh_from_db()
    stub = f"deleted-{customer.pk.hex}@deleted.invalid"
    assert (customer.email, customer.name, customer.phone) == (stub, "", "")
    assert customer.deleted_at is not None
    user = User.objects.get(pk=customer.user_id)
    assert (user.email, user.is_active, user.has_usable_password()) == (stub, False, False)
    assert CustomerAddress.objects.filter(customer=customer).count() == 0
    assert CartItem.objects.filter(cart__customer=customer).count() == 0
    assert AccessAttempt.objects.filter(username="kim.minji@example.kr").count() == 0
    # ... while the order, its shipping snapshot and its payment stay, pointing at the stub
    order.refresh_from_db()
    assert (order.customer_id, order.status) == (customer.pk, OrderStatus.DELIVERED)
    assert (order.shipping_recipient, order.shipping_phone) == (SHIPPING_ADDRESS["recipient"], "010-1234-5678")
    assert Payment.objects.filter(order=order).values_list("pk", "status", "amount").get() == payment_before
    # ... and nothing of the login works any more
    assert signed_in(phone["access"]).get(ME).status_code == 401
    assert signed_in(phone["access"]).get(ME).json()["code"] == "user_inactive"
    for tokens in (phone, laptop):
        assert APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert sign_in("kim.minji@example.kr").json()["code"] == "no_active_account"
    assert sign_in(stub).status_code == 400  # not an address anyone can sign in with


def test_the_address_can_register_again_as_a_new_customer(customer, api_client):
    email = customer.email
    assert client_for(customer.user).post(DELETE, {"password": PASSWORD}, format="json").status_code == 204

    again = api_client.post(
        "/api/v1/customers/register/", {"email": email, "password": PASSWORD, "name": "김민지"}, format="json"
    )

    assert again.status_code == 201, again.content
    assert again.json()["customer"]["id"] != str(customer.pk)
    assert Customer.objects.count() == 2


def test_a_wrong_password_deletes_nothing(customer):
    CustomerAddressFactory(customer=customer, is_default=True)
    as_customer = client_for(customer.user)
    before = personal_data(customer)

    response = as_customer.post(DELETE, {"password": "not my password"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "password_incorrect"
    assert [error["field"] for error in response.json()["errors"]] == ["password"]
    assert personal_data(customer) == before


def order_in(state: str, customer, product_factory):
    if state == "return requested":
        delivered = OrderFactory(customer=customer, status=OrderStatus.DELIVERED)
        item = OrderItemFactory(order=delivered, product=product_factory())
        ShipmentFactory(order=delivered, delivered_at=delivered.created_at)
        order_services.return_request(
            order_id=delivered.pk,
            customer_id=customer.pk,
            lines={item.pk: 1},
            reason="defective",
            by=Actor(ActorKind.CUSTOMER, customer.email),
        )
        return delivered
    return OrderFactory(customer=customer, status=state)


@pytest.mark.parametrize("state", ["PENDING", "PAID", "SHIPPED", "return requested"])
def test_an_order_under_way_keeps_the_account(customer, product_factory, state):
    order_in(state, customer, product_factory)
    CustomerAddressFactory(customer=customer, is_default=True)
    as_customer = client_for(customer.user)
    before = personal_data(customer)

    response = as_customer.post(DELETE, {"password": PASSWORD}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "account_has_open_orders"
    assert personal_data(customer) == before


@pytest.mark.parametrize("state", ["DELIVERED", "CANCELLED"])
def test_settled_orders_do_not_keep_the_account(customer, state):
    OrderFactory(customer=customer, status=state)

    assert client_for(customer.user).post(DELETE, {"password": PASSWORD}, format="json").status_code == 204


def test_staff_see_a_deleted_account_anonymised_and_cannot_change_it(customer, staff_client):
    assert client_for(customer.user).post(DELETE, {"password": PASSWORD}, format="json").status_code == 204
    url = f"/api/v1/customers/staff/{customer.pk}/"

    shown = staff_client.get(url)
    listed = staff_client.get("/api/v1/customers/staff/", {"search": "deleted-"})
    renamed = staff_client.patch(url, {"name": "김민지"}, format="json")
    reactivated = staff_client.patch(url, {"is_active": True}, format="json")

    assert shown.status_code == 200
    assert shown.json()["email"] == f"deleted-{customer.pk.hex}@deleted.invalid"
    assert (shown.json()["name"], shown.json()["phone"], shown.json()["is_active"]) == ("", "", False)
    assert shown.json()["deleted_at"] is not None
    assert [found["id"] for found in listed.json()["results"]] == [str(customer.pk)]
    for refused in (renamed, reactivated):
        assert refused.status_code == 409
        assert refused.json()["code"] == "customer_deleted"
    customer.refresh_from_db()
    assert (customer.name, customer.user.is_active) == ("", False)


def test_an_existing_account_shows_no_deletion_to_staff(customer, staff_client):
    shown = staff_client.get(f"/api/v1/customers/staff/{customer.pk}/")

    assert shown.json()["deleted_at"] is None
    assert shown.json()["is_active"] is True


def test_the_admin_lists_deleted_accounts_apart_and_keeps_them_as_they_are(customer_factory, staff_user):
    kept, deleted = customer_factory(name="박서준"), customer_factory(name="김민지")
    assert client_for(deleted.user).post(DELETE, {"password": PASSWORD}, format="json").status_code == 204
    staff_user.is_superuser = True
    staff_user.save()
    browser = Client()
    browser.force_login(staff_user)

    deleted_only = browser.get("/admin/customers/customer/", {"deleted_at__isempty": "0"})
    change_page = browser.get(f"/admin/customers/customer/{deleted.pk}/change/")

    assert deleted_only.status_code == 200
    assert [row.pk for row in deleted_only.context["cl"].result_list] == [deleted.pk]
    assert kept.name not in deleted_only.content.decode()
    assert "name" not in change_page.context["adminform"].form.fields
