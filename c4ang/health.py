"""Probes: /healthz (liveness, no dependencies), /readyz (database and migrations; the cache degrades),
/metrics.

They are answered by the first middleware, before host validation and the HTTPS redirect,
because the kubelet and Prometheus call the pod by IP over plain HTTP.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django_prometheus.exports import ExportToDjangoView

from c4ang import metrics

logger = logging.getLogger(__name__)

_migrations_seen_applied = False


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    key = "readyz:probe"
    cache.set(key, "ok", timeout=10)
    if cache.get(key) != "ok":
        # With Redis, its errors are ignored (and logged) so that requests degrade: they end up here.
        raise RuntimeError("cache did not return the value just written (unreachable?)")


def _check_migrations() -> None:
    # Migrations never un-apply under a running process: once seen applied, skip the graph walk.
    global _migrations_seen_applied
    if _migrations_seen_applied:
        return
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending[:5])
        raise RuntimeError(f"{len(pending)} migration(s) not applied: {names}")
    _migrations_seen_applied = True


READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "migrations": _check_migrations}
# Without the cache requests degrade to the database (django-redis ignores its errors), so a Redis
# outage leaves a pod serving: it is reported as degraded, not unready. Failing readiness on it would
# take every pod out of its Service at once and turn a slower platform into an outage.
DEGRADING_CHECKS = {"cache"}


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]
    failing: list[str]
    degraded: list[str]

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def status(self) -> str:
        return "unavailable" if self.failing else "degraded" if self.degraded else "ready"


def readiness() -> Readiness:
    results: dict[str, str] = {}
    for name, check in READINESS_CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "skipped: database unavailable"
            continue
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a probe reports any failing dependency; it never 500s
            results[name] = f"error: {exc.__class__.__name__}: {exc}".strip()
            logger.warning("readiness check failed", extra={"check": name, "error": str(exc)})
            if name == "database":
                metrics.DB_CONNECTION_ERRORS.labels(source="readiness").inc()
        else:
            results[name] = "ok"
    not_ok = [name for name, result in results.items() if result != "ok"]
    return Readiness(
        checks=results,
        failing=[name for name in not_ok if name not in DEGRADING_CHECKS],
        degraded=[name for name in not_ok if name in DEGRADING_CHECKS],
    )


def healthz(request):
    return JsonResponse({"status": "ok"})


def _outcome(result: str) -> str:
    """ "ok", "error" or "skipped": a check's result without its detail."""
    return result.split(":", 1)[0]


def readyz(request):
    started = time.perf_counter()
    state = readiness()
    # Any caller reaches the probe: in production it names the failing checks, never the error text
    # (database host and port, Redis address); that detail is in the log line of each failure.
    checks = {name: _outcome(result) for name, result in state.checks.items()} if settings.PRODUCTION else state.checks
    body = {
        "status": state.status,
        "checks": checks,
        "failing": state.failing,
        "degraded": state.degraded,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if state.ready else 503)


PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": ExportToDjangoView}


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
