"""Benchmark of the commerce core (SPEC §10), not a test: through gunicorn on PostgreSQL + Redis,
with the fake gateway, measure

- order placement (POST /api/v1/orders/, the whole saga): throughput and p95;
- cached product detail and list throughput, against a bare Django view on the same server in
  the same run (the framework ceiling).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/run.py --seconds 10

Needs wrk (Debian: `apt-get install wrk`). The database gets benchmark products and customers
(created once, reused on later runs).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CUSTOMERS = 20
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark customers on a throwaway database
PRODUCTS = 50


def prepare() -> list[tuple[str, str]]:
    """Migrate and create the benchmark catalog and customers; return (access token, product id) pairs."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from customers import selectors as customer_selectors
    from customers import services as customer_services
    from products import selectors as product_selectors
    from products import services as product_services

    call_command("migrate", verbosity=0)
    category = product_services.category_get_or_create(name="벤치마크")
    products = list(product_selectors.product_list_public().filter(category=category)[:PRODUCTS])
    for number in range(len(products), PRODUCTS):
        products.append(
            product_services.product_create(
                name=f"벤치 상품 {number}", category=category, brand="벤치", price=Decimal("1000"), stock=10**9
            )
        )
    pairs = []
    for number in range(CUSTOMERS):
        email = f"bench{number}@c4ang.com"
        if not customer_selectors.customer_exists(email=email):
            customer_services.customer_register(email=email, password=BENCH_PASSWORD, name=f"벤치{number}")
        user = customer_selectors.customer_list(search=email).get().user
        token = str(RefreshToken.for_user(user).access_token)
        pairs.extend((token, str(product.pk)) for product in products[number::CUSTOMERS])
    return pairs


def wrk(url: str, *, seconds: int, connections: int, script: Path, env: dict[str, str]) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("{"))
    report = json.loads(line)
    report["rps"] = report["requests"] / report["seconds"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each scenario (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections of reads (default 32)")
    parser.add_argument(
        "--order-connections", type=int, default=8, help="concurrent connections placing orders (default 8)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/run.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    pairs = prepare()
    setup = Path(tempfile.mkstemp(prefix="c4ang-bench-", suffix=".txt")[1])
    setup.write_text("".join(f"{token} {product}\n" for token, product in pairs))
    product_id = pairs[0][1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PAYMENT_GATEWAY": "fake",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
        # Throttling stays on (its cache round trips are part of the cost), with rates above the load.
        "THROTTLE_ANON": "100000000/min",
        "THROTTLE_USER": "100000000/min",
        "ORDERS_SETUP": str(setup),
        "WRK_REPORT": str(BENCH / "wrk_report.lua"),
    }
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            *[sys.executable, "-m", "gunicorn", "c4ang.wsgi:application", "--bind", f"127.0.0.1:{args.port}"],
            *["--workers", str(args.workers), "--log-level", "warning"],
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:  # noqa: S310 - local server
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        scenarios = {
            "bare Django view": (f"{base}/bench/bare/", BENCH / "wrk_report.lua"),
            "product detail (cached)": (f"{base}/api/v1/products/{product_id}/", BENCH / "wrk_report.lua"),
            "product list (cached)": (f"{base}/api/v1/products/?ordering=price", BENCH / "wrk_report.lua"),
            "order placement": (f"{base}/api/v1/orders/", BENCH / "wrk_orders.lua"),
        }
        results = {}
        for name, (url, script) in scenarios.items():
            if "orders" not in url:
                urllib.request.urlopen(url, timeout=5).read()  # noqa: S310 - warm the cache
            connections = args.order_connections if "orders" in url else args.connections
            results[name] = wrk(url, seconds=args.seconds, connections=connections, script=script, env=env)
    finally:
        server.terminate()
        server.wait(timeout=30)
        setup.unlink()

    print(
        f"\n{args.workers} gunicorn workers; {args.connections} connections for reads, "
        f"{args.order_connections} for orders; {args.seconds} s per scenario\n"
    )
    print(f"{'scenario':28} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, report in results.items():
        print(
            f"{name:28} {report['rps']:9.1f} {report['p50_ms']:8.1f} {report['p95_ms']:8.1f} "
            f"{report['p99_ms']:8.1f} {report['errors']:7d}"
        )
    bare = results["bare Django view"]["rps"]
    for name in ("product detail (cached)", "product list (cached)"):
        print(f"{name} / bare view: {results[name]['rps'] / bare:.0%}")


if __name__ == "__main__":
    main()
