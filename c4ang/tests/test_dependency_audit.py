"""The CI's pip-audit step (.ci/audit_dependencies.py) fails on any known vulnerability and never
passes an audit that did not happen in silence. pip-audit's vulnerability services cannot be
reached from the CI machine, so a stand-in `pip_audit` module writes the report pip-audit would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]

STAND_IN = """
import os, sys
args = sys.argv[1:]
with open(args[args.index("--output") + 1], "w") as report:
    report.write(os.environ["FAKE_REPORT"])
sys.stderr.write(os.environ.get("FAKE_STDERR", ""))
sys.exit(int(os.environ["FAKE_STATUS"]))
"""


def audit(tmp_path, report: dict | None, status: int, stderr: str = "") -> subprocess.CompletedProcess:
    (tmp_path / "pip_audit").mkdir(exist_ok=True)
    (tmp_path / "pip_audit" / "__init__.py").write_text("")
    main = (
        STAND_IN if report is not None else "import os, sys\nsys.stderr.write(os.environ['FAKE_STDERR'])\nsys.exit(1)\n"
    )
    (tmp_path / "pip_audit" / "__main__.py").write_text(main)
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "FAKE_REPORT": json.dumps(report),
        "FAKE_STATUS": str(status),
        "FAKE_STDERR": stderr,
    }
    return subprocess.run(
        [sys.executable, ".ci/audit_dependencies.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def dep(name: str, **fields) -> dict:
    return {"name": name, "version": "1.0", **fields}


SKIPPED = "Dependency not found on PyPI and could not be audited: x (1.0)"


def test_a_known_vulnerability_fails(tmp_path):
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["1.1"], "aliases": [], "description": ""}
    result = audit(tmp_path, {"dependencies": [dep("django", vulns=[vuln]), dep("celery", vulns=[])]}, status=1)

    assert result.returncode == 1
    assert "VULNERABLE django 1.0: PYSEC-2099-1 (fixed in: 1.1)" in result.stderr


def test_a_clean_audit_passes(tmp_path):
    result = audit(tmp_path, {"dependencies": [dep("django", vulns=[]), dep("celery", vulns=[])]}, status=0)

    assert result.returncode == 0
    assert "2 dependencies of requirements.txt audited, no known vulnerabilities" in result.stdout


@pytest.mark.parametrize(
    ("report", "stderr"),
    [
        ({"dependencies": [dep("django", skip_reason=SKIPPED), dep("celery", skip_reason=SKIPPED)]}, ""),
        (None, "requests.exceptions.ConnectionError: Max retries exceeded with url: /v1/querybatch"),
    ],
    ids=["pypi-json-api-answers-404", "osv-unresolvable"],
)
def test_an_unreachable_service_passes_and_says_nothing_was_audited(tmp_path, report, stderr):
    result = audit(tmp_path, report, status=0 if report else 1, stderr=stderr)

    assert result.returncode == 0
    assert "NOTHING WAS AUDITED" in result.stdout


def test_a_partial_audit_fails(tmp_path):
    result = audit(tmp_path, {"dependencies": [dep("django", vulns=[]), dep("private", skip_reason=SKIPPED)]}, status=0)

    assert result.returncode == 1
    assert "NOT AUDITED private" in result.stderr


def test_pip_audit_failing_for_another_reason_fails(tmp_path):
    result = audit(tmp_path, None, status=1, stderr="ERROR: Could not find a version that satisfies django==9.9")

    assert result.returncode == 1
    assert "failed before auditing anything" in result.stderr
