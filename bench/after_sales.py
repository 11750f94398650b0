"""Partial cancellation and return refunds under concurrent load, against placing orders; not a test.

In one process against PostgreSQL + Redis, through the whole Django stack (middleware, JWT, DRF,
the services, the fake gateway's partial cancel), `--workers` threads (each with its own database
connection) work on orders of their own at the same time: each places an order of two lines (timed:
the reference), cancels one unit of a line (timed: partial cancel and its refund), ships and
delivers it (staff), asks to return a unit of the other line, and staff approve, receive and refund
the return (timed: the return's refund). p50/p95 per operation and their ratio to placing an
order, measured in the same run.

    createdb -h 127.0.0.1 -U postgres c4ang_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/after_sales.py --workers 8 --orders 30
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark logins on a throwaway database
ADDRESS = {
    "recipient": "김벤치",
    "phone": "010-1234-5678",
    "postal_code": "06236",
    "road_address": "서울특별시 강남구 테헤란로 152",
    "detail": "12층",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def setup(workers: int):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("PAYMENT_GATEWAY", "fake")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for scope in ("ANON", "USER", "AUTH", "AUTH_ACCOUNT"):
        os.environ.setdefault(f"THROTTLE_{scope}", "100000000/min")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from customers import services as customer_services
    from products import services as product_services

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    staff, _ = customer_services.staff_ensure(email=f"after-sales-{run}@bench.c4ang.com", password=PASSWORD)
    customers = [
        customer_services.customer_register(
            email=f"after-sales-{run}-{n}@bench.c4ang.com", password=PASSWORD, name=f"벤치 고객 {n}"
        )
        for n in range(workers)
    ]
    category = product_services.category_get_or_create(name="벤치 반품")
    products = [
        product_services.product_create(
            name=f"벤치 반품 상품 {run}-{n}",
            category=category,
            brand="벤치",
            price=Decimal(12000 + 1000 * n),
            stock=10**9,
        )
        for n in range(2)
    ]

    def token(user) -> str:
        return f"Bearer {RefreshToken.for_user(user).access_token}"

    return token(staff), [token(customer.user) for customer in customers], [str(p.pk) for p in products]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=8, help="concurrent customers (default 8)")
    parser.add_argument("--orders", type=int, default=30, help="orders per customer (default 30)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/after_sales.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    staff, customers, products = setup(args.workers)
    from django.db import connection
    from rest_framework.test import APIClient

    # 12-digit CJ tracking numbers, unique across runs on one database.
    first = 10**11 + uuid.uuid4().int % (9 * 10**11 - 10**6)
    tracking = iter(range(first, 10**12))

    def call(client, method: str, path: str, body: dict | None = None, ok: tuple = (200, 201)) -> dict:
        response = getattr(client, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        if response.status_code not in ok:
            sys.exit(f"{method.upper()} {path} failed: {response.status_code} {response.content[:300]!r}")
        return response.json() if response.content else {}

    def customer_work(token: str) -> dict[str, list[float]]:
        shopper, back_office = APIClient(), APIClient()
        shopper.credentials(HTTP_AUTHORIZATION=token)
        back_office.credentials(HTTP_AUTHORIZATION=staff)
        timings: dict[str, list[float]] = {"place an order": [], "partial cancel": [], "return refund": []}
        try:
            for _ in range(args.orders):
                lines = [{"product_id": product, "quantity": 2} for product in products]
                started = time.perf_counter()
                order = call(
                    shopper,
                    "post",
                    "/api/v1/orders/",
                    {"items": lines, "address": ADDRESS, "payment_token": "tok_approve"},
                )
                timings["place an order"].append(time.perf_counter() - started)
                first, second = order["items"]
                body = {"lines": [{"order_item_id": first["id"], "quantity": 1}], "reason": "하나만"}
                started = time.perf_counter()
                call(shopper, "post", f"/api/v1/orders/{order['id']}/cancel-lines/", body)
                timings["partial cancel"].append(time.perf_counter() - started)
                status = f"/api/v1/orders/staff/{order['id']}/status/"
                call(
                    back_office,
                    "post",
                    status,
                    {"status": "SHIPPED", "carrier": "kr.cjlogistics", "tracking_number": str(next(tracking))},
                )
                call(back_office, "post", status, {"status": "DELIVERED"})
                body = {"items": [{"order_item_id": second["id"], "quantity": 1}], "reason": "defective"}
                returned = call(shopper, "post", f"/api/v1/orders/{order['id']}/returns/", body)
                staff_return = f"/api/v1/orders/staff/returns/{returned['id']}"
                call(back_office, "post", f"{staff_return}/approve/", {})
                call(
                    back_office,
                    "post",
                    f"{staff_return}/receive/",
                    {"lines": [{"order_item_id": second["id"], "resellable": True}]},
                )
                started = time.perf_counter()
                call(back_office, "post", f"{staff_return}/refund/", {})
                timings["return refund"].append(time.perf_counter() - started)
        finally:
            connection.close()
        return timings

    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(customer_work, customers))
    print(f"{args.workers} customers at once, {args.orders} orders each, the fake gateway\n")
    print("operation            count   p50 ms   p95 ms   p95 / placing an order")
    reference = percentile([t for r in results for t in r["place an order"]], 0.95)
    for name in ("place an order", "partial cancel", "return refund"):
        values = [t for result in results for t in result[name]]
        p95 = percentile(values, 0.95)
        print(
            f"{name:<18} {len(values):>7} {statistics.median(values) * 1000:>8.1f} {p95 * 1000:>8.1f}"
            f"   {p95 / reference:>10.2f}x"
        )


if __name__ == "__main__":
    main()
