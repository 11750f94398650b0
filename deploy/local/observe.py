"""Prometheus on one machine: Debian's server scraping the local mesh with the project's alert rules.

    make observe            # the local mesh if it is not running, then Prometheus on http://127.0.0.1:9090
    .venv/bin/python -m deploy.local.observe start|stop|status [--port 9090]

It scrapes every process of the mesh (each module's gunicorn on /metrics; with REDIS_URL the Celery
worker and beat on their metrics ports) every 5 s, labelled as the cluster's PodMonitor labels pods
(app, version=blue, namespace=ecommerce), and evaluates the rules of the PrometheusRule
(components/monitoring/alerts.yaml) every 5 s: break something (stop Redis, send failing orders)
and watch /alerts go pending, then firing. The blue/green analysis test starts the same server
against its own targets (deploy/tests/test_analysis.py). State, data and the log in var/observe/.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deploy.local.mesh import DEFAULT_STATE_DIR as MESH_STATE_DIR
from deploy.local.mesh import Mesh, alive
from deploy.local.net import wait_listening
from deploy.monitoring import ensure_prometheus, prometheus_binary, write_rules

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / "var" / "observe"


@dataclass(frozen=True)
class Target:
    address: str  # host:port
    labels: dict[str, str] = field(default_factory=dict)


def mesh_targets(mesh: Mesh) -> list[Target]:
    """Every process of a running mesh that serves metrics, labelled like the cluster's pods."""
    _, upstreams = mesh.recorded()
    common = {"namespace": "ecommerce", "version": "blue"}
    targets = [Target(f"127.0.0.1:{up.port}", {**common, "app": up.service}) for up in upstreams]
    for name, port in mesh.metrics_ports().items():
        targets.append(Target(f"127.0.0.1:{port}", {**common, "app": name.replace("celery-", "c4ang-")}))
    return targets


def prometheus_config(targets: list[Target], rules: Path, interval: str) -> dict:
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "c4ang",
                "metrics_path": "/metrics",
                "static_configs": [{"targets": [t.address], "labels": t.labels} for t in targets],
            }
        ],
    }


class Prometheus:
    """One Prometheus server process, its configuration, data and pid under `state_dir`."""

    def __init__(self, state_dir: Path = DEFAULT_STATE_DIR, port: int = 9090):
        self.state_dir = Path(state_dir)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.pid_file = self.state_dir / "prometheus.pid"
        self.log = self.state_dir / "prometheus.log"
        self.process: subprocess.Popen | None = None

    def start(self, targets: list[Target], *, interval: str = "5s", deadline_s: float = 60) -> None:
        if self.pid() is not None:
            raise RuntimeError(f"Prometheus already runs (pid {self.pid()}, state in {self.state_dir}); stop it first")
        ensure_prometheus()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        rules = write_rules(self.state_dir / "c4ang.rules.yaml")
        config = self.state_dir / "prometheus.yml"
        settings = prometheus_config(targets, rules, interval)
        config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    prometheus_binary(),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.state_dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                ],
                cwd=self.state_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(str(self.process.pid), encoding="utf-8")
        try:
            wait_listening(self.port, deadline_s, process=self.process, log=self.log)
            self.wait_ready(deadline_s)
            self.wait_scraped(len(targets), deadline_s)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310 - loopback
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"Prometheus not ready after {deadline_s}s; see {self.log}")

    def wait_scraped(self, count: int, deadline_s: float) -> None:
        """Until every target was scraped once: Prometheus hands new targets to its scrapers only after
        a few seconds (its discovery updates are throttled), and a window must not start empty."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if len(self.query("up")) >= count:
                return
            time.sleep(0.2)
        raise TimeoutError(f"Prometheus did not scrape its {count} targets within {deadline_s}s; see {self.log}")

    def pid(self) -> int | None:
        if not self.pid_file.exists():
            return None
        pid = int(self.pid_file.read_text(encoding="utf-8"))
        return pid if alive(pid) else None

    def stop(self, deadline_s: float = 15) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + deadline_s
            while alive(pid) and time.monotonic() < deadline:
                if self.process is not None:
                    self.process.poll()
                time.sleep(0.1)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=deadline_s)
            self.process = None
        self.pid_file.unlink(missing_ok=True)

    def query(self, promql: str) -> list[dict]:
        from urllib.parse import urlencode

        with urllib.request.urlopen(f"{self.url}/api/v1/query?{urlencode({'query': promql})}", timeout=10) as answer:  # noqa: S310
            return json.load(answer)["data"]["result"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.observe", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--mesh-state-dir", type=Path, default=MESH_STATE_DIR)
    parser.add_argument("--start-mesh", action="store_true", help="start the local mesh first when it is not running")
    args = parser.parse_args(argv)
    prometheus = Prometheus(args.state_dir, args.port)
    mesh = Mesh(args.mesh_state_dir)
    if args.command == "stop":
        prometheus.stop()
        print("Prometheus is stopped (the local mesh is not: make mesh-stop).")
    elif args.command == "status":
        pid = prometheus.pid()
        print(f"Prometheus pid {pid} on {prometheus.url}" if pid else "Prometheus is not running")
        return 0 if pid else 1
    else:
        if not mesh.running():
            if not args.start_mesh:
                print("The local mesh is not running: make mesh-start (or make observe)", file=sys.stderr)
                return 1
            mesh.start()
        targets = mesh_targets(mesh)
        prometheus.start(targets)
        print(f"Prometheus scrapes {len(targets)} processes of the local mesh with the platform's rules:")
        print(f"  alerts:  {prometheus.url}/alerts")
        print(f"  targets: {prometheus.url}/targets")
        print(f"  query:   {prometheus.url}/graph")
        print("Stop it with: make observe-stop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
