"""Benchmark: the daily recommendation pipeline on 100,000 products and 1,000,000 order items, or
1,000,000 products and 10,000,000 order items.

    createdb -h 127.0.0.1 -U postgres c4ang_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/recommendations_pipeline.py [--products 1000000 --items 10000000]

PostgreSQL only. The database is a scratch one: the script migrates it and, unless it already holds
a fixture of that size (built once and reused; --rebuild to force), EMPTIES the catalog, order and
recommendation tables and writes one with COPY, streamed, in a process of its own (not timed). The
pipeline is timed end to end, as the job runs it (job lock and run record, the five steps, the
upsert of every product's row and the refresh of the Redis cache), and the peak RSS of its process
is printed. Targets: 100,000 products under 60 s; 1,000,000 under 180 s with a peak RSS under 2 GB.
"""

import argparse
import itertools
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c4ang.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from c4ang.demo import CATALOG  # noqa: E402
from c4ang.jobs import job_run_report  # noqa: E402
from orders.models import Order, OrderItem  # noqa: E402
from recommendations import services  # noqa: E402

CATEGORIES = 50
BRANDS = 2_000
CUSTOMERS = 1_000
ITEMS_PER_ORDER = 2
PAID = ["PAID", "SHIPPED", "DELIVERED"]


def copy_rows(table: str, columns: list[str], rows) -> None:
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def copy_models(model, rows) -> None:
    """COPY rows of `model` given as {column: value}: every other column takes its field's default,
    so the fixture follows the model's columns as they are added."""
    fields = list(model._meta.concrete_fields)
    defaults = {field.column: field.get_default() for field in fields}
    columns = [field.column for field in fields]
    copy_rows(
        model._meta.db_table,
        columns,
        (
            [str(value) if isinstance(value, Enum) else value for value in ({**defaults, **row}[c] for c in columns)]
            for row in rows
        ),
    )


def build_fixture(products: int, items: int, today, rng: random.Random) -> None:
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE recommendations, order_events, order_items, orders, reviews, products, categories, "
            "customers, auth_users, job_runs CASCADE"
        )
    now = timezone.now()
    names = list(CATALOG)
    category_names = [f"{names[index % len(names)]} {index}" for index in range(CATEGORIES)]
    category_ids = [uuid.uuid4() for _ in range(CATEGORIES)]
    copy_rows(
        "categories",
        ["category_id", "name", "path", "depth"],
        ((cid, name, f"/{cid}/", 0) for cid, name in zip(category_ids, category_names, strict=True)),
    )
    product_ids = [uuid.uuid4() for _ in range(products)]
    copy_rows(
        "products",
        ["product_id", "name", "category_id", "brand", "price", "stock", "is_active", "created_at", "updated_at"],
        (
            (
                pid,
                f"상품 {index}",
                rng.choice(category_ids),
                f"브랜드{rng.randrange(BRANDS)}",
                10_000,
                10,
                True,
                now,
                now,
            )
            for index, pid in enumerate(product_ids)
        ),
    )
    user_ids = [uuid.uuid4() for _ in range(CUSTOMERS)]
    copy_rows(
        "auth_users",
        ["id", "password", "email", "is_staff", "is_active", "is_superuser", "date_joined"],
        ((uid, "!", f"bench{index}@c4ang.com", False, True, False, now) for index, uid in enumerate(user_ids)),
    )
    customer_ids = [uuid.uuid4() for _ in range(CUSTOMERS)]
    copy_rows(
        "customers",
        ["customer_id", "user_id", "email", "name", "phone", "created_at", "updated_at"],
        (
            (cid, uid, f"bench{index}@c4ang.com", "고객", "", now, now)
            for index, (cid, uid) in enumerate(zip(customer_ids, user_ids, strict=True))
        ),
    )
    # Popularity follows a long tail: a few products sell a lot, most rarely.
    cumulative = list(itertools.accumulate(1 / (rank + 20) for rank in range(products)))
    orders = items // ITEMS_PER_ORDER
    placed_at: dict[uuid.UUID, datetime] = {}

    def order_rows():
        for _ in range(orders):
            order_id = uuid.uuid4()
            # Spread over the 30-day window, every day (yesterday included) with purchases.
            placed = placed_at[order_id] = midnight - timedelta(seconds=rng.randrange(30 * 86_400))
            status = rng.choice(PAID) if rng.random() < 0.9 else rng.choice(["PENDING", "CANCELLED"])
            yield {
                "order_id": order_id,
                "order_number": f"B{len(placed_at):015d}",
                "customer_id": rng.choice(customer_ids),
                "items_amount": 20_000,
                "total_amount": 20_000,
                "status": status,
                "payment_due_at": placed + timedelta(minutes=30),
                "created_at": placed,
                "updated_at": placed,
            }

    def item_rows():
        for order_id, placed in placed_at.items():
            basket: set[uuid.UUID] = set()
            while len(basket) < ITEMS_PER_ORDER:  # one line per product in an order
                basket.update(rng.choices(product_ids, cum_weights=cumulative, k=ITEMS_PER_ORDER - len(basket)))
            for product_id in basket:
                yield {
                    "order_item_id": uuid.uuid4(),
                    "order_id": order_id,
                    "product_id": product_id,
                    "product_name": "상품",
                    "quantity": 1,
                    "price": 10_000,
                    "created_at": placed,
                }

    copy_models(Order, order_rows())
    copy_models(OrderItem, item_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"fixture: {products:,} products, {orders:,} orders, {orders * ITEMS_PER_ORDER:,} order items")


def fixture_size() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM order_items)")
        return cursor.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--rebuild", action="store_true", help="write the fixture again even if one of this size is there"
    )
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)  # the fixture's own process
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (this benchmark empties its tables)")
    today = timezone.localdate()
    if options.build_only:
        started = time.perf_counter()
        build_fixture(options.products, options.items, today, random.Random(options.seed))
        print(f"fixture built in {time.perf_counter() - started:.1f} s (not part of the measure)")
        return
    call_command("migrate", verbosity=0)
    if options.rebuild or fixture_size() != (options.products, options.items // ITEMS_PER_ORDER * ITEMS_PER_ORDER):
        # In a process of its own: the peak RSS printed below is the pipeline's alone.
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--build-only"], check=True)
    else:
        print(f"fixture reused: {options.products:,} products, {options.items:,} order items")

    print(f"cache: {settings.CACHES['default']['BACKEND']}")
    # The first run inserts every row; the next ones (every day after) update them in place.
    if options.rebuild:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE recommendations")
    target = 60 if options.products <= 100_000 else 180
    for label in ("first run", "second run (rows updated)"):
        started = time.perf_counter()
        run = services.recommendations_generate(trigger="command", today=today)
        elapsed = time.perf_counter() - started
        print(job_run_report(run))
        print(f"{label}: pipeline end to end {elapsed:.1f} s (target < {target} s)")
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the pipeline's process so far: {peak_mib:,.0f} MiB (target < 2,048 MiB)")


if __name__ == "__main__":
    main()
