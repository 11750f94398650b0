"""Staff work in a real browser: Debian's Chromium driven by Playwright against a live server."""

import pytest

from customers.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STAFF_EMAIL = "manager@c4ang.com"
STAFF_PASSWORD = "staff browser password"


@pytest.fixture
def staff_login(live_server, page):
    User.objects.create_user(STAFF_EMAIL, STAFF_PASSWORD, is_staff=True, is_superuser=True)

    def login(next_path: str = "/admin/") -> None:
        page.goto(f"{live_server.url}/admin/login/?next={next_path}")
        page.fill("#id_username", STAFF_EMAIL)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")

    return login


def test_staff_sign_in_and_open_the_dashboard(live_server, page, staff_login, screenshot):
    from django.core.management import call_command

    call_command("seed_demo_data", "--products", "30", "--customers", "120", verbosity=0)

    staff_login()
    page.click("text=Open the dashboard")
    page.wait_for_url("**/admin/dashboard/")

    assert page.locator("#stock-alerts table tbody tr").count() > 0
    assert page.locator("#sentiment table tbody tr").count() == 10
    screenshot("dashboard")


def test_staff_refund_an_order_with_the_admin_action(
    live_server, page, staff_login, screenshot, customer, product_factory
):
    from conftest import SHIPPING_ADDRESS
    from orders import services as order_services
    from orders.models import Order
    from orders.services import OrderLine
    from payments.models import Payment
    from products.models import Product

    earphones = product_factory(name="소니 무선 이어폰", price=129000, stock=5)
    order, _ = order_services.order_place(
        customer_id=customer.id,
        lines=[OrderLine(product_id=earphones.id, quantity=2)],
        shipping=order_services.ShippingAddress(**SHIPPING_ADDRESS),
        payment_token="tok_approve",
        idempotency_key=None,
    )
    assert order.status == "PAID"

    staff_login("/admin/dashboard/")
    page.wait_for_url("**/admin/dashboard/")
    assert "₩258,000" in page.locator(".c4ang-tiles").inner_text()
    screenshot("refund-1-dashboard")

    page.goto(f"{live_server.url}/admin/orders/order/?q={customer.email}")
    row = page.locator("#result_list tbody tr").filter(has_text=customer.email)
    assert row.count() == 1
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "cancel_and_refund")
    screenshot("refund-2-action-chosen")
    page.click("button[name=index]")

    assert "Cancelled: 1" in page.locator(".messagelist").inner_text()
    assert "CANCELLED" in page.locator("#result_list tbody tr").first.inner_text()
    screenshot("refund-3-order-cancelled")
    page.goto(f"{live_server.url}/admin/payments/payment/")
    assert "REFUNDED" in page.locator("#result_list tbody tr").first.inner_text()
    screenshot("refund-4-payment-refunded")

    order = Order.objects.get(pk=order.pk)
    assert order.status == "CANCELLED"
    assert list(Payment.objects.filter(order_id=order.pk).values_list("status", flat=True)) == ["REFUNDED"]
    assert Product.objects.get(pk=earphones.pk).stock == 5
