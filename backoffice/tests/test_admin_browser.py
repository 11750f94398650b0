"""Staff work in a real browser: Debian's Chromium driven by Playwright against a live server."""

import pytest
from django.conf import settings

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
    from orders.models import Order
    from payments.models import Payment
    from products.models import Product

    order = place_paid_order(customer, product_factory)
    earphones = Product.objects.get(name="소니 무선 이어폰")

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
    assert page.locator("#result_list td.field-status_badge").first.inner_text() == "Cancelled"
    screenshot("refund-3-order-cancelled")
    page.goto(f"{live_server.url}/admin/payments/payment/")
    assert page.locator("#result_list td.field-status_badge").first.inner_text() == "Refunded"
    screenshot("refund-4-payment-refunded")

    order = Order.objects.get(pk=order.pk)
    assert order.status == "CANCELLED"
    assert list(Payment.objects.filter(order_id=order.pk).values_list("status", flat=True)) == ["REFUNDED"]
    assert Product.objects.get(pk=earphones.pk).stock == 5


def place_paid_order(customer, product_factory):
    from conftest import SHIPPING_ADDRESS
    from orders import services as order_services
    from orders.services import OrderLine

    earphones = product_factory(name="소니 무선 이어폰", price=129000, stock=5)
    order, _replayed = order_services.order_place(
        customer_id=customer.id,
        lines=[OrderLine(product_id=earphones.id, quantity=2)],
        shipping=order_services.ShippingAddress(**SHIPPING_ADDRESS),
        payment_token="tok_approve",
        idempotency_key=None,
    )
    assert order.status == "PAID"
    return order


class TestStaffReadTheAdminInKorean:
    """Chromium asks for Korean (Accept-Language ko-KR), as a staff member's browser in Korea does."""

    @pytest.fixture
    def browser_language(self) -> str:
        return "ko-KR"

    def test_the_admin_speaks_korean_until_staff_switch_to_english(
        self, live_server, page, staff_login, screenshot, customer, product_factory
    ):
        order = place_paid_order(customer, product_factory)

        # Given Korean from the sign-in page on
        staff_login()
        page.wait_for_url("**/admin/")
        assert page.locator("html").get_attribute("lang") == "ko"
        header = page.locator("#header").text_content()
        assert "C4ang 관리자" in header
        assert "로그아웃" in header  # Django's own catalogue
        assert "쇼핑몰 관리" in page.title()
        assert page.locator(".c4ang-dashboard-link").inner_text().startswith("대시보드 열기")
        assert page.locator("#language-switcher-language").input_value() == "ko"

        # The dashboard: titles, tiles, captions and amounts in won
        page.click("text=대시보드 열기")
        page.wait_for_url("**/admin/dashboard/")
        assert page.locator("h1").inner_text() == "대시보드"
        tiles = page.locator(".c4ang-tiles").inner_text()
        assert "오늘 주문" in tiles
        assert "최근 30일 매출" in tiles
        assert "₩258,000" in tiles
        assert page.locator("#orders-per-day h2").inner_text() == "일별 주문 수 (최근 30일)"
        assert page.locator("#refunds-per-day h2").inner_text() == "일별 환불 (최근 30일: 0건, ₩0)"
        # The labels of the other apps' values, in their catalogues: payment methods, return statuses
        assert "카드\t1\t1\t0\t₩258,000" in page.locator("#revenue-by-method").inner_text()
        assert page.locator("#open-returns tbody a").all_inner_texts() == ["반품 요청", "반품 승인", "반품 입고"]
        threshold = settings.C4ANG_LOW_STOCK_THRESHOLD
        assert page.locator("#stock-alerts h2").inner_text() == f"재고 알림 ({threshold}개 이하)"
        assert page.locator("#stock-alerts th").all_inner_texts() == ["상품", "카테고리", "재고"]
        assert page.locator("#stock-alerts tbody td").all_inner_texts() == ["소니 무선 이어폰", "전자제품", "3"]
        assert "아직 리뷰가 없습니다." in page.locator("#sentiment").inner_text()
        assert "아직 실행된 작업이 없습니다." in page.locator("#job-runs").inner_text()
        assert page.locator("#job-runs button").first.inner_text() == "일일 추천 생성 지금 실행"
        screenshot("dashboard-ko")

        # The order list: its columns, the status filter and the order's row read Korean
        page.goto(f"{live_server.url}/admin/orders/order/")
        assert "로그아웃" in page.locator("#header").text_content()
        assert page.locator("h1").inner_text() == "변경할 주문 선택"  # Django's "Select %s to change"
        columns = [text.strip() for text in page.locator("#result_list thead th").all_inner_texts()]
        assert columns[1:8] == ["주문번호", "고객", "받는 분", "상태", "결제 수단", "합계", "상품 수"]
        assert columns[8].startswith("생성 일시")
        filters = page.locator("#changelist-filter").inner_text()
        assert "필터" in filters  # Django's own
        for label in ("결제 대기", "결제 완료", "배송 중", "배송 완료", "취소됨"):
            assert label in filters
        row = page.locator("#result_list tbody tr").first
        assert row.locator("td.field-status_badge").inner_text() == "결제 완료"
        assert row.locator("td.field-total").inner_text() == "₩258,000"
        screenshot("order-list-ko")

        # The order's page
        page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
        assert page.locator("h1").inner_text() == "주문 변경"  # Django's "Change %s"
        assert "금액 및 결제" in page.locator("#content").inner_text()
        assert page.locator("a", has_text="부분 취소").count() == 1
        screenshot("order-change-ko")

        # An action's page: ship the selected order with its tracking number
        page.goto(f"{live_server.url}/admin/orders/order/")
        page.locator("#result_list tbody tr").first.locator("input.action-select").check()
        page.select_option("select[name=action]", "mark_shipped")
        page.click("button[name=index]")
        page.wait_for_url("**/admin/orders/order/")
        assert f"{order.order_number},," in page.locator("textarea[name=rows]").input_value()
        assert page.locator("h1").inner_text() == "주문 출고"
        assert page.locator("input[type=submit]").get_attribute("value") == "출고"
        screenshot("bulk-ship-ko")

        # When staff switch to English in the header
        page.goto(f"{live_server.url}/admin/dashboard/")
        page.select_option("#language-switcher-language", "en")
        page.click("#language-switcher button[type=submit]")

        # Then the same page answers in English, and so does the next one (the language cookie)
        page.wait_for_url("**/admin/dashboard/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Dashboard"
        assert "Orders today" in page.locator(".c4ang-tiles").inner_text()
        assert "Log out" in page.locator("#header").text_content()
        assert page.locator("#language-switcher-language").input_value() == "en"
        screenshot("dashboard-en-switched")
        page.goto(f"{live_server.url}/admin/")
        assert "Shop administration" in page.title()
        assert "C4ang staff" in page.locator("#header").text_content()
