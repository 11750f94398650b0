"""What the check for cache invalidations left over costs a cached read (c4ang.cache.trusted).

Before serving from the cache, a process looks for invalidations whose drop failed (one indexed
query on a table that is empty but after a cache outage). Three servers alike but for how often
they look: every PENDING_CHECK_S (0.1 s, the platform's), never (no protection: the reference),
and on every read (the alternative of a database query per cached read). Clients hammer the
cached product detail (anonymous) in interleaved rounds, the bare Django view once per round.

    .venv/bin/python bench/invalidation_check.py                    # embedded: SQLite and its cache file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/invalidation_check.py                # PostgreSQL + Redis
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.embedded_cache import arguments, interleaved, prepare, report, start

WORKERS = ["--workers", "3"]  # bench/load.py's products server: one more than the 2 cores
NEVER = "never (the reference)"


def per_call_us(every: float, calls: int = 20_000) -> float:
    """Microseconds of one `trusted()` in this process, looking at most every `every` seconds."""
    from c4ang import cache

    cache.PENDING_CHECK_S = every
    started = time.perf_counter()
    for _ in range(calls):
        cache.trusted()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    args = arguments(__doc__)
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-invalidation-check-"))
    env = {"C4ANG_VAR_DIR": str(scratch)}
    if not os.environ.get("DATABASE_URL"):
        env |= {"DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}", "REDIS_URL": ""}
    detail = f"/api/v1/products/{prepare(env)}/"
    in_process = {every: per_call_us(every) for every in (0.1, 0)}
    looks = {"every 0.1 s (the platform's)": "0.1", NEVER: "inf", "on every read": "0"}
    started = {name: start({"BENCH_PENDING_CHECK_S": every}, WORKERS, scratch) for name, every in looks.items()}
    try:
        rounds = interleaved({name: port for name, (_, port) in started.items()}, detail, args)
    finally:
        for process, _ in started.values():
            process.terminate()
            process.wait()
        shutil.rmtree(scratch)
    stores = "PostgreSQL + Redis" if os.environ.get("REDIS_URL") else "SQLite + the SQLite cache file"
    report(
        f"Cached product detail, anonymous, on {stores} ({args.clients} clients, {args.rounds} rounds of "
        f"{args.round_seconds:g} s, 3 workers), by how often a process looks for invalidations left over:",
        rounds,
        NEVER,
    )
    print(
        f"One check in a process of its own: {in_process[0.1]:.2f} µs looking every 0.1 s, "
        f"{in_process[0]:.0f} µs looking on every call (one query)"
    )


if __name__ == "__main__":
    main()
