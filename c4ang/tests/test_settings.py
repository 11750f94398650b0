"""Production mode refuses unsafe settings and passes `check --deploy`; the beat schedule is right."""

import os
import subprocess
import sys

import pytest
from celery.schedules import crontab
from django.conf import settings

PRODUCTION_KEY = "p" * 20 + "9f3Kd0-qLx81mZ_vT2bWnE7cRyA4uHsJ"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_the_default_secret_key():
    result = manage("check", C4ANG_ENV="production", ALLOWED_HOSTS="api.c4ang.com", SECRET_KEY="")
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = manage("check", C4ANG_ENV="production", DEBUG="1", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS="a")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_passes_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        C4ANG_ENV="production",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="api.c4ang.com",
    )
    assert result.returncode == 0, result.stderr


def test_bad_boolean_is_a_clear_error():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_beat_runs_the_jobs_at_their_korean_times():
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert settings.CELERY_TIMEZONE == "Asia/Seoul"
    assert schedule["daily-recommendation-pipeline"]["schedule"] == crontab(hour=2, minute=0)
    assert schedule["weekly-sentiment-analysis"]["schedule"] == crontab(hour=3, minute=0, day_of_week="sun")
    assert schedule["recover-sagas"]["schedule"] == crontab(minute="*")
    assert schedule["expire-unpaid-orders"]["schedule"] == crontab(minute="*")


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="embedded defaults only apply without REDIS_URL")
def test_embedded_defaults_without_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


@pytest.mark.redis
def test_redis_backs_cache_and_broker():
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
