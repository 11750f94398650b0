"""gunicorn settings of the image, also used by the local mesh and the memory benchmark.

The container runs with a read-only root filesystem: only /tmp (an emptyDir) is writable.
"""

import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8080")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# The app is imported once in the master and forked: workers share its pages (measured in bench/memory.py).
preload_app = True
worker_tmp_dir = os.environ.get("GUNICORN_TMP_DIR", "/tmp")  # noqa: S108 - the pod's emptyDir
# The control socket would be created under $HOME, which is read-only in the pod.
control_socket_disable = True
# Above the VirtualService timeout (30 s): Envoy gives up first and answers 504, never a killed worker.
timeout = 35
graceful_timeout = 25
# Bounded memory growth: a worker is replaced after this many requests (jitter avoids a thundering restart).
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
# One JSON line per request; request_id is the X-Request-ID the app answered with (Istio propagates it),
# trace_id its X-Trace-ID (tracing on; "-" otherwise).
access_log_format = (
    '{"logger": "gunicorn.access", "method": "%(m)s", "path": "%(U)s", "status": %(s)s, '
    '"duration_ms": %(M)s, "request_id": "%({x-request-id}o)s", "trace_id": "%({x-trace-id}o)s", "worker": "%(p)s"}'
)

# Prometheus counts per worker in files under this directory, and /metrics adds them up: without it
# a scrape sees only the worker that answers it. One directory per master (several share a machine
# in the local mesh), made before the preloaded app imports prometheus_client.
metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"{worker_tmp_dir}/c4ang-metrics-{os.getpid()}")
shutil.rmtree(metrics_dir, ignore_errors=True)
os.makedirs(metrics_dir)


def post_fork(server, worker):
    # Tracing (OTEL_EXPORTER_OTLP_ENDPOINT set): each worker starts its own exporter and its batch
    # thread, which a fork would not carry over from the master. Nothing when tracing is off.
    from c4ang import tracing

    tracing.provider_start(tracing.web_service_name(os.environ.get("C4ANG_MODULES", "all")))


def worker_exit(server, worker):
    from c4ang import tracing

    tracing.provider_flush()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    shutil.rmtree(metrics_dir, ignore_errors=True)
