"""deploy/bluegreen.py: the printed commands, the patches applied by the real kubectl (offline, --local)
to the rendered VirtualServices, the guards of a real run (against a recording stand-in for kubectl),
and the smoke test against an HTTP server that answers like the gateway."""

import copy
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from werkzeug import Response

from deploy import bluegreen
from deploy.local.net import free_port
from deploy.render import app_container, find, kubectl

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

REPOSITORY = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/c4ang"
MODULES = ("customers", "products", "orders", "payments", "recommendations", "saga")


def dry_run(*args: str) -> list[str]:
    out = io.StringIO()
    assert bluegreen.main(["--dry-run", *args], out=out) == 0
    return out.getvalue().splitlines()


def commands(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("kubectl")]


def patch_of(lines: list[str]) -> dict:
    (command,) = [line for line in commands(lines) if " patch virtualservice " in line]
    argv = shlex.split(command)
    return json.loads(argv[argv.index("--patch") + 1])


def apply_locally(obj: dict, patch: dict, tmp_path: Path) -> dict:
    """What the API server does with a merge patch, done by the real kubectl without a cluster."""
    source = tmp_path / "object.json"
    source.write_text(json.dumps(obj), encoding="utf-8")
    result = subprocess.run(
        [
            kubectl(),
            "patch",
            "--local",
            "--filename",
            str(source),
            "--type",
            "merge",
            "--patch",
            json.dumps(patch),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def weights(virtual_service: dict) -> dict[str, list]:
    return {
        route["name"]: [(d["destination"]["subset"], d.get("weight")) for d in route["route"]]
        for route in virtual_service["spec"]["http"]
    }


@pytest.mark.parametrize("module", MODULES)
def test_switch_and_rollback_are_one_patch_each_that_moves_all_traffic(rendered, tmp_path, module):
    name = bluegreen.modules(rendered["production"])[module].name
    live = find(rendered["production"], "VirtualService", name)

    switched = apply_locally(live, patch_of(dry_run("switch", module)), tmp_path)
    rolled_back = apply_locally(switched, patch_of(dry_run("rollback", module)), tmp_path)

    assert weights(switched) == {
        "green-test-safe": [("green", None)],
        "green-test": [("green", None)],
        "safe": [("blue", 0), ("green", 100)],
        "unsafe": [("blue", 0), ("green", 100)],
    }
    # Only the weights changed: matches, timeouts, retries and response headers are as rendered.
    unweighted = copy.deepcopy(switched)
    for route in unweighted["spec"]["http"]:
        for destination in route["route"]:
            destination.pop("weight", None)
    expected = copy.deepcopy(live)
    for route in expected["spec"]["http"]:
        for destination in route["route"]:
            destination.pop("weight", None)
    assert unweighted == expected
    assert rolled_back == live


def test_the_printed_switch_is_the_exact_kubectl_command(rendered):
    lines = dry_run("switch", "orders")
    http = bluegreen.weighted(find(rendered["production"], "VirtualService", "order-api"), 100)

    assert lines == [
        "# reads VirtualService/order-api (dry run: from the rendered overlay)",
        "# order-api: blue 0 / green 100, in one patch",
        "kubectl --namespace ecommerce patch virtualservice order-api --type merge --patch "
        + shlex.quote(json.dumps({"spec": {"http": http}})),
    ]


def test_a_patch_of_the_live_object_is_refused_if_it_changed_since_it_was_read(rendered):
    live = copy.deepcopy(find(rendered["production"], "VirtualService", "order-api"))
    live["metadata"]["resourceVersion"] = "48213"

    assert bluegreen.weights_patch(live, 100)["metadata"] == {"resourceVersion": "48213"}


def test_traffic_moves_all_at_once_or_not_at_all(rendered):
    with pytest.raises(ValueError, match="0 or 100"):
        bluegreen.weighted(find(rendered["production"], "VirtualService", "order-api"), 50)


def test_deploy_green_sets_the_image_and_scales_like_blue():
    assert commands(dry_run("deploy-green", "customers", "1.2.0")) == [
        f"kubectl --namespace ecommerce set image deployment/customer-api-green app={REPOSITORY}:1.2.0",
        "kubectl --namespace ecommerce scale deployment/customer-api-green --replicas=2",  # the HPA's minimum
    ]
    assert commands(dry_run("--overlay", "staging", "deploy-green", "customers", "1.2.0")) == [
        f"kubectl --namespace ecommerce set image deployment/customer-api-green app={REPOSITORY}:1.2.0",
        "kubectl --namespace ecommerce scale deployment/customer-api-green --replicas=1",
    ]


def test_wait_ready_waits_for_the_rollout_and_the_green_pods():
    assert commands(dry_run("wait-ready", "saga")) == [
        "kubectl --namespace ecommerce rollout status deployment/saga-tracker-green --timeout=300s",
        "kubectl --namespace ecommerce wait --for=condition=ready pod --selector app=saga-tracker,version=green "
        "--timeout=300s",
    ]


def test_migrate_recreates_the_rendered_job_with_the_new_image(rendered):
    lines = dry_run("--context", "c4ang-production", "migrate", "1.2.0")
    base = "kubectl --context c4ang-production --namespace ecommerce"
    start, end = lines.index(f"{base} create --filename - <<'EOF'"), lines.index("EOF")
    job = json.loads("\n".join(lines[start + 1 : end]))

    assert commands(lines) == [
        f"{base} delete job c4ang-migrate --ignore-not-found --wait=true",
        f"{base} create --filename - <<'EOF'",
        f"{base} wait --for=condition=complete job/c4ang-migrate --timeout=900s",
    ]
    expected = copy.deepcopy(find(rendered["production"], "Job", "c4ang-migrate"))
    app_container(expected)["image"] = f"{REPOSITORY}:1.2.0"
    assert job == expected


def test_promote_rolls_blue_to_the_new_image_before_returning_traffic_to_it():
    lines = commands(dry_run("promote", "products", "1.2.0"))

    assert [line.split(" ")[3:5] for line in lines] == [
        ["set", "image"],
        ["rollout", "status"],
        ["patch", "virtualservice"],
        ["scale", "deployment/product-api-green"],
    ]
    assert lines[0].endswith(f"deployment/product-api-blue app={REPOSITORY}:1.2.0")
    assert lines[3].endswith("--replicas=0")


def test_an_unknown_module_is_refused(capsys):
    assert bluegreen.main(["--dry-run", "switch", "inventory"], out=io.StringIO()) == 1
    assert "unknown module 'inventory'" in capsys.readouterr().err


# --- a real run, against a stand-in kubectl that answers `get` from a state file and records the rest --------

FAKE_KUBECTL = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "get" in args:
    kind, name = args[args.index("get") + 1 : args.index("get") + 3]
    state = json.load(open(os.environ["FAKE_KUBECTL_STATE"]))
    print(json.dumps(state[kind + "/" + name]))
"""


@pytest.fixture
def cluster(rendered, tmp_path, monkeypatch):
    """A cluster state taken from the rendered production overlay; returns (state, log of calls)."""
    binary = tmp_path / "bin" / "kubectl"
    binary.parent.mkdir()
    binary.write_text(FAKE_KUBECTL.format(python=sys.executable), encoding="utf-8")
    binary.chmod(0o755)
    state_file, log = tmp_path / "state.json", tmp_path / "calls.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{binary.parent}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_KUBECTL_STATE", str(state_file))
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    objects = copy.deepcopy(rendered["production"])  # the session's rendering stays as rendered
    state = {
        "virtualservice/order-api": {
            **find(objects, "VirtualService", "order-api"),
            "metadata": {"name": "order-api", "resourceVersion": "7"},
        },
        "deployment/order-api-blue": {**find(objects, "Deployment", "order-api-blue"), "status": {"readyReplicas": 3}},
        "deployment/order-api-green": find(objects, "Deployment", "order-api-green"),
    }
    state["deployment/order-api-blue"]["spec"] = {**state["deployment/order-api-blue"]["spec"], "replicas": 3}

    def save():
        state_file.write_text(json.dumps(state), encoding="utf-8")

    def calls():
        return [json.loads(line)[2:] for line in log.read_text(encoding="utf-8").splitlines()]

    save()
    return state, save, calls


def test_switch_refuses_while_green_has_no_ready_pod(cluster, capsys):
    _, _, calls = cluster

    assert bluegreen.main(["switch", "orders"], out=io.StringIO()) == 1
    assert "order-api-green has no ready pod" in capsys.readouterr().err
    assert calls() == [["get", "deployment", "order-api-green", "--output", "json"]]


def test_switch_patches_the_live_object_it_read(cluster):
    state, save, calls = cluster
    state["deployment/order-api-green"]["status"] = {"readyReplicas": 3}
    save()

    assert bluegreen.main(["switch", "orders"], out=io.StringIO()) == 0

    patch = calls()[-1]
    assert patch[:5] == ["patch", "virtualservice", "order-api", "--type", "merge"]
    assert json.loads(patch[6])["metadata"] == {"resourceVersion": "7"}


def test_deploy_green_scales_to_blues_live_count_and_refuses_while_green_serves(cluster, capsys):
    state, save, calls = cluster

    assert bluegreen.main(["deploy-green", "orders", "1.2.0"], out=io.StringIO()) == 0
    assert calls()[-1] == ["scale", "deployment/order-api-green", "--replicas=3"]

    state["virtualservice/order-api"]["spec"]["http"] = bluegreen.weighted(state["virtualservice/order-api"], 100)
    save()
    before = len(calls())
    assert bluegreen.main(["deploy-green", "orders", "1.3.0"], out=io.StringIO()) == 1
    assert "is not all on blue" in capsys.readouterr().err
    assert all(call[0] == "get" for call in calls()[before:])


def test_promote_refuses_an_image_that_green_does_not_run(cluster, capsys):
    state, save, calls = cluster
    state["virtualservice/order-api"]["spec"]["http"] = bluegreen.weighted(state["virtualservice/order-api"], 100)
    save()

    assert bluegreen.main(["promote", "orders", "9.9.9"], out=io.StringIO()) == 1
    assert f"runs {REPOSITORY}:1.0.0, not {REPOSITORY}:9.9.9" in capsys.readouterr().err
    assert all(call[0] == "get" for call in calls())


# --- smoke ----------------------------------------------------------------------------------------------------


def gateway(httpserver, subset_answering: str, status: int = 200):
    """Answers /api/v1/orders/ like the gateway: the test header routes to green."""

    def handler(request):
        subset = "green" if request.headers.get(bluegreen.TEST_HEADER) == "green" else subset_answering
        return Response('{"count": 0}', status=status, headers={bluegreen.TEST_HEADER: subset})

    httpserver.expect_request("/api/v1/orders/").respond_with_handler(handler)
    return httpserver.url_for("/").rstrip("/")


def test_smoke_passes_when_the_header_route_reaches_green(httpserver):
    url = gateway(httpserver, subset_answering="blue")
    out = io.StringIO()

    assert bluegreen.main(["smoke", "orders", "--url", url, "--requests", "2"], out=out) == 0
    assert len(httpserver.log) == 2
    assert out.getvalue().splitlines()[-1] == "# 2 request(s) answered by green"


def test_smoke_of_live_traffic_fails_while_blue_still_answers(httpserver, capsys):
    url = gateway(httpserver, subset_answering="blue")

    assert bluegreen.main(["smoke", "orders", "--url", url, "--live", "--requests", "1"], out=io.StringIO()) == 1
    assert "answered by subset 'blue'" in capsys.readouterr().err


def test_smoke_fails_on_a_server_error_from_green(httpserver, capsys):
    url = gateway(httpserver, subset_answering="blue", status=503)

    assert bluegreen.main(["smoke", "orders", "--url", url, "--requests", "1"], out=io.StringIO()) == 1
    assert "status 503" in capsys.readouterr().err


# --- the release workflow -------------------------------------------------------------------------------------

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "bluegreen.yml"


def test_the_release_workflow_runs_the_five_phases_with_valid_steps():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    runs = {name: [step.get("run", "") for step in job["steps"]] for name, job in workflow["jobs"].items()}
    tool_steps = {
        name: [shlex.split(line)[3] for run in lines for line in run.splitlines() if "-m deploy.bluegreen" in line]
        for name, lines in runs.items()
    }

    assert tool_steps == {
        "build-and-test": [],
        "migrate": ["migrate"],
        "deploy-green": ["status", "deploy-green", "wait-ready"],
        "verify-green": ["smoke", "analyze"],
        "switch": ["switch", "smoke", "analyze", "rollback", "status"],
        "promote": ["promote"],
    }
    assert workflow["jobs"]["switch"]["steps"][-2]["if"] == "failure()"
    for lines in runs.values():
        for line in (line for run in lines for line in run.splitlines() if "-m deploy.bluegreen" in line):
            argv = shlex.split(
                line.replace("${{ matrix.module }}", "orders")
                .replace('"$TAG"', "abc123")
                .replace('"$GATEWAY_URL"', "http://gw")
                .replace('"$PROMETHEUS_URL"', "http://prometheus:9090")
            )[3:]
            assert bluegreen.main(["--dry-run", *argv], out=io.StringIO()) == 0, line


# --- analyze --------------------------------------------------------------------------------------------------
# Against a real Prometheus scraping real servers: deploy/tests/test_analysis.py. Here, each decision.


def prometheus(httpserver, requests: float | None, errors: float | None, p95: float | str | None):
    """Answers the analysis' three instant queries like Prometheus' HTTP API (None: no series)."""

    def answer(request):
        query = request.args["query"]
        value = p95 if query.startswith("histogram_quantile") else errors if "5xx" in query else requests
        assert 'app="order-api", version="green"' in query
        result = [] if value is None else [{"metric": {}, "value": [1764590000.0, str(value)]}]
        return Response(json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}))

    httpserver.expect_request("/api/v1/query").respond_with_handler(answer)
    return httpserver.url_for("/").rstrip("/")


def analyze(url: str, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    return bluegreen.main(["analyze", "orders", "--prometheus", url, *extra], out=out), out.getvalue()


def test_the_analysis_passes_within_the_gate(httpserver):
    code, report = analyze(prometheus(httpserver, requests=400, errors=2, p95=0.12))

    assert code == 0
    assert report.splitlines()[-2:] == [
        "#   requests 400 (at least 50), 5xx 0.50% (at most 1.00%), p95 120 ms (at most 500 ms)",
        "# order-api-green passes the analysis",
    ]
    assert len(httpserver.log) == 3


@pytest.mark.parametrize(
    ("requests", "errors", "p95", "why"),
    [
        (400, 6, 0.12, "5xx rate 1.50% over 1.00%"),
        (400, 0, 0.75, "p95 750 ms over 500 ms"),
        (400, None, "NaN", "p95 no data over 500 ms"),
        (None, None, None, "too little traffic to judge (0 requests in 5m)"),
        (30, 0, 0.05, "too little traffic to judge (30 requests in 5m)"),
    ],
)
def test_the_analysis_fails_above_the_gate_or_without_enough_traffic(httpserver, capsys, requests, errors, p95, why):
    code, _ = analyze(prometheus(httpserver, requests, errors, p95))

    assert code == 1
    assert capsys.readouterr().err == f"error: order-api-green fails the analysis: {why}\n"


def test_the_gate_is_the_operators_to_set(httpserver):
    url = prometheus(httpserver, requests=30, errors=1, p95=0.7)

    code, report = analyze(url, "--min-requests", "20", "--max-error-rate", "0.05", "--max-p95", "1", "--window", "10m")

    assert code == 0, report
    assert "[10m]" in report


def test_an_unreachable_prometheus_fails_the_analysis(capsys):
    code, _ = analyze(f"http://127.0.0.1:{free_port()}")

    assert code == 1
    assert "could not answer" in capsys.readouterr().err


def test_a_failing_analysis_with_rollback_sends_everyone_back_to_blue(cluster, httpserver, capsys):
    state, save, calls = cluster
    state["virtualservice/order-api"]["spec"]["http"] = bluegreen.weighted(state["virtualservice/order-api"], 100)
    save()

    code, _ = analyze(prometheus(httpserver, requests=400, errors=40, p95=0.1), "--rollback")

    assert code == 1
    assert "5xx rate 10.00%" in capsys.readouterr().err
    patch = calls()[-1]
    assert patch[:3] == ["patch", "virtualservice", "order-api"]
    routes = {r["name"]: r for r in json.loads(patch[6])["spec"]["http"]}
    assert [(d["destination"]["subset"], d["weight"]) for d in routes["safe"]["route"]] == [("blue", 100), ("green", 0)]


def test_a_passing_analysis_with_rollback_changes_nothing(cluster, httpserver):
    _, _, calls = cluster

    code, _ = analyze(prometheus(httpserver, requests=400, errors=0, p95=0.1), "--rollback")

    assert code == 0
    assert calls() == []
