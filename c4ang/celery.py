"""The Celery app of the platform: workers and the single beat read the schedule from settings."""

import os

from celery import Celery, signals
from prometheus_client import multiprocess

from c4ang import tracing, worker_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "c4ang.settings")

app = Celery("c4ang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# --- Metrics and tracing of the worker and beat processes (c4ang.worker_metrics, c4ang.tracing) ---


@signals.task_prerun.connect
def _task_started(task_id=None, **kwargs):
    worker_metrics.task_started(task_id)


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, **kwargs):
    worker_metrics.task_finished(task_id, task)


signals.task_success.connect(worker_metrics.task_outcome("succeeded"), weak=False)
signals.task_failure.connect(worker_metrics.task_outcome("failed"), weak=False)
signals.task_retry.connect(worker_metrics.task_outcome("retried"), weak=False)


@signals.worker_init.connect
def _worker_started(sender=None, **kwargs):
    worker_metrics.serve(worker_metrics.worker_registry())
    # A prefork pool's processes start their own exporter (below); a solo or threads pool runs tasks here.
    if "prefork" not in getattr(sender.pool_cls, "__module__", str(sender.pool_cls)):
        tracing.provider_start("c4ang-worker")


@signals.worker_process_init.connect
def _pool_process_started(**kwargs):
    tracing.provider_start("c4ang-worker")


@signals.worker_process_shutdown.connect
def _pool_process_stopping(pid=None, **kwargs):
    tracing.provider_flush()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())


@signals.beat_init.connect
def _beat_started(sender=None, **kwargs):
    worker_metrics.serve(worker_metrics.beat_registry(app))
    tracing.provider_start("c4ang-beat")
