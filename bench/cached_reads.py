"""Cached reads against the bare Django view, and where a cached read's time goes; not a test.

One products server (gunicorn, the image's configuration, C4ANG_MODULES=products) on PostgreSQL +
Redis, for each worker count asked (default 2 and 3): wrk drives the bare view (bench/urls.py: the
same middleware, no DRF, no cache, no database), the cached product detail and the cached product
list (anonymous, answered from Redis), in interleaved rounds so that the machine's other load falls
on all alike; each round's ratio to the bare view, and their median, are printed.

With --profile, py-spy samples the workers while wrk reads each of the three, and the frames of a
worker's request handling are printed side by side in microseconds per request (with what they
call; a worker blocked in a socket read counts too, as py-spy cannot tell it from work): what the
cached reads spend beyond the bare view's middleware, routing and response.

    createdb -h 127.0.0.1 -U postgres c4ang_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/c4ang_bench REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python bench/cached_reads.py --rounds 5 --profile 10

Needs wrk (Debian: `apt-get install wrk`); py-spy comes with requirements-dev.txt. The database gets
bench/load.py's catalog (created once, reused).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import BENCH, SERVER_ENV, prepare, wrk  # noqa: E402
from deploy.local.mesh import module_server  # noqa: E402

# Inside a worker, the request's frames start here (gunicorn's sync worker hands the request to Django).
HANDLER = "SyncWorker.handle_request"


RATE = 1000  # py-spy samples a second


def profile(server: subprocess.Popen, url: str, *, seconds: int, connections: int, env: dict[str, str]) -> Counter:
    """Microseconds of CPU per request spent in each frame of a worker's request handling (with what
    it calls), sampled by py-spy while wrk reads `url`."""
    raw = Path(tempfile.mkdtemp(prefix="c4ang-pyspy-")) / "stacks.txt"
    spy = subprocess.Popen(
        [
            *[shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking"],
            *["--subprocesses", "--function", "--rate", str(RATE), "--format", "raw", "--duration", str(seconds)],
            *["--output", str(raw), "--pid", str(server.pid)],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    report = wrk(url, seconds=seconds, connections=connections, script=BENCH / "wrk_report.lua", env=env)
    _, complaint = spy.communicate(timeout=60)
    if spy.returncode:
        raise RuntimeError(f"py-spy failed: {complaint.decode()[-2000:]}")
    per_request = 1e6 / RATE / report["requests"]
    frames: Counter = Counter()
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        names = [frame.split(" (")[0] for frame in stack.split(";")]
        if HANDLER in names:
            for name in set(names[names.index(HANDLER) :]):
                frames[name] += int(count) * per_request
    shutil.rmtree(raw.parent)
    return frames


def print_profile(profiles: dict[str, Counter], *, top: int) -> None:
    """The frames of the reads, in microseconds of CPU per request, the heaviest of the last one first."""
    names = list(profiles)
    print(
        f"  {'frame (µs of a worker per request, with what it calls)':60}"
        + "".join(f" {name[:14]:>14}" for name in names)
    )
    for frame, _ in profiles[names[-1]].most_common(top):
        print(f"  {frame[:60]:60}" + "".join(f" {profiles[name][frame]:14.0f}" for name in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="2,3", help="gunicorn worker counts, comma-separated (default 2,3)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--round-seconds", type=int, default=8, help="duration of each wrk run (default 8)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--profile", type=int, default=0, help="seconds of py-spy on each read (0: none)")
    parser.add_argument("--top", type=int, default=24, help="frames of the profile to print (default 24)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
        sys.exit("bench/cached_reads.py measures the production setup: set DATABASE_URL=postgres://... and REDIS_URL")
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    data = prepare()
    env = {**os.environ, **SERVER_ENV, "WRK_REPORT": str(BENCH / "wrk_report.lua")}
    product = data["products"][0]
    paths = {
        "bare Django view": "/bench/bare/",
        "product detail (cached)": f"/api/v1/products/{product}/",
        "product list (cached)": "/api/v1/products/?ordering=price",
    }
    scratch = Path(tempfile.mkdtemp(prefix="c4ang-cached-reads-"))
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    try:
        for workers in (int(count) for count in args.workers.split(",")):
            server, port = module_server("products", workers=workers, env=env, log=scratch / f"gunicorn-{workers}.log")
            url = f"http://127.0.0.1:{port}"
            try:
                for path in paths.values():
                    urllib.request.urlopen(url + path, timeout=5).read()  # noqa: S310 - warm a local server's cache
                rounds: dict[str, list[dict]] = {name: [] for name in paths}
                for _ in range(args.rounds):
                    for name, path in paths.items():
                        report = wrk(
                            url + path,
                            seconds=args.round_seconds,
                            connections=args.connections,
                            script=BENCH / "wrk_report.lua",
                            env=env,
                        )
                        rounds[name].append(report)
                print(
                    f"\n{workers} workers, {args.rounds} rounds of {args.round_seconds} s, {args.connections} "
                    f"connections (load average now {os.getloadavg()[0]:.2f}):"
                )
                bare = rounds["bare Django view"]
                for name, reports in rounds.items():
                    rps = [report["rps"] for report in reports]
                    p95 = statistics.median(report["p95_ms"] for report in reports)
                    errors = sum(report["errors"] for report in reports)
                    line = f"  {name:26} median {statistics.median(rps):8.0f} req/s, p95 {p95:5.1f} ms, {errors} errors"
                    if reports is not bare:
                        ratios = [read["rps"] / ceiling["rps"] for read, ceiling in zip(reports, bare, strict=True)]
                        each = ", ".join(f"{ratio:.0%}" for ratio in ratios)
                        line += f"; / bare view: median {statistics.median(ratios):.0%} (rounds {each})"
                    print(line, flush=True)
                if args.profile:
                    print(f"\n  where the time goes ({args.profile} s of py-spy under wrk, {workers} workers):")
                    profiles = {
                        name: profile(server, url + path, seconds=args.profile, connections=args.connections, env=env)
                        for name, path in paths.items()
                    }
                    print_profile(profiles, top=args.top)
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
