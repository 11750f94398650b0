"""Checkout from a cart vs placing the same order from an item list, and the cart view; not a test.

SPEC §10's raised target: checkout from a cart costs at most 1.3x placing the same order from an
item list. Both go through the whole Django stack in this process (middleware, JWT sign-in, DRF,
the place-order saga, the fake gateway) on PostgreSQL + Redis, without a network in between, so that
the two costs are compared and nothing else. Each round places the same order (the same lines, the
same address from the address book, paid at once) both ways, interleaved one by one, so that the
machine's other load falls on both alike; the cart is filled before each timed checkout (adding
lines is the customer's browsing, not the checkout). The cart view is timed on a cart of the same
lines.

    createdb -h 127.0.0.1 -U postgres c4ang_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/checkout.py --rounds 5 --orders 40
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES = 3
PASSWORD = "bench-password-2026"  # noqa: S105 - a benchmark customer on a throwaway database


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def setup_shop():
    """A customer with a default address, signed in with a real access token, and LINES products."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("PAYMENT_GATEWAY", "fake")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for scope in ("ANON", "USER", "AUTH", "AUTH_ACCOUNT"):
        os.environ.setdefault(f"THROTTLE_{scope}", "100000000/min")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from customers import services as customer_services
    from products import services as product_services

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    customer = customer_services.customer_register(
        email=f"checkout-{run}@bench.c4ang.com", password=PASSWORD, name="벤치 고객"
    )
    address = customer_services.address_create(
        customer_id=customer.pk,
        label="집",
        recipient="김벤치",
        phone="010-1234-5678",
        postal_code="06236",
        road_address="서울특별시 강남구 테헤란로 152",
        detail="12층",
    )
    category = product_services.category_get_or_create(name="벤치 결제")
    products = [
        product_services.product_create(
            name=f"벤치 결제 상품 {run}-{n}",
            category=category,
            brand="벤치",
            price=Decimal(7000 + 1000 * n),
            stock=10**9,
        )
        for n in range(LINES)
    ]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(customer.user).access_token}")
    lines = [{"product_id": str(product.pk), "quantity": 1 + n % 2} for n, product in enumerate(products)]
    return client, str(address.pk), lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--orders", type=int, default=40, help="orders each way in each round (default 40)")
    parser.add_argument("--views", type=int, default=200, help="cart views timed in each round (default 200)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/checkout.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    client, address_id, lines = setup_shop()
    paid = {"address_id": address_id, "payment_token": "tok_approve"}

    def place(body: dict) -> float:
        started = time.perf_counter()
        response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        elapsed = time.perf_counter() - started
        if response.status_code != 201 or response.json()["status"] != "PAID":
            sys.exit(f"checkout failed: {response.status_code} {response.content[:300]!r}")
        return elapsed

    def fill_cart() -> None:
        for line in lines:
            response = client.post("/api/v1/orders/cart/items/", line, format="json")
            if response.status_code not in (200, 201):
                sys.exit(f"adding to the cart failed: {response.status_code} {response.content[:300]!r}")

    fill_cart()
    place({**paid, "from_cart": True})  # warm-up: connections, caches, the day's order-number row
    place({**paid, "items": lines})
    print(f"{args.rounds} rounds of {args.orders} orders each way ({LINES} lines, paid with the fake gateway)\n")
    print(
        "round   item list ms (median, p95)   from cart ms (median, p95)   cart / item list   cart view ms (p50, p95)"
    )
    ratios, views_p95 = [], []
    for number in range(1, args.rounds + 1):
        items_s, cart_s = [], []
        for _ in range(args.orders):
            items_s.append(place({**paid, "items": lines}))
            fill_cart()
            cart_s.append(place({**paid, "from_cart": True}))
        fill_cart()
        view_s = []
        for _ in range(args.views):
            started = time.perf_counter()
            response = client.get("/api/v1/orders/cart/")
            view_s.append(time.perf_counter() - started)
            if response.status_code != 200:
                sys.exit(f"cart view failed: {response.status_code}")
        client.delete("/api/v1/orders/cart/")
        ratio = statistics.median(cart_s) / statistics.median(items_s)
        ratios.append(ratio)
        views_p95.append(percentile(view_s, 0.95) * 1000)
        print(
            f"{number:>5}   {statistics.median(items_s) * 1000:>12.1f} {percentile(items_s, 0.95) * 1000:>8.1f}"
            f"        {statistics.median(cart_s) * 1000:>12.1f} {percentile(cart_s, 0.95) * 1000:>8.1f}"
            f"        {ratio:>10.2f}x        {statistics.median(view_s) * 1000:>6.1f} {views_p95[-1]:>6.1f}"
        )
    print(
        f"\ncheckout from a cart / from an item list, median of rounds: {statistics.median(ratios):.2f}x"
        " (target <= 1.3x)"
    )
    print(f"cart view p95, median of rounds: {statistics.median(views_p95):.1f} ms")


if __name__ == "__main__":
    main()
