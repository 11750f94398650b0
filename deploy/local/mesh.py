"""The local mesh: nginx in front of one gunicorn process per module, routing by path like Istio.

    .venv/bin/python -m deploy.local.mesh start [--port 8080] [--workers 1]
    .venv/bin/python -m deploy.local.mesh status
    .venv/bin/python -m deploy.local.mesh stop

Each module's process serves only its own prefix (C4ANG_MODULES), as its Deployment does; the admin
process also answers the gateway's /healthz and /readyz. With REDIS_URL set, a Celery worker and the
single beat run too. DATABASE_URL / REDIS_URL are taken from the environment (SQLite by default).

The routes are not written twice: they are read from the rendered local overlay (the root
VirtualService's matches, the Service behind each route, that Service's Deployment's C4ANG_MODULES),
so nginx routes exactly as the gateway does. The state (pids, logs, nginx.conf) lives in
var/localmesh/ unless --state-dir says otherwise. nginx comes from Debian's packages: `start`
installs it with apt-get when it is missing.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from deploy.local import debian
from deploy.local.net import free_port, wait_listening
from deploy.render import app_container, find, of_kind, render

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / "var" / "localmesh"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
ROOT_VIRTUALSERVICE = "ecommerce"


@dataclass(frozen=True)
class Route:
    match: str  # "prefix" or "exact", as in the VirtualService
    path: str
    service: str


@dataclass(frozen=True)
class Upstream:
    service: str
    modules: str  # C4ANG_MODULES of the service's Deployment
    port: int


def mesh_routes(objects: list[dict]) -> tuple[list[Route], dict[str, str]]:
    """The root VirtualService's routes in order, and each routed Service's C4ANG_MODULES."""
    root = find(objects, "VirtualService", ROOT_VIRTUALSERVICE)
    routes: list[Route] = []
    for http in root["spec"]["http"]:
        if "delegate" in http:
            delegate = find(objects, "VirtualService", http["delegate"]["name"])
            hosts = {dest["destination"]["host"] for route in delegate["spec"]["http"] for dest in route["route"]}
        else:
            hosts = {dest["destination"]["host"] for dest in http["route"]}
        if len(hosts) != 1:
            raise ValueError(f"route {http.get('name')} goes to {sorted(hosts)}: the local mesh needs one Service")
        (service,) = hosts
        for match in http["match"]:
            ((kind, path),) = match["uri"].items()
            routes.append(Route(match=kind, path=path, service=service))
    return routes, {route.service: service_modules(objects, route.service) for route in routes}


def service_modules(objects: list[dict], service_name: str) -> str:
    selector = find(objects, "Service", service_name)["spec"]["selector"]
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        # Blue and green run the same modules; blue is the one that serves at rest.
        if labels.get("version", "blue") == "blue" and selector.items() <= labels.items():
            env = {item["name"]: item.get("value") for item in app_container(deployment).get("env", [])}
            return env["C4ANG_MODULES"]
    raise LookupError(f"no Deployment behind Service {service_name!r}")


def nginx_config(routes: list[Route], upstreams: list[Upstream], port: int, state_dir: Path) -> str:
    locations = []
    for route in routes:
        modifier = "= " if route.match == "exact" else ""
        locations.append(f"        location {modifier}{route.path} {{ proxy_pass http://{route.service}; }}")
    upstream_blocks = [f"    upstream {up.service} {{ server 127.0.0.1:{up.port}; }}" for up in upstreams]
    temp = state_dir / "nginx"
    return "\n".join(
        [
            "# Written by deploy/local/mesh.py from the local overlay's VirtualServices: do not edit.",
            "worker_processes 1;",
            f"pid {state_dir / 'nginx.pid'};",
            f"error_log {state_dir / 'logs' / 'nginx-error.log'} warn;",
            "events { worker_connections 512; }",
            "http {",
            f"    access_log {state_dir / 'logs' / 'nginx-access.log'};",
            *(f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
            # Istio propagates the caller's X-Request-ID, or makes one.
            "    map $http_x_request_id $mesh_request_id { default $http_x_request_id; '' $request_id; }",
            *upstream_blocks,
            "    server {",
            f"        listen 127.0.0.1:{port};",
            "        proxy_set_header Host $http_host;",
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "        proxy_set_header X-Forwarded-Proto $scheme;",
            "        proxy_set_header X-Request-ID $mesh_request_id;",
            "        proxy_read_timeout 30s;  # the VirtualServices' timeout",
            # nginx never resends a non-idempotent request that reached the app (no `non_idempotent`).
            "        proxy_next_upstream error;",
            # Which process answered: the tests check it against the route table.
            "        add_header X-Mesh-Upstream $upstream_addr always;",
            *locations,
            # Like the gateway: a path no route matches is a 404 (here with the platform's error shape).
            "        location / {",
            "            default_type application/json;",
            '            return 404 \'{"code": "not_found", "message": "No route for this path."}\';',
            "        }",
            "    }",
            "}",
            "",
        ]
    )


def nginx_binary() -> str | None:
    # /usr/sbin is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def ensure_nginx() -> str:
    """nginx from Debian's packages, installed when missing (needs root, as on CI)."""
    return debian.installed(["nginx-light"], found=nginx_binary, what="nginx")


def free_ports(count: int, *, besides: int) -> list[int]:
    """`count` distinct free ports, none of them `besides` (nginx's, free until nginx binds it)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port != besides and port not in ports:
            ports.append(port)
    return ports


def gunicorn_command() -> list[str]:
    """The image's server command; the address, workers and modules come from the environment."""
    return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG), "c4ang.wsgi:application"]


def module_server(
    modules: str, *, workers: int, env: dict[str, str], log: Path, deadline_s: float = 60
) -> tuple[subprocess.Popen, int]:
    """One gunicorn of the image's command serving `modules` (C4ANG_MODULES) on a free loopback
    port, with `env` as its whole environment; it listens when this returns: (process, port)."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            gunicorn_command(),
            cwd=ROOT,
            env={
                **env,
                "C4ANG_MODULES": modules,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(workers),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_listening(port, deadline_s, process=process, log=log)
    return process, port


class Mesh:
    """The processes of the local mesh, tracked by pid files in a state directory."""

    def __init__(self, state_dir: Path = DEFAULT_STATE_DIR, port: int = 8080, workers: int = 1):
        self.state_dir = Path(state_dir)
        self.port = port
        self.workers = workers
        self.url = f"http://127.0.0.1:{port}"
        self.pids = self.state_dir / "pids"
        self.logs = self.state_dir / "logs"
        self.upstreams: list[Upstream] = []
        self.children: list[subprocess.Popen] = []  # started by this process: reaped by stop()

    # --- start ---------------------------------------------------------------------------------

    def start(self, env: dict[str, str] | None = None, deadline_s: float = 90) -> None:
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        if self.running():
            raise RuntimeError(f"the local mesh already runs (state in {self.state_dir}); stop it first")
        nginx = ensure_nginx()
        for folder in (self.pids, self.logs, self.state_dir / "nginx"):
            folder.mkdir(parents=True, exist_ok=True)
        routes, modules = mesh_routes(render("local"))
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)

        services = sorted(modules)
        ports = free_ports(len(services) + 2, besides=self.port)
        self.upstreams = [Upstream(name, modules[name], port) for name, port in zip(services, ports, strict=False)]
        # The worker and beat serve their metrics on ports of their own, as in their pods (9100 there).
        metrics = dict(zip(("celery-worker", "celery-beat"), ports[-2:], strict=True)) if env.get("REDIS_URL") else {}
        (self.state_dir / "mesh.json").write_text(
            json.dumps(
                {"port": self.port, "upstreams": [up.__dict__ for up in self.upstreams], "metrics": metrics}, indent=2
            ),
            encoding="utf-8",
        )
        try:
            for up in self.upstreams:
                self._spawn(
                    up.service,
                    gunicorn_command(),
                    {
                        **env,
                        "C4ANG_MODULES": up.modules,
                        "GUNICORN_BIND": f"127.0.0.1:{up.port}",
                        "GUNICORN_WORKERS": str(self.workers),
                    },
                )
            if env.get("REDIS_URL"):
                celery = [sys.executable, "-m", "celery", "-A", "c4ang"]
                # The pool's processes count their tasks in files the worker's main process adds up.
                worker_metrics = self.state_dir / "worker-metrics"
                shutil.rmtree(worker_metrics, ignore_errors=True)
                worker_metrics.mkdir()
                self._spawn(
                    "celery-worker",
                    [*celery, "worker", "-l", "INFO", "--concurrency", str(self.workers), "-n", "localmesh@%h"],
                    {
                        **env,
                        "C4ANG_METRICS_PORT": str(metrics["celery-worker"]),
                        "C4ANG_METRICS_ADDR": "127.0.0.1",
                        "PROMETHEUS_MULTIPROC_DIR": str(worker_metrics),
                    },
                )
                beat_schedule = str(self.state_dir / "celerybeat-schedule")
                self._spawn(
                    "celery-beat",
                    [*celery, "beat", "-l", "INFO", "--schedule", beat_schedule, "--pidfile", ""],
                    {**env, "C4ANG_METRICS_PORT": str(metrics["celery-beat"]), "C4ANG_METRICS_ADDR": "127.0.0.1"},
                )
            for up in self.upstreams:
                wait_listening(up.port, deadline_s, log=self.logs / f"{up.service}.log")
            config = self.state_dir / "nginx.conf"
            config.write_text(nginx_config(routes, self.upstreams, self.port, self.state_dir), encoding="utf-8")
            errors = self.logs / "nginx-error.log"
            subprocess.run([nginx, "-t", "-q", "-c", str(config), "-e", str(errors)], check=True, capture_output=True)
            subprocess.run([nginx, "-c", str(config), "-e", str(errors)], check=True)
            wait_ready(f"{self.url}/readyz", deadline_s)
            if env.get("REDIS_URL"):
                wait_for_line(self.logs / "celery-worker.log", "ready.", deadline_s)
                wait_for_line(self.logs / "celery-beat.log", "beat: Starting", deadline_s)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            # Its own session: the mesh outlives `start`, and `stop` ends each process group by its id.
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        (self.pids / f"{name}.pid").write_text(str(process.pid), encoding="utf-8")
        self.children.append(process)

    # --- status and stop -----------------------------------------------------------------------

    def processes(self) -> dict[str, int]:
        """Running processes of the mesh by name (nginx included), from the pid files."""
        found = {}
        for pid_file in sorted(self.pids.glob("*.pid")) if self.pids.exists() else []:
            pid = int(pid_file.read_text(encoding="utf-8"))
            if alive(pid):
                found[pid_file.stem] = pid
        nginx_pid = self.state_dir / "nginx.pid"
        # Empty when nginx failed to start (a port taken, say).
        recorded = nginx_pid.read_text(encoding="utf-8").strip() if nginx_pid.exists() else ""
        if recorded and alive(pid := int(recorded)):
            found["nginx"] = pid
        return found

    def running(self) -> bool:
        return bool(self.processes())

    def recorded(self) -> tuple[int, list[Upstream]]:
        """The port and upstreams of the last start (for `status` and the tests)."""
        recorded = json.loads((self.state_dir / "mesh.json").read_text(encoding="utf-8"))
        return recorded["port"], [Upstream(**up) for up in recorded["upstreams"]]

    def metrics_ports(self) -> dict[str, int]:
        """The metrics ports of the Celery worker and beat of the last start (none without Redis)."""
        return json.loads((self.state_dir / "mesh.json").read_text(encoding="utf-8")).get("metrics", {})

    def stop(self, deadline_s: float = 30) -> None:
        processes = self.processes()
        for name, pid in processes.items():
            signal_process(name, pid, signal.SIGTERM)
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline and any(alive(pid) for pid in processes.values()):
            for child in self.children:
                child.poll()
            time.sleep(0.1)
        for name, pid in processes.items():
            if alive(pid):
                signal_process(name, pid, signal.SIGKILL)
        for child in self.children:
            child.wait(timeout=deadline_s)
        self.children = []
        for pid_file in self.pids.glob("*.pid") if self.pids.exists() else []:
            pid_file.unlink()


def signal_process(name: str, pid: int, signum: int) -> None:
    """nginx's master ends its workers; the others lead a process group of their own (their workers)."""
    if name == "nginx":
        os.kill(pid, signum)
    else:
        os.killpg(pid, signum)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child of this process that exited but was not reaped yet is gone too.
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_ready(url: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a loopback URL we built
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {deadline_s}s: {last}")


def wait_for_line(log: Path, text: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    raise TimeoutError(f"{log.name} did not say {text!r} within {deadline_s}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.mesh", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "install-nginx"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--port", type=int, default=8080, help="nginx's port (default 8080, as the pods)")
    parser.add_argument(
        "--workers", type=int, default=1, help="gunicorn workers per module and Celery worker processes (default 1)"
    )
    args = parser.parse_args(argv)
    mesh = Mesh(args.state_dir, args.port, args.workers)
    if args.command == "install-nginx":
        print(ensure_nginx())
    elif args.command == "start":
        mesh.start()
        print(f"The local mesh serves on {mesh.url} (logs in {mesh.logs}):")
        for up in mesh.upstreams:
            print(f"  {up.service:<20} C4ANG_MODULES={up.modules:<16} 127.0.0.1:{up.port}")
    elif args.command == "stop":
        mesh.stop()
        print("The local mesh is stopped.")
    else:
        processes = mesh.processes()
        if not processes:
            print("not running")
            return 1
        port, upstreams = mesh.recorded()
        ports = {up.service: up.port for up in upstreams}
        print(f"running on http://127.0.0.1:{port}")
        for name, pid in processes.items():
            print(f"  {name:<20} pid {pid:<8} {f'127.0.0.1:{ports[name]}' if name in ports else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
