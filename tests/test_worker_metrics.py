"""The Celery processes' metrics, from real processes on the Redis broker: a prefork worker serves
the task counts of its pool's processes, added up (Prometheus multiprocess mode), on its metrics
port; beat serves the queue's length on the broker, each job's last success from the run records
and PostgreSQL's connections, read at each scrape."""

import os
import re
import sys
import time
import uuid

import pytest
from django.utils import timezone

from c4ang.models import JobRun
from conftest import QUIET_WORKER, ChildProcess, shared_database_url
from deploy.local.net import call_json, free_port, wait_listening
from orders.tasks import expire_unpaid_orders
from saga.tasks import recover_sagas

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text exposition (labels in any order)."""
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or "")) == labels:
            return float(match.group(2))
    return None


def scrape_until(port: int, found, process: ChildProcess, deadline_s: float = 60) -> str:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        text = call_json(f"http://127.0.0.1:{port}/metrics").body
        if found(text):
            return text
        assert process.process.poll() is None, process.output()
        time.sleep(0.2)
    raise AssertionError(f"not served within {deadline_s}s:\n{text}")


def celery_env(port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "PYTHONUNBUFFERED": "1",
        "C4ANG_METRICS_PORT": str(port),
        "C4ANG_METRICS_ADDR": "127.0.0.1",
        **extra,
    }


def test_a_prefork_worker_serves_the_task_counts_of_its_whole_pool(transactional_db, tmp_path):
    port, queue = free_port(), f"test-{uuid.uuid4().hex[:12]}"
    (tmp_path / "metrics").mkdir()
    env = celery_env(port, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    args = [sys.executable, "-m", "celery", "-A", "c4ang", "worker", "--pool", "prefork", "--concurrency", "2"]
    worker = ChildProcess([*args, "--queues", queue, *QUIET_WORKER], env)
    try:
        wait_listening(port, 60, process=worker.process)
        for _ in range(4):
            recover_sagas.apply_async(queue=queue)
        expire_unpaid_orders.apply_async(queue=queue)

        text = scrape_until(
            port,
            lambda text: (
                sample(text, "c4ang_celery_tasks_total", task="saga.tasks.recover_sagas", outcome="succeeded") == 4
                and sample(
                    text, "c4ang_celery_tasks_total", task="orders.tasks.expire_unpaid_orders", outcome="succeeded"
                )
                == 1
            ),
            worker,
        )
    finally:
        output = worker.stop(timeout_s=30)

    assert sample(text, "c4ang_celery_task_duration_seconds_count", task="saga.tasks.recover_sagas") == 4
    # Two pool processes ran them: their counts were added up from their files.
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 2, output


def test_beat_serves_the_queue_the_jobs_and_the_database_connections(transactional_db, tmp_path):
    finished = timezone.now().replace(microsecond=0)
    JobRun.objects.create(
        job="daily_recommendation_pipeline",
        trigger="schedule",
        status=JobRun.Status.SUCCEEDED,
        started_at=finished,
        finished_at=finished,
    )
    port = free_port()
    beat = ChildProcess(
        [
            *[sys.executable, "-m", "celery", "-A", "c4ang", "beat", "--loglevel", "INFO"],
            *["--schedule", str(tmp_path / "celerybeat-schedule"), "--pidfile", ""],
        ],
        celery_env(port),
    )
    try:
        wait_listening(port, 60, process=beat.process)
        text = scrape_until(port, lambda text: "c4ang_platform_check_up" in text, beat)
    finally:
        beat.stop()

    assert sample(text, "c4ang_platform_check_up", check="broker") == 1
    assert sample(text, "c4ang_platform_check_up", check="database") == 1
    assert sample(text, "c4ang_celery_queue_length", queue="celery") >= 0
    assert sample(text, "c4ang_job_last_success_timestamp_seconds", job="daily_recommendation_pipeline") == (
        finished.timestamp()
    )
    in_use, limit = sample(text, "c4ang_db_connections"), sample(text, "c4ang_db_max_connections")
    assert 1 <= in_use < limit
