"""pip-audit of requirements.txt (resolved with its transitive dependencies), honest about what it saw.

pip-audit asks a vulnerability service (the PyPI JSON API, or OSV) about every dependency. Where
that service cannot be reached, pip-audit skips each dependency and still reports "No known
vulnerabilities found" with exit status 0. This wrapper tells the cases apart:

- a known vulnerability in any dependency: fail, listing them;
- every dependency audited and none vulnerable: pass;
- the service unreachable (every dependency skipped, a network error, or the time limit): pass,
  saying loudly that nothing was audited (a machine with only a package mirror);
- anything else (some dependencies audited, others not): fail, since the audit is incomplete.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT_S = 240
NETWORK_ERRORS = (
    "ConnectionError",
    "NameResolutionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "pip-audit.json"
        command = [sys.executable, "-m", "pip_audit", "-r", "requirements.txt", "--timeout", "10"]
        command += ["--progress-spinner", "off", "--format", "json", "--output", str(report)]
        try:
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT_S, check=False)
        except subprocess.TimeoutExpired:
            return unreachable(f"pip-audit did not finish within {TIME_LIMIT_S} s")
        dependencies = json.loads(report.read_text())["dependencies"] if report.exists() else None
    if dependencies is None:
        if any(error in run.stderr for error in NETWORK_ERRORS):
            return unreachable(run.stderr.strip().splitlines()[-1])
        print(run.stderr, file=sys.stderr)
        print("pip-audit failed before auditing anything (see above)", file=sys.stderr)
        return 1

    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})", file=sys.stderr)
    if vulnerable:
        return 1
    if skipped and len(skipped) == len(dependencies):
        return unreachable(f"all {len(dependencies)} dependencies skipped: {skipped[0]['skip_reason']}")
    if skipped:
        for dep in skipped:
            print(f"NOT AUDITED {dep['name']}: {dep['skip_reason']}", file=sys.stderr)
        return 1
    print(f"pip-audit: {len(dependencies)} dependencies of requirements.txt audited, no known vulnerabilities")
    return 0


def unreachable(why: str) -> int:
    print(
        "pip-audit: the vulnerability service cannot be reached from this machine, so NOTHING WAS AUDITED\n"
        f"  ({why})\n"
        "  Not a failure here (no finding); run `make audit` where PyPI or OSV is reachable (see README, Security)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
