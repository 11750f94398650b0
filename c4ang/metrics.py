"""The platform's own Prometheus metrics: requests, caches, database and Redis errors, jobs, Celery.

What an app owns (orders placed, sagas, payments) lives in that app's `metrics` module. Every label
here takes a bounded set of values: the URL pattern that matched (never the raw path), a module
name, a method, a status class, a cache area from the code, a job or task name the code defines.
Under gunicorn (and the Celery worker) the values live in Prometheus' multiprocess files, so a
scrape adds up every process of the pod.
"""

import logging
import time

from prometheus_client import Counter, Histogram

# Where a request's latency is compared with the 500 ms target (and a cached read with 50 ms).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The URL prefixes of the modules (c4ang.urls) name the module of a request; anything else is the platform's.
API_PREFIX = "api/v1/"
MODULES = frozenset({"customers", "products", "orders", "payments", "recommendations", "saga"})
UNMATCHED = "unmatched"

HTTP_REQUESTS = Histogram(
    "c4ang_http_request_duration_seconds",
    "Requests served (probes excepted) by module, URL pattern, method and status class; _count counts them.",
    ["module", "route", "method", "status_class"],
    buckets=LATENCY_BUCKETS,
)
CACHE_REQUESTS = Counter(
    "c4ang_cache_requests_total",
    "Reads of cached entries by area (catalog_detail, catalog_list, profile, recommendations) and result.",
    ["area", "result"],
)
DB_CONNECTION_ERRORS = Counter(
    "c4ang_db_connection_errors_total",
    "Requests and readiness checks that failed because the database could not be reached or dropped the connection.",
    ["source"],
)
REDIS_ERRORS = Counter(
    "c4ang_redis_errors_total",
    "Cache operations that failed on Redis (ignored: the request went on without the cache).",
)
JOB_RUNS = Counter("c4ang_job_runs_total", "Runs of the batch jobs by outcome.", ["job", "status"])
JOB_DURATION = Histogram(
    "c4ang_job_duration_seconds",
    "How long the batch jobs' runs took (skipped runs included), by outcome.",
    ["job", "status"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600),
)
CELERY_TASKS = Counter(
    "c4ang_celery_tasks_total", "Celery tasks run by the worker, by task and outcome.", ["task", "outcome"]
)
CELERY_TASK_DURATION = Histogram(
    "c4ang_celery_task_duration_seconds",
    "How long Celery tasks ran in the worker.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200),
)


def cache_read(area: str, hits: int, misses: int = 0) -> None:
    if hits:
        CACHE_REQUESTS.labels(area=area, result="hit").inc(int(hits))
    if misses:
        CACHE_REQUESTS.labels(area=area, result="miss").inc(int(misses))


def request_labels(request, status: int) -> tuple[str, str, str, str]:
    """(module, route, method, status class) of a served request: the route is the URL pattern."""
    match = getattr(request, "resolver_match", None)
    route = match.route if match is not None else UNMATCHED
    path = request.path_info.lstrip("/")
    if path.startswith(API_PREFIX):
        module = path[len(API_PREFIX) :].split("/", 1)[0]
        module = module if module in MODULES else "platform"
    elif path.startswith("admin/"):
        # The admin's patterns run into the hundreds (every model's pages): staff traffic is one series.
        module, route = "admin", "admin/" if match is not None else UNMATCHED
    else:
        module = "platform"
    method = request.method if request.method in METHODS else "other"
    return module, route or "/", method, f"{status // 100}xx"


class RequestMetricsMiddleware:
    """Times every request the app serves (probes are answered before it) into HTTP_REQUESTS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        HTTP_REQUESTS.labels(*request_labels(request, response.status_code)).observe(time.perf_counter() - started)
        return response


class RedisErrorCounter(logging.Filter):
    """Counts the Redis errors django-redis ignores (it logs each one: DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            REDIS_ERRORS.inc()
        return True
