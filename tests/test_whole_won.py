"""KRW has no minor unit: prices and amounts are whole won at every input (API, admin) and in the
products table itself, on SQLite and on PostgreSQL."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from conftest import order_line, place_order
from payments.models import Payment
from products.models import Product
from products.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

STAFF_PRODUCTS = "/api/v1/products/staff/"
NOT_WHOLE_WON = {
    "field": "price",
    "code": "not_whole_won",
    "message": "KRW has no minor unit: give a whole number of won.",
}


@pytest.mark.parametrize("price", ["1000.50", 1000.5, "0.01", "1000.001"])
def test_a_fractional_price_is_refused_naming_the_field(staff_client, price):
    category = CategoryFactory(name="도서")
    body = {"name": "책", "category_id": str(category.pk), "brand": "민음사", "price": price}

    response = staff_client.post(STAFF_PRODUCTS, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "validation_error", "message": "Invalid input.", "errors": [NOT_WHOLE_WON]}
    assert Product.objects.count() == 0


@pytest.mark.parametrize("price", ["1000", 1000, "1000.00", 1000.0, "1e3"])
def test_a_whole_price_is_taken_however_it_is_written(staff_client, price):
    category = CategoryFactory(name="도서")
    body = {"name": "책", "category_id": str(category.pk), "brand": "민음사", "price": price}

    response = staff_client.post(STAFF_PRODUCTS, body, format="json")

    assert response.status_code == 201
    assert response.json()["price"] == 1000
    assert Product.objects.get().price == Decimal(1000)


def test_a_price_change_to_a_fraction_is_refused_and_changes_nothing(staff_client):
    product = ProductFactory(price=Decimal(32000))

    response = staff_client.patch(f"{STAFF_PRODUCTS}{product.pk}/", {"price": "31999.50"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [NOT_WHOLE_WON]
    assert Product.objects.get(pk=product.pk).price == Decimal(32000)


def test_a_fractional_confirm_amount_is_refused_before_the_pg(customer_client):
    product = ProductFactory(price=Decimal(35000), stock=4)
    order = place_order(customer_client, [order_line(product, 2)], pay_with=None).json()

    response = customer_client.post(
        "/api/v1/payments/confirm/",
        {"paymentKey": "tok_approve", "orderId": order["id"], "amount": "70000.50"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [{**NOT_WHOLE_WON, "field": "amount"}]
    assert Payment.objects.count() == 0


def test_the_admin_refuses_a_fractional_price(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    product = ProductFactory(name="책", brand="민음사", price=Decimal(32000))
    form = {
        "name": "책",
        "category": str(product.category_id),
        "brand": "민음사",
        "price": "32000.50",
        "is_active": "on",
        "stock_adjustments-TOTAL_FORMS": "0",
        "stock_adjustments-INITIAL_FORMS": "0",
        "reviews-TOTAL_FORMS": "0",
        "reviews-INITIAL_FORMS": "0",
    }

    response = client.post(reverse("admin:products_product_change", args=[product.pk]), form)

    assert response.status_code == 200  # the form again, with the error on the price
    assert response.context["adminform"].form.errors == {
        "price": ["KRW has no minor unit: give a whole number of won."]
    }
    assert Product.objects.get(pk=product.pk).price == Decimal(32000)


def test_the_products_table_refuses_a_fractional_price():
    product = ProductFactory(price=Decimal(32000))

    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(price=Decimal("32000.50"))

    assert Product.objects.get(pk=product.pk).price == Decimal(32000)
    Product.objects.filter(pk=product.pk).update(price=Decimal(99999999))  # the largest whole price is fine
    assert Product.objects.get(pk=product.pk).price == Decimal(99999999)
