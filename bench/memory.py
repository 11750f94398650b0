"""Memory of the platform's processes, the figures behind the Kubernetes requests and limits.

Starts the local mesh (deploy/local/mesh.py: one gunicorn per module with the image's gunicorn
config and 2 workers as in the pods, a Celery worker and beat when REDIS_URL is set) and one more
gunicorn serving every module (C4ANG_MODULES=all), sends 100 requests of the customer flow through
the mesh and 100 to the `all` process, then prints RSS and PSS of every process. PSS shares the
pages that the forked workers have in common with their master (preload_app), so the PSS sum of a
process tree is what its container's memory use comes to.

    .venv/bin/python bench/memory.py                      # SQLite, no Celery figures
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/memory.py
"""

import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local.mesh import Mesh, module_server  # noqa: E402
from deploy.local.net import call_json, free_port  # noqa: E402

REQUESTS = 100
WORKERS = 2  # per pod: GUNICORN_WORKERS and the Celery worker's --concurrency in deploy/k8s/base/


def request(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    """The answer's JSON, {} for a 4xx; a 5xx stops the benchmark."""
    status, answer, _ = call_json(f"{base}{path}", method, body, token=token, timeout_s=10)
    if status >= 500:
        raise RuntimeError(f"{method} {path} answered {status}: {answer}")
    return answer if status < 400 and isinstance(answer, dict) else {}


def customer_flow(base: str, count: int, label: str) -> None:
    """Register and sign in once, then browse products, read the profile and the orders."""
    email = f"bench-{label}-{time.time_ns()}@example.kr"
    password = "bench password 2026"  # noqa: S105 - a throwaway account of the benchmark database
    request(base, "POST", "/api/v1/customers/register/", {"email": email, "password": password, "name": "벤치"})
    token = request(base, "POST", "/api/v1/customers/token/", {"email": email, "password": password})["access"]
    products = request(base, "GET", "/api/v1/products/?page_size=20")["results"]
    paths = itertools.cycle(
        [
            ("/api/v1/products/?page_size=20", None),
            (f"/api/v1/products/{products[0]['id']}/", None),
            ("/api/v1/customers/me/", token),
            ("/api/v1/orders/", token),
            ("/readyz", None),
        ]
    )
    for _ in range(count - 3):
        path, auth = next(paths)
        request(base, "GET", path, token=auth)


def memory_kib(pid: int) -> tuple[int, int]:
    """RSS and PSS of one process, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as rollup:
        for line in rollup:
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss"):
                fields[name] = int(value.split()[0])
    return fields["Rss"], fields["Pss"]


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def report(name: str, pid: int) -> float:
    """Print a process tree's memory; return its PSS sum in MiB."""
    rss, pss = memory_kib(pid)
    print(f"  {name:<20} main     RSS {rss / 1024:6.1f} MiB   PSS {pss / 1024:6.1f} MiB")
    total = pss
    for child in children(pid):
        rss, pss = memory_kib(child)
        total += pss
        print(f"  {'':<20} child    RSS {rss / 1024:6.1f} MiB   PSS {pss / 1024:6.1f} MiB")
    print(f"  {'':<20} total                        PSS {total / 1024:6.1f} MiB")
    return total / 1024


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="c4ang-memory-"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    # Auth throttling would answer 429 to a benchmark's sign-ins.
    env["THROTTLE_AUTH"] = "10000/min"
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "seed_demo_data",
            "--products",
            "50",
            "--customers",
            "2",
            "--if-empty",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    mesh = Mesh(work / "mesh", port=free_port(), workers=WORKERS)
    all_modules = None
    try:
        mesh.start(env)
        all_modules, port = module_server("all", workers=WORKERS, env=env, log=work / "all.log")
        customer_flow(mesh.url, REQUESTS, "mesh")
        customer_flow(f"http://127.0.0.1:{port}", REQUESTS, "all")

        print(
            f"After {REQUESTS} requests each; gunicorn with {WORKERS} workers, preload_app (deploy/gunicorn.conf.py)."
        )
        print(f"Database: {env['DATABASE_URL'].split('@')[-1]}; Redis: {'yes' if env.get('REDIS_URL') else 'no'}")
        totals = {"all": report("C4ANG_MODULES=all", all_modules.pid)}
        for name, pid in mesh.processes().items():
            if name != "nginx":
                totals[name] = report(name, pid)
        if not env.get("REDIS_URL"):
            print("  (no REDIS_URL: no Celery worker or beat to measure)")
        print("PSS per process tree: " + ", ".join(f"{n} {v:.0f} MiB" for n, v in sorted(totals.items())))
    finally:
        if all_modules is not None:
            all_modules.terminate()
            all_modules.wait(timeout=30)
        mesh.stop()


if __name__ == "__main__":
    main()
