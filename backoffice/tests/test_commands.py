"""The back office's ops commands: staff logins and demo data."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from customers.models import User


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_create_staff_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a long staff passphrase")

    call_command("create_staff", "Ops@C4ang.com", "--password-env", "NEW_STAFF_PASSWORD")

    user = User.objects.get(email="ops@c4ang.com")
    assert user.is_staff is True
    assert user.is_superuser is False
    assert user.check_password("a long staff passphrase")


@pytest.mark.django_db
def test_create_staff_refuses_a_weak_password_and_creates_nothing(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "1234")

    with pytest.raises(CommandError, match="password_invalid"):
        call_command("create_staff", "ops@c4ang.com", "--password-env", "NEW_STAFF_PASSWORD")

    assert not User.objects.filter(email="ops@c4ang.com").exists()


@pytest.mark.django_db
def test_create_staff_needs_a_password_source(monkeypatch):
    with pytest.raises(CommandError, match="NOPE is empty or unset"):
        call_command("create_staff", "ops@c4ang.com", "--password-env", "NOPE")


def test_seed_demo_data_refuses_production():
    strong_key = "k" * 20 + "Wq4-Zn8Lx1Vt6Pm3Rb9Ks2Jd7Fy5Gc0Ue"
    result = manage("seed_demo_data", C4ANG_ENV="production", SECRET_KEY=strong_key, ALLOWED_HOSTS="api.c4ang.com")

    assert result.returncode == 1
    assert "never runs with C4ANG_ENV=production" in result.stderr


@pytest.mark.django_db
def test_create_staff_reports_in_the_active_language(monkeypatch):
    from io import StringIO

    from django.utils import translation

    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a long staff passphrase")
    output = StringIO()

    with translation.override("ko"):
        call_command("create_staff", "ops@c4ang.com", "--password-env", "NEW_STAFF_PASSWORD", stdout=output)
        with pytest.raises(CommandError, match="환경 변수 NOPE이\\(가\\) 비어 있거나 설정되지 않았습니다"):
            call_command("create_staff", "ops@c4ang.com", "--password-env", "NOPE")

    assert output.getvalue() == "직원 계정 ops@c4ang.com을(를) 생성했습니다\n"


def test_seed_demo_data_speaks_korean_by_default():
    # The platform's language (LANGUAGE_CODE) when nobody asks for another: Korean.
    strong_key = "k" * 20 + "Wq4-Zn8Lx1Vt6Pm3Rb9Ks2Jd7Fy5Gc0Ue"
    result = manage(
        "seed_demo_data",
        C4ANG_ENV="production",
        SECRET_KEY=strong_key,
        ALLOWED_HOSTS="api.c4ang.com",
        LANGUAGE_CODE="ko",
    )

    assert result.returncode == 1
    assert "C4ANG_ENV=production에서는 실행되지 않습니다" in result.stderr
