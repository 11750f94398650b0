"""Schema validation of every rendered object, offline: Kubernetes kinds against the API's OpenAPI
schemas (kubernetes-validate, strict), Istio kinds against Istio's API types and the Prometheus
Operator's kinds against its types (cloudcoil's models, strict: an unknown field fails), External
Secrets kinds against the fields the operator requires.
Each validator is also fed a broken object, so that none of them passes by skipping.
"""

import copy

import jsonschema
import kubernetes_validate
import pytest
from cloudcoil.models.istio.networking import v1 as istio_networking
from cloudcoil.models.istio.security import v1 as istio_security
from cloudcoil.models.prometheus_operator import v1 as monitoring_v1
from cloudcoil.models.prometheus_operator import v1alpha1 as monitoring_v1alpha1
from pydantic import ValidationError

from deploy.render import OVERLAYS, app_container, find

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

# The oldest Kubernetes the manifests target (preStop `sleep` is on by default from 1.30) and the newest schema.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
ISTIO_MODELS = {
    ("networking.istio.io/v1", "VirtualService"): istio_networking.VirtualService,
    ("networking.istio.io/v1", "DestinationRule"): istio_networking.DestinationRule,
    ("networking.istio.io/v1", "Gateway"): istio_networking.Gateway,
    ("security.istio.io/v1", "PeerAuthentication"): istio_security.PeerAuthentication,
}
# kube-prometheus-stack's kinds (components/monitoring), as the Prometheus Operator's API types define them.
MONITORING_MODELS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"): monitoring_v1.PrometheusRule,
    ("monitoring.coreos.com/v1", "PodMonitor"): monitoring_v1.PodMonitor,
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): monitoring_v1alpha1.AlertmanagerConfig,
}
REMOTE_REF = {
    "type": "object",
    "required": ["key", "property"],
    "properties": {"key": {"type": "string", "minLength": 1}, "property": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
# The fields of external-secrets.io/v1 that the manifests use, as the operator's CRDs define them.
EXTERNAL_SECRETS_SCHEMAS = {
    ("external-secrets.io/v1", "SecretStore"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["provider"],
                "additionalProperties": False,
                "properties": {
                    "provider": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["aws"],
                        "properties": {
                            "aws": {
                                "type": "object",
                                "required": ["service", "region", "auth"],
                                "additionalProperties": False,
                                "properties": {
                                    "service": {"enum": ["SecretsManager", "ParameterStore"]},
                                    "region": {"type": "string", "pattern": "^[a-z]{2}-[a-z]+-[0-9]$"},
                                    "auth": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            "jwt": {
                                                "type": "object",
                                                "required": ["serviceAccountRef"],
                                                "properties": {
                                                    "serviceAccountRef": {
                                                        "type": "object",
                                                        "required": ["name"],
                                                        "properties": {"name": {"type": "string"}},
                                                        "additionalProperties": False,
                                                    }
                                                },
                                                "additionalProperties": False,
                                            }
                                        },
                                    },
                                },
                            }
                        },
                    }
                },
            }
        },
    },
    ("external-secrets.io/v1", "ExternalSecret"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["secretStoreRef", "target", "data"],
                "additionalProperties": False,
                "properties": {
                    "refreshInterval": {"type": "string", "pattern": "^[0-9]+(s|m|h)$"},
                    "secretStoreRef": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "kind": {"enum": ["SecretStore", "ClusterSecretStore"]},
                            "name": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                    "target": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None"]},
                        },
                        "additionalProperties": False,
                    },
                    "data": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["secretKey", "remoteRef"],
                            "properties": {"secretKey": {"type": "string", "minLength": 1}, "remoteRef": REMOTE_REF},
                            "additionalProperties": False,
                        },
                    },
                },
            }
        },
    },
}


def validate_kubernetes(obj: dict, version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


def validate_istio(obj: dict) -> None:
    """Parse with Istio's types; a field the types do not know is dropped by the parse, so compare back."""
    validate_typed(obj, ISTIO_MODELS, "Istio")


def validate_monitoring(obj: dict) -> None:
    validate_typed(obj, MONITORING_MODELS, "the Prometheus Operator")


def validate_typed(obj: dict, models: dict, owner: str) -> None:
    model = models[(obj["apiVersion"], obj["kind"])].model_validate(obj)
    parsed = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if parsed != obj:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        raise ValueError(f"{where}: fields {owner} does not know: {unknown(obj, parsed)}")


def unknown(given, parsed, path="") -> list[str]:
    if isinstance(given, dict):
        found = []
        for key, value in given.items():
            if not isinstance(parsed, dict) or key not in parsed:
                found.append(f"{path}.{key}")
            else:
                found += unknown(value, parsed[key], f"{path}.{key}")
        return found
    if isinstance(given, list) and isinstance(parsed, list):
        return [item for a, b in zip(given, parsed, strict=False) for item in unknown(a, b, f"{path}[]")]
    return [] if given == parsed else [f"{path}={given!r}"]


def validate_external_secrets(obj: dict) -> None:
    jsonschema.validate(obj, EXTERNAL_SECRETS_SCHEMAS[(obj["apiVersion"], obj["kind"])])


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_its_kind(rendered, overlay, version):
    validated = {"kubernetes": 0, "istio": 0, "monitoring": 0, "external-secrets": 0}
    for obj in rendered[overlay]:
        key = (obj["apiVersion"], obj["kind"])
        if key in ISTIO_MODELS:
            validate_istio(obj)
            validated["istio"] += 1
        elif key in MONITORING_MODELS:
            validate_monitoring(obj)
            validated["monitoring"] += 1
        elif key in EXTERNAL_SECRETS_SCHEMAS:
            validate_external_secrets(obj)
            validated["external-secrets"] += 1
        else:
            # Anything else must be a Kubernetes kind with a schema: SchemaNotFoundError fails the test.
            validate_kubernetes(obj, version)
            validated["kubernetes"] += 1
    assert sum(validated.values()) == len(rendered[overlay])
    assert validated["istio"] == {"local": 14, "staging": 15, "production": 15}[overlay]
    assert validated["monitoring"] == (0 if overlay == "local" else 3)
    assert validated["external-secrets"] == (0 if overlay == "local" else 3)


def test_kubernetes_schemas_reject_an_unknown_field_and_a_wrong_type(rendered):
    deployment = copy.deepcopy(find(rendered["production"], "Deployment", "order-api-blue"))
    app_container(deployment)["resource"] = {"limits": {"memory": "512Mi"}}
    port = copy.deepcopy(find(rendered["production"], "Service", "order-api"))
    port["spec"]["ports"][0]["port"] = "eighty"

    with pytest.raises(kubernetes_validate.ValidationError, match="'resource' was unexpected"):
        validate_kubernetes(deployment, KUBERNETES_VERSIONS[0])
    with pytest.raises(kubernetes_validate.ValidationError, match="'eighty' is not of type 'integer'"):
        validate_kubernetes(port, KUBERNETES_VERSIONS[0])


def test_kubernetes_validate_has_no_schema_for_istio_kinds(rendered):
    # Its command line only warns and exits 0 on these: hence the Istio types below.
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate_kubernetes(find(rendered["production"], "VirtualService", "ecommerce"), KUBERNETES_VERSIONS[0])


def test_istio_types_reject_an_unknown_field_and_a_wrong_type(rendered):
    misspelt = copy.deepcopy(find(rendered["production"], "VirtualService", "order-api"))
    misspelt["spec"]["http"][2]["retry"] = misspelt["spec"]["http"][2].pop("retries")
    wrong_type = copy.deepcopy(find(rendered["production"], "DestinationRule", "order-api"))
    wrong_type["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] = "many"

    with pytest.raises(ValueError, match=r"fields Istio does not know: \['.spec.http\[\].retry'\]"):
        validate_istio(misspelt)
    with pytest.raises(ValidationError, match="maxConnections"):
        validate_istio(wrong_type)


def test_prometheus_operator_types_reject_an_unknown_field_and_a_wrong_type(rendered):
    misspelt = copy.deepcopy(find(rendered["production"], "PrometheusRule", "c4ang-alerts"))
    misspelt["spec"]["groups"][0]["rules"][0]["fro"] = misspelt["spec"]["groups"][0]["rules"][0].pop("for")
    wrong_type = copy.deepcopy(find(rendered["production"], "PodMonitor", "c4ang"))
    wrong_type["spec"]["podMetricsEndpoints"][0]["relabelings"] = "keep"

    with pytest.raises(ValueError, match=r"Operator does not know: \['.spec.groups\[\].rules\[\].fro'\]"):
        validate_monitoring(misspelt)
    with pytest.raises(ValidationError, match="relabelings"):
        validate_monitoring(wrong_type)


def test_external_secrets_schema_rejects_a_missing_store_and_an_unknown_field(rendered):
    no_store = copy.deepcopy(find(rendered["production"], "ExternalSecret", "c4ang-secrets"))
    del no_store["spec"]["secretStoreRef"]
    unknown_field = copy.deepcopy(find(rendered["production"], "SecretStore", "aws-secrets-manager"))
    unknown_field["spec"]["provider"]["aws"]["regoin"] = "ap-northeast-2"

    with pytest.raises(jsonschema.ValidationError, match="'secretStoreRef' is a required property"):
        validate_external_secrets(no_store)
    with pytest.raises(jsonschema.ValidationError, match="'regoin' was unexpected"):
        validate_external_secrets(unknown_field)
