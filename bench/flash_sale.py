"""The flash sale, not a test: 200 customers ordering one SKU at once against orders spread over 500
SKUs, in interleaved rounds of one run, through the local mesh (nginx, one gunicorn per module) on
PostgreSQL + Redis with the fake gateway (SPEC §10: the hot SKU keeps ≥ 70% of the spread orders/s,
0 oversold, p99 < 1 s).

Each round runs four scenarios with wrk and bench/wrk_flash.lua, 200 connections each:
- spread, burst: every order one unit of one of the 500 products, no pause between requests;
- hot, burst: every order one unit of the hot product, its stock reset to 1,000, until it sells out
  (wrk stops when the stock reaches 0, each thread already at its first sold-out answer; those are
  counted apart, not as errors);
- spread and hot, paced: the same with each connection pausing at random between requests, so that
  the 200 offer --pace times the first spread burst's orders/s (the spread round lasts as long as
  the hot one takes to sell out at that rate).
A burst is a closed loop: by Little's law its latency is 200 / throughput, so p99 < 1 s there would
need > 200 orders/s, above this machine's ceiling; the paced rounds are where p99 < 1 s is the target.

After each hot round the database is checked: units sold (1,000 - final stock) against the units of
paid orders, final stock never below 0. While each round runs a thread samples pg_stat_activity and
pg_locks every --sample-ms: backends waiting on a lock, the oldest wait, and who holds the hot row
(the backend whose transaction is the row's xmax) and in which state; the share of samples with the
row held, over the confirmed orders/s, is the mean time each order holds its lock (Little's law).

    createdb -h 127.0.0.1 -U postgres c4ang_flash
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_flash REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/flash_sale.py --rounds 3 --round-seconds 10

Needs wrk and nginx (bench/load.py). The catalog and 200 customers are bench/load.py's (created once).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import BENCH, SERVER_ENV, median_round, prepare, wrk  # noqa: E402

CUSTOMERS = 200
HOT_STOCK = 1000
HOT_CATEGORY = "벤치 플래시 세일"
SOLD_OUT = ("409", "201_cancelled")
# wrk's --timeout: the proxy's (30 s), since a burst's latency is 200 / throughput, seconds on this machine.
TIMEOUT = 30


def hot_product() -> str:
    """The hot SKU: one product of its own category, created once."""
    from decimal import Decimal

    from products import selectors as product_selectors
    from products import services as product_services

    category = product_services.category_get_or_create(name=HOT_CATEGORY)
    found = product_selectors.product_list_public().filter(category=category).first()
    product = found or product_services.product_create(
        name="벤치 플래시 한정 상품", category=category, brand="브랜드F", price=Decimal(9900), stock=HOT_STOCK
    )
    return str(product.pk)


def restock(product_id: str) -> None:
    """Put the hot SKU back at HOT_STOCK units, as staff would (the cached detail goes with it)."""
    from c4ang.actors import Actor
    from products import selectors as product_selectors
    from products import services as product_services

    stock = product_selectors.product_get(product_id=product_id).stock
    if stock != HOT_STOCK:
        product_services.stock_adjust(
            product_id=product_id, delta=HOT_STOCK - stock, reason="flash sale bench", by=Actor.system("bench")
        )


def stock_gone(product_id: str) -> bool:
    from products import selectors as product_selectors

    return product_selectors.product_get(product_id=product_id).stock == 0


def settle(since: float) -> None:
    """Wait until the orders wrk left in flight are answered: no order placed since `since` is
    PENDING, and the count stopped moving."""
    from datetime import UTC, datetime

    from orders.constants import OrderStatus
    from orders.models import Order

    orders = Order.objects.filter(created_at__gte=datetime.fromtimestamp(since, UTC))
    last, deadline = -1, time.monotonic() + 60
    while time.monotonic() < deadline:
        count = orders.count()
        if count == last and not orders.filter(status=OrderStatus.PENDING).exists():
            return
        last = count
        time.sleep(1)


def hot_check(product_id: str, since: float) -> dict:
    """Units sold against what paid orders hold, and the final stock."""
    from datetime import UTC, datetime

    from django.db.models import Sum

    from orders.constants import OrderStatus
    from orders.models import Order, OrderItem
    from products import selectors as product_selectors

    placed = datetime.fromtimestamp(since, UTC)
    stock = product_selectors.product_get(product_id=product_id).stock
    items = OrderItem.objects.filter(product_id=product_id, order__created_at__gte=placed)
    paid = items.filter(order__status=OrderStatus.PAID)
    return {
        "final_stock": stock,
        "sold": HOT_STOCK - stock,
        "paid_units": paid.aggregate(units=Sum("quantity"))["units"] or 0,
        "paid_orders": paid.values("order").distinct().count(),
        "cancelled_orders": Order.objects.filter(created_at__gte=placed, status=OrderStatus.CANCELLED).count(),
    }


class LockSampler(threading.Thread):
    """pg_stat_activity and pg_locks every `interval` s, on a connection of its own."""

    QUERY = """
        SELECT
            count(*) FILTER (WHERE a.wait_event_type = 'Lock'),
            coalesce(1000 * extract(epoch FROM max(now() - a.query_start)
                FILTER (WHERE a.wait_event_type = 'Lock')), 0)::float8,
            (SELECT count(*) FROM pg_locks l WHERE NOT l.granted),
            (SELECT h.state FROM pg_stat_activity h
             WHERE h.backend_xid = (SELECT p.xmax FROM {table} p WHERE p.{pk} = %s))
        FROM pg_stat_activity a
        WHERE a.datname = current_database()
    """

    def __init__(self, product_id: str, interval: float):
        super().__init__(daemon=True)
        self.product_id, self.interval = product_id, interval
        self.samples: list[tuple[int, float, int, str | None]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from products.models import Product

        query = self.QUERY.format(table=Product._meta.db_table, pk=Product._meta.pk.column)
        try:
            with connection.cursor() as cursor:
                while not self.stopping.wait(self.interval):
                    cursor.execute(query, [self.product_id])
                    self.samples.append(cursor.fetchone())
        finally:
            connection.close()

    def stop(self) -> dict:
        self.stopping.set()
        self.join()
        samples = self.samples or [(0, 0.0, 0, None)]
        waiters = [sample[0] for sample in samples]
        holders = [sample[3] for sample in samples if sample[3]]
        return {
            "samples": len(samples),
            "with_waiters": sum(1 for count in waiters if count) / len(samples),
            "mean_waiters": statistics.fmean(waiters),
            "max_waiters": max(waiters),
            "max_wait_ms": max(sample[1] for sample in samples),
            "max_not_granted": max(sample[2] for sample in samples),
            "held": len(holders) / len(samples),
            "holder_idle": sum(1 for state in holders if state == "idle in transaction") / max(len(holders), 1),
        }


def run_round(name: str, url: str, *, seconds: int, env: dict, hot: str | None, interval: float) -> dict:
    """One wrk run with the lock sampler beside it, the server's in-flight orders settled after."""
    if hot:
        restock(hot)
    since = time.time()
    sampler = LockSampler(hot or env["FLASH_HOT"], interval)
    sampler.start()
    try:
        connections = int(env["FLASH_CONNECTIONS"])
        report = wrk(
            url,
            seconds=seconds,
            connections=connections,
            script=BENCH / "wrk_flash.lua",
            env=env,
            timeout=TIMEOUT,
            until=(lambda: stock_gone(hot)) if hot else None,
        )
    finally:
        locks = sampler.stop()
    settle(since)
    statuses = report.get("statuses", {})
    confirmed = statuses.get("201", 0)
    sold_out = sum(statuses.get(key, 0) for key in SOLD_OUT) if hot else 0
    socket_errors = report["errors"] - report["non_2xx"]
    report.update(
        name=name,
        confirmed=confirmed,
        sold_out=sold_out,
        errors=socket_errors + sum(statuses.values()) - confirmed - sold_out,
        rps=confirmed / report["seconds"],
        locks=locks,
        loadavg=Path("/proc/loadavg").read_text().split()[0],
    )
    if hot:
        report["check"] = hot_check(hot, since)
        # Little's law on the row: mean holders (the share of samples it is held) / orders per second.
        report["hold_ms"] = 1000 * locks["held"] / report["rps"] if report["rps"] else 0
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--round-seconds", type=int, default=10, help="duration of a spread round (default 10)")
    parser.add_argument("--connections", type=int, default=CUSTOMERS, help="wrk connections (default 200)")
    parser.add_argument("--pace", type=float, default=0.7, help="paced offer / spread burst orders/s (default 0.7)")
    parser.add_argument("--sample-ms", type=int, default=100, help="lock sampling interval (default 100)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per module (default 3)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/flash_sale.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    from deploy.local.mesh import Mesh

    data = prepare(shoppers=CUSTOMERS)
    tokens = list(dict.fromkeys(token for token, _ in data["orders"]))
    hot = hot_product()
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-flash-"))
    spread_setup, hot_setup = scratch / "spread.txt", scratch / "hot.txt"
    spread_setup.write_text("".join(f"{token} {product}\n" for token, product in data["orders"]), encoding="utf-8")
    hot_setup.write_text("".join(f"{token} {hot}\n" for token in tokens), encoding="utf-8")
    base = {
        **os.environ,
        **SERVER_ENV,
        "WRK_REPORT": str(BENCH / "wrk_report.lua"),
        "FLASH_CONNECTIONS": str(args.connections),
        "FLASH_HOT": hot,
    }
    mesh = Mesh(state_dir=scratch / "mesh", port=8093, workers=args.workers)
    mesh.start(base)
    url = f"{mesh.url}/api/v1/orders/"
    interval = args.sample_ms / 1000
    # A hot round ends at sellout; its duration is only a bound.
    hot_seconds = 600
    rounds: dict[str, list[dict]] = {}
    try:
        spread = {**base, "FLASH_SETUP": str(spread_setup)}
        sellout = {**base, "FLASH_SETUP": str(hot_setup), "FLASH_STOP_AT_SELLOUT": "1"}
        warm_up = time.time()
        wrk(url, seconds=3, connections=args.connections, script=BENCH / "wrk_flash.lua", env=spread)
        settle(warm_up)
        first = run_round("spread, burst", url, seconds=args.round_seconds, env=spread, hot=None, interval=interval)
        rounds["spread, burst"] = [first]
        offer = args.pace * first["rps"]
        delay = {"FLASH_DELAY_MS": f"{1000 * args.connections / offer:.0f}"}
        # As long as the paced hot round takes to sell out: a connection's pause is 200 / offer s on average.
        paced_seconds = max(args.round_seconds, round(HOT_STOCK / offer))
        scenarios = {
            "hot, burst": (sellout, hot_seconds, hot),
            "spread, paced": ({**spread, **delay}, paced_seconds, None),
            "hot, paced": ({**sellout, **delay}, hot_seconds, hot),
            "spread, burst": (spread, args.round_seconds, None),
        }
        for number in range(args.rounds):
            for name, (env, seconds, product) in scenarios.items():
                if number == 0 and name == "spread, burst":
                    continue  # the first round's was measured first, for the paced offer
                report = run_round(name, url, seconds=seconds, env=env, hot=product, interval=interval)
                rounds.setdefault(name, []).append(report)
    finally:
        mesh.stop()
        shutil.rmtree(scratch)

    print(
        f"\nFlash sale: {args.connections} connections, {args.rounds} rounds (spread {args.round_seconds} s, hot until "
        f"{HOT_STOCK} sold), {args.workers} workers per module; paced offer {offer:.0f} orders/s "
        f"({args.pace:.0%} of the first spread burst); median round by orders/s, errors and checks over all rounds:"
    )
    print(
        f"{'':15} {'orders/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'sold out':>8} "
        f"{'oversold':>8} {'waiters':>14} {'max wait':>8} {'held':>5} {'idle':>5} {'hold ms':>7} {'load':>5}"
    )
    for name in ("spread, burst", "hot, burst", "spread, paced", "hot, paced"):
        reports = rounds[name]
        row = median_round(name, reports)
        locks = row["locks"]
        checks = [report["check"] for report in reports if "check" in report]
        oversold = sum(max(check["paid_units"] - HOT_STOCK, 0) + (check["final_stock"] < 0) for check in checks)
        print(
            f"{name:15} {row['rps']:8.1f} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{sum(report['errors'] for report in reports):6d} {sum(report['sold_out'] for report in reports):8d} "
            f"{oversold if checks else '-':>8} "
            f"{locks['with_waiters']:5.0%} {locks['mean_waiters']:3.1f}/{locks['max_waiters']:<3d} "
            f"{locks['max_wait_ms']:8.0f} {locks['held']:5.0%} {locks['holder_idle']:5.0%} "
            f"{row.get('hold_ms', 0):7.1f} {row['loadavg']:>5}"
        )
        for check in checks:
            unaccounted = check["sold"] - check["paid_units"]
            print(f"    {name}: {json.dumps(check)}, sold - paid units = {unaccounted}")
    hot_rate = [median_round(name, rounds[name])["rps"] for name in ("hot, burst", "hot, paced")]
    spread_rate = [median_round(name, rounds[name])["rps"] for name in ("spread, burst", "spread, paced")]
    print(
        f"hot / spread orders/s: burst {hot_rate[0] / spread_rate[0]:.0%}, paced {hot_rate[1] / spread_rate[1]:.0%}; "
        f"a burst's Little's-law latency, {args.connections} / orders/s: "
        f"spread {1000 * args.connections / spread_rate[0]:.0f} ms, hot {1000 * args.connections / hot_rate[0]:.0f} ms"
    )
    print("waiters: share of samples with a backend waiting on a lock, mean/max waiters; held: share of samples")
    print("with the hot row locked; idle: of those, its holder idle in transaction; hold ms: held / orders per s")


if __name__ == "__main__":
    main()
