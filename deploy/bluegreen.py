"""Blue/green releases of one module, step by step (the original's process, for CI and for ops).

    python -m deploy.bluegreen [--dry-run] [--overlay production] <step> ...

    status        <module>                 weights, images and ready pods of both colours
    migrate       <tag>                    recreate the migration Job with the new image and wait for it
    deploy-green  <module> <tag>           green runs the new image, scaled like blue
    wait-ready    <module>                 until green's rollout is done and its pods are ready
    smoke         <module> --url URL       requests through the gateway's header route reach green and succeed
                                           (--live: without the header, traffic must already reach green)
    analyze       <module> --prometheus URL
                                           green's 5xx rate and p95 over a window, from Prometheus: fails
                                           above the thresholds or on too little traffic to judge
                                           (--rollback: and, failing, rolls back in the same step)
    switch        <module>                 one merge patch: blue 0 / green 100
    rollback      <module>                 one merge patch: blue 100 / green 0
    promote       <module> <tag>           blue takes the new image, traffic returns to blue, green scales to 0

At rest blue is live (100/0) and green has no pods; the manifests describe that state, so applying
an overlay mid-release would undo it: apply only at rest. <module> is a C4ANG_MODULES name
(customers, products, orders, payments, recommendations, saga).

--dry-run prints the exact kubectl commands and patches without touching a cluster; what would be
read from the cluster (the VirtualService, blue's replica count) is read from the rendered overlay.
"""

import argparse
import copy
import json
import math
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TextIO

from deploy.render import app_container, find, of_kind, render

NAMESPACE = "ecommerce"
TEST_HEADER = "x-c4ang-subset"  # request: route to green; response: the subset that answered
MIGRATION_JOB = "c4ang-migrate"
ROLLOUT_TIMEOUT = "300s"
WEIGHTED_ROUTES = ("safe", "unsafe")  # the routes of everyone's traffic; the green-test routes stay on green


class ReleaseError(RuntimeError):
    """A step that must not go on (nothing was changed by it)."""


@dataclass(frozen=True)
class Module:
    module: str  # C4ANG_MODULES name
    name: str  # Service, VirtualService and DestinationRule name; Deployments <name>-blue/-green

    @property
    def blue(self) -> str:
        return f"{self.name}-blue"

    @property
    def green(self) -> str:
        return f"{self.name}-green"


def modules(objects: list[dict]) -> dict[str, Module]:
    """The blue/green modules of an overlay, by C4ANG_MODULES name (from the Services' annotations)."""
    found = {}
    for service in of_kind(objects, "Service"):
        annotations = service["metadata"].get("annotations", {})
        if "c4ang.com/module" in annotations:
            found[annotations["c4ang.com/module"]] = Module(
                annotations["c4ang.com/module"], service["metadata"]["name"]
            )
    return found


def weighted(virtual_service: dict, green_weight: int) -> list[dict]:
    """The VirtualService's http routes with everyone's traffic split (100 - green_weight) / green_weight."""
    if green_weight not in (0, 100):
        raise ValueError("blue/green switches all traffic at once: green_weight is 0 or 100")
    http = copy.deepcopy(virtual_service["spec"]["http"])
    names = {route.get("name") for route in http}
    missing = set(WEIGHTED_ROUTES) - names
    if missing:
        raise ReleaseError(f"VirtualService {virtual_service['metadata']['name']} has no route(s) {sorted(missing)}")
    for route in http:
        if route.get("name") in WEIGHTED_ROUTES:
            for destination in route["route"]:
                subset = destination["destination"]["subset"]
                destination["weight"] = green_weight if subset == "green" else 100 - green_weight
    return http


def weights_patch(virtual_service: dict, green_weight: int) -> dict:
    """One JSON merge patch that sets every weighted route at once.

    A merge patch replaces a list whole, so the patch carries the complete http list (matches,
    timeouts, retries unchanged): the switch is one atomic update of the object. With the live
    object's resourceVersion, the API server refuses the patch if someone changed it since it was read.
    """
    patch: dict = {"spec": {"http": weighted(virtual_service, green_weight)}}
    resource_version = virtual_service["metadata"].get("resourceVersion")
    if resource_version:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


def current_weights(virtual_service: dict) -> dict[str, int]:
    weights = {}
    for route in virtual_service["spec"]["http"]:
        if route.get("name") == "safe":
            for destination in route["route"]:
                weights[destination["destination"]["subset"]] = destination.get("weight", 0)
    return weights


class Cluster:
    """kubectl against the cluster, or (dry run) the printed commands and the rendered overlay."""

    def __init__(self, objects: list[dict], dry_run: bool, context: str | None, out: TextIO):
        self.objects = objects
        self.dry_run = dry_run
        self.out = out
        self.base = ["kubectl", *(["--context", context] if context else []), "--namespace", NAMESPACE]

    def run(self, *args: str, stdin: str | None = None) -> str:
        argv = [*self.base, *args]
        line = shlex.join(argv) + (f" <<'EOF'\n{stdin.rstrip()}\nEOF" if stdin is not None else "")
        print(line if self.dry_run else f"+ {line}", file=self.out)
        if self.dry_run:
            return ""
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ReleaseError(f"{shlex.join(argv)} failed:\n{result.stderr.strip()}")
        return result.stdout

    def get(self, kind: str, name: str) -> dict:
        if self.dry_run:
            print(f"# reads {kind}/{name} (dry run: from the rendered overlay)", file=self.out)
            return find(self.objects, kind, name)
        argv = [*self.base, "get", kind.lower(), name, "--output", "json"]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ReleaseError(f"{shlex.join(argv)} failed:\n{result.stderr.strip()}")
        return json.loads(result.stdout)


class Release:
    def __init__(self, cluster: Cluster, objects: list[dict]):
        self.cluster = cluster
        self.objects = objects
        self.modules = modules(objects)
        blue = find(objects, "Deployment", next(iter(self.modules.values())).blue)
        self.repository = app_container(blue)["image"].rsplit(":", 1)[0]

    def module(self, name: str) -> Module:
        if name not in self.modules:
            raise ReleaseError(f"unknown module {name!r}; one of {', '.join(sorted(self.modules))}")
        return self.modules[name]

    def image(self, tag: str) -> str:
        return f"{self.repository}:{tag}"

    def say(self, text: str) -> None:
        print(f"# {text}", file=self.cluster.out)

    # --- the steps --------------------------------------------------------------------------------

    def status(self, module: Module) -> None:
        weights = current_weights(self.cluster.get("VirtualService", module.name))
        for colour, deployment in (("blue", module.blue), ("green", module.green)):
            spec = self.cluster.get("Deployment", deployment)
            image = app_container(spec)["image"]
            ready = spec.get("status", {}).get("readyReplicas", 0)
            wanted = spec["spec"].get("replicas", 1)
            self.say(f"{colour:<5} weight {weights.get(colour, 0):>3}  pods ready {ready}/{wanted}  image {image}")

    def migrate(self, tag: str) -> None:
        job = copy.deepcopy(find(self.objects, "Job", MIGRATION_JOB))
        app_container(job)["image"] = self.image(tag)
        self.say(f"migrations of {tag}, while the live colour keeps serving (they must be backward compatible)")
        self.cluster.run("delete", "job", MIGRATION_JOB, "--ignore-not-found", "--wait=true")
        self.cluster.run("create", "--filename", "-", stdin=json.dumps(job, indent=2))
        self.cluster.run("wait", "--for=condition=complete", f"job/{MIGRATION_JOB}", "--timeout=900s")

    def require_live(self, module: Module, colour: str) -> None:
        """Refuse a step that is only safe while `colour` takes everyone's traffic (checked on the cluster)."""
        if self.cluster.dry_run:
            return
        weights = current_weights(self.cluster.get("VirtualService", module.name))
        if weights.get(colour) != 100:
            raise ReleaseError(f"{module.name} is not all on {colour} (weights {weights}): finish or roll back first")

    def deploy_green(self, module: Module, tag: str) -> None:
        self.require_live(module, "blue")
        replicas = self.blue_replicas(module)
        self.say(f"{module.green} runs {self.image(tag)} with {replicas} pod(s), like blue; it takes no traffic yet")
        self.cluster.run("set", "image", f"deployment/{module.green}", f"app={self.image(tag)}")
        self.cluster.run("scale", f"deployment/{module.green}", f"--replicas={replicas}")

    def blue_replicas(self, module: Module) -> int:
        blue = self.cluster.get("Deployment", module.blue)
        if "replicas" in blue["spec"]:
            return blue["spec"]["replicas"]
        # Rendered with an HPA and no count: blue starts at the HPA's minimum.
        return find(self.objects, "HorizontalPodAutoscaler", module.blue)["spec"]["minReplicas"]

    def wait_ready(self, module: Module) -> None:
        self.cluster.run("rollout", "status", f"deployment/{module.green}", f"--timeout={ROLLOUT_TIMEOUT}")
        self.cluster.run(
            "wait",
            "--for=condition=ready",
            "pod",
            "--selector",
            f"app={module.name},version=green",
            f"--timeout={ROLLOUT_TIMEOUT}",
        )

    def switch(self, module: Module, green_weight: int) -> None:
        if green_weight == 100 and not self.cluster.dry_run:
            green = self.cluster.get("Deployment", module.green)
            if green.get("status", {}).get("readyReplicas", 0) < 1:
                raise ReleaseError(f"{module.green} has no ready pod: deploy-green and wait-ready first")
        patch = weights_patch(self.cluster.get("VirtualService", module.name), green_weight)
        self.say(f"{module.name}: blue {100 - green_weight} / green {green_weight}, in one patch")
        self.cluster.run("patch", "virtualservice", module.name, "--type", "merge", "--patch", json.dumps(patch))

    def promote(self, module: Module, tag: str) -> None:
        self.require_live(module, "green")
        if not self.cluster.dry_run:
            green = self.cluster.get("Deployment", module.green)
            image = app_container(green)["image"]
            if image != self.image(tag):
                raise ReleaseError(f"{module.green} runs {image}, not {self.image(tag)}: nothing to promote")
        self.say(f"blue takes {tag} while green serves, then traffic returns to blue and green idles")
        self.cluster.run("set", "image", f"deployment/{module.blue}", f"app={self.image(tag)}")
        self.cluster.run("rollout", "status", f"deployment/{module.blue}", f"--timeout={ROLLOUT_TIMEOUT}")
        self.switch(module, green_weight=0)
        self.cluster.run("scale", f"deployment/{module.green}", "--replicas=0")


def smoke(module: Module, url: str, live: bool, requests: int, out: TextIO, dry_run: bool) -> None:
    """GET the module's prefix through the gateway; every answer must come from green and be no 5xx.

    Without --live the test header routes to green (before the switch); with --live the requests are
    everyone's traffic (after the switch), repeated to watch for errors.
    """
    target = f"{url.rstrip('/')}/api/v1/{module.module}/"
    headers = {} if live else {TEST_HEADER: "green"}
    print(f"# GET {target} {json.dumps(headers)} x{requests}: expect {TEST_HEADER}: green, status < 500", file=out)
    if dry_run:
        return
    for number in range(1, requests + 1):
        request = urllib.request.Request(target, headers=headers)  # noqa: S310 - the operator's gateway URL
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, answered = response.status, response.headers.get(TEST_HEADER)
        except urllib.error.HTTPError as error:
            status, answered = error.code, error.headers.get(TEST_HEADER)
        if status >= 500 or answered != "green":
            raise ReleaseError(
                f"request {number}: status {status}, answered by subset {answered!r} (want green, < 500)"
            )
        time.sleep(0 if number == requests else 1)
    print(f"# {requests} request(s) answered by green", file=out)


@dataclass(frozen=True)
class Gate:
    """What green must show before (and while) it takes everyone's traffic: the original's targets."""

    window: str = "5m"
    max_error_rate: float = 0.01
    max_p95_s: float = 0.5
    min_requests: int = 50


def green_queries(module: Module, window: str) -> dict[str, str]:
    """PromQL of green's requests, 5xx and p95 over `window`, from the app's metrics: the pods' app
    and version labels (components/monitoring, the PodMonitor) tell green's series from blue's.
    Smoke traffic through the header route is green's traffic too, and is counted."""
    green = f'app="{module.name}", version="green"'
    requests = "c4ang_http_request_duration_seconds_count"
    buckets = "c4ang_http_request_duration_seconds_bucket"
    return {
        "requests": f"sum(increase({requests}{{{green}}}[{window}]))",
        "errors": f'sum(increase({requests}{{{green}, status_class="5xx"}}[{window}]))',
        "p95": f"histogram_quantile(0.95, sum by (le) (rate({buckets}{{{green}}}[{window}])))",
    }


def prometheus_value(url: str, query: str) -> float | None:
    """One instant query's single value (None: no series, or NaN). Unreachable or refused: ReleaseError."""
    target = f"{url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(target, timeout=30) as response:  # noqa: S310 - the operator's Prometheus URL
            answer = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ReleaseError(f"Prometheus at {url} could not answer {query!r}: {error}") from None
    if answer.get("status") != "success":
        raise ReleaseError(f"Prometheus refused {query!r}: {answer.get('error')}")
    result = answer["data"]["result"]
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value


def analyze(module: Module, prometheus: str, gate: Gate, out: TextIO, dry_run: bool) -> None:
    """Green's error rate and p95 over the gate's window; ReleaseError when it fails the gate, which
    no release goes past: switching waits, a switched module rolls back."""
    queries = green_queries(module, gate.window)
    print(f"# analysis of {module.green} over {gate.window}, from {prometheus}:", file=out)
    for name, query in queries.items():
        print(f"#   {name}: {query}", file=out)
    if dry_run:
        return
    requests, errors, p95 = (prometheus_value(prometheus, query) for query in queries.values())
    requests, errors = requests or 0.0, errors or 0.0
    # Both counts are extrapolated over the window, each its own way: their ratio can pass 1 by a hair.
    error_rate = min(errors / requests, 1.0) if requests else 0.0
    p95_text = "no data" if p95 is None else f"{p95 * 1000:.0f} ms"
    print(
        f"#   requests {requests:.0f} (at least {gate.min_requests}), 5xx {error_rate:.2%} (at most "
        f"{gate.max_error_rate:.2%}), p95 {p95_text} (at most {gate.max_p95_s * 1000:.0f} ms)",
        file=out,
    )
    failures = []
    if requests < gate.min_requests:
        failures.append(f"too little traffic to judge ({requests:.0f} requests in {gate.window})")
    if error_rate > gate.max_error_rate:
        failures.append(f"5xx rate {error_rate:.2%} over {gate.max_error_rate:.2%}")
    if requests and (p95 is None or p95 > gate.max_p95_s):  # no requests: no latency to speak of
        failures.append(f"p95 {p95_text} over {gate.max_p95_s * 1000:.0f} ms")
    if failures:
        raise ReleaseError(f"{module.green} fails the analysis: " + "; ".join(failures))
    print(f"# {module.green} passes the analysis", file=out)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.bluegreen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the kubectl commands and patches only")
    parser.add_argument("--overlay", default="production", help="environment: local, staging, production")
    parser.add_argument("--context", help="kubectl context (default: the current one)")
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("status").add_argument("module")
    steps.add_parser("migrate").add_argument("tag")
    deploy_green = steps.add_parser("deploy-green")
    deploy_green.add_argument("module")
    deploy_green.add_argument("tag")
    steps.add_parser("wait-ready").add_argument("module")
    smoke_parser = steps.add_parser("smoke")
    smoke_parser.add_argument("module")
    smoke_parser.add_argument("--url", required=True, help="the gateway, e.g. https://api.c4ang.com")
    smoke_parser.add_argument("--live", action="store_true", help="everyone's traffic, after the switch")
    smoke_parser.add_argument("--requests", type=int, default=5)
    analyze_parser = steps.add_parser("analyze")
    analyze_parser.add_argument("module")
    analyze_parser.add_argument("--prometheus", required=True, help="Prometheus' URL, e.g. http://127.0.0.1:9090")
    analyze_parser.add_argument("--window", default=Gate.window, help="PromQL range (default 5m)")
    analyze_parser.add_argument("--max-error-rate", type=float, default=Gate.max_error_rate, help="default 0.01")
    analyze_parser.add_argument("--max-p95", type=float, default=Gate.max_p95_s, help="seconds (default 0.5)")
    analyze_parser.add_argument("--min-requests", type=int, default=Gate.min_requests, help="default 50")
    analyze_parser.add_argument("--rollback", action="store_true", help="roll back when green fails")
    steps.add_parser("switch").add_argument("module")
    steps.add_parser("rollback").add_argument("module")
    promote = steps.add_parser("promote")
    promote.add_argument("module")
    promote.add_argument("tag")
    args = parser.parse_args(argv)

    objects = render(args.overlay)
    release = Release(Cluster(objects, args.dry_run, args.context, out), objects)
    try:
        module = release.module(args.module) if hasattr(args, "module") else None
        if args.step == "status":
            release.status(module)
        elif args.step == "migrate":
            release.migrate(args.tag)
        elif args.step == "deploy-green":
            release.deploy_green(module, args.tag)
        elif args.step == "wait-ready":
            release.wait_ready(module)
        elif args.step == "smoke":
            smoke(module, args.url, args.live, args.requests, out, args.dry_run)
        elif args.step == "analyze":
            gate = Gate(args.window, args.max_error_rate, args.max_p95, args.min_requests)
            try:
                analyze(module, args.prometheus, gate, out, args.dry_run)
            except ReleaseError:
                if args.rollback:
                    release.switch(module, green_weight=0)
                raise
        elif args.step in ("switch", "rollback"):
            release.switch(module, green_weight=100 if args.step == "switch" else 0)
        else:
            release.promote(module, args.tag)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
