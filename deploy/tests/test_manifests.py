"""Semantic checks of the rendered overlays: what a schema cannot see."""

import os
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from c4ang.health import PROBES
from c4ang.urls import MODULE_PREFIXES
from deploy.render import K8S, OVERLAYS, app_container, find, of_kind

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "customers": "customer-api",
    "products": "product-api",
    "orders": "order-api",
    "payments": "payment-api",
    "recommendations": "recommendation-api",
    "saga": "saga-tracker",
}
WORKLOADS = ("Deployment", "StatefulSet", "Job")
# Istio's validation accepts these retryOn policies (pkg/config/validation: supportedRetryOnPolicies).
ISTIO_RETRY_ON = {
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
}
# Conditions under which the request cannot have reached the app: the only ones for unsafe methods.
NEVER_REACHED_APP = {"connect-failure", "refused-stream"}
SAFE_METHODS = "GET|HEAD|OPTIONS"


def pod_templates(objects):
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            yield obj, obj["spec"]["template"]


def selects(selector: dict, labels: dict) -> bool:
    return selector.items() <= labels.items()


def test_each_environment_renders_its_objects(rendered):
    kinds = {overlay: Counter(obj["kind"] for obj in rendered[overlay]) for overlay in OVERLAYS}
    common = {
        "Namespace": 1,
        "Gateway": 1,
        "VirtualService": 7,
        "DestinationRule": 6,
        "Job": 1,
        "PodDisruptionBudget": 13,
    }

    # Staging and production are watched (components/monitoring): the scrape, the alert rules,
    # Alertmanager's routing with its receivers' keys, and four dashboards (ConfigMaps).
    monitoring = {"PodMonitor": 1, "PrometheusRule": 1, "AlertmanagerConfig": 1}
    assert kinds["production"] == {
        **common,
        **monitoring,
        "ConfigMap": 6,
        "ServiceAccount": 4,
        "Service": 8,
        "Deployment": 15,
        "StatefulSet": 1,
        "HorizontalPodAutoscaler": 12,
        "NetworkPolicy": 4,
        "PeerAuthentication": 1,
        "SecretStore": 1,
        "ExternalSecret": 2,
    }
    assert kinds["staging"] == {
        **common,
        **monitoring,
        "ConfigMap": 6,
        "ServiceAccount": 4,
        "Service": 8,
        "Deployment": 15,
        "StatefulSet": 1,
        "NetworkPolicy": 4,
        "PeerAuthentication": 1,
        "SecretStore": 1,
        "ExternalSecret": 2,
    }
    # Local: in-cluster PostgreSQL, no HPA, no NetworkPolicy, no mTLS policy, secrets from SOPS.
    assert kinds["local"] == {
        **common,
        "ConfigMap": 2,
        "ServiceAccount": 3,
        "Service": 9,
        "Deployment": 15,
        "StatefulSet": 2,
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lives_in_the_ecommerce_namespace(rendered, overlay):
    namespaces = {obj["metadata"].get("namespace") for obj in rendered[overlay] if obj["kind"] != "Namespace"}

    assert namespaces == {"ecommerce"}
    assert find(rendered[overlay], "Namespace", "ecommerce")["metadata"]["labels"]["istio-injection"] == "enabled"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("module", sorted(MODULE_PREFIXES))
def test_each_module_has_all_its_objects(rendered, overlay, module):
    objects, name = rendered[overlay], NAMES[module]

    assert find(objects, "Service", name)["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "appProtocol": "http"}
    ]
    assert find(objects, "DestinationRule", name)["spec"]["host"] == name
    delegate = find(objects, "VirtualService", name)
    assert {m["uri"]["prefix"] for r in delegate["spec"]["http"] for m in r["match"]} == {
        "/" + MODULE_PREFIXES[module].rstrip("/")
    }
    for colour in ("blue", "green"):
        deployment = find(objects, "Deployment", f"{name}-{colour}")
        template = deployment["spec"]["template"]
        assert template["metadata"]["labels"]["version"] == colour
        assert app_container(deployment)["env"] == [{"name": "C4ANG_MODULES", "value": module}]
        assert find(objects, "PodDisruptionBudget", f"{name}-{colour}")["spec"]["maxUnavailable"] == 1
    hpas = [hpa["metadata"]["name"] for hpa in of_kind(objects, "HorizontalPodAutoscaler")]
    assert sorted(h for h in hpas if h.startswith(f"{name}-")) == (
        [f"{name}-blue", f"{name}-green"] if overlay == "production" else []
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_green_idles_and_blue_serves_at_rest(rendered, overlay):
    objects = rendered[overlay]
    for name in NAMES.values():
        blue = find(objects, "Deployment", f"{name}-blue")["spec"]
        assert find(objects, "Deployment", f"{name}-green")["spec"]["replicas"] == 0
        # With an HPA (production) blue has no count of its own: an apply must not reset the HPA's.
        assert blue.get("replicas") == (None if overlay == "production" else 1)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_virtualservice_subset_exists_in_its_destination_rule(rendered, overlay):
    objects = rendered[overlay]
    rules = {rule["spec"]["host"]: rule for rule in of_kind(objects, "DestinationRule")}
    checked = 0
    for virtual_service in of_kind(objects, "VirtualService"):
        for route in virtual_service["spec"]["http"]:
            for destination in route.get("route", []):
                host, subset = destination["destination"]["host"], destination["destination"].get("subset")
                if subset is None:
                    continue
                (rule_subset,) = [s for s in rules[host]["spec"]["subsets"] if s["name"] == subset]
                # The subset's pods exist: some Deployment behind the Service carries its labels.
                service_selector = find(objects, "Service", host)["spec"]["selector"]
                wanted = {**service_selector, **rule_subset["labels"]}
                assert any(
                    selects(wanted, d["spec"]["template"]["metadata"]["labels"]) for d in of_kind(objects, "Deployment")
                ), f"no pods for subset {subset} of {host}"
                checked += 1
    assert checked == 6 * 6  # six modules, four routes: two to green, two split between blue and green


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_weights_sum_to_100_with_blue_live(rendered, overlay):
    for virtual_service in of_kind(rendered[overlay], "VirtualService"):
        for route in virtual_service["spec"]["http"]:
            destinations = route.get("route", [])
            if len(destinations) > 1:
                assert sum(d["weight"] for d in destinations) == 100
                assert {d["destination"]["subset"]: d["weight"] for d in destinations} == {"blue": 100, "green": 0}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_selects_pods_whose_ports_match(rendered, overlay):
    objects = rendered[overlay]
    for service in of_kind(objects, "Service"):
        selected = [
            t for _, t in pod_templates(objects) if selects(service["spec"]["selector"], t["metadata"]["labels"])
        ]
        assert selected, f"Service {service['metadata']['name']} selects no pods"
        for port in service["spec"]["ports"]:
            for template in selected:
                ports = {
                    p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])
                }
                assert port["targetPort"] in ports, (
                    f"{service['metadata']['name']}: no container port {port['targetPort']}"
                )
    for virtual_service in of_kind(objects, "VirtualService"):
        for route in virtual_service["spec"]["http"]:
            for destination in route.get("route", []):
                service = find(objects, "Service", destination["destination"]["host"])
                assert destination["destination"]["port"]["number"] in {p["port"] for p in service["spec"]["ports"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_root_virtualservice_on_the_gateway_delegates_each_module(rendered, overlay):
    objects = rendered[overlay]
    bound = [vs for vs in of_kind(objects, "VirtualService") if "gateways" in vs["spec"]]
    assert [vs["metadata"]["name"] for vs in bound] == ["ecommerce"]
    root = bound[0]
    assert root["spec"]["gateways"] == ["ecommerce-gateway"]
    assert find(objects, "Gateway", "ecommerce-gateway")
    delegated = {r["delegate"]["name"]: r["match"] for r in root["spec"]["http"] if "delegate" in r}
    assert sorted(delegated) == sorted(NAMES.values())
    for name, matches in delegated.items():
        delegate = find(objects, "VirtualService", name)
        assert "hosts" not in delegate["spec"]
        assert "gateways" not in delegate["spec"]
        # Istio requires a delegate's matches to lie within the root's.
        (root_prefix,) = [m["uri"]["prefix"] for m in matches]
        assert all(m["uri"]["prefix"].startswith(root_prefix) for r in delegate["spec"]["http"] for m in r["match"])
    # No prefix contains another: nginx's longest match (the local mesh) then equals Istio's first match.
    prefixes = [m["uri"]["prefix"] for r in root["spec"]["http"] for m in r["match"] if "prefix" in m["uri"]]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)]


def test_production_gateway_answers_the_shop_host_over_https(rendered):
    gateway = find(rendered["production"], "Gateway", "ecommerce-gateway")["spec"]
    assert gateway["selector"] == {"istio": "ingressgateway"}
    assert [(s["port"]["number"], s["hosts"]) for s in gateway["servers"]] == [
        (443, ["api.c4ang.com", "*"]),
        (80, ["api.c4ang.com", "*"]),
    ]
    assert gateway["servers"][1]["tls"] == {"httpsRedirect": True}
    assert find(rendered["production"], "VirtualService", "ecommerce")["spec"]["hosts"] == ["api.c4ang.com", "*"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_retries_never_repeat_a_request_that_may_have_reached_the_app(rendered, overlay):
    checked = Counter()
    for virtual_service in of_kind(rendered[overlay], "VirtualService"):
        for route in virtual_service["spec"]["http"]:
            if "retries" not in route:
                continue
            retry_on = set(route["retries"]["retryOn"].split(","))
            assert retry_on <= ISTIO_RETRY_ON
            assert route["timeout"] == "30s"
            assert route["retries"]["attempts"] == 3
            safe_only = all(m.get("method", {}).get("regex") == SAFE_METHODS for m in route["match"])
            if safe_only:
                assert retry_on == {"5xx", "reset", "connect-failure", "refused-stream"}
                assert route["retries"]["perTryTimeout"] == "10s"
                checked["safe"] += 1
            else:
                # POST, PUT, PATCH, DELETE (and anything else) land here.
                assert retry_on <= NEVER_REACHED_APP
                checked["unsafe"] += 1
    assert checked == {"safe": 12, "unsafe": 13}  # per module: green-test and split, each safe and unsafe; + admin


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_destination_rules_pool_connections_and_eject_outliers(rendered, overlay):
    for rule in of_kind(rendered[overlay], "DestinationRule"):
        assert rule["spec"]["trafficPolicy"] == {
            "connectionPool": {
                "tcp": {"maxConnections": 100},
                "http": {"http1MaxPendingRequests": 50, "http2MaxRequests": 100},
            },
            "outlierDetection": {
                "consecutive5xxErrors": 5,
                "interval": "10s",
                "baseEjectionTime": "30s",
                "maxEjectionPercent": 50,
            },
        }
        assert rule["spec"]["subsets"] == [
            {"name": "blue", "labels": {"version": "blue"}},
            {"name": "green", "labels": {"version": "green"}},
        ]


def test_production_autoscales_each_colour_like_the_original(rendered):
    objects = rendered["production"]
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    assert len(hpas) == 12
    for hpa in hpas:
        spec = hpa["spec"]
        assert (
            find(objects, "Deployment", spec["scaleTargetRef"]["name"])["metadata"]["name"] == hpa["metadata"]["name"]
        )
        assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
        assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in spec["metrics"]] == [
            ("cpu", 70),
            ("memory", 80),
        ]
        assert spec["behavior"] == {
            "scaleUp": {
                "stabilizationWindowSeconds": 60,
                "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 300,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
            },
        }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_runs_as_root_or_without_limits(rendered, overlay):
    for workload, template in pod_templates(rendered[overlay]):
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] >= 10000
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }, where
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_app_pods_have_a_writable_tmp_in_memory_only(rendered, overlay):
    for workload, template in pod_templates(rendered[overlay]):
        (container,) = template["spec"]["containers"]
        if container["name"] != "app":
            continue
        tmp = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 - a memory-backed emptyDir of the pod
        assert container["volumeMounts"] == [tmp], workload["metadata"]["name"]
        assert template["spec"]["volumes"] == [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_are_paths_the_app_answers(rendered, overlay):
    probed = Counter()
    for workload, template in pod_templates(rendered[overlay]):
        for container in template["spec"]["containers"]:
            ports = {p["name"] for p in container.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                http = container.get(probe, {}).get("httpGet")
                if http:
                    assert http["path"] in PROBES, f"{workload['metadata']['name']}: {http['path']}"
                    assert http["port"] in ports
                    probed[(probe, http["path"])] += 1
    # Twelve module Deployments and the admin: liveness /healthz, readiness /readyz (startup: modules only).
    assert probed == {
        ("livenessProbe", "/healthz"): 13,
        ("readinessProbe", "/readyz"): 13,
        ("startupProbe", "/healthz"): 12,
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_beat_replaced_by_recreate_and_a_worker_that_may_invoke_the_lambda(rendered, overlay):
    objects = rendered[overlay]
    beat = find(objects, "Deployment", "c4ang-beat")["spec"]
    worker = find(objects, "Deployment", "c4ang-worker")["spec"]

    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}
    assert beat["template"]["spec"]["containers"][0]["command"][:4] == ["celery", "-A", "c4ang", "beat"]
    assert worker["template"]["spec"]["containers"][0]["command"][:4] == ["celery", "-A", "c4ang", "worker"]
    account = find(objects, "ServiceAccount", worker["template"]["spec"]["serviceAccountName"])
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role.startswith("arn:aws:iam::")
    assert role.endswith(f"c4ang-{'staging' if overlay == 'staging' else 'production'}-lambda-invoke")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_pods_that_store_images_may_write_the_media_bucket(rendered, overlay):
    objects = rendered[overlay]
    accounts = {
        workload["metadata"]["name"]: template["spec"].get("serviceAccountName")
        for workload, template in pod_templates(objects)
    }
    media = find(objects, "ServiceAccount", "c4ang-media")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    config = find(objects, "ConfigMap", "c4ang-config")["data"]

    writers = sorted(name for name, account in accounts.items() if account == "c4ang-media")
    assert writers == ["admin", "product-api-blue", "product-api-green"]
    environment = "staging" if overlay == "staging" else "production"
    assert media == f"arn:aws:iam::123456789012:role/c4ang-{environment}-media-write"
    if overlay == "local":  # no S3 on the laptop
        assert (config["MEDIA_STORAGE"], config["MEDIA_ROOT"]) == ("filesystem", "/tmp/media")  # noqa: S108
    else:
        assert (config["MEDIA_STORAGE"], config["MEDIA_S3_BUCKET"]) == ("s3", f"c4ang-{environment}-media")
        domain = "images.staging.c4ang.com" if overlay == "staging" else "images.c4ang.com"
        assert config["MEDIA_S3_CUSTOM_DOMAIN"] == domain


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_job_runs_without_a_sidecar_that_would_keep_it_alive(rendered, overlay):
    job = find(rendered[overlay], "Job", "c4ang-migrate")["spec"]
    assert job["template"]["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false"
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert job["template"]["spec"]["containers"][0]["command"] == ["python", "manage.py", "migrate", "--no-input"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_redis_keeps_an_append_only_file_on_its_volume(rendered, overlay):
    objects = rendered[overlay]
    config = find(objects, "ConfigMap", "redis-config")["data"]["redis.conf"].splitlines()
    redis = find(objects, "StatefulSet", "redis")["spec"]

    assert {"appendonly yes", "appendfsync everysec", "dir /data", "maxmemory-policy volatile-lru"} <= set(config)
    assert redis["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert {"name": "data", "mountPath": "/data"} in redis["template"]["spec"]["containers"][0]["volumeMounts"]


def test_mtls_is_permissive_in_staging_and_strict_in_production(rendered):
    assert of_kind(rendered["local"], "PeerAuthentication") == []
    assert find(rendered["staging"], "PeerAuthentication", "default")["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert find(rendered["production"], "PeerAuthentication", "default")["spec"] == {"mtls": {"mode": "STRICT"}}


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_web_pods_take_traffic_only_from_istio_and_the_mesh(rendered, overlay):
    objects = rendered[overlay]
    deny = find(objects, "NetworkPolicy", "default-deny-ingress")["spec"]
    web = find(objects, "NetworkPolicy", "web-from-istio-and-mesh")["spec"]

    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    assert web["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}}},
        {"podSelector": {}},
    ]
    assert web["podSelector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/component", "operator": "In", "values": ["api", "admin"]}
    ]


def secret_keys_used(objects) -> set[str]:
    used = set()
    for _, template in pod_templates(objects):
        for container in template["spec"]["containers"]:
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == "c4ang-secrets"
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "c4ang-secrets"
                    used.add(ref["key"])
    return used


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_secrets_come_from_secrets_manager(rendered, overlay):
    objects = rendered[overlay]
    external = find(objects, "ExternalSecret", "c4ang-secrets")["spec"]
    store = find(objects, "SecretStore", external["secretStoreRef"]["name"])["spec"]["provider"]["aws"]

    provided = {item["secretKey"] for item in external["data"]}
    assert secret_keys_used(objects) | {"SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL", "REDIS_URL"} <= provided
    assert {item["remoteRef"]["key"] for item in external["data"]} == {f"c4ang/{overlay}/app"}
    assert store["service"] == "SecretsManager"
    assert store["region"] == "ap-northeast-2"
    operator = find(objects, "ServiceAccount", store["auth"]["jwt"]["serviceAccountRef"]["name"])
    assert operator["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        f"c4ang-{overlay}-external-secrets"
    )


def test_local_secrets_come_from_the_sops_file(rendered):
    secret = yaml.safe_load((K8S / "overlays" / "local" / "secrets.enc.yaml").read_text(encoding="utf-8"))
    provided = set(secret["stringData"])

    assert (secret["kind"], secret["metadata"]["name"]) == ("Secret", "c4ang-secrets")
    assert (
        secret_keys_used(rendered["local"]) | {"SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL", "REDIS_URL"} <= provided
    )
    assert of_kind(rendered["local"], "Secret") == []  # applied decrypted, never rendered in clear


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_of_each_environment_are_accepted_by_django(rendered, overlay, tmp_path):
    config = find(rendered[overlay], "ConfigMap", "c4ang-config")["data"]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        **config,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOSS_SECRET_KEY": "test_sk_dummy",
        "TOSS_CLIENT_KEY": "test_ck_dummy",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
    }
    production = config["C4ANG_ENV"] == "production"
    command = [sys.executable, "manage.py", "check", *(["--deploy", "--fail-level", "WARNING"] if production else [])]

    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert production == (overlay != "local")
