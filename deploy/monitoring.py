"""The monitoring objects of the manifests (components/monitoring) as Prometheus and promtool read them.

    .venv/bin/python -m deploy.monitoring install          # Debian's prometheus package (promtool, prometheus)
    .venv/bin/python -m deploy.monitoring rules FILE       # the PrometheusRule's groups as a rules file

The rules live once, in the PrometheusRule of components/monitoring/alerts.yaml; promtool, the local
Prometheus of `make observe` and the tests read its groups from there. Metric names of an expression
are taken from its syntax tree (promql-parser), so a dashboard or rule that names a metric nobody
exports is caught.
"""

import argparse
import json
import shutil
import sys
from pathlib import Path

import promql_parser
import yaml

from deploy.local import debian
from deploy.render import K8S

MONITORING = K8S / "components" / "monitoring"
ALERTS = MONITORING / "alerts.yaml"
DASHBOARDS = MONITORING / "dashboards"
# Grafana's variables, given values that make a dashboard's query plain PromQL.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "6h",
    "${module}": "orders",
    "$module": "orders",
    "${version}": "green",
    "$version": "green",
}
# What Istio's sidecars export (the standard metrics of Istio 1.2x, https://istio.io/latest/docs/reference/config/metrics/).
ISTIO_METRICS = frozenset(
    {
        "istio_requests_total",
        "istio_request_duration_milliseconds_bucket",
        "istio_request_duration_milliseconds_count",
        "istio_request_duration_milliseconds_sum",
        "istio_request_bytes_bucket",
        "istio_response_bytes_bucket",
        "istio_request_messages_total",
        "istio_response_messages_total",
        "istio_tcp_sent_bytes_total",
        "istio_tcp_received_bytes_total",
        "istio_tcp_connections_opened_total",
        "istio_tcp_connections_closed_total",
    }
)
# What kube-prometheus-stack scrapes besides: kube-state-metrics and the kubelet's cAdvisor (rules only).
KUBERNETES_METRICS = frozenset(
    {
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_status_last_terminated_reason",
        "kube_pod_container_resource_limits",
        "kube_horizontalpodautoscaler_status_current_replicas",
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "container_memory_working_set_bytes",
        "container_cpu_cfs_throttled_periods_total",
        "container_cpu_cfs_periods_total",
    }
)


def promtool_binary() -> str | None:
    return shutil.which("promtool")


def prometheus_binary() -> str | None:
    return shutil.which("prometheus") or shutil.which("prometheus", path="/usr/bin")


def ensure_prometheus() -> str:
    """promtool (and the Prometheus server beside it) from Debian's `prometheus` package, installed
    when missing (needs root, as on CI; the package's service is not started: there is no init
    system here, and nothing needs it); returns promtool's path."""
    return debian.installed(
        ["prometheus"], found=lambda: promtool_binary() if prometheus_binary() else None, what="promtool"
    )


def rule_groups(prometheus_rule: dict | None = None) -> list[dict]:
    """The groups of the PrometheusRule (as rendered, or as written in alerts.yaml)."""
    rule = prometheus_rule or yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return rule["spec"]["groups"]


def write_rules(path: Path, groups: list[dict] | None = None) -> Path:
    """A Prometheus rules file of the groups, for promtool and a local Prometheus."""
    path.write_text(yaml.safe_dump({"groups": groups or rule_groups()}, sort_keys=False), encoding="utf-8")
    return path


def alerts(groups: list[dict] | None = None) -> list[dict]:
    return [rule for group in groups or rule_groups() for rule in group["rules"] if "alert" in rule]


def dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(DASHBOARDS.glob("*.json"))}


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables given values) of every target of every panel."""
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found


def metric_names(expr: str) -> set[str]:
    """Every metric an expression selects (a vector selector's name), from its syntax tree."""
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
        elif isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
        elif isinstance(node, promql_parser.Call):
            for argument in node.args:
                walk(argument)
        elif isinstance(node, promql_parser.AggregateExpr):
            walk(node.expr)
            if node.param is not None:
                walk(node.param)
        elif isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
        elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr):
            walk(node.expr)

    walk(promql_parser.parse(expr))
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.monitoring", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install")
    commands.add_parser("rules").add_argument("file", type=Path)
    args = parser.parse_args(argv)
    if args.command == "install":
        print(ensure_prometheus())
    else:
        print(write_rules(args.file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
