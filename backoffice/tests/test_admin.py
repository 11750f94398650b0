"""The staff admin: every page renders, and no list or detail page grows its queries with its rows."""

import itertools
import json
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from c4ang.models import JobRun
from customers.tests.factories import CustomerFactory
from orders.models import Order, OrderEvent, OrderItem
from orders.tests.factories import OrderFactory, OrderItemFactory
from payments.models import Payment, PaymentEvent, WebhookEvent
from payments.tests.factories import PaymentFactory
from products.models import Product, StockAdjustment
from products.tests.factories import ProductFactory, ReviewFactory
from recommendations.tests.factories import RecommendationFactory
from saga.models import SagaEvent, SagaInstance
from sentiment.tests.factories import ProductSentimentFactory

pytestmark = pytest.mark.django_db


_batches = itertools.count()


def build_shop(size: int) -> dict:
    """`size` rows of every model, linked the way real data is."""
    batch = next(_batches)
    products = [
        ProductFactory(
            name=f"상품{n}", category__name=f"카테고리{batch}-{n}", brand=f"브랜드{n}", price=1000 * (n + 1), stock=n
        )
        for n in range(size)
    ]
    customers = [CustomerFactory(email=f"shopper{batch}-{n}@example.kr", name=f"고객{n}") for n in range(size)]
    for n in range(size):
        for reviewer in customers:
            ReviewFactory(product=products[n], customer=reviewer, rating=1 + n % 5, content="좋아요")
        order = OrderFactory(customer=customers[n], items_amount=Decimal(2000), status="PAID")
        for product in products[:2]:
            OrderItemFactory(order=order, product=product)
        OrderEvent.objects.create(order=order, from_status="PENDING", to_status="PAID", actor="system")
        PaymentFactory(order=order, status="APPROVED", idempotency_key=f"k{batch}-{n}")
        WebhookEvent.objects.create(
            provider="toss", event_id=f"e{batch}-{n}", event_type="PAYMENT_STATUS_CHANGED", payload={}
        )
        saga = SagaInstance.objects.create(saga_type="place_order", status="COMPLETED", payload={"n": n})
        for step in ("create_order", "reserve_stock"):
            SagaEvent.objects.create(saga=saga, step=step, event_type="STEP_COMPLETED")
        RecommendationFactory(product=products[n], recommended=products)
        ProductSentimentFactory(product=products[n])
    return {"product": products[-1], "order": order, "saga": saga, "customer": customers[-1]}


def changelist_urls() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.fixture
def staff_browser(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_list_pages_do_not_grow_with_their_rows(staff_browser):
    build_shop(2)
    for url in changelist_urls():
        queries_for(staff_browser, url)  # warm the per-process caches (content types, permissions)
    small = {url: queries_for(staff_browser, url) for url in changelist_urls()}
    build_shop(6)
    large = {url: queries_for(staff_browser, url) for url in changelist_urls()}

    grown = {url: (small[url], large[url]) for url in small if large[url] != small[url]}
    assert grown == {}
    # The busiest pages, for the record.
    assert max(large.values()) <= 12, large


@pytest.mark.parametrize("page", ["product", "order", "saga", "customer"])
def test_detail_pages_do_not_grow_with_their_inlines(staff_browser, page):
    def url(shop):
        obj = shop[page]
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])

    small_url = url(build_shop(2))
    queries_for(staff_browser, small_url)  # warm the per-process caches (content types, permissions)
    small = queries_for(staff_browser, small_url)
    large = queries_for(staff_browser, url(build_shop(6)))

    assert large == small


def test_dashboard_shows_every_panel(staff_browser):
    build_shop(3)

    response = staff_browser.get(reverse("admin-dashboard"))

    html = response.content.decode()
    for panel in (
        "orders-per-day",
        "revenue-per-day",
        "saga-outcomes",
        "payment-declines",
        "stock-alerts",
        "sentiment",
        "refunds-per-day",
        "open-returns",
    ):
        assert f'id="{panel}"' in html
    # 3 paid orders of ₩2,000 today; 3 completed sagas; stock alerts list the products at 0, 1 and 2 units.
    assert "₩6,000" in html
    # orders and revenue per day, saga outcomes, orders by payment method (no refunds yet: no bars)
    assert html.count('class="c4ang-bar"') == 30 + 30 + 5 + 2
    assert "상품0" in html


def test_dashboard_shows_orders_by_payment_method(staff_browser):
    customer = CustomerFactory()
    for status in ("PAID", "PAID", "CANCELLED"):
        OrderFactory(customer=customer, status=status, items_amount=Decimal(12000))
    for status in ("PAID", "PENDING", "PENDING"):
        OrderFactory(customer=customer, status=status, payment_method="virtual_account", items_amount=Decimal(30000))

    html = staff_browser.get(reverse("admin-dashboard")).content.decode()

    assert 'id="orders-by-method"' in html
    table = html[html.index('id="revenue-by-method"') :]
    table = table[: table.index("</table>")]
    cells = {row[0]: list(row[1:]) for row in re.findall(r"<tr>" + "<td>([^<]*)</td>" * 5 + "</tr>", table)}
    # orders, paid, awaiting payment, revenue of the paid ones
    assert cells == {
        "Card": ["3", "2", "0", "₩24,000"],
        "Virtual account (가상계좌)": ["3", "1", "2", "₩30,000"],
    }


def test_payments_cannot_be_edited_by_hand(staff_browser):
    shop = build_shop(1)
    payment = Payment.objects.get(order=shop["order"])
    url = reverse("admin:payments_payment_change", args=[payment.pk])

    staff_browser.post(url, {"status": "REFUNDED", "amount": "1"})

    payment.refresh_from_db()
    assert payment.status == "APPROVED"
    assert payment.amount == Decimal(2000)


def test_adjust_stock_action_asks_for_a_reason_then_records_it(staff_browser):
    shop = build_shop(1)
    product = shop["product"]
    url = reverse("admin:products_product_changelist")
    selection = {"action": "adjust_stock", "_selected_action": [str(product.pk)]}

    form_page = staff_browser.post(url, selection)
    assert form_page.status_code == 200
    assert b'name="reason"' in form_page.content
    refused = staff_browser.post(url, {**selection, "apply": "1", "delta": "5", "reason": ""})
    assert refused.status_code == 200  # the form again, with the error
    staff_browser.post(url, {**selection, "apply": "1", "delta": "5", "reason": "입고 (발주 #42)"})

    product.refresh_from_db()
    assert product.stock == 5
    assert list(StockAdjustment.objects.values_list("delta", "stock_after", "reason", "actor")) == [
        (5, 5, "입고 (발주 #42)", "staff:staff@c4ang.com")
    ]


def test_ship_action_asks_for_tracking_then_refuses_an_unpaid_order_with_its_code(staff_browser):
    shop = build_shop(1)
    order = shop["order"]
    Order.objects.filter(pk=order.pk).update(status="PENDING")
    url = reverse("admin:orders_order_changelist")

    form_page = staff_browser.post(url, {"action": "mark_shipped", "_selected_action": [str(order.pk)]})
    assert f"{order.order_number},,".encode() in form_page.content  # a row to complete for each order
    response = staff_browser.post(
        reverse("admin:orders_order_ship"), {"rows": f"{order.order_number},CJ대한통운,123456789012"}
    )

    assert "order_not_shippable" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "PENDING"


def test_dashboard_lists_the_latest_job_runs_with_run_now_buttons(staff_browser):
    from c4ang.models import JobRun

    JobRun.objects.create(
        job="daily_recommendation_pipeline",
        trigger="schedule",
        status="SUCCEEDED",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        counts={"products": 42},
    )

    html = staff_browser.get(reverse("admin-dashboard")).content.decode()

    assert 'id="job-runs"' in html
    assert "products=42" in html
    assert reverse("admin-job-start", args=["weekly_sentiment_analysis"]) in html


def test_run_now_refuses_unknown_jobs_and_get(staff_browser):
    assert staff_browser.post(reverse("admin-job-start", args=["mine_bitcoin"])).status_code == 404
    assert staff_browser.get(reverse("admin-job-start", args=["weekly_sentiment_analysis"])).status_code == 405


@pytest.mark.redis
def test_run_now_queues_the_job_for_a_worker_on_the_real_broker(staff_browser, settings):
    import redis

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = staff_browser.post(reverse("admin-job-start", args=["daily_recommendation_pipeline"]), follow=True)

    assert "queued for a Celery worker" in response.content.decode()
    queued = [json.loads(message) for message in broker.lrange("celery", 0, -1)]
    assert [message["headers"]["task"] for message in queued] == ["recommendations.tasks.daily_recommendation_pipeline"]
    broker.delete("celery")


def money_and_audit_rows() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in (
            Order,
            OrderItem,
            OrderEvent,
            Payment,
            PaymentEvent,
            WebhookEvent,
            SagaInstance,
            SagaEvent,
            StockAdjustment,
            JobRun,
            Product,
        )
    }


def offered_actions(changelist) -> list[str]:
    action_form = changelist.context["action_form"]  # None when the list offers no action at all
    return [] if action_form is None else [value for value, _ in action_form.fields["action"].choices if value]


@pytest.mark.parametrize("model", [Order, Payment, WebhookEvent, SagaInstance, JobRun], ids=lambda m: m.__name__)
def test_money_and_audit_rows_cannot_be_deleted_from_the_admin(staff_browser, model):
    # Given a shop with every kind of row, as a superuser
    build_shop(1)
    JobRun.objects.create(job="daily-recommendation-pipeline", trigger="schedule", started_at=timezone.now())
    PaymentEvent.objects.create(payment=Payment.objects.get(), kind="REQUESTED", detail={})
    row = model.objects.get()
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    before = money_and_audit_rows()

    # When staff look for "delete selected", open the delete page, confirm it, and post the action anyway
    changelist = staff_browser.get(reverse(f"{name}_changelist"))
    delete_page = staff_browser.get(reverse(f"{name}_delete", args=[row.pk]))
    delete_confirm = staff_browser.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"})
    staff_browser.post(
        reverse(f"{name}_changelist"), {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
    )

    # Then the action is not offered, the delete page is refused, and nothing is deleted
    assert changelist.status_code == 200
    assert "delete_selected" not in offered_actions(changelist)
    assert (delete_page.status_code, delete_confirm.status_code) == (403, 403)
    assert money_and_audit_rows() == before


def test_inlines_offer_no_delete_box(staff_browser):
    shop = build_shop(1)
    product = shop["product"]
    StockAdjustment.objects.create(product=product, delta=3, stock_after=3, reason="입고", actor="staff:a@c4ang.com")
    PaymentEvent.objects.create(payment=Payment.objects.get(), kind="REQUESTED", detail={})
    pages = [
        reverse("admin:orders_order_change", args=[shop["order"].pk]),
        reverse("admin:saga_sagainstance_change", args=[shop["saga"].pk]),
        reverse("admin:payments_payment_change", args=[Payment.objects.get().pk]),
        reverse("admin:products_product_change", args=[product.pk]),
    ]

    for url in pages:
        html = staff_browser.get(url).content.decode()
        assert "-DELETE" not in html, url


def test_a_product_with_stock_adjustments_cannot_be_deleted_with_them(staff_browser):
    # Given a product never ordered, with a stock adjustment (the audit trail of its stock)
    product = ProductFactory(stock=0)
    StockAdjustment.objects.create(product=product, delta=3, stock_after=3, reason="입고", actor="staff:a@c4ang.com")
    url = reverse("admin:products_product_delete", args=[product.pk])

    # When a superuser confirms its deletion
    page = staff_browser.get(url)
    staff_browser.post(url, {"post": "yes"})

    # Then the admin names the protected adjustment and deletes nothing
    assert "Cannot delete product" in page.content.decode()
    assert Product.objects.filter(pk=product.pk).count() == 1
    assert list(StockAdjustment.objects.values_list("product_id", "delta")) == [(product.pk, 3)]


def test_dashboard_in_korean_shows_job_runs_by_their_korean_names_and_kst_times(staff_browser):
    from datetime import UTC, datetime

    # 2026-12-01 23:30 UTC is 08:30 the next morning in Seoul
    started = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    JobRun.objects.create(
        job="weekly_sentiment_analysis",
        trigger="admin",
        status="FAILED",
        started_at=started,
        finished_at=started,
    )

    html = staff_browser.get(reverse("admin-dashboard"), HTTP_ACCEPT_LANGUAGE="ko-KR").content.decode()

    assert '<html lang="ko"' in html
    assert "<h1>대시보드</h1>" in html
    row = re.search(
        r"<td><a href=\"[^\"]+\" title=\"weekly_sentiment_analysis\">(.*?)</a></td>\s*<td>(.*?)</td>"
        r"<td>(.*?)</td><td>(.*?)</td>",
        html,
    )
    assert row.groups() == ("주간 리뷰 감성 분석", "실패", "지금 실행 (직원)", "2026-12-2 08:30")
    assert "일일 추천 생성 지금 실행" in html
    assert "아직 데이터가 없습니다." in html  # the empty charts
    assert "일별 환불 (최근 30일: 0건, ₩0)" in html


def test_dashboard_charts_count_orders_in_the_language_of_the_request(staff_browser):
    OrderFactory(customer=CustomerFactory(), status="PAID", items_amount=Decimal(12900))

    korean = staff_browser.get(reverse("admin-dashboard"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    english = staff_browser.get(reverse("admin-dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    today = f"{timezone.localdate():%m-%d}"
    assert f"<title>{today}: 1건</title>" in korean
    assert f"<title>{today}: ₩12,900</title>" in korean
    assert f"<title>{today}: 1 order</title>" in english
    assert "Orders per day (last 30 days)" in english


def test_run_now_says_how_the_job_started_in_korean(staff_browser, monkeypatch, settings):
    from backoffice import jobs

    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded default: the job starts as its own process
    started = []
    monkeypatch.setattr(jobs.subprocess, "Popen", lambda argv, **options: started.append(argv[2:]))

    response = staff_browser.post(
        reverse("admin-job-start", args=["daily_recommendation_pipeline"]), follow=True, HTTP_ACCEPT_LANGUAGE="ko"
    )

    assert started == [["run_recommendations"]]
    assert (
        "일일 추천 생성: `manage.py run_recommendations` 프로세스로 시작함. "
        "실행 결과는 &#x27;최근 작업 실행&#x27;에 표시됩니다."
    ) in response.content.decode()


def test_the_admin_header_offers_korean_and_english(staff_browser):
    html = staff_browser.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    switcher = html[html.index('<form id="language-switcher"') :]
    switcher = switcher[: switcher.index("</form>")]
    assert f'action="{reverse("set_language")}"' in switcher
    assert '<input type="hidden" name="next" value="/admin/">' in switcher
    assert re.findall(r'<option value="(\w+)" lang="\w+"( selected)?>([^<]+)</option>', switcher) == [
        ("ko", " selected", "한국어"),
        ("en", "", "English"),
    ]
    assert "csrfmiddlewaretoken" in switcher
    assert "로그아웃" in html  # Django's own links stay
    assert "<title>쇼핑몰 관리 | C4ang 관리자</title>" in html


def test_switching_the_language_sets_it_for_the_next_pages(staff_browser):
    response = staff_browser.post(reverse("set_language"), {"language": "en", "next": "/admin/dashboard/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/dashboard/"
    html = staff_browser.get(reverse("admin-dashboard"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "<h1>Dashboard</h1>" in html
