"""The load test of the platform (README, Load test), not a test: the local mesh (nginx in front of one
gunicorn per module, as the cluster routes) on PostgreSQL + Redis with the fake gateway.

1. A realistic customer mix (bench/locustfile.py: anonymous browsing, signed-in shoppers placing
   and paying orders, newcomers registering) runs headless with Locust for a bounded time:
   req/s, p50/p95/p99 and error rate per endpoint group.
2. Ceilings with wrk, in interleaved rounds so that the machine's other load falls on all alike:
   a bare Django view, the cached product detail and the cached product list on the same products
   server (the ratio of the cached reads to the bare view is measured in each round), and order
   placement through nginx.

    createdb -h 127.0.0.1 -U postgres c4ang_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/load.py --users 60 --seconds 60

Needs wrk (Debian: `apt-get install wrk`) and nginx (`make deploy-tools`). The database gets the
benchmark catalog, customers and recommendations (created once, reused on later runs).
"""

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CATEGORIES = 10
PRODUCTS_PER_CATEGORY = 50
SHOPPERS = 40
SHOPPER_PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark customers on a throwaway database
SEARCH_WORDS = ["이어폰", "노트북", "상품 1", "벤치", "7"]
UNLIMITED = "100000000/min"
# Throttling stays on (its cache round trips are part of the cost), with rates above the load.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "PAYMENT_GATEWAY": "fake",
    "LOG_LEVEL": "WARNING",
    "DB_CONN_MAX_AGE": "600",
    "JWT_ACCESS_MINUTES": "120",
    **{f"THROTTLE_{scope}": UNLIMITED for scope in ("ANON", "USER", "AUTH", "AUTH_ACCOUNT")},
}


def prepare(shoppers: int = SHOPPERS) -> dict:
    """Migrate, create the catalog, shoppers and recommendations once; the locustfile's fixture,
    plus (access token, product id) pairs for the order ceiling."""
    import django

    os.environ.update(SERVER_ENV)
    django.setup()
    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import RefreshToken

    from customers import selectors as customer_selectors
    from customers import services as customer_services
    from products import selectors as product_selectors
    from products import services as product_services

    call_command("migrate", verbosity=0)
    names = ["무선 이어폰", "노트북 파우치", "텀블러", "러닝화", "백팩"]
    products, categories = [], []
    for number in range(CATEGORIES):
        category = product_services.category_get_or_create(name=f"벤치 분류 {number}")
        categories.append(str(category.pk))
        existing = list(product_selectors.product_list_public().filter(category=category))
        for index in range(len(existing), PRODUCTS_PER_CATEGORY):
            existing.append(
                product_services.product_create(
                    name=f"벤치 {names[index % len(names)]} 상품 {number * PRODUCTS_PER_CATEGORY + index}",
                    category=category,
                    brand=f"브랜드{index % 7}",
                    price=Decimal(1000 + 500 * index),
                    stock=10**9,
                )
            )
        products.extend(str(product.pk) for product in existing)
    accounts, tokens = [], []
    for number in range(shoppers):
        email = f"bench{number}@c4ang.com"
        found = customer_selectors.customer_list(search=email).filter(email=email).first()
        customer = found or customer_services.customer_register(
            email=email, password=SHOPPER_PASSWORD, name=f"벤치{number}"
        )
        accounts.append({"email": email, "password": SHOPPER_PASSWORD})
        tokens.append(str(RefreshToken.for_user(customer.user).access_token))
    call_command("run_recommendations", verbosity=0)
    return {
        "products": products,
        "categories": categories,
        "search_words": SEARCH_WORDS,
        "accounts": accounts,
        "orders": [(tokens[i % len(tokens)], product) for i, product in enumerate(products)],
    }


def run_locust(url: str, *, users: int, seconds: int, fixture: Path, env: dict[str, str]) -> list[dict]:
    """The customer mix, headless: one row per endpoint group (and the total), from Locust's CSV."""
    prefix = Path(tempfile.mkdtemp(prefix="c4ang-locust-")) / "load"
    locust = subprocess.run(
        [
            *[sys.executable, "-m", "locust", "-f", str(BENCH / "locustfile.py"), "--headless", "--only-summary"],
            *["--host", url, "--users", str(users), "--spawn-rate", str(max(users // 5, 1))],
            *["--run-time", f"{seconds}s", "--stop-timeout", "5", "--csv", str(prefix), "--loglevel", "WARNING"],
        ],
        env={**env, "BENCH_FIXTURE": str(fixture)},
        capture_output=True,  # its own tables: the report is made from its CSV
        text=True,
        check=False,  # Locust exits 1 when any request failed: the error rate is in the report
    )
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise RuntimeError(f"Locust wrote no statistics:\n{locust.stderr[-4000:]}")
    with stats_file.open(encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    shutil.rmtree(prefix.parent)
    return [
        {
            "name": "all requests" if row["Name"] == "Aggregated" else row["Name"],
            "requests": int(row["Request Count"]),
            "rps": float(row["Requests/s"]),
            "errors": int(row["Failure Count"]) / max(int(row["Request Count"]), 1),
            **{f"p{p}_ms": float(row[f"{p}%"]) for p in (50, 95, 99)},
        }
        for row in rows
    ]


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    script: Path,
    env: dict[str, str],
    timeout: int = 5,
    until: Callable[[], bool] | None = None,
) -> dict:
    """One wrk run; `until`, polled every 0.1 s, ends it early (wrk reports what it measured at SIGINT)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{timeout}s", "-s", str(script), url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as run:
        if until is not None:
            while run.poll() is None and not until():
                time.sleep(0.1)
            if run.poll() is None:
                run.send_signal(signal.SIGINT)
        stdout, _ = run.communicate()
    if run.returncode:
        raise subprocess.CalledProcessError(run.returncode, command, stdout)
    report = json.loads(next(line for line in stdout.splitlines() if line.startswith("{")))
    report["rps"] = report["requests"] / report["seconds"]
    return report


def print_table(rows: list[dict]) -> None:
    print(f"{'':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>8}")
    for row in rows:
        print(
            f"{row['name']:28} {row['requests']:9d} {row['rps']:8.1f} {row['p50_ms']:8.1f} "
            f"{row['p95_ms']:8.1f} {row['p99_ms']:8.1f} {row['errors']:8.2%}"
        )


def median_round(name: str, reports: list[dict]) -> dict:
    """The round of median throughput, with the errors of all rounds."""
    requests = sum(report["requests"] for report in reports)
    errors = sum(report["errors"] for report in reports)
    middle = sorted(reports, key=lambda report: report["rps"])[len(reports) // 2]
    return {**middle, "name": name, "requests": requests, "errors": errors / requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=60, help="simulated customers of the mix (default 60)")
    parser.add_argument("--seconds", type=int, default=60, help="duration of the mix (default 60)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the ceilings (default 3)")
    parser.add_argument("--round-seconds", type=int, default=8, help="duration of each ceiling (default 8)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections of reads (default 32)")
    parser.add_argument("--order-connections", type=int, default=8, help="wrk connections placing orders")
    # The products server has the machine's 2 cores: sync workers idle while they wait on Redis or
    # PostgreSQL, and one worker more than the cores fills that time (2 workers: bench/RESULTS.md).
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per module (default 3)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/load.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    sys.path.insert(0, str(ROOT))
    from deploy.local.mesh import Mesh

    data = prepare()
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-bench-"))
    fixture, orders = scratch / "fixture.json", scratch / "orders.txt"
    fixture.write_text(json.dumps({key: value for key, value in data.items() if key != "orders"}), encoding="utf-8")
    orders.write_text("".join(f"{token} {product}\n" for token, product in data["orders"]), encoding="utf-8")
    env = {**os.environ, **SERVER_ENV, "ORDERS_SETUP": str(orders), "WRK_REPORT": str(BENCH / "wrk_report.lua")}
    mesh = Mesh(state_dir=scratch / "mesh", port=8090, workers=args.workers)
    mesh.start(env)
    try:
        print(f"\nThe customer mix: {args.users} users for {args.seconds} s through the mesh\n", flush=True)
        mix = run_locust(mesh.url, users=args.users, seconds=args.seconds, fixture=fixture, env=env)
        products = next(up for up in mesh.upstreams if "products" in up.modules.split(","))
        server, product = f"http://127.0.0.1:{products.port}", data["products"][0]
        reads = {
            "bare Django view": f"{server}/bench/bare/",
            "product detail (cached)": f"{server}/api/v1/products/{product}/",
            "product list (cached)": f"{server}/api/v1/products/?ordering=price",
        }
        for url in reads.values():
            urllib.request.urlopen(url, timeout=5).read()  # noqa: S310 - warm the cache of a local server
        ceilings = {name: (url, args.connections, "wrk_report.lua") for name, url in reads.items()}
        ceilings["order placement"] = (f"{mesh.url}/api/v1/orders/", args.order_connections, "wrk_orders.lua")
        rounds: dict[str, list[dict]] = {name: [] for name in ceilings}
        for _ in range(args.rounds):
            for name, (url, connections, script) in ceilings.items():
                report = wrk(url, seconds=args.round_seconds, connections=connections, script=BENCH / script, env=env)
                rounds[name].append(report)
    finally:
        mesh.stop()
        shutil.rmtree(scratch)

    print(f"\nThe customer mix ({args.users} users, {args.seconds} s, {args.workers} workers per module):")
    print_table(mix)
    print(
        f"\nCeilings with wrk ({args.rounds} rounds of {args.round_seconds} s; {args.connections} connections "
        f"for reads on the products server, {args.order_connections} placing orders through nginx), median round:"
    )
    print_table([median_round(name, reports) for name, reports in rounds.items()])
    for name in ("product detail (cached)", "product list (cached)"):
        bare = rounds["bare Django view"]
        ratios = [read["rps"] / ceiling["rps"] for read, ceiling in zip(rounds[name], bare, strict=True)]
        print(f"{name} / bare view, per round: {', '.join(f'{ratio:.0%}' for ratio in ratios)}")


if __name__ == "__main__":
    main()
