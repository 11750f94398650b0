"""Ops commands: exit codes and messages an operator or a probe script can rely on."""

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from deploy.local.net import free_port


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_healthcheck_passes_when_ready(capsys):
    call_command("healthcheck", "--json")

    assert json.loads(capsys.readouterr().out) == {
        "status": "ready",
        "ready": True,
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok"},
    }


@pytest.mark.slow
def test_healthcheck_exits_1_naming_the_unreachable_database():
    result = manage(
        "healthcheck",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/x",
        DB_CONNECT_TIMEOUT="2",
        REDIS_URL="",
    )

    assert result.returncode == 1
    assert "not ready: database, migrations" in result.stderr
