"""Production mode refuses unsafe settings and passes `check --deploy`; the beat schedule is right."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from c4ang.schedules import periodic_tasks_ensure
from c4ang.settings import redis_neighbour_db

PRODUCTION_KEY = "p" * 20 + "9f3Kd0-qLx81mZ_vT2bWnE7cRyA4uHsJ"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_the_default_secret_key():
    result = manage("check", C4ANG_ENV="production", ALLOWED_HOSTS="api.c4ang.com", SECRET_KEY="")
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr


@pytest.mark.parametrize("secret_key", ["k" * 50, "abcd" * 13], ids=["one-character", "four-characters"])
def test_production_refuses_a_low_entropy_secret_key(secret_key):
    # Given a key long enough but of fewer than 5 distinct characters (Django's W009 rule)
    result = manage("check", C4ANG_ENV="production", ALLOWED_HOSTS="api.c4ang.com", SECRET_KEY=secret_key)

    assert result.returncode == 1
    assert "needs SECRET_KEY: at least 50 random characters (5 or more distinct)" in result.stderr


@pytest.mark.parametrize(
    "signing_key", ["x", "", "j" * 64, PRODUCTION_KEY[:49]], ids=["x", "empty", "one-character", "49-characters"]
)
def test_production_refuses_a_weak_jwt_signing_key(signing_key):
    result = manage(
        "check",
        C4ANG_ENV="production",
        ALLOWED_HOSTS="api.c4ang.com",
        SECRET_KEY=PRODUCTION_KEY,
        JWT_SIGNING_KEY=signing_key,
    )

    assert result.returncode == 1
    assert "needs a strong JWT_SIGNING_KEY" in result.stderr


def test_production_signs_tokens_with_a_strong_jwt_key_or_the_secret_key():
    show_key = "from django.conf import settings; print(settings.SIMPLE_JWT['SIGNING_KEY'])"
    production = {"C4ANG_ENV": "production", "ALLOWED_HOSTS": "api.c4ang.com", "SECRET_KEY": PRODUCTION_KEY}
    jwt_key = "J" * 20 + "x7Qm2-Lp9vZt4Rk8Wn3Ys6Hb1Fd5Gc0Ue_Aj"

    own = manage("shell", "--no-imports", "-c", show_key, **production, JWT_SIGNING_KEY=jwt_key)
    unset = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show_key],
        env={**{k: v for k, v in os.environ.items() if k != "JWT_SIGNING_KEY"}, **production},
        capture_output=True,
        text=True,
        timeout=120,
    )
    development_empty = manage("shell", "--no-imports", "-c", show_key, JWT_SIGNING_KEY="", SECRET_KEY=PRODUCTION_KEY)

    assert (own.returncode, own.stdout) == (0, f"{jwt_key}\n"), own.stderr
    assert (unset.returncode, unset.stdout) == (0, f"{PRODUCTION_KEY}\n"), unset.stderr
    # Development never signs with an empty key either: it falls back to SECRET_KEY.
    assert (development_empty.returncode, development_empty.stdout) == (0, f"{PRODUCTION_KEY}\n")


@pytest.mark.parametrize("hosts", ["*", "api.c4ang.com,*", "*.c4ang.com"])
def test_production_refuses_a_wildcard_host(hosts):
    result = manage("check", C4ANG_ENV="production", SECRET_KEY=PRODUCTION_KEY, ALLOWED_HOSTS=hosts)

    assert result.returncode == 1
    assert "refuses a wildcard in ALLOWED_HOSTS" in result.stderr


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


def test_embedded_defaults_without_redis(tmp_path):
    # Read in a process of its own: this run's cache is moved to a file of its own (conftest).
    show = (
        "from django.conf import settings; print(settings.CACHES['default']); print(settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", show],
        env={**env, "C4ANG_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()

    # Shared by every process on the machine that uses the database, beside it (not one per process).
    cache_file = tmp_path / "c4ang.cache.sqlite3"
    assert shown == [
        str(
            {
                "BACKEND": "c4ang.sqlite_cache.SQLiteCache",
                "LOCATION": str(cache_file),
                "OPTIONS": {"MAX_ENTRIES": 200_000},
            }
        ),
        "True",
    ]


@pytest.mark.redis
def test_redis_backs_cache_and_broker():
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    # Under pytest the broker takes the neighbouring db, so that clearing the cache keeps the queues.
    assert redis_neighbour_db(settings.REDIS_URL) == settings.CELERY_BROKER_URL
