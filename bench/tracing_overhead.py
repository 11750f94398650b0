"""What tracing costs on the cached product read, on and off, measured in one run.

Three gunicorn servers of the products module like a product-api pod's (the image's settings: 2
workers, tracing started after the fork), on one database, differing only in tracing:

- off: OTEL_EXPORTER_OTLP_ENDPOINT unset, the default (nothing of OpenTelemetry is even imported);
- on, every request sampled: spans exported over OTLP/HTTP to a receiver in this process;
- on, 10 % sampled (parentbased_traceidratio): what a busy production would run.

wrk hammers each one's cached product detail (anonymous: one Redis or cache round trip) in
interleaved rounds, and the bare Django view of the "off" server once per round for the ceiling.
Printed: req/s (median round) and p95 per server, and each one's ratio to "off" in every round.

    .venv/bin/python bench/tracing_overhead.py [--rounds 5] [--round-seconds 5] [--connections 16]
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/tracing_overhead.py

Needs wrk (Debian: `apt-get install wrk`). Without DATABASE_URL a throwaway SQLite file is used.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import SERVER_ENV, wrk  # noqa: E402
from deploy.local.mesh import module_server  # noqa: E402
from deploy.local.otlp import OtlpReceiver  # noqa: E402

BARE = "bare Django view (off)"
OFF = "tracing off"


def prepare(env: dict[str, str]) -> str:
    """Migrate the database of `env` and create one product; its id."""
    os.environ.update({**SERVER_ENV, **env})
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


def start(name: str, env: dict[str, str], scratch: Path) -> tuple[subprocess.Popen, int]:
    log = scratch / f"{name.replace(' ', '-').replace('%', '')}.log"
    return module_server("products", workers=2, env={**os.environ, **env, "GUNICORN_TMP_DIR": str(scratch)}, log=log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round-seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-tracing-bench-"))
    database = {} if os.environ.get("DATABASE_URL") else {"DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}"}
    env = {**database, "C4ANG_VAR_DIR": str(scratch), "OTEL_BSP_SCHEDULE_DELAY": "1000"}
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_SAMPLER"):
        os.environ.pop(name, None)
    detail = f"/api/v1/products/{prepare(env)}/"
    script = ROOT / "bench" / "wrk_report.lua"
    with OtlpReceiver(keep=False) as receiver:
        on = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        servers = {
            OFF: start("off", env, scratch),
            "tracing on, all sampled": start("on", on, scratch),
            "tracing on, 10 % sampled": start(
                "on-10",
                {**on, "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
                scratch,
            ),
        }
        targets = [
            (BARE, servers[OFF][1], "/bench/bare/"),
            *((name, port, detail) for name, (_, port) in servers.items()),
        ]
        rounds: dict[str, list[dict]] = {name: [] for name, _, _ in targets}
        try:
            for _, port, path in targets:  # warm: the detail is cached from here on
                wrk(f"http://127.0.0.1:{port}{path}", seconds=1, connections=2, script=script, env=os.environ)
            for number in range(args.rounds):
                for name, port, path in targets:
                    url = f"http://127.0.0.1:{port}{path}"
                    report = wrk(
                        url, seconds=args.round_seconds, connections=args.connections, script=script, env=os.environ
                    )
                    if report["errors"]:
                        raise RuntimeError(f"{name}: {report['errors']} errors in round {number + 1}")
                    rounds[name].append(report)
                print(
                    f"round {number + 1}: " + ", ".join(f"{n} {r[-1]['rps']:.0f}" for n, r in rounds.items()),
                    flush=True,
                )
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()
        exports = receiver.exports
    shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"\nCached product detail, anonymous: products module, 2 workers each, wrk {args.connections} connections, "
        f"{args.rounds} interleaved rounds of {args.round_seconds} s ({exports} OTLP exports received)"
    )
    print(f"{'':28} {'req/s':>7} {'p95 ms':>7}   ratio to tracing off, per round (median)")
    for name, reports in rounds.items():
        ratios = [r["rps"] / off["rps"] for r, off in zip(reports, rounds[OFF], strict=True)]
        p95 = statistics.median(r["p95_ms"] for r in reports)
        rps = statistics.median(r["rps"] for r in reports)
        per_round = ", ".join(f"{ratio:.2f}" for ratio in ratios)
        print(f"{name:28} {rps:7.0f} {p95:7.1f}   {per_round}  ({statistics.median(ratios):.2f})")


if __name__ == "__main__":
    main()
