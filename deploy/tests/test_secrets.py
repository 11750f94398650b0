"""The SOPS-encrypted secrets of the local overlay: nothing in clear, encrypted for the recipients of
deploy/.sops.yaml, and the SOPS workflow round-trips with an age key (a throwaway one made here)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pyrage import x25519

pytestmark = pytest.mark.no_database  # CI runs it once, in the embedded pass

ROOT = Path(__file__).resolve().parents[2]
SOPS = str(Path(sys.executable).parent / "sops")
SOPS_CONFIG = ROOT / "deploy" / ".sops.yaml"
EXAMPLE = ROOT / "deploy" / "k8s" / "overlays" / "local" / "secrets.enc.yaml"
ENCRYPTED = re.compile(r"^ENC\[AES256_GCM,data:[^,]+,iv:[^,]+,tag:[^,]+,type:str\]$")
PLAIN_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: c4ang-secrets
  namespace: ecommerce
type: Opaque
stringData:
  SECRET_KEY: a-local-development-secret-key-that-is-long-enough-0123456789
  DATABASE_URL: postgres://c4ang:local-password@postgres:5432/c4ang
"""


def sops(*args: str, cwd: Path, key: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    if key is not None:
        env["SOPS_AGE_KEY"] = key
    return subprocess.run([SOPS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_example_keeps_no_secret_in_clear_and_is_encrypted_for_the_configured_recipient():
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    (rule,) = yaml.safe_load(SOPS_CONFIG.read_text(encoding="utf-8"))["creation_rules"]

    values = {key: value for key, value in example["stringData"].items() if value != ""}
    assert sorted(values) == [
        "DATABASE_URL",
        "JWT_SIGNING_KEY",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "REDIS_URL",
        "SECRET_KEY",
    ]
    assert all(ENCRYPTED.match(value) for value in values.values())
    assert [recipient["recipient"] for recipient in example["sops"]["age"]] == [rule["age"]]
    assert example["sops"]["encrypted_regex"] == rule["encrypted_regex"] == "^(data|stringData)$"
    assert re.search(rule["path_regex"], str(EXAMPLE.relative_to(ROOT / "deploy")))
    assert ENCRYPTED.match(example["sops"]["mac"])


def test_a_secret_encrypted_by_the_creation_rule_decrypts_only_with_its_key(tmp_path):
    identity, stranger = x25519.Identity.generate(), x25519.Identity.generate()
    # The project's rule (path and encrypted_regex), with this test's recipient instead of the team's.
    rule = yaml.safe_load(SOPS_CONFIG.read_text(encoding="utf-8"))
    rule["creation_rules"][0]["age"] = str(identity.to_public())
    (tmp_path / ".sops.yaml").write_text(yaml.safe_dump(rule), encoding="utf-8")
    target = tmp_path / EXAMPLE.relative_to(ROOT / "deploy")
    target.parent.mkdir(parents=True)
    target.write_text(PLAIN_SECRET, encoding="utf-8")

    encrypted = sops("--encrypt", "--in-place", str(target.relative_to(tmp_path)), cwd=tmp_path)
    assert encrypted.returncode == 0, encrypted.stderr
    stored = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert stored["metadata"] == {"name": "c4ang-secrets", "namespace": "ecommerce"}
    assert all(ENCRYPTED.match(value) for value in stored["stringData"].values())
    assert "local-password" not in target.read_text(encoding="utf-8")

    decrypted = sops("--decrypt", str(target), cwd=tmp_path, key=str(identity))
    refused = sops("--decrypt", str(target), cwd=tmp_path, key=str(stranger))

    assert decrypted.returncode == 0, decrypted.stderr
    assert yaml.safe_load(decrypted.stdout) == yaml.safe_load(PLAIN_SECRET)
    assert refused.returncode != 0
    assert "local-password" not in refused.stdout
