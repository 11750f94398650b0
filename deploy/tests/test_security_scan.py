"""checkov (its own venv, `make deploy-tools`) over every rendered environment and every Dockerfile:
no finding left open. What is accepted is justified in deploy/checkov.yaml or on the object."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deploy import dockerfile_lint
from deploy.render import K8S, OVERLAYS, render_text

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CONFIG = ROOT / "deploy" / "checkov.yaml"
ROOT_PRIVILEGED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: careless
  namespace: ecommerce
spec:
  selector:
    matchLabels: {app: careless}
  template:
    metadata:
      labels: {app: careless}
    spec:
      containers:
        - name: app
          image: c4ang:latest
          securityContext:
            privileged: true
            runAsUser: 0
"""


def checkov(directory: Path) -> tuple[int, dict[str, dict]]:
    """Run checkov offline (--skip-download: no call to its platform); return the exit code and reports."""
    assert CHECKOV.exists(), "checkov is missing: `make deploy-tools` builds .venv-checkov"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--config-file",
            str(CONFIG),
            "--framework",
            "kubernetes",
            "dockerfile",
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return result.returncode, {report["check_type"]: report for report in reports}


def test_every_environment_and_dockerfile_passes_checkov(tmp_path):
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(render_text(K8S / "overlays" / overlay), encoding="utf-8")
    for number, dockerfile in enumerate(dockerfile_lint.dockerfiles()):
        (tmp_path / f"image{number}").mkdir()
        shutil.copy(dockerfile, tmp_path / f"image{number}" / "Dockerfile")

    code, reports = checkov(tmp_path)

    failed = [
        f"{c['check_id']} {c['resource']}"
        for r in reports.values()
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == []
    assert code == 0
    assert reports["kubernetes"]["summary"]["passed"] > 1000
    assert reports["kubernetes"]["summary"]["parsing_errors"] == 0
    assert reports["dockerfile"]["summary"]["resource_count"] == len(dockerfile_lint.dockerfiles())


@pytest.mark.parametrize("justified", ["CKV_K8S_43", "CKV_K8S_35"])
def test_only_the_justified_checks_are_skipped_for_everything(justified):
    config = CONFIG.read_text(encoding="utf-8")

    assert config.count("  - CKV_") == 2
    assert f"  - {justified}\n" in config


def test_checkov_fails_a_privileged_root_deployment(tmp_path):
    (tmp_path / "careless.yaml").write_text(ROOT_PRIVILEGED, encoding="utf-8")

    code, reports = checkov(tmp_path)

    failed = {c["check_id"] for c in reports["kubernetes"]["results"]["failed_checks"]}
    assert code == 1
    # privileged, root, latest tag, no limits, no probes
    assert {"CKV_K8S_16", "CKV_K8S_23", "CKV_K8S_14", "CKV_K8S_13", "CKV_K8S_8"} <= failed
