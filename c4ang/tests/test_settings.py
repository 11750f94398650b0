"""Production mode refuses unsafe settings and passes `check --deploy`; the beat schedule is right."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from c4ang.schedules import periodic_tasks_ensure

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


def test_production_refuses_saga_fault_injection():
    result = manage(
        "check",
        C4ANG_ENV="production",
        SECRET_KEY=PRODUCTION_KEY,
        ALLOWED_HOSTS="a",
        SAGA_FAULT_INJECTION="take_payment:after",
    )
    assert result.returncode != 0
    assert "SAGA_FAULT_INJECTION is for tests" in result.stderr


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


@pytest.mark.django_db
def test_beat_schedules_are_in_the_database_at_korean_times():
    schedules = {task.name: (task.task, task.crontab) for task in PeriodicTask.objects.select_related("crontab")}

    def when(name):
        crontab = schedules[name][1]
        return (crontab.minute, crontab.hour, crontab.day_of_week, str(crontab.timezone))

    assert settings.CELERY_TIMEZONE == "Asia/Seoul"
    assert schedules["daily-recommendation-pipeline"][0] == "recommendations.tasks.daily_recommendation_pipeline"
    assert when("daily-recommendation-pipeline") == ("0", "2", "*", "Asia/Seoul")
    assert schedules["weekly-sentiment-analysis"][0] == "sentiment.tasks.weekly_sentiment_analysis"
    assert when("weekly-sentiment-analysis") == ("0", "3", "0", "Asia/Seoul")
    assert when("recover-sagas") == ("*", "*", "*", "Asia/Seoul")
    assert when("expire-unpaid-orders") == ("*", "*", "*", "Asia/Seoul")


@pytest.mark.django_db
def test_staff_schedule_edits_survive_the_next_migrate():
    task = PeriodicTask.objects.get(name="daily-recommendation-pipeline")
    task.crontab = CrontabSchedule.objects.create(minute="30", hour="4", timezone="Asia/Seoul")
    task.save()
    PeriodicTask.objects.filter(name="recover-sagas").delete()

    created = periodic_tasks_ensure()

    assert created == ["recover-sagas"]
    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.minute) == ("4", "30")


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="embedded defaults only apply without REDIS_URL")
def test_embedded_defaults_without_redis():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


@pytest.mark.redis
def test_redis_backs_cache_and_broker():
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CELERY_BROKER_URL == settings.REDIS_URL
