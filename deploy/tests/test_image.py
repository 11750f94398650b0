"""The image: every Dockerfile of the repository passes hadolint and the project's rules, and the app
image's build steps and runtime settings agree with the manifests. No Docker engine is needed."""

import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from c4ang.health import PROBES
from deploy import dockerfile_lint
from deploy.render import find

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]
APP_DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HADOLINT = str(Path(sys.executable).parent / "hadolint")
BROKEN = """\
FROM python:latest AS build
ADD https://example.com/wheels.tar.gz /wheels
RUN apt-get update && pip install requests
FROM build
USER root
CMD python app.py
"""


def instructions(path: Path = APP_DOCKERFILE) -> list[dict]:
    return DockerfileParser(fileobj=io.BytesIO(path.read_bytes())).structure


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([HADOLINT, "--no-color", str(path)], capture_output=True, text=True, check=False)


def test_every_dockerfile_of_the_repository_is_found():
    found = dockerfile_lint.dockerfiles()

    assert APP_DOCKERFILE in found
    assert all(".venv" not in path.parts for path in found)


@pytest.mark.parametrize("path", dockerfile_lint.dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_passes_hadolint_and_the_project_rules(path):
    result = hadolint(path)

    assert result.returncode == 0, result.stdout
    assert dockerfile_lint.lint(path) == []


def test_hadolint_fails_a_broken_dockerfile(tmp_path):
    broken = tmp_path / "Dockerfile"
    broken.write_text(BROKEN, encoding="utf-8")

    result = hadolint(broken)

    assert result.returncode == 1
    assert {"DL3007", "DL3042", "DL3013", "DL3002", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_project_rules_fail_a_broken_dockerfile(tmp_path):
    broken = tmp_path / "Dockerfile"
    broken.write_text(BROKEN, encoding="utf-8")

    findings = dockerfile_lint.lint(broken)

    assert [(f.line, f.rule) for f in findings] == [
        (1, "pinned-base"),
        (2, "no-add-url"),
        (3, "pip-no-cache"),
        (6, "non-root-user"),
        (6, "healthcheck"),
    ]


@pytest.mark.parametrize(
    ("base", "pinned"),
    [
        ("python:3.11.14-slim-bookworm", True),
        ("public.ecr.aws/lambda/python:3.11.2025.10.01", True),
        ("python@sha256:" + "a" * 64, True),
        ("python:3.11-slim", False),
        ("python", False),
        ("${BASE_IMAGE}", False),
    ],
)
def test_base_images_must_name_an_exact_version(tmp_path, base, pinned):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {base}\nUSER 10001\nHEALTHCHECK CMD true\n", encoding="utf-8")

    assert [f.rule for f in dockerfile_lint.lint(dockerfile)] == ([] if pinned else ["pinned-base"])


def test_a_rule_is_waived_only_with_a_known_name_and_a_reason(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "# c4ang-lint ignore=healthcheck: Lambda ignores HEALTHCHECK\n"
        "# c4ang-lint ignore=non-root: typo\n"
        "# c4ang-lint ignore=pinned-base\n"
        "FROM python\nUSER 10001\n",
        encoding="utf-8",
    )

    assert [f.rule for f in dockerfile_lint.lint(dockerfile)] == ["waiver", "pinned-base"]


def test_the_image_installs_only_the_web_requirements_without_torch():
    runs = [i["value"] for i in instructions() if i["instruction"] == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8").lower()

    assert installs == ["/opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt"]
    assert not re.search(r"^(torch|transformers)\b", requirements, re.MULTILINE)


def test_collectstatic_of_the_build_runs_with_its_build_time_settings(tmp_path):
    (step,) = [i["value"] for i in instructions() if i["instruction"] == "RUN" and "collectstatic" in i["value"]]
    words = shlex.split(step.split("&&")[0])
    assignments = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z0-9_]+=", word))
    command = [word for word in words if not re.match(r"^[A-Z0-9_]+=", word)]
    static_root = tmp_path / "staticfiles"
    env = {"PATH": os.environ["PATH"], **assignments, "STATIC_ROOT": str(static_root)}

    # 20-40 s on a quiet machine (it compresses every static file); the bound is for a hang, not a speed.
    result = subprocess.run(
        [sys.executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stderr
    assert assignments["C4ANG_ENV"] == "production"
    assert (static_root / "staticfiles.json").exists()  # the manifest of CompressedManifestStaticFilesStorage
    assert (static_root / "admin" / "css" / "base.css").exists()


def test_the_image_runs_as_the_manifests_user_on_their_port_with_their_probe(rendered):
    final = instructions()
    final = final[max(i for i, ins in enumerate(final) if ins["instruction"] == "FROM") :]
    values = {ins["instruction"]: ins["value"] for ins in final}
    pod = find(rendered["production"], "Deployment", "product-api-blue")["spec"]["template"]["spec"]

    assert values["USER"] == f"{pod['securityContext']['runAsUser']}:{pod['securityContext']['runAsGroup']}"
    assert values["EXPOSE"] == str(pod["containers"][0]["ports"][0]["containerPort"])
    assert "http://127.0.0.1:8080/healthz" in values["HEALTHCHECK"]
    assert "/healthz" in PROBES
    assert values["CMD"] == '["gunicorn", "-c", "deploy/gunicorn.conf.py", "c4ang.wsgi:application"]'


def test_gunicorn_outlasts_the_gateway_timeout_and_writes_only_to_tmp(monkeypatch):
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TMP_DIR"):
        monkeypatch.delenv(name, raising=False)
    # The file sets it for the master's app; recorded here so that it is unset again after the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "deploy" / "gunicorn.conf.py")
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    shutil.rmtree(config.metrics_dir)

    assert (config.bind, config.workers) == ("0.0.0.0:8080", 2)
    assert config.timeout > 30  # the VirtualServices' timeout: Envoy answers 504 before a worker is killed
    assert config.worker_tmp_dir == "/tmp"  # noqa: S108 - the pod's memory-backed emptyDir
    assert config.control_socket_disable is True
    assert config.metrics_dir == f"/tmp/c4ang-metrics-{os.getpid()}"  # noqa: S108 - the emptyDir too


def test_the_build_context_leaves_out_local_state():
    ignored = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()

    assert {".git", ".venv*", "var", "staticfiles", "**/tests"} <= set(ignored)
