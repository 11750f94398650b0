"""The monitoring as code (components/monitoring), checked with the tools that will run it: every
rule passes `promtool check rules`, the unit tests of deploy/tests/promtool make each alert fire and
not fire on synthetic series (and fail when a threshold moves), every dashboard query parses and names
only metrics the app or Istio exports, and each alert has a severity, a summary and a runbook."""

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from deploy import monitoring
from deploy.render import find, of_kind

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL_TESTS = Path(__file__).resolve().parent / "promtool" / "alerts.test.yaml"
README = ROOT / "deploy" / "README.md"
MONITORED = ("staging", "production")


@pytest.fixture(scope="module")
def promtool() -> str:
    return monitoring.ensure_prometheus()


def exported_metrics() -> set[str]:
    """Every series name the app's processes export: the metrics modules' families (with their
    _total/_bucket/_count/_sum samples) and the gauges beat computes at each scrape."""
    import orders.metrics  # noqa: F401 - imported: its metrics are registered
    import payments.metrics  # noqa: F401
    import saga.metrics  # noqa: F401
    from c4ang import metrics, worker_metrics  # noqa: F401

    names = set()
    families = list(REGISTRY.collect())
    for family in families:
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
        else:
            names.add(family.name)
    names.update(worker_metrics.PLATFORM_GAUGES)  # c4ang/tests/test_metrics.py checks that beat yields them
    return {name for name in names if name.startswith("c4ang_")}


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_rules_are_rendered_for_staging_and_production_only(rendered):
    assert of_kind(rendered["local"], "PrometheusRule") == []
    for overlay in MONITORED:
        rule = find(rendered[overlay], "PrometheusRule", "c4ang-alerts")
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert rule["spec"]["groups"] == monitoring.rule_groups()


def test_every_rule_passes_promtool_check(promtool, tmp_path, rendered):
    rules = monitoring.write_rules(
        tmp_path / "c4ang.rules.yaml", find(rendered["production"], "PrometheusRule", "c4ang-alerts")["spec"]["groups"]
    )

    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in monitoring.rule_groups())} rules found" in result.stdout


def test_promtool_check_fails_on_a_broken_rule(promtool, tmp_path):
    groups = copy.deepcopy(monitoring.rule_groups())
    groups[0]["rules"][0]["expr"] = "sum by (module) (rate(c4ang_http_request_duration_seconds_count[5m]) > "
    rules = monitoring.write_rules(tmp_path / "broken.rules.yaml", groups)

    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)

    assert result.returncode == 1
    assert "parse error" in result.stdout + result.stderr


def promtool_test(promtool: str, folder: Path, groups: list[dict]) -> subprocess.CompletedProcess:
    monitoring.write_rules(folder / "c4ang.rules.yaml", groups)
    shutil.copy(PROMTOOL_TESTS, folder / "alerts.test.yaml")
    return subprocess.run(
        [promtool, "test", "rules", "alerts.test.yaml"], cwd=folder, capture_output=True, text=True, check=False
    )


def test_each_alert_fires_and_does_not_fire_on_synthetic_series(promtool, tmp_path):
    result = promtool_test(promtool, tmp_path, monitoring.rule_groups())
    print(result.stdout)  # the promtool output, for the record (pytest -s)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    tests = yaml.safe_load(PROMTOOL_TESTS.read_text(encoding="utf-8"))["tests"]
    fires, quiet = set(), set()
    for test in tests:
        for case in test["alert_rule_test"]:
            (fires if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {alert["alert"] for alert in monitoring.alerts()}
    assert fires == names
    assert quiet == names


@pytest.mark.parametrize(
    ("alert", "threshold", "loosened"),
    [
        ("C4angHighErrorRate", "> 0.01", "> 0.05"),
        ("C4angHighLatencyP95", "> 0.5", "> 2"),
        ("C4angCeleryBacklog", "> 100", "> 1000"),
    ],
)
def test_the_unit_tests_fail_when_a_threshold_moves(promtool, tmp_path, alert, threshold, loosened):
    groups = copy.deepcopy(monitoring.rule_groups())
    (rule,) = [rule for group in groups for rule in group["rules"] if rule.get("alert") == alert]
    assert threshold in rule["expr"]
    rule["expr"] = rule["expr"].replace(threshold, loosened)

    result = promtool_test(promtool, tmp_path, groups)

    assert result.returncode == 1
    assert f"alertname: {alert}" in result.stdout + result.stderr


def test_each_alert_has_a_severity_a_summary_and_a_runbook_section():
    anchors = {
        slug(line.lstrip("#")) for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    }
    for alert in monitoring.alerts():
        assert alert["labels"]["severity"] in {"warning", "critical"}, alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]
        assert alert["annotations"]["runbook_url"] == f"deploy/README.md#{alert['alert'].lower()}"
        assert alert["alert"].lower() in anchors, f"no runbook section {alert['alert']} in deploy/README.md"


def test_rules_name_only_metrics_the_app_istio_or_kubernetes_export():
    app = exported_metrics()
    named = set().union(*(monitoring.metric_names(rule["expr"]) for rule in monitoring.alerts()))

    assert named <= app | monitoring.ISTIO_METRICS | monitoring.KUBERNETES_METRICS, sorted(
        named - app - monitoring.ISTIO_METRICS - monitoring.KUBERNETES_METRICS
    )
    # The app's metrics the original's targets rest on are all watched.
    assert {
        "c4ang_http_request_duration_seconds_count",
        "c4ang_http_request_duration_seconds_bucket",
        "c4ang_cache_requests_total",
        "c4ang_db_connections",
        "c4ang_saga_failed_total",
        "c4ang_payment_timeouts_total",
        "c4ang_job_last_success_timestamp_seconds",
        "c4ang_celery_queue_length",
    } <= named


def test_metric_names_come_from_the_syntax_tree():
    expr = 'sum by (le) (rate(a_bucket{x="rate(b[5m])"}[5m])) / on (le) group_left () max_over_time(c[1h:5m]) > bool 1'

    assert monitoring.metric_names(expr) == {"a_bucket", "c"}


def test_every_dashboard_loads_and_its_queries_parse_and_name_exported_metrics(promtool, tmp_path):
    app = exported_metrics()
    boards = monitoring.dashboards()
    assert sorted(boards) == ["c4ang-api.json", "c4ang-commerce.json", "c4ang-data.json", "c4ang-jobs.json"]
    assert len({board["uid"] for board in boards.values()}) == 4
    records, named = [], set()
    for name, board in boards.items():
        queries = monitoring.dashboard_queries(board)
        assert queries, name
        assert board["templating"]["list"][0]["type"] == "datasource"
        for number, (title, expr) in enumerate(queries):
            assert "$" not in expr, f"{name} {title}: a variable without a value: {expr}"
            named |= monitoring.metric_names(expr)
            records.append(
                {"record": f"dashboard:{name.removesuffix('.json').replace('-', '_')}:{number}", "expr": expr}
            )
    # promtool parses each query as Prometheus would (wrapped as recording rules).
    rules = monitoring.write_rules(tmp_path / "dashboards.rules.yaml", [{"name": "dashboards", "rules": records}])
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert named <= app | monitoring.ISTIO_METRICS, sorted(named - app - monitoring.ISTIO_METRICS)
    assert len(records) >= 40


@pytest.mark.parametrize("overlay", MONITORED)
def test_dashboards_ship_as_configmaps_for_the_grafana_sidecar(rendered, overlay):
    for name, board in monitoring.dashboards().items():
        config_map = find(
            rendered[overlay], "ConfigMap", f"c4ang-dashboard-{name.removeprefix('c4ang-').removesuffix('.json')}"
        )
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(config_map["data"][name]) == board


@pytest.mark.parametrize("overlay", MONITORED)
def test_every_platform_pod_is_scraped_where_it_serves_metrics(rendered, overlay):
    objects = rendered[overlay]
    monitor = find(objects, "PodMonitor", "c4ang")["spec"]
    (expression,) = monitor["selector"]["matchExpressions"]
    scraped = [
        d
        for d in of_kind(objects, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] in expression["values"]
    ]
    assert len(scraped) == 15  # twelve module colours, admin, worker, beat
    for deployment in scraped:
        template = deployment["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        ports = {p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
        assert annotations["prometheus.io/scrape"] == "true", deployment["metadata"]["name"]
        assert int(annotations["prometheus.io/port"]) in ports, deployment["metadata"]["name"]
        assert "version" in template["metadata"]["labels"] or deployment["metadata"]["name"] in {
            "admin",
            "c4ang-worker",
            "c4ang-beat",
        }
    assert monitor["podTargetLabels"] == ["app", "version"]
    assert monitor["podMetricsEndpoints"][0]["path"] == "/stats/prometheus"
    policy = find(objects, "NetworkPolicy", "metrics-from-monitoring")["spec"]
    assert policy["podSelector"] == monitor["selector"]
    assert policy["ingress"][0]["ports"] == [{"port": 15020, "protocol": "TCP"}]


@pytest.mark.parametrize("overlay", MONITORED)
def test_alertmanager_pages_critical_and_posts_warnings_with_keys_from_secrets_manager(rendered, overlay):
    objects = rendered[overlay]
    config = find(objects, "AlertmanagerConfig", "c4ang")["spec"]
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}
    critical, warnings = config["route"]["routes"]

    assert (critical["receiver"], critical["matchers"], critical["continue"]) == (
        "pagerduty-critical",
        [{"name": "severity", "value": "critical"}],
        True,
    )
    assert warnings["receiver"] == "slack-warnings"
    assert {a["labels"]["severity"] for a in monitoring.alerts()} == {"warning", "critical"}
    keys = [
        receivers["slack-warnings"]["slackConfigs"][0]["apiURL"],
        receivers["pagerduty-critical"]["pagerdutyConfigs"][0]["routingKey"],
    ]
    external = find(objects, "ExternalSecret", "alertmanager-receivers")["spec"]
    assert {key["name"] for key in keys} == {external["target"]["name"]}
    assert {key["key"] for key in keys} == {item["secretKey"] for item in external["data"]}
    assert {item["remoteRef"]["key"] for item in external["data"]} == {f"c4ang/{overlay}/alertmanager"}
