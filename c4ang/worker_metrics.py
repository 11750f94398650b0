"""Metrics of the Celery processes, served on C4ANG_METRICS_PORT (the web pods serve theirs on /metrics).

- The worker counts its tasks and times them (c4ang_celery_tasks_total, c4ang_celery_task_duration_seconds)
  in its pool processes; its main process serves them, added up over the pool through Prometheus'
  multiprocess files (PROMETHEUS_MULTIPROC_DIR, set in the worker's environment before it starts).
- Beat, the single one of its kind, serves what is the platform's as a whole, read at each scrape:
  the queue's length on the broker, when each job last succeeded (from the run records, so that a
  restart forgets nothing), and the PostgreSQL connections in use against the server's limit.
"""

import logging
import os
import time

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily

from c4ang import metrics

logger = logging.getLogger(__name__)
PORT_VARIABLE = "C4ANG_METRICS_PORT"
# The gauges beat serves (PlatformCollector), computed at each scrape.
PLATFORM_GAUGES = (
    "c4ang_celery_queue_length",
    "c4ang_job_last_success_timestamp_seconds",
    "c4ang_db_connections",
    "c4ang_db_max_connections",
    "c4ang_platform_check_up",
)

_started: dict[str, float] = {}  # task id -> when it started, in the process running it


def task_started(task_id: str, **_) -> None:
    _started[task_id] = time.perf_counter()


def task_finished(task_id: str, task, **_) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.CELERY_TASK_DURATION.labels(task=task.name).observe(time.perf_counter() - started)


def task_outcome(outcome: str):
    def count(sender, **_) -> None:
        metrics.CELERY_TASKS.labels(task=sender.name, outcome=outcome).inc()

    return count


def serve(registry: CollectorRegistry) -> int | None:
    """Serve `registry` on C4ANG_METRICS_PORT (when set) from a thread; returns the port."""
    port = os.environ.get(PORT_VARIABLE)
    if not port:
        return None
    # Every interface of the pod by default: its sidecar fetches the metrics on the pod's address.
    address = os.environ.get("C4ANG_METRICS_ADDR", "0.0.0.0")  # noqa: S104  # nosec B104 - the pod's metrics port
    start_http_server(int(port), addr=address, registry=registry)
    logger.info("metrics served", extra={"port": int(port)})
    return int(port)


def worker_registry() -> CollectorRegistry:
    """The pool's metrics added up (multiprocess mode), or this process's own (a solo pool)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class PlatformCollector:
    """The platform's gauges, read when Prometheus scrapes beat (every 30 s or so)."""

    def __init__(self, celery_app):
        self.app = celery_app

    def collect(self):
        up = GaugeMetricFamily(
            "c4ang_platform_check_up", "Whether beat could read the broker / the database.", labels=["check"]
        )
        queue = GaugeMetricFamily(
            "c4ang_celery_queue_length", "Messages waiting in a Celery queue on the broker.", labels=["queue"]
        )
        try:
            name = self.app.conf.task_default_queue
            with self.app.connection_for_read() as connection:
                # Declared as the worker declares it (nothing changes on Redis): the answer has its length.
                waiting = connection.default_channel.queue_declare(queue=name, durable=True).message_count
            queue.add_metric([name], waiting)
            up.add_metric(["broker"], 1)
        except Exception:  # a scrape reports the broker down; it never fails
            logger.warning("metrics: the broker could not be read", exc_info=True)
            up.add_metric(["broker"], 0)
        yield queue
        yield from self._database(up)
        yield up

    def _database(self, up: GaugeMetricFamily):
        from django.db import connection
        from django.db.models import Max

        from c4ang.models import JobRun

        last = GaugeMetricFamily(
            "c4ang_job_last_success_timestamp_seconds",
            "When a batch job's latest successful run finished (Unix time), from the run records.",
            labels=["job"],
        )
        in_use = GaugeMetricFamily(
            "c4ang_db_connections", "Client connections open on the PostgreSQL server (pg_stat_activity)."
        )
        limit = GaugeMetricFamily("c4ang_db_max_connections", "The PostgreSQL server's max_connections.")
        try:
            succeeded = JobRun.objects.filter(status=JobRun.Status.SUCCEEDED)
            for row in succeeded.values("job").annotate(at=Max("finished_at")):
                last.add_metric([row["job"]], row["at"].timestamp())
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                    in_use.add_metric([], cursor.fetchone()[0])
                    cursor.execute("SELECT setting::int FROM pg_settings WHERE name = 'max_connections'")
                    limit.add_metric([], cursor.fetchone()[0])
            up.add_metric(["database"], 1)
        except Exception:  # as above, for the database
            logger.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric(["database"], 0)
        finally:
            # Each scrape is answered on a thread of its own: its connection must not outlive it.
            connection.close()
        yield last
        if connection.vendor == "postgresql":
            yield in_use
            yield limit


def beat_registry(celery_app) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(PlatformCollector(celery_app))
    return registry
