"""The embedded cache (no REDIS_URL) measured: which cache `make run` shares between its processes.

`make run` serves with 2 gunicorn workers, and the jobs run as processes of their own: a cache in
each process's memory (locmem) keeps serving what another process changed, and counts rate limits
per worker. Each candidate here is a gunicorn like `make run`'s (2 sync workers, embedded settings,
one SQLite file, throttling on) but for its cache; clients hammer the cached product detail
(anonymous: one throttle count and one read per request) in interleaved rounds, and the bare
Django view once per round for the ceiling. Printed: req/s per candidate (median round), and its
ratio to the bare view and to locmem in each round, then to the default in each round.

    .venv/bin/python bench/embedded_cache.py [--rounds 5] [--round-seconds 4] [--clients 4]

Candidates: locmem (the old default, one per process: wrong, the reference), Django's file-based
cache, Django's database cache (a table in the SQLite file), one worker with 4 threads and locmem
(shares nothing with a job process: wrong too), diskcache's Django backend as shipped and with its
connections kept open between requests (bench/diskcache_kept_open.py), and the platform's default
(c4ang.sqlite_cache).
"""

import argparse
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.local.net import free_port, wait_listening  # noqa: E402

UNLIMITED = "100000000/min"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "LOG_LEVEL": "WARNING",
    "DB_CONN_MAX_AGE": "600",
    **{f"THROTTLE_{scope}": UNLIMITED for scope in ("ANON", "USER", "AUTH", "AUTH_ACCOUNT")},
}
BARE = "bare Django view"
TWO_WORKERS = ["--workers", "2"]
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DEFAULT = "SQLite cache file (the default), 2 workers"


def candidates(scratch: Path) -> dict[str, tuple[dict, list[str]]]:
    """name: (the server's environment, gunicorn's worker arguments)."""

    def caches(backend: str, **config) -> dict:
        return {"BENCH_CACHES": json.dumps({"default": {"BACKEND": backend, **config}})}

    return {
        "locmem, 2 workers (per process)": ({"BENCH_CACHES": json.dumps(LOCMEM)}, TWO_WORKERS),
        "file-based, 2 workers": (
            caches(
                "django.core.cache.backends.filebased.FileBasedCache",
                LOCATION=str(scratch / "django-file-cache"),
                OPTIONS={"MAX_ENTRIES": 100_000},
            ),
            TWO_WORKERS,
        ),
        "database (SQLite table), 2 workers": (
            caches(
                "django.core.cache.backends.db.DatabaseCache", LOCATION="c4ang_cache", OPTIONS={"MAX_ENTRIES": 100_000}
            ),
            TWO_WORKERS,
        ),
        "locmem, 1 worker x 4 threads": ({"BENCH_CACHES": json.dumps(LOCMEM)}, ["--workers", "1", "--threads", "4"]),
        "diskcache.DjangoCache as shipped, 2 workers": (
            caches("diskcache.DjangoCache", LOCATION=str(scratch / "diskcache-as-shipped")),
            TWO_WORKERS,
        ),
        "diskcache, kept open, 2 workers": (
            caches("bench.diskcache_kept_open.KeptOpenDjangoCache", LOCATION=str(scratch / "diskcache-kept-open")),
            TWO_WORKERS,
        ),
        DEFAULT: ({}, TWO_WORKERS),
    }


def prepare(env: dict[str, str]) -> str:
    """Migrate the database of `env`, create the database cache's table and one product; its id."""
    os.environ.update({**SERVER_ENV, **env})
    table = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "c4ang_cache"}}
    subprocess.run(
        [sys.executable, "manage.py", "createcachetable"],
        cwd=ROOT,
        env={**os.environ, "BENCH_CACHES": json.dumps(table)},
        check=True,
    )
    import django

    django.setup()
    from django.core.management import call_command

    from products import services as product_services

    call_command("migrate", verbosity=0)
    category = product_services.category_get_or_create(name="벤치 분류")
    product = product_services.product_create(
        name="벤치 무선 이어폰", category=category, brand="소니", price=Decimal(129000), stock=10**9
    )
    return str(product.pk)


def start(env: dict[str, str], worker_args: list[str], scratch: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = scratch / f"{port}.log"
    args = [sys.executable, "-m", "gunicorn", "c4ang.wsgi:application", "--bind", f"127.0.0.1:{port}", *worker_args]
    with log.open("w") as output:
        process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT)
    wait_listening(port, 30, process=process, log=log)
    return process, port


def get(port: int, path: str) -> bytes:
    """One GET on a connection of its own (sync workers close it anyway): the whole answer."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def hammer(port: int, path: str, seconds: float) -> tuple[int, int]:
    """(200 answers, other answers) of sequential requests for `seconds`."""
    ok = failed = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get(port, path).startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            failed += 1
    return ok, failed


def measure(pool, port: int, path: str, *, clients: int, seconds: float) -> float:
    """Requests per second of `clients` concurrent clients; a non-200 answer stops the benchmark."""
    started = time.monotonic()
    results = pool.starmap(hammer, [(port, path, seconds)] * clients)
    elapsed = time.monotonic() - started
    if failed := sum(failed for _, failed in results):
        raise RuntimeError(f"{failed} answers to {path} on :{port} were not 200: {get(port, path)[:600]!r}")
    return sum(ok for ok, _ in results) / elapsed


def interleaved(servers: dict[str, int], path: str, args) -> dict[str, list[float]]:
    """req/s of `path` on each server per round, and of the bare view (on the first server) first."""
    rounds: dict[str, list[float]] = {name: [] for name in [BARE, *servers]}
    with multiprocessing.get_context("fork").Pool(args.clients) as pool:
        for port in servers.values():
            measure(pool, port, path, clients=1, seconds=0.2)  # warm: cached from here on
        for number in range(args.rounds):
            for name, port in [(BARE, next(iter(servers.values()))), *servers.items()]:
                target = "/bench/bare/" if name == BARE else path
                rounds[name].append(measure(pool, port, target, clients=args.clients, seconds=args.round_seconds))
            print(f"round {number + 1}: " + ", ".join(f"{name} {rps[-1]:.0f}" for name, rps in rounds.items()))
    return rounds


def report(title: str, rounds: dict[str, list[float]], reference: str) -> None:
    print(f"\n{title}")
    print(f"{'':46} {'req/s':>6}   {'/ bare view, per round':<26} / {reference}, per round")
    for name, rps in rounds.items():
        to_bare = ", ".join(f"{a / b:.0%}" for a, b in zip(rps, rounds[BARE], strict=True))
        to_reference = ", ".join(f"{a / b:.0%}" for a, b in zip(rps, rounds[reference], strict=True))
        print(f"{name:46} {statistics.median(rps):6.0f}   {to_bare:<26} {to_reference}")


def arguments(description: str):
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--round-seconds", type=float, default=4, help="seconds per candidate and round (default 4)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes (default 4)")
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__)
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-embedded-cache-"))
    database = f"sqlite:///{scratch / 'bench.sqlite3'}"
    embedded = {"DATABASE_URL": database, "REDIS_URL": "", "C4ANG_VAR_DIR": str(scratch)}
    detail = f"/api/v1/products/{prepare(embedded)}/"
    started = {name: start(env, worker_args, scratch) for name, (env, worker_args) in candidates(scratch).items()}
    try:
        rounds = interleaved({name: port for name, (_, port) in started.items()}, detail, args)
    finally:
        for process, _ in started.values():
            process.terminate()
            process.wait()
        shutil.rmtree(scratch)
    report(
        f"Cached product detail, anonymous ({args.clients} clients, {args.rounds} rounds of {args.round_seconds:g} s; "
        "the bare view on the first server):",
        rounds,
        "locmem, 2 workers (per process)",
    )
    # What a candidate would cost or gain in place of the default, round by round.
    report("The same rounds against the default:", rounds, DEFAULT)


if __name__ == "__main__":
    main()
