from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from c4ang.models import JobRun
from customers.models import Customer, CustomerAddress, User
from orders.models import CartItem, Order
from payments.models import Payment
from products.models import Product, Review
from recommendations.models import Recommendation
from sentiment.models import ProductSentiment

pytestmark = pytest.mark.django_db


def test_seed_creates_a_korean_shop_with_products_the_sentiment_job_will_pick():
    call_command(
        "seed_demo_data", "--products", "40", "--customers", "150", "--reviews", "3", "--orders", "30", verbosity=0
    )

    assert Product.objects.count() == 40
    assert Customer.objects.count() == 150
    assert User.objects.filter(email="staff@c4ang.com", is_staff=True, is_superuser=True).exists()
    popular = Product.objects.annotate(n=Count("reviews")).filter(n__gte=100)
    assert popular.count() == 12
    assert all(price % 100 == 0 and price > 0 for price in Product.objects.values_list("price", flat=True))
    assert Review.objects.filter(content__regex=r"[가-힣]").count() == Review.objects.count()
    # Orders went through the saga: paid ones hold an approved payment; all lie in the last 60 days.
    orders = Order.objects.all()
    paid = orders.filter(status__in=["PAID", "SHIPPED", "DELIVERED"])
    assert 0 < paid.count() <= 30
    assert Payment.objects.filter(status="APPROVED").count() == paid.count()
    yesterday = timezone.localdate() - timedelta(days=1)
    assert any(timezone.localdate(placed) == yesterday for placed in orders.values_list("created_at", flat=True))
    oldest = timezone.now() - timedelta(days=60)
    assert all(oldest <= placed <= timezone.now() for placed in orders.values_list("created_at", flat=True))
    # Every customer has a default address; orders went to their customer's address book.
    assert CustomerAddress.objects.filter(is_default=True).count() == 150
    assert CustomerAddress.objects.count() > 150
    for order in orders:
        book = CustomerAddress.objects.filter(customer_id=order.customer_id)
        assert book.filter(road_address=order.shipping_road_address, postal_code=order.shipping_postal_code).exists()
    # Some paid by virtual account; the first one placed still awaits its deposit, its account open.
    by_account = orders.filter(payment_method="virtual_account")
    assert by_account.filter(status__in=["PAID", "SHIPPED", "DELIVERED"]).exists()
    awaiting = by_account.get(status="PENDING")
    assert Payment.objects.get(order=awaiting).status == "WAITING"
    assert awaiting.payment_due_at > timezone.now() + timedelta(days=2)
    assert CartItem.objects.values("cart").distinct().count() == 25


def test_seed_is_deterministic_and_if_empty_keeps_existing_data():
    call_command("seed_demo_data", "--products", "5", "--customers", "3", "--seed", "7", "--orders", "0", verbosity=0)
    first = sorted(Product.objects.values_list("name", "price", "stock"))

    call_command("seed_demo_data", "--if-empty", verbosity=0)
    assert Product.objects.count() == 5

    Product.objects.all().delete()
    call_command("seed_demo_data", "--products", "5", "--customers", "3", "--seed", "7", "--orders", "0", verbosity=0)
    assert sorted(Product.objects.values_list("name", "price", "stock")) == first
    assert Customer.objects.count() == 6
    assert Customer.objects.filter(email="demo6@c4ang.com").exists()


def test_negative_sizes_are_refused():
    with pytest.raises(CommandError, match="--products must be zero or more"):
        call_command("seed_demo_data", "--products", "-1", verbosity=0)


def test_run_jobs_leaves_recommendations_and_sentiment_to_look_at(tiny_sentiment_model, settings):
    settings.SENTIMENT_MODEL = str(tiny_sentiment_model)

    call_command(
        "seed_demo_data", "--products", "30", "--customers", "120", "--orders", "60", "--run-jobs", verbosity=0
    )

    runs = {run.job: run for run in JobRun.objects.all()}
    assert runs["daily_recommendation_pipeline"].status == "SUCCEEDED"
    assert runs["weekly_sentiment_analysis"].status == "SUCCEEDED"
    assert Recommendation.objects.exists()
    assert ProductSentiment.objects.count() == 10  # SENTIMENT_MAX_PRODUCTS of the dozen popular products
