"""The project's Dockerfile rules, checked beside hadolint on every Dockerfile of the repository.

    .venv/bin/python -m deploy.dockerfile_lint [Dockerfile ...]     (default: every Dockerfile found)

Rules (a Dockerfile may waive one with a reason: `# c4ang-lint ignore=<rule>: <why>`):
  pinned-base     every FROM names an exact version (x.y.z) or a digest, never `latest` or a bare name
  no-add-url      nothing is downloaded with ADD (no checksum, no cache control): COPY or a verified RUN
  pip-no-cache    `pip install` runs with --no-cache-dir (or PIP_NO_CACHE_DIR is set): no cache in a layer
  non-root-user   the final stage switches to a USER that is not root
  healthcheck     the final stage declares a HEALTHCHECK
"""

import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[1]
RULES = ("pinned-base", "no-add-url", "pip-no-cache", "non-root-user", "healthcheck")
WAIVER = re.compile(r"#\s*c4ang-lint\s+ignore=([a-z,-]+)\s*:\s*\S")
EXACT_TAG = re.compile(r":[^:/@]*\d+\.\d+\.\d+[^:/@]*$")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "var", "__pycache__"}


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def dockerfiles(root: Path = ROOT) -> list[Path]:
    """Every Dockerfile of the repository (Dockerfile, Dockerfile.*, *.Dockerfile), ignore files aside."""
    found = []
    for path in root.rglob("*"):
        if SKIPPED_DIRS.intersection(path.relative_to(root).parts) or not path.is_file():
            continue
        name = path.name
        if name.endswith(".dockerignore"):
            continue
        if name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile"):
            found.append(path)
    return sorted(found)


def lint(path: Path) -> list[Finding]:
    text = path.read_text(encoding="utf-8")
    waived = {rule for match in WAIVER.finditer(text) for rule in match.group(1).split(",")}
    unknown = waived - set(RULES)
    findings = [Finding(path, 1, "waiver", f"unknown rule(s) {sorted(unknown)}")] if unknown else []

    instructions = DockerfileParser(fileobj=io.BytesIO(text.encode())).structure
    stage_names: set[str] = set()
    final_stage: list[dict] = []
    pip_cache_off = False
    for instruction in instructions:
        name, value, line = instruction["instruction"], instruction["value"], instruction["startline"] + 1
        if name == "FROM":
            image, _, alias = value.partition(" AS ") if " AS " in value else value.partition(" as ")
            image = image.split()[-1]  # after --platform=...
            if image not in stage_names and not _pinned(image):
                findings.append(Finding(path, line, "pinned-base", f"{image!r} is not pinned to x.y.z or a digest"))
            if alias.strip():
                stage_names.add(alias.strip())
            final_stage = []
        final_stage.append(instruction)
        if name == "ADD" and re.search(r"(?:^|\s)(?:https?|ftp)://", value):
            findings.append(
                Finding(path, line, "no-add-url", "ADD downloads a URL; COPY it or fetch and verify in RUN")
            )
        if name in ("ENV", "ARG") and re.search(r"PIP_NO_CACHE_DIR=(1|true|on|yes)", value, re.IGNORECASE):
            pip_cache_off = True
        if name == "RUN" and not pip_cache_off:
            for command in re.split(r"&&|;|\|\|", value):
                if re.search(r"\bpip3?\b.*\binstall\b", command) and "--no-cache-dir" not in command:
                    findings.append(Finding(path, line, "pip-no-cache", "pip install without --no-cache-dir"))
    users = [i for i in final_stage if i["instruction"] == "USER"]
    if not users or users[-1]["value"].split(":")[0].strip() in ("root", "0"):
        findings.append(Finding(path, len(text.splitlines()), "non-root-user", "the final stage runs as root"))
    if not any(i["instruction"] == "HEALTHCHECK" and not i["value"].upper().startswith("NONE") for i in final_stage):
        findings.append(Finding(path, len(text.splitlines()), "healthcheck", "the final stage has no HEALTHCHECK"))
    return [finding for finding in findings if finding.rule not in waived]


def _pinned(image: str) -> bool:
    if "${" in image or "$" in image:
        return False  # a build argument can name anything
    return "@sha256:" in image or bool(EXACT_TAG.search(image))


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or dockerfiles()
    findings = [finding for path in paths for finding in lint(path)]
    for finding in findings:
        print(finding)
    print(f"{len(paths)} Dockerfile(s), {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
